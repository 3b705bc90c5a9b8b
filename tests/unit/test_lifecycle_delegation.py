"""Delegation windows, replacement and reassignment (policy-v1 §3.9, §3.10)."""

import datetime as dt

import pytest
from unit_kit import NOW, Desk, away, context, kinds, policy_with, quote

from domain import approvals as lifecycle
from domain.approvals import Directory
from domain.errors import Conflict, NotAllowed, NotFound

RULES = """
- {name: manager-discount, chain: commercial, approver: manager}
- {name: finance-check, chain: finance, approver: finance}
- {name: legal-terms, chain: legal, approver: legal}
"""

DEC = dt.date(2026, 12, 2), dt.date(2026, 12, 9)  # mike is away, in his own zone (Europe/Paris)


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC)


def assignees_at(now: dt.datetime, *delegations, rule: str = "manager-discount", **fields) -> list[str]:
    policy = policy_with(RULES)
    ctx = context(policy, now, Directory(list(delegations)))
    sub, _ = lifecycle.submit(ctx, quote(**fields), 1, None)
    return lifecycle.assignees(ctx, sub, sub.approval(rule))


# ------------------------------------------------------------ §3.9 windows in the delegator's zone


def test_a_delegation_starts_at_midnight_in_the_delegators_zone_not_utc():
    window = away("mike", "vera", *DEC)
    # 23:30 UTC on 1 December is already 00:30 on 2 December in Paris.
    assert assignees_at(utc(1, 23, 30), window) == ["mike", "vera"]
    assert assignees_at(utc(1, 22, 30), window) == ["mike"]


def test_a_delegation_ends_at_midnight_in_the_delegators_zone_not_utc():
    window = away("mike", "vera", *DEC)
    assert assignees_at(utc(9, 22, 30), window) == ["mike", "vera"]  # 23:30 in Paris, 9 December
    assert assignees_at(utc(9, 23, 30), window) == ["mike"]  # 00:30 in Paris, 10 December; UTC still says 9


def test_a_delegate_who_is_away_too_passes_the_request_on():
    chain = [away("mike", "vera", *DEC, ident=1), away("vera", "sam", *DEC, ident=2)]
    assert assignees_at(utc(3, 12), *chain) == ["mike", "vera", "sam"]


def test_a_delegation_cycle_stops():
    loop = [away("mike", "vera", *DEC, ident=1), away("vera", "mike", *DEC, ident=2)]
    assert assignees_at(utc(3, 12), *loop) == ["mike", "vera"]


def test_the_quote_owner_is_skipped_along_a_delegation_chain_but_their_delegate_is_followed():
    through_owner = [away("mike", "rita", *DEC, ident=1), away("rita", "lou", *DEC, ident=2)]
    assert assignees_at(utc(3, 12), *through_owner) == ["mike", "lou"]


def test_the_latest_delegation_wins_when_two_overlap():
    both = [away("mike", "vera", *DEC, ident=1), away("mike", "ned", *DEC, ident=2)]
    assert assignees_at(utc(3, 12), *both) == ["mike", "ned"]


async def test_a_request_made_while_the_delegation_is_active_goes_to_the_delegate_who_decides_on_behalf():
    desk = Desk(policy_with(RULES), now=utc(3, 9))
    await desk.delegate("mike", "vera", *DEC)
    await desk.submit()
    assert await desk.assignees("manager-discount") == ["mike", "vera"]
    await desk.approve("manager-discount", "vera")
    approval = await desk.approval("manager-discount")
    assert (approval.status, approval.acted_by, approval.on_behalf_of) == ("approved", "vera", "mike")


async def test_the_delegator_may_still_act_while_away():
    desk = Desk(policy_with(RULES), now=utc(3, 9))
    await desk.delegate("mike", "vera", *DEC)
    await desk.submit()
    await desk.approve("manager-discount", "mike")
    approval = await desk.approval("manager-discount")
    assert (approval.acted_by, approval.on_behalf_of) == ("mike", None)


