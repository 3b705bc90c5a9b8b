"""Policy backtest over a known history: the VP threshold raised from 25% to 30%, and lowered to 15%."""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise import Tortoise

from domain.backtest import WOULD_APPROVE, WOULD_WAIT
from domain.service import Approvals
from store.backtest import backtest, recorded
from store.tx import DbStore
from tests.support.postgres import backend

from .insights_kit import at, policy, quote
from .test_outbox_claims_read_only_open_rows import instructions


async def play(service: Approvals) -> None:
    """Five quotes at 20, 26, 28, 30 and 31% off, under the VP threshold of 25%."""
    s = service
    for minute, discount in enumerate((20, 26, 28, 30, 31)):
        quote_id = f"Q-{discount}"
        await s.receive_quote(quote(quote_id, discount), at(minutes=minute))
        await s.submit(quote_id, None, at(minutes=minute))
    for quote_id in ("Q-20", "Q-26", "Q-28", "Q-31"):
        await s.decide(quote_id, "manager-discount", "mike", "approve", at(hours=1))
    await s.decide("Q-26", "vp-deep-discount", "vera", "approve", at(hours=2))
    await s.decide("Q-31", "vp-deep-discount", "vera", "approve", at(hours=2))
    await s.decide("Q-28", "vp-deep-discount", "vera", "reject", at(hours=2), "Too deep")


async def test_raising_the_vp_threshold_from_25_to_30_percent_drops_exactly_the_quotes_between(connected: str) -> None:
    service = Approvals(policy(25), DbStore())
    await play(service)
    result = await backtest(policy(30), service.policy)
    assert result.submissions == 5
    vp = result.rules["vp-deep-discount"]
    assert (vp.newly, vp.dropped, vp.kept) == (0, 3, 1)
    assert sorted(vp.dropped_examples) == ["Q-26", "Q-28", "Q-30"]
    manager = result.rules["manager-discount"]
    assert (manager.newly, manager.dropped, manager.kept) == (0, 0, 5)
    assert result.changed == 3
    assert result.load["vera"] == [4, 1]
    assert result.load["mike"] == [5, 5]
    # decided: approved, Q-28 rejected by the VP after the manager approved
    assert result.decided == 4
    assert result.differently == {WOULD_APPROVE: 1}
    assert result.differently_examples == {WOULD_APPROVE: ["Q-28"]}
    json = result.as_json()
    assert json["rules"]["vp-deep-discount"]["no_longer_needed"] == 3
    assert json["approver_load"]["vera"] == {"before": 4, "after": 1, "change": -3}


async def test_lowering_it_to_15_percent_makes_the_20_percent_quote_wait_for_the_vp(connected: str) -> None:
    service = Approvals(policy(25), DbStore())
    await play(service)
    result = await backtest(policy(15), service.policy)
    vp = result.rules["vp-deep-discount"]
    assert (vp.newly, vp.dropped, vp.kept, vp.newly_examples) == (1, 0, 4, ["Q-20"])
    assert result.differently == {WOULD_WAIT: 1}
    assert result.load["vera"] == [4, 5]


async def test_the_same_policy_changes_nothing_and_since_narrows_the_quotes(connected: str) -> None:
    service = Approvals(policy(25), DbStore())
    await play(service)
    same = await backtest(policy(25), service.policy)
    assert (same.submissions, same.changed, same.decided_differently) == (5, 0, 0)
    assert all(before == after for before, after in same.load.values())
    later = await backtest(policy(30), service.policy, since=at(minutes=3))
    assert later.submissions == 2
    assert later.rules["vp-deep-discount"].dropped_examples == ["Q-30"]


@pytest.mark.skipif(backend() != "sqlite", reason="counts SQLite's virtual machine instructions")
async def test_a_backtest_since_a_date_does_not_read_the_submissions_before_it(connected: str) -> None:
    """`/deal policy diff` replays 90 days. The walk by id starts at the period's first submission,
    found through the submitted_at index, not at the first submission ever made."""
    db = Tortoise.get_connection("default")
    await db.execute_query("INSERT INTO sqlite_sequence (name, seq) VALUES ('submission', 10000)")
    service = Approvals(policy(25), DbStore())
    await play(service)  # ids from 10,001
    since = at(minutes=-1)

    async def replay() -> list[str]:
        return [r.quote_id for batch in [b async for b in recorded(since=since)] for r in batch]

    empty_work, quotes = await instructions(replay())
    long_ago = (since - dt.timedelta(days=400)).isoformat(" ")
    await db.execute_many(
        "INSERT INTO submission (id, quote_id, number, quote_version, owner, status, revision, submitted_at, state) "
        "VALUES (?, ?, 1, 1, 'rep', 'approved', 1, ?, '{}')",
        [(n, f"Q-OLD-{n}", long_ago) for n in range(1, 5_001)],
    )
    work, again = await instructions(replay())

    assert quotes == again == ["Q-20", "Q-26", "Q-28", "Q-30", "Q-31"]
    assert work < 2 * empty_work + 1_000, (work, empty_work)
