"""Submission, steps and chains, approver kinds and separation of duties (policy-v1 §3.1-3.3)."""

import datetime as dt

import pytest
from unit_kit import NOW, Desk, context, holders, kinds, policy_with, quote, statuses

from domain import approvals as lifecycle
from domain.errors import NotAllowed
from domain.quote import content_hash

CHAINS = """
- name: manager-discount
  chain: commercial
  step: 1
  approver: manager
  conditions: [{field: discount_percent, op: gt, value: 10}]
- name: vp-deep-discount
  chain: commercial
  step: 2
  approver: vp-sales
  conditions: [{field: discount_percent, op: gt, value: 25}]
- name: finance-terms
  chain: commercial
  step: 2
  approver: finance
  conditions: [{field: payment_terms, op: eq, value: Net 90}]
- name: legal-terms
  chain: legal
  step: 1
  approver: legal
  conditions: [{field: payment_terms, op: in, value: [Net 60, Net 90]}]
"""


@pytest.fixture
def desk() -> Desk:
    return Desk(policy_with(CHAINS))


# ------------------------------------------------------------ §3.1 submission, steps, chains


async def test_submitting_freezes_a_snapshot_of_the_quote_with_id_version_and_content_hash(desk):
    sub = await desk.submit(discount_percent=12, net_total=5000)
    assert (sub.quote_id, sub.quote_version, sub.number) == ("Q-1", 1, 1)
    assert sub.snapshot["discount_percent"] == 12
    assert sub.content_hash == content_hash(sub.snapshot)
    assert sub.submitted_at == NOW


async def test_every_rule_whose_conditions_hold_yields_exactly_one_approval(desk):
    sub = await desk.submit(discount_percent=30, payment_terms="Net 30")
    assert [a.rule for a in sub.approvals] == ["manager-discount", "vp-deep-discount"]


async def test_a_later_step_waits_until_the_earlier_step_of_its_chain_is_settled(desk):
    sub = await desk.submit(discount_percent=30)
    assert statuses(sub) == {"manager-discount": "requested", "vp-deep-discount": "waiting"}
    desk.later(hours=1)
    await desk.approve("manager-discount", "mike")
    assert await desk.statuses() == {"manager-discount": "approved", "vp-deep-discount": "requested"}
    assert (await desk.approval("vp-deep-discount")).requested_at == desk.now


async def test_every_approval_at_the_lowest_open_step_of_a_chain_is_requested_together(desk):
    await desk.submit(discount_percent=30, payment_terms="Net 90")
    events = await desk.approve("manager-discount", "mike")
    assert await desk.statuses() == {
        "manager-discount": "approved",
        "vp-deep-discount": "requested",
        "finance-terms": "requested",
        "legal-terms": "requested",
    }
    assert [e.rule for e in events if e.kind == "requested"] == ["vp-deep-discount", "finance-terms"]


async def test_different_chains_are_requested_in_parallel(desk):
    sub = await desk.submit(discount_percent=12, payment_terms="Net 60")
    assert statuses(sub) == {"manager-discount": "requested", "legal-terms": "requested"}


async def test_a_chain_whose_only_approval_is_at_step_three_starts_there():
    desk = Desk(policy_with("- {name: cfo, chain: finance, step: 3, approver: vp-sales}"))
    sub = await desk.submit()
    assert statuses(sub) == {"cfo": "requested"}


async def test_step_numbers_need_not_be_consecutive():
    desk = Desk(
        policy_with(
            """
            - {name: first, step: 2, approver: vp-sales}
            - {name: second, step: 5, approver: dana}
            - {name: third, step: 9, approver: fin1}
            """
        )
    )
    assert statuses(await desk.submit()) == {"first": "requested", "second": "waiting", "third": "waiting"}
    await desk.approve("first", "vera")
    assert await desk.statuses() == {"first": "approved", "second": "requested", "third": "waiting"}
    await desk.approve("second", "dana")
    assert await desk.statuses() == {"first": "approved", "second": "approved", "third": "requested"}


async def test_the_quote_is_approved_once_every_approval_is_approved(desk):
    await desk.submit(discount_percent=30, payment_terms="Net 60")
    await desk.approve("manager-discount", "mike")
    await desk.approve("legal-terms", "lea")
    await desk.approve("legal-terms", "leo")
    assert (await desk.latest()).status == "pending"
    events = await desk.approve("vp-deep-discount", "vera")
    sub = await desk.latest()
    assert sub.status == "approved"
    assert sub.decided_at == desk.now
    assert "quote_approved" in kinds(events)


async def test_a_submission_that_needs_no_approval_is_approved_at_once(desk):
    sub = await desk.submit(discount_percent=5)
    assert sub.approvals == []
    assert sub.status == "approved"
    assert "quote_approved" in [e.kind for e in desk.audit()]


EFFECTIVE = """
- name: year-2026-only
  approver: vp-sales
  effective: {from: 2026-01-01, to: 2026-12-31}
- name: from-2027
  approver: dana
  effective: {from: 2027-01-01}
"""


