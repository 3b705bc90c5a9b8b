"""The audit trail: who, when, on behalf of whom, which quote version, and the comment (§3.13)."""

import datetime as dt

import pytest
from unit_kit import NOW, Desk, policy_with

from domain.errors import NotAllowed

RULES = """
- name: manager-discount
  chain: commercial
  approver: manager
  conditions: [{field: discount_percent, op: gt, value: 10, smart: true}]
- {name: manager-terms, chain: terms, approver: mike}
- {name: desk-check, chain: ops, approver: deal-desk}
- {name: finance-check, chain: finance, approver: finance}
- {name: vp, chain: vp, approver: vp-sales}
"""

AWAY = dt.date(2026, 11, 30), dt.date(2026, 12, 31)


def row(event):
    return (event.kind, event.rule, event.actor, event.on_behalf_of, event.at, event.quote_version, event.comment)


@pytest.fixture
async def desk() -> Desk:
    desk = Desk(policy_with(RULES))
    return desk


async def test_a_decision_is_recorded_with_who_when_the_quote_version_and_the_comment(desk):
    await desk.send(discount_percent=5)
    await desk.submit(discount_percent=18)
    desk.later(hours=2)
    await desk.approve("vp", "vera", "fine at 18%")
    assert [row(e) for e in desk.audit("approved")] == [
        ("approved", "vp", "vera", None, NOW + dt.timedelta(hours=2), 2, "fine at 18%")
    ]


async def test_a_rejection_is_recorded_with_its_reason(desk):
    await desk.submit(discount_percent=18)
    await desk.reject("vp", "vera", "too deep")
    assert [row(e) for e in desk.audit("rejected")] == [("rejected", "vp", "vera", None, NOW, 1, "too deep")]
    assert [(e.actor, e.comment) for e in desk.audit("quote_rejected")] == [("vera", "too deep")]


async def test_a_delegates_decision_is_recorded_on_behalf_of_the_delegator(desk):
    await desk.delegate("mike", "lou", *AWAY)
    await desk.submit(discount_percent=18)
    await desk.approve("manager-discount", "lou", "covering for mike")
    assert [row(e) for e in desk.audit("approved")] == [
        ("approved", "manager-discount", "lou", "mike", NOW, 1, "covering for mike")
    ]


async def test_a_vote_that_does_not_settle_a_group_is_recorded_on_behalf_of_the_member(desk):
    await desk.delegate("fin2", "ned", *AWAY)
    await desk.submit()
    await desk.approve("finance-check", "ned", "for fin2")
    assert [row(e) for e in desk.audit("voted")] == [("voted", "finance-check", "ned", "fin2", NOW, 1, "for fin2")]


async def test_an_auto_approval_is_recorded_with_the_person_whose_approval_counted(desk):
    await desk.submit(discount_percent=18)
    await desk.approve("manager-discount", "mike")
    assert [row(e) for e in desk.audit("auto_approved")] == [
        ("auto_approved", "manager-terms", "mike", None, NOW, 1, None)
    ]


async def test_an_automatic_vote_in_a_group_that_does_not_settle_it_is_recorded(desk):
    await desk.submit()
    await desk.approve("desk-check", "fin1")
    finance_events = [e for e in desk.audit() if e.rule == "finance-check" and e.actor == "fin1"]
    assert finance_events, "fin1's automatic vote on finance-check left no audit event"


async def test_a_carry_is_recorded_with_the_original_approver_and_the_new_quote_version(desk):
    await desk.submit(discount_percent=18)
    await desk.approve("manager-discount", "mike")
    await desk.reject("vp", "vera", "no")
    desk.later(days=1)
    await desk.submit(discount_percent=15)
    [carried] = desk.audit("carried")
    assert (carried.rule, carried.actor, carried.at, carried.quote_version, carried.submission) == (
        "manager-discount",
        "mike",
        NOW + dt.timedelta(days=1),
        2,
        2,
    )


async def test_a_carry_of_a_delegates_approval_is_recorded_on_behalf_of_the_delegator(desk):
    await desk.delegate("mike", "lou", *AWAY)
    await desk.submit(discount_percent=18)
    await desk.approve("manager-discount", "lou")
    await desk.reject("vp", "vera", "no")
    sub = await desk.submit(discount_percent=15)
    assert (sub.approval("manager-discount").acted_by, sub.approval("manager-discount").on_behalf_of) == ("lou", "mike")
    [carried] = desk.audit("carried")
    assert (carried.actor, carried.on_behalf_of) == ("lou", "mike")


async def test_a_delegation_is_recorded_with_who_set_it_for_whom_and_when(desk):
    await desk.service.delegate("mike", "lou", *AWAY, by="dana", now=NOW)
    [event] = desk.audit("delegation_set")
    assert (event.actor, event.on_behalf_of, event.people, event.at) == ("dana", "mike", ("lou",), NOW)
    assert {k: event.detail[k] for k in ("start", "end")} == {"start": "2026-11-30", "end": "2026-12-31"}


async def test_a_replacement_is_recorded_with_the_admin_and_both_people(desk):
    await desk.submit()
    await desk.replace("vera", "ned", by="dana")
    [event] = desk.audit("replaced")
    assert (event.rule, event.actor, event.quote_version, event.detail) == (
        "vp",
        "dana",
        1,
        {"old": "vera", "new": "ned", "members": ["vera"]},  # whose seats moved: what an undo gives back
    )
    [summary] = desk.audit("replacement_set")
    assert (summary.actor, summary.detail["old"], summary.detail["new"]) == ("dana", "vera", "ned")


async def test_a_reassignment_is_recorded_with_its_comment(desk):
    await desk.submit()
    await desk.reassign("vp", "vera", "ned", "I am conflicted")
    [event] = desk.audit("reassigned")
    assert (event.actor, event.people, event.comment, event.detail) == (
        "vera",
        ("ned",),
        "I am conflicted",
        {"from": "vera", "to": "ned"},
    )


async def test_a_recall_is_recorded_with_the_owner(desk):
    await desk.submit()
    await desk.recall("rita")
    [event] = desk.audit("recalled")
    assert (event.actor, event.comment) == ("rita", "the owner recalled the quote")


async def test_a_refused_command_records_nothing(desk):
    await desk.submit()
    before = list(desk.store.events)
    with pytest.raises(NotAllowed):
        await desk.reject("vp", "vera", "")
    assert desk.store.events == before