async def test_a_delegation_that_starts_later_adds_the_delegate_to_open_requests_when_it_starts():
    desk = Desk(policy_with(RULES), now=utc(1, 9))
    await desk.submit()
    assert await desk.delegate("mike", "vera", *DEC) == []
    assert await desk.assignees("manager-discount") == ["mike"]
    desk.clock.to(utc(1, 23, 30))  # 2 December in Paris
    events = await desk.tick()
    assert [(e.kind, e.rule, e.people) for e in events] == [("delegate_added", "manager-discount", ("vera",))]
    assert await desk.assignees("manager-discount") == ["mike", "vera"]
    assert await desk.tick() == []


async def test_a_delegation_active_now_adds_the_delegate_to_open_requests_at_once():
    desk = Desk(policy_with(RULES), now=utc(3, 9))
    await desk.submit()
    events = await desk.delegate("mike", "vera", *DEC)
    assert kinds(events) == ["delegate_added"]


async def test_a_delegate_whose_window_has_ended_is_refused():
    desk = Desk(policy_with(RULES), now=utc(9, 12))
    await desk.delegate("mike", "vera", *DEC)
    await desk.submit()
    desk.clock.to(utc(9, 23, 30))  # 10 December in Paris
    with pytest.raises(NotAllowed, match="not an approver"):
        await desk.approve("manager-discount", "vera")
    assert await desk.assignees("manager-discount") == ["mike"]


async def test_a_delegation_ended_early_stops_the_delegate():
    desk = Desk(policy_with(RULES), now=utc(3, 9))
    await desk.delegate("mike", "vera", *DEC)
    await desk.submit()
    await desk.service.end_delegation("mike", "mike", desk.now)
    with pytest.raises(NotAllowed):
        await desk.approve("manager-discount", "vera")


async def test_a_delegate_casts_the_members_vote_in_an_all_group():
    desk = Desk(policy_with(RULES), now=utc(3, 9))
    await desk.delegate("fin2", "ned", *DEC)
    await desk.submit()
    await desk.approve("finance-check", "fin1")
    await desk.approve("finance-check", "ned")
    approval = await desk.approval("finance-check")
    assert (approval.status, approval.acted_by, approval.on_behalf_of) == ("approved", "ned", "fin2")
    assert [(s.member, s.voted_by, s.on_behalf_of) for s in approval.seats] == [
        ("fin1", "fin1", None),
        ("fin2", "ned", "fin2"),
    ]


async def test_one_click_casts_every_vote_a_person_holds_in_a_quorum():
    desk = Desk(policy_with(RULES), now=utc(3, 9))
    await desk.delegate("lea", "lou", *DEC)
    await desk.submit()
    await desk.approve("legal-terms", "lou")
    approval = await desk.approval("legal-terms")
    assert approval.status == "approved"
    assert [(s.member, s.voted_by, s.on_behalf_of) for s in approval.seats if s.vote] == [
        ("lea", "lou", "lea"),
        ("lou", "lou", None),
    ]


async def test_setting_a_delegation_for_someone_else_needs_an_admin():
    desk = Desk(policy_with(RULES))
    with pytest.raises(NotAllowed):
        await desk.service.delegate("mike", "vera", *DEC, by="lou", now=NOW)
    await desk.service.delegate("mike", "vera", *DEC, by="dana", now=NOW)


# ------------------------------------------------------------ §3.10 replacement and reassignment


async def test_a_replacement_moves_the_old_approvers_open_approvals_to_the_new_one():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}"))
    await desk.submit()
    events = await desk.replace("vera", "ned")
    assert [(e.kind, e.rule, e.actor, e.detail) for e in events] == [
        ("replaced", "vp", "dana", {"old": "vera", "new": "ned", "members": ["vera"]})
    ]
    assert await desk.assignees("vp") == ["ned"]
    with pytest.raises(NotAllowed):
        await desk.approve("vp", "vera")
    await desk.approve("vp", "ned")
    assert (await desk.latest()).status == "approved"