def test_effective_dates_are_compared_with_the_submission_date_in_the_policy_zone():
    policy = policy_with(EFFECTIVE)  # America/New_York
    # 03:00 UTC on New Year's Day is still 31 December, 22:00 in New York.
    evening_in_new_york = dt.datetime(2027, 1, 1, 3, 0, tzinfo=dt.UTC)
    sub, _ = lifecycle.submit(context(policy, evening_in_new_york), quote(), 1, None)
    assert [a.rule for a in sub.approvals] == ["year-2026-only"]


def test_effective_dates_switch_at_midnight_in_the_policy_zone_not_utc():
    policy = policy_with(EFFECTIVE)
    new_year_in_new_york = dt.datetime(2027, 1, 1, 5, 0, tzinfo=dt.UTC)
    sub, _ = lifecycle.submit(context(policy, new_year_in_new_york), quote(), 1, None)
    assert [a.rule for a in sub.approvals] == ["from-2027"]


def test_effective_dates_are_inclusive_at_both_ends():
    policy = policy_with("- {name: december, approver: vera, effective: {from: 2026-12-01, to: 2026-12-31}}")
    first = dt.datetime(2026, 12, 1, 5, 0, tzinfo=dt.UTC)  # 00:00 in New York
    last = dt.datetime(2027, 1, 1, 4, 59, tzinfo=dt.UTC)  # 23:59 in New York
    for now in (first, last):
        sub, _ = lifecycle.submit(context(policy, now), quote(), 1, None)
        assert [a.rule for a in sub.approvals] == ["december"]


# ------------------------------------------------------------ §3.2 approver kinds


KINDS = """
- {name: by-user, chain: a, approver: vp-sales}
- {name: by-any, chain: b, approver: deal-desk}
- {name: by-all, chain: c, approver: finance}
- {name: by-quorum, chain: d, approver: legal}
- {name: by-field, chain: e, approver: manager}
"""


@pytest.fixture
async def kinds_desk() -> Desk:
    desk = Desk(policy_with(KINDS))
    await desk.submit()
    return desk


async def test_a_user_approval_is_settled_by_that_user(kinds_desk):
    await kinds_desk.approve("by-user", "vera")
    approval = await kinds_desk.approval("by-user")
    assert (approval.status, approval.acted_by) == ("approved", "vera")


async def test_in_an_any_group_the_first_approval_decides(kinds_desk):
    await kinds_desk.approve("by-any", "fin1")
    approval = await kinds_desk.approval("by-any")
    assert (approval.status, approval.acted_by) == ("approved", "fin1")


async def test_in_an_any_group_the_first_rejection_decides(kinds_desk):
    await kinds_desk.reject("by-any", "dana", "no")
    assert (await kinds_desk.approval("by-any")).status == "rejected"
    assert (await kinds_desk.latest()).status == "rejected"


async def test_in_an_all_group_one_approval_is_not_enough(kinds_desk):
    events = await kinds_desk.approve("by-all", "fin1")
    assert (await kinds_desk.approval("by-all")).status == "requested"
    assert [(e.kind, e.actor) for e in events if e.rule == "by-all"] == [("voted", "fin1")]


async def test_in_an_all_group_everyone_must_approve(kinds_desk):
    await kinds_desk.approve("by-all", "fin1")
    await kinds_desk.approve("by-all", "fin2")
    approval = await kinds_desk.approval("by-all")
    assert (approval.status, approval.acted_by) == ("approved", "fin2")


async def test_in_an_all_group_one_rejection_rejects_after_others_approved(kinds_desk):
    await kinds_desk.approve("by-all", "fin1")
    await kinds_desk.reject("by-all", "fin2", "terms")
    assert (await kinds_desk.approval("by-all")).status == "rejected"


async def test_a_member_cannot_vote_twice_in_a_group(kinds_desk):
    await kinds_desk.approve("by-all", "fin1")
    with pytest.raises(Exception, match="already voted"):
        await kinds_desk.approve("by-all", "fin1")


async def test_a_quorum_approves_at_n_approvals(kinds_desk):
    await kinds_desk.approve("by-quorum", "lea")
    assert (await kinds_desk.approval("by-quorum")).status == "requested"
    await kinds_desk.approve("by-quorum", "lou")
    approval = await kinds_desk.approval("by-quorum")
    assert (approval.status, approval.acted_by) == ("approved", "lou")


async def test_one_rejection_in_a_quorum_is_a_vote_while_the_quorum_can_still_be_reached(kinds_desk):
    events = await kinds_desk.reject("by-quorum", "lea", "not yet")
    assert (await kinds_desk.approval("by-quorum")).status == "requested"
    assert (await kinds_desk.latest()).status == "pending"
    assert kinds(events) == ["voted"]


async def test_a_quorum_is_rejected_once_it_can_no_longer_be_reached(kinds_desk):
    await kinds_desk.reject("by-quorum", "lea", "no")
    await kinds_desk.reject("by-quorum", "leo", "no either")
    approval = await kinds_desk.approval("by-quorum")
    assert (approval.status, approval.acted_by, approval.comment) == ("rejected", "leo", "no either")


