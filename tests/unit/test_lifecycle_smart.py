"""Smart approvals on resubmission after a rejection or a recall (policy-v1 §3.8)."""

import pytest
from unit_kit import Desk, line, policy_with

SMART = """
- name: manager-discount
  chain: commercial
  step: 1
  approver: manager
  conditions: [{field: discount_percent, op: gt, value: 10, smart: true}]
- name: vp-signoff
  chain: commercial
  step: 2
  approver: vp-sales
  conditions: [{field: net_total, op: ge, value: 1}]
- name: margin-floor
  chain: margin
  approver: fin1
  conditions: [{field: margin_percent, op: lt, value: 20, smart: true}]
- name: margin-hard-floor
  chain: hard-margin
  approver: fin2
  conditions: [{field: margin_percent, op: le, value: 10, smart: true}]
- name: long-terms
  chain: legal
  approver: lea
  conditions: [{field: payment_terms, op: in, value: [Net 60, Net 90], smart: true}]
- name: big-deal
  chain: size
  approver: dana
  conditions: [{field: quantity, op: ge, value: 1000}]
"""


async def approved_then_rejected(desk: Desk, rules: list[str], **fields) -> None:
    """Submit, have every listed rule approved, then have vera reject the VP sign-off."""
    who = {
        "manager-discount": "mike",
        "margin-floor": "fin1",
        "margin-hard-floor": "fin2",
        "long-terms": "lea",
        "big-deal": "dana",
    }
    await desk.submit(net_total=1000, **fields)
    for rule in rules:
        await desk.approve(rule, who[rule])
    await desk.reject("vp-signoff", "vera", "the deal needs another look")


@pytest.fixture
def desk() -> Desk:
    return Desk(policy_with(SMART))


async def test_rejected_quote_resubmitted_with_lower_discount_carries_manager_approval(desk):
    await approved_then_rejected(desk, ["manager-discount"], discount_percent=18)
    sub = await desk.submit(net_total=1000, discount_percent=15)
    approval = sub.approval("manager-discount")
    assert approval.status == "carried"
    assert approval.carried_from == "Q-1#1/manager-discount"
    assert approval.acted_by == "mike"
    assert sub.approval("vp-signoff").status == "requested"


async def test_rejected_quote_resubmitted_unchanged_carries_manager_approval(desk):
    await approved_then_rejected(desk, ["manager-discount"], discount_percent=18)
    sub = await desk.resubmit()
    assert sub.number == 2
    assert sub.approval("manager-discount").status == "carried"


async def test_rejected_quote_resubmitted_with_higher_discount_requests_the_manager_again(desk):
    await approved_then_rejected(desk, ["manager-discount"], discount_percent=18)
    sub = await desk.submit(net_total=1000, discount_percent=18.5)
    assert sub.approval("manager-discount").status == "requested"
    assert sub.approval("manager-discount").carried_from is None


async def test_a_recalled_quote_resubmitted_carries_what_was_approved_before_the_recall(desk):
    await desk.submit(net_total=1000, discount_percent=18)
    await desk.approve("manager-discount", "mike")
    await desk.recall()
    sub = await desk.submit(net_total=1000, discount_percent=16)
    assert sub.approval("manager-discount").status == "carried"


async def test_a_quote_changed_while_pending_carries_what_was_approved_when_resubmitted(desk):
    await desk.submit(net_total=1000, discount_percent=18)
    await desk.approve("manager-discount", "mike")
    await desk.send(net_total=900, discount_percent=18)
    sub = await desk.resubmit()
    assert sub.approval("manager-discount").status == "carried"
    assert sub.approval("vp-signoff").status == "requested"


@pytest.mark.parametrize(
    ("new_margin", "margin_floor", "hard_floor"),
    [
        (9, "carried", "carried"),  # unchanged
        (9.5, "carried", "carried"),  # better: higher margin
        (8, "requested", "requested"),  # worse: lower margin
    ],
)
async def test_lt_and_le_smart_conditions_are_requested_again_only_when_the_value_got_smaller(
    desk, new_margin, margin_floor, hard_floor
):
    await approved_then_rejected(desk, ["margin-floor", "margin-hard-floor"], margin_percent=9)
    sub = await desk.submit(net_total=1000, margin_percent=new_margin)
    assert sub.approval("margin-floor").status == margin_floor
    assert sub.approval("margin-hard-floor").status == hard_floor