async def test_a_replacement_applies_to_new_submissions():
    desk = Desk(policy_with("- {name: fin, approver: finance}"))
    await desk.replace("fin2", "fin3")
    sub = await desk.submit()
    assert [s.holder for s in sub.approval("fin").seats] == ["fin1", "fin3"]


async def test_a_replacement_applies_to_people_found_through_a_field():
    desk = Desk(policy_with("- {name: mgr, approver: manager}"))
    await desk.replace("mike", "lou")
    sub = await desk.submit()
    assert [s.holder for s in sub.approval("mgr").seats] == ["lou"]


async def test_a_replacement_does_not_move_a_vote_already_cast():
    desk = Desk(policy_with("- {name: fin, approver: finance}"))
    await desk.submit()
    await desk.approve("fin", "fin2")
    assert await desk.replace("fin2", "fin3") == []
    approval = await desk.approval("fin")
    assert [(s.holder, s.vote) for s in approval.seats] == [("fin1", None), ("fin2", "approve")]


async def test_a_replacement_by_the_quote_owner_sends_an_emptied_approval_to_the_fallback():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}"))
    await desk.submit()
    await desk.replace("vera", "rita")
    approval = await desk.approval("vp")
    assert ([s.holder for s in approval.seats], approval.fallback) == (["dana", "fin1"], True)


async def test_only_an_admin_can_replace():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales}"))
    with pytest.raises(NotAllowed, match="admin"):
        await desk.replace("vera", "ned", by="mike")


async def test_a_reassigned_approval_is_decided_by_the_receiver_and_no_longer_by_the_giver():
    desk = Desk(policy_with(RULES))
    await desk.submit()
    events = await desk.reassign("legal-terms", "lea", "ned", "conflict of interest")
    assert [(e.kind, e.actor, e.people, e.comment) for e in events] == [
        ("reassigned", "lea", ("ned",), "conflict of interest")
    ]
    assert await desk.assignees("legal-terms") == ["ned", "leo", "lou"]
    with pytest.raises(NotAllowed):
        await desk.approve("legal-terms", "lea")
    await desk.approve("legal-terms", "ned")
    await desk.approve("legal-terms", "leo")
    approval = await desk.approval("legal-terms")
    assert approval.status == "approved"
    assert [(s.member, s.voted_by) for s in approval.seats if s.vote] == [("lea", "ned"), ("leo", "leo")]


async def test_reassigning_to_someone_already_assigned_is_refused():
    desk = Desk(policy_with(RULES))
    await desk.submit()
    with pytest.raises(Conflict, match="already an assignee"):
        await desk.reassign("legal-terms", "lea", "leo")


async def test_reassigning_to_the_quote_owner_is_refused():
    desk = Desk(policy_with(RULES))
    await desk.submit()
    with pytest.raises(NotAllowed, match="owns"):
        await desk.reassign("legal-terms", "lea", "rita")


async def test_reassigning_to_an_unknown_person_is_refused():
    desk = Desk(policy_with(RULES))
    await desk.submit()
    with pytest.raises(NotFound):
        await desk.reassign("legal-terms", "lea", "zed")


async def test_only_an_assignee_can_reassign():
    desk = Desk(policy_with(RULES))
    await desk.submit()
    with pytest.raises(NotAllowed, match="not an assignee"):
        await desk.reassign("legal-terms", "vera", "ned")


async def test_a_replacement_casts_the_replaced_members_vote_in_an_all_group():
    desk = Desk(policy_with("- {name: fin, approver: finance}"))
    await desk.submit()
    await desk.replace("fin2", "fin3")
    await desk.approve("fin", "fin1")
    await desk.approve("fin", "fin3")
    approval = await desk.approval("fin")
    assert (approval.status, approval.acted_by) == ("approved", "fin3")
    assert [(s.member, s.voted_by) for s in approval.seats] == [("fin1", "fin1"), ("fin2", "fin3")]