async def test_a_quorum_with_one_approval_and_two_rejections_is_rejected(kinds_desk):
    await kinds_desk.approve("by-quorum", "lea")
    await kinds_desk.reject("by-quorum", "leo", "no")
    assert (await kinds_desk.approval("by-quorum")).status == "requested"
    await kinds_desk.reject("by-quorum", "lou", "no")
    assert (await kinds_desk.approval("by-quorum")).status == "rejected"


async def test_a_field_approver_resolves_to_the_owners_manager(kinds_desk):
    assert holders(await kinds_desk.latest(), "by-field") == ["mike"]
    await kinds_desk.approve("by-field", "mike")
    assert (await kinds_desk.approval("by-field")).status == "approved"


async def test_a_field_approver_resolves_an_owner_given_by_slack_id():
    desk = Desk(policy_with("- {name: by-field, approver: manager}"))
    sub = await desk.submit(owner="U0RITA")
    assert holders(sub, "by-field") == ["mike"]
    assert sub.approval("by-field").fallback is False


async def test_a_field_approver_resolves_a_slack_id_found_in_the_quote():
    approvers = "approvers:\n  deal-desk: {group: [dana, fin1], mode: any}\n  sponsor: {field: account.sponsor}\n"
    desk = Desk(policy_with("- {name: sponsor, approver: sponsor}", approvers=approvers))
    sub = await desk.submit(account={"id": "A-1", "sponsor": "U0VERA"})
    assert holders(sub, "sponsor") == ["vera"]


async def test_a_field_that_lists_people_is_settled_by_the_first_of_them():
    approvers = "approvers:\n  deal-desk: {group: [dana, fin1], mode: any}\n  reviewers: {field: reviewers}\n"
    desk = Desk(policy_with("- {name: review, approver: reviewers}", approvers=approvers))
    sub = await desk.submit(reviewers=["lea", "leo"])
    assert holders(sub, "review") == ["lea", "leo"]
    await desk.approve("review", "leo")
    assert (await desk.approval("review")).status == "approved"


# ------------------------------------------------------------ §3.3 separation of duties


async def test_the_owner_is_never_an_assignee_of_a_group_on_their_own_quote():
    desk = Desk(policy_with("- {name: desk-check, approver: deal-desk}"))
    sub = await desk.submit(owner="dana")
    assert holders(sub, "desk-check") == ["fin1"]
    assert sub.approval("desk-check").fallback is False


async def test_the_owner_cannot_decide_an_approval_on_their_own_quote():
    desk = Desk(policy_with("- {name: desk-check, approver: deal-desk}"))
    await desk.submit(owner="dana")
    with pytest.raises(NotAllowed, match="owns Q-1"):
        await desk.approve("desk-check", "dana")


async def test_an_owner_given_by_slack_id_is_still_kept_off_their_own_approvals():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}"))
    sub = await desk.submit(owner="U0VERA")
    assert sub.owner == "vera"
    assert "vera" not in holders(sub, "vp")
    assert sub.approval("vp").fallback is True


async def test_an_approver_who_is_the_owner_falls_back_to_the_fallback_approver():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}"))
    sub = await desk.submit(owner="vera")
    approval = sub.approval("vp")
    assert (holders(sub, "vp"), approval.mode, approval.fallback) == (["dana", "fin1"], "any", True)


async def test_an_owner_without_a_manager_sends_the_manager_approval_to_the_fallback():
    desk = Desk(policy_with("- {name: mgr, approver: manager}"))
    sub = await desk.submit(owner="vera")
    assert holders(sub, "mgr") == ["dana", "fin1"]
    assert sub.approval("mgr").fallback is True


async def test_a_quorum_that_the_owner_leaves_unreachable_goes_to_the_fallback():
    approvers = (
        "approvers:\n  deal-desk: {group: [dana, fin1], mode: any}\n  board: {group: [lea, leo], mode: {quorum: 2}}\n"
    )
    desk = Desk(policy_with("- {name: board, approver: board}", approvers=approvers))
    sub = await desk.submit(owner="lea")
    assert holders(sub, "board") == ["dana", "fin1"]


async def test_a_quorum_still_reachable_without_the_owner_stays_with_the_group():
    desk = Desk(policy_with("- {name: legal, approver: legal}"))
    sub = await desk.submit(owner="lea")
    approval = sub.approval("legal")
    assert (holders(sub, "legal"), approval.quorum, approval.fallback) == (["leo", "lou"], 2, False)


async def test_the_fallback_may_be_a_person():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}", fallback="ned"))
    sub = await desk.submit(owner="vera")
    assert holders(sub, "vp") == ["ned"]


async def test_when_the_fallback_is_the_owner_the_admins_decide():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}", fallback="vera", admins="[dana, vera]"))
    sub = await desk.submit(owner="vera")
    assert holders(sub, "vp") == ["dana"]


async def test_when_nobody_but_the_owner_can_approve_the_submission_is_refused_naming_the_rule():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}", fallback="vera", admins="[vera]"))
    with pytest.raises(NotAllowed, match="'vp'"):
        await desk.submit(owner="vera")
    assert await desk.service.latest("Q-1") is None