async def test_a_ge_smart_condition_carries_an_equal_value():
    desk = Desk(
        policy_with(
            """
            - name: big
              chain: a
              approver: dana
              conditions: [{field: net_total, op: ge, value: 100000, smart: true}]
            - {name: vp, chain: b, approver: vera}
            """
        )
    )
    await desk.submit(net_total=150000)
    await desk.approve("big", "dana")
    await desk.reject("vp", "vera", "no")
    assert (await desk.submit(net_total=150000)).approval("big").status == "carried"
    await desk.recall()
    assert (await desk.submit(net_total=150001)).approval("big").status == "requested"


async def test_other_operators_request_again_when_the_tested_value_changed_even_if_the_condition_still_holds(desk):
    await approved_then_rejected(desk, ["long-terms"], payment_terms="Net 60")
    sub = await desk.submit(net_total=1000, payment_terms="Net 90")
    assert sub.approval("long-terms").status == "requested"


async def test_other_operators_carry_when_the_tested_value_is_unchanged(desk):
    await approved_then_rejected(desk, ["long-terms"], payment_terms="Net 60")
    sub = await desk.submit(net_total=2000, payment_terms="Net 60")
    assert sub.approval("long-terms").status == "carried"


async def test_a_rule_without_smart_conditions_is_requested_again_on_resubmission(desk):
    await approved_then_rejected(desk, ["big-deal"], quantity=1200)
    sub = await desk.resubmit()
    assert sub.approval("big-deal").status == "requested"


async def test_non_smart_conditions_keep_their_ordinary_truth_in_an_all_rule():
    desk = Desk(
        policy_with(
            """
            - name: deep-and-big
              chain: a
              approver: dana
              conditions:
                - {field: discount_percent, op: gt, value: 10, smart: true}
                - {field: net_total, op: ge, value: 100000}
            - {name: vp, chain: b, approver: vera}
            """
        )
    )
    await desk.submit(discount_percent=20, net_total=150000)
    await desk.approve("deep-and-big", "dana")
    await desk.reject("vp", "vera", "no")
    # discount improved (smart: false) and net total still >= 100000 (true): all(false, true) is false.
    sub = await desk.submit(discount_percent=15, net_total=150000)
    assert sub.approval("deep-and-big").status == "carried"


async def test_non_smart_conditions_keep_their_ordinary_truth_in_an_any_rule():
    desk = Desk(
        policy_with(
            """
            - name: deep-or-big
              chain: a
              approver: dana
              when: any
              conditions:
                - {field: discount_percent, op: gt, value: 10, smart: true}
                - {field: net_total, op: ge, value: 100000}
            - {name: vp, chain: b, approver: vera}
            """
        )
    )
    await desk.submit(discount_percent=20, net_total=150000)
    await desk.approve("deep-or-big", "dana")
    await desk.reject("vp", "vera", "no")
    sub = await desk.submit(discount_percent=15, net_total=150000)
    assert sub.approval("deep-or-big").status == "requested"
    await desk.recall()
    sub = await desk.submit(discount_percent=15, net_total=50000)
    assert sub.approval("deep-or-big").status == "requested"  # the previous one was requested, not approved


async def test_a_smart_condition_on_a_variable_compares_the_approved_aggregate():
    desk = Desk(
        policy_with(
            """
            - name: blended
              chain: a
              approver: dana
              conditions: [{variable: blended_discount, op: gt, value: 25, smart: true}]
            - {name: vp, chain: b, approver: vera}
            """,
            variables="blended_discount: {discount: {list: list_total, net: net_total}}",
        )
    )
    await desk.submit(lines=[line("L1", list_total=1000, net_total=700)])
    await desk.approve("blended", "dana")
    await desk.reject("vp", "vera", "no")
    better = await desk.submit(lines=[line("L1", list_total=1000, net_total=720)])
    assert better.approval("blended").status == "carried"
    await desk.recall()
    worse = await desk.submit(lines=[line("L1", list_total=1000, net_total=650)])
    assert worse.approval("blended").status == "requested"


