"""Reminders and escalations, measured from when each approval was requested (policy-v1 §3.11)."""

import datetime as dt

import pytest
from unit_kit import NOW, Desk, kinds, policy_with

from domain import approvals as lifecycle

TIMED = """
- {name: manager-discount, chain: commercial, step: 1, approver: manager}
- name: vp-deep
  chain: commercial
  step: 2
  approver: vp-sales
  remind_after: 4h
  escalate_after: 24h
  escalate_to: deal-desk
- name: finance-check
  chain: finance
  approver: finance
  remind_after: 30m
  escalate_after: 2d
  escalate_to: vp-sales
"""


@pytest.fixture
def desk() -> Desk:
    return Desk(policy_with(TIMED))


async def test_a_reminder_is_measured_from_when_the_approval_was_requested_not_from_submission(desk):
    await desk.submit()
    desk.later(hours=3)
    await desk.approve("manager-discount", "mike")  # vp-deep is requested now, at +3h
    desk.later(hours=2)  # +5h: 4h after submission, but 2h after the request
    assert "reminded" not in [(e.kind) for e in await desk.tick() if e.rule == "vp-deep"]
    desk.later(hours=2)  # +7h: 4h after the request
    events = [e for e in await desk.tick() if e.rule == "vp-deep"]
    assert [(e.kind, e.people) for e in events] == [("reminded", ("vera",))]


async def test_a_reminder_fires_once(desk):
    await desk.submit()
    desk.later(minutes=30)
    assert [(e.kind, e.rule) for e in await desk.tick()] == [("reminded", "finance-check")]
    desk.later(hours=5)
    assert [e for e in await desk.tick() if e.kind == "reminded"] == []


async def test_a_reminder_goes_to_the_assignees_who_have_not_voted(desk):
    await desk.submit()
    await desk.approve("finance-check", "fin1")
    desk.later(minutes=30)
    events = await desk.tick()
    assert [(e.kind, e.people) for e in events] == [("reminded", ("fin2",))]


async def test_nothing_is_due_before_the_delay_has_passed(desk):
    await desk.submit()
    desk.later(minutes=29, seconds=59)
    assert await desk.tick() == []


async def test_the_next_due_moment_is_the_earliest_reminder_or_escalation(desk):
    sub = await desk.submit()
    assert lifecycle.next_due(sub, desk.policy) == NOW + dt.timedelta(minutes=30)


async def test_an_escalation_adds_the_escalation_approvers_people_after_the_delay(desk):
    await desk.submit()
    await desk.approve("manager-discount", "mike")
    desk.later(hours=23, minutes=59)
    assert [e for e in await desk.tick() if e.kind == "escalated" and e.rule == "vp-deep"] == []
    desk.later(minutes=1)
    events = [e for e in await desk.tick() if e.rule == "vp-deep"]
    assert [(e.kind, e.people, e.detail) for e in events] == [("escalated", ("dana", "fin1"), {"to": "deal-desk"})]
    assert await desk.assignees("vp-deep") == ["vera", "dana", "fin1"]


async def test_any_one_escalation_approver_may_decide_the_whole_approval(desk):
    await desk.submit()
    await desk.approve("manager-discount", "mike")
    desk.later(hours=24)
    await desk.tick()
    await desk.approve("vp-deep", "fin1")
    approval = await desk.approval("vp-deep")
    assert (approval.status, approval.acted_by, approval.on_behalf_of) == ("approved", "fin1", None)


async def test_an_escalation_approver_decides_a_whole_all_group_alone(desk):
    await desk.submit()
    await desk.approve("finance-check", "fin1")
    desk.later(days=2)
    await desk.tick()
    await desk.approve("finance-check", "vera")
    approval = await desk.approval("finance-check")
    assert (approval.status, approval.acted_by) == ("approved", "vera")


async def test_an_escalation_approver_may_reject_with_a_reason(desk):
    await desk.submit()
    desk.later(days=2)
    await desk.tick()
    await desk.reject("finance-check", "vera", "not at these terms")
    assert (await desk.latest()).status == "rejected"


async def test_an_escalation_fires_once(desk):
    await desk.submit()
    desk.later(days=2)
    assert "escalated" in kinds(await desk.tick())
    desk.later(days=2)
    assert "escalated" not in kinds(await desk.tick())


async def test_an_escalation_never_adds_the_quote_owner():
    desk = Desk(policy_with("- {name: vp, approver: vp-sales, escalate_after: 1h, escalate_to: deal-desk}"))
    await desk.submit(owner="dana")
    desk.later(hours=1)
    events = await desk.tick()
    assert [(e.kind, e.people) for e in events] == [("escalated", ("fin1",))]


async def test_nothing_is_reminded_or_escalated_once_the_quote_is_decided(desk):
    await desk.submit()
    await desk.reject("finance-check", "fin1", "no")
    desk.later(days=3)
    assert await desk.tick() == []


async def test_an_escalation_assignee_who_approves_another_approval_settles_the_escalated_one_too():
    # §3.11 makes escalate_to's people assignees; §3.4 counts a person's approval on every open
    # approval of the submission where they are an assignee.
    desk = Desk(
        policy_with(
            """
            - {name: desk-check, chain: a, approver: deal-desk}
            - {name: vp, chain: b, approver: vp-sales, escalate_after: 1h, escalate_to: deal-desk}
            """
        )
    )
    await desk.submit()
    desk.later(hours=1)
    await desk.tick()
    await desk.approve("desk-check", "dana")
    approval = await desk.approval("vp")
    assert (approval.status, approval.acted_by) == ("auto", "dana")
