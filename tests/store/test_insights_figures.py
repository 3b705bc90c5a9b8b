"""Insights over a known history (tests/store/insights_kit.py), on the run's database backend."""

from __future__ import annotations

import pytest

from domain.insights import Spread, duration
from domain.service import Approvals
from store.insights import gather
from store.tx import DbStore

from .insights_kit import NOW, T0, at, play_history, policy

H = 3600


@pytest.fixture
async def report(connected: str):  # type: ignore[no-untyped-def]
    service = Approvals(policy(), DbStore())
    await play_history(service)
    return await gather(service.policy, NOW)


async def test_a_submission_decided_in_3_h_10_min_shows_3_h_10_min(connected: str) -> None:
    service = Approvals(policy(), DbStore())
    await play_history(service)
    report = await gather(service.policy, NOW, since=T0, until=at(minutes=30))
    assert report.submissions == {"approved": 1}
    assert report.cycle == Spread(1, 3 * H + 600, 3 * H + 600)
    assert duration(report.cycle.median) == "3 h 10 min"
    assert report.waiting == Spread(1, 3 * H + 600, 3 * H + 600)


async def test_cycle_and_waiting_times_median_and_p90(report) -> None:  # type: ignore[no-untyped-def]
    assert report.submissions == {"approved": 3, "rejected": 1, "pending": 1}
    # decided submissions: Q-2 v2 and Q-4 at once (0), Q-1 3 h 10 min, Q-2 6 h
    assert report.cycle == Spread(4, 0, 6 * H)
    assert report.cycle_by_rep == {"rep": Spread(3, 3 * H + 600, 6 * H), "rep2": Spread(1, 0, 0)}
    assert report.cycle_by_week == {"2026-11-02": Spread(4, 0, 6 * H)}
    # requests decided by a person: 1 h (Q-2 manager), 3 h 10 min, 5 h (Q-2 VP), 6 h (Q-3 finance)
    assert report.waiting == Spread(4, 3 * H + 600, 6 * H)
    assert report.waiting_by_chain == {"commercial": Spread(3, 3 * H + 600, 5 * H), "finance": Spread(1, 6 * H, 6 * H)}
    assert report.waiting_by_step == {
        "commercial/1": Spread(2, H, 3 * H + 600),
        "commercial/2": Spread(1, 5 * H, 5 * H),
        "finance/1": Spread(1, 6 * H, 6 * H),
    }
    assert report.waiting_by_approver == {
        "mike": Spread(2, H, 3 * H + 600),
        "vera": Spread(1, 5 * H, 5 * H),
        "fin2": Spread(1, 6 * H, 6 * H),
    }
    assert report.waiting_by_week == {"2026-11-02": Spread(4, 3 * H + 600, 6 * H)}


async def test_rules_rejections_smart_saves_reminders_and_escalations(report) -> None:  # type: ignore[no-untyped-def]
    rules = {r.rule: r for r in report.rules}
    assert [r.rule for r in report.rules] == ["manager-discount", "vp-deep-discount", "finance-terms"]
    manager = rules["manager-discount"]
    assert (manager.asked, manager.approved, manager.rejected, manager.carried) == (4, 2, 0, 1)
    assert (manager.reminded, manager.escalated) == (1, 1)
    assert manager.rejection_rate == 0
    vp = rules["vp-deep-discount"]
    assert (vp.asked, vp.approved, vp.rejected, vp.rejection_rate) == (1, 0, 1, 1.0)
    assert rules["finance-terms"].waiting == Spread(1, 6 * H, 6 * H)
    assert (report.carried, report.reminders, report.escalations) == (1, 1, 1)
    assert report.decisions_via == {"slack": 3, "email": 1}


async def test_open_requests_by_age_and_bottlenecks_with_the_delegation_in_force(report) -> None:  # type: ignore[no-untyped-def]
    assert report.open_count == 1
    assert report.open_by_age == {"under 4 h": 0, "4-24 h": 0, "1-2 d": 0, "2-7 d": 1, "over 7 d": 0}
    assert report.stuck_after == 48 * H
    assert report.stuck_count == 1
    [stuck] = report.stuck
    assert (stuck.quote_id, stuck.rule, stuck.age, stuck.holders) == (
        "Q-3",
        "manager-discount",
        4 * 24 * H,
        ("dana", "mike"),
    )
    loads = {load.person: load for load in report.bottlenecks}
    # equal queues: the slower decider (mike waits 1 h median; dana decided nothing) comes first
    assert [b.person for b in report.bottlenecks[:2]] == ["mike", "dana"]
    assert (loads["mike"].open, loads["mike"].stuck, loads["mike"].oldest) == (1, 1, 4 * 24 * H)
    assert loads["vera"].away and loads["vera"].delegate == "dana"
    assert loads["dana"].standing_in_for == ("vera",)


async def test_a_period_with_nothing_in_it_reports_nothing(connected: str) -> None:
    service = Approvals(policy(), DbStore())
    await play_history(service)
    report = await gather(service.policy, NOW, since=at(days=30), until=at(days=37))
    assert report.submissions == {}
    assert report.cycle == Spread(0, None, None)
    assert report.rules == []
    assert report.decisions_via == {}