async def test_a_carried_approval_keeps_the_value_the_person_actually_approved(desk):
    await approved_then_rejected(desk, ["manager-discount"], discount_percent=18)
    second = await desk.submit(net_total=1000, discount_percent=15)
    assert second.approval("manager-discount").values == {1: 18}
    await desk.recall()
    # 17 is worse than 15 but not worse than the 18 mike approved: still carried, still from #1.
    third = await desk.submit(net_total=1000, discount_percent=17)
    approval = third.approval("manager-discount")
    assert (approval.status, approval.carried_from, approval.acted_by) == ("carried", "Q-1#1/manager-discount", "mike")
    await desk.recall()
    fourth = await desk.submit(net_total=1000, discount_percent=18.1)
    assert fourth.approval("manager-discount").status == "requested"


async def test_a_previously_rejected_or_revoked_approval_is_requested_again(desk):
    await desk.submit(net_total=1000, discount_percent=18, margin_percent=9)
    await desk.reject("manager-discount", "mike", "no")
    sub = await desk.resubmit()
    assert sub.approval("manager-discount").status == "requested"  # was rejected
    assert sub.approval("margin-floor").status == "requested"  # was revoked


async def test_a_rule_that_no_longer_holds_is_neither_carried_nor_requested(desk):
    await approved_then_rejected(desk, ["manager-discount"], discount_percent=18)
    sub = await desk.submit(net_total=1000, discount_percent=5)
    assert sub.find("manager-discount") is None


async def test_a_carried_first_step_opens_the_next_step_at_once(desk):
    await approved_then_rejected(desk, ["manager-discount"], discount_percent=18)
    sub = await desk.resubmit()
    assert (sub.approval("manager-discount").status, sub.approval("vp-signoff").status) == ("carried", "requested")


async def test_a_resubmission_whose_approvals_are_all_carried_is_approved_at_once():
    desk = Desk(
        policy_with(
            """
            - name: a
              chain: a
              approver: dana
              conditions: [{field: discount_percent, op: gt, value: 10, smart: true}]
            - name: b
              chain: b
              approver: vera
              conditions: [{field: discount_percent, op: gt, value: 20, smart: true}]
            """
        )
    )
    await desk.submit(discount_percent=25)
    await desk.approve("a", "dana")
    await desk.reject("b", "vera", "too deep")
    sub = await desk.submit(discount_percent=15)
    assert sub.approvals[0].status == "carried"
    assert sub.status == "approved"


async def test_a_carried_approval_does_not_auto_approve_the_same_persons_other_approvals():
    desk = Desk(
        policy_with(
            """
            - name: discount
              chain: a
              approver: manager
              conditions: [{field: discount_percent, op: gt, value: 10, smart: true}]
            - {name: terms, chain: b, approver: mike, conditions: [{field: payment_terms, op: eq, value: Net 90}]}
            - {name: vp, chain: c, approver: vera}
            """
        )
    )
    await desk.submit(discount_percent=18)
    await desk.approve("discount", "mike")
    await desk.reject("vp", "vera", "no")
    sub = await desk.submit(discount_percent=18, payment_terms="Net 90")
    assert {a.rule: a.status for a in sub.approvals} == {"discount": "carried", "terms": "requested", "vp": "requested"}


async def test_a_carried_approval_is_recorded_with_the_original_approver():
    desk = Desk(policy_with(SMART))
    await approved_then_rejected(desk, ["manager-discount"], discount_percent=18)
    await desk.resubmit()
    carried = desk.audit("carried")
    assert [(e.rule, e.actor, e.submission, e.detail["carried_from"]) for e in carried] == [
        ("manager-discount", "mike", 2, "Q-1#1/manager-discount")
    ]
