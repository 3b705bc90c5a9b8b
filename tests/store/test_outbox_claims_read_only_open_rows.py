"""Issue 16: a claim, the /metrics scrape, the CRM worker's check for a quote's earlier rows and an
admin's Retry of an order's ERP message read the rows still in play, not every row ever sent (nor,
for the scrape, every approval ever closed).

Measured as the work SQLite's virtual machine does (the instructions it runs, counted with a
progress handler in the driver's own thread), so the test counts rows read, not time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable
from typing import TypeVar

import pytest
from prometheus_client import CollectorRegistry
from tortoise import Tortoise

from domain.reactions import Topic
from greenlight.observability import Observability
from store import crm
from store.outbox import Outbox
from store.tx import DbStore
from tests.support.postgres import backend

T = TypeVar("T")
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="counts SQLite's virtual machine instructions")


async def sent_history(rows: int, topic: str = "slack", key: str = "old-{n}", status: str = "sent") -> None:
    """ROWS rows of TOPIC delivered long ago (keys KEY, numbered), written as the worker leaves them
    (STATUS dead: as it leaves the rows it gave up on)."""
    values = [
        (topic, key.format(n=n), json.dumps({"n": n}), status, 1, str(NOW), str(NOW), str(NOW)) for n in range(rows)
    ]
    await Tortoise.get_connection("default").execute_many(
        "INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at, sent_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )


async def closed_approvals(rows: int, first: int = 0) -> None:
    """ROWS approvals closed long ago (approved, rejected, revoked in turn), as the store leaves them:
    four to a submission, numbered from FIRST."""
    outcomes = ("approved", "rejected", "revoked")
    values = [
        (n // 4, f"Q-{n // 4}", f"rule-{n % 4}", "main", 1, outcomes[n % 3], str(NOW), str(NOW), "someone")
        for n in range(first, first + rows)
    ]
    await Tortoise.get_connection("default").execute_many(
        "INSERT INTO approval (submission_id, quote_id, rule, chain, step, status, requested_at, decided_at, acted_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )


async def instructions(work: Awaitable[T]) -> tuple[int, T]:
    """How many VM instructions SQLite runs for WORK, and what it returned."""
    driver = Tortoise.get_connection("default")._connection
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0  # go on

    await driver._execute(driver._conn.set_progress_handler, count, 1)
    try:
        result = await work
    finally:
        await driver._execute(driver._conn.set_progress_handler, None, 1)
    return counted[0], result


async def instructions_of_a_claim(outbox: Outbox, owner: str) -> tuple[int, list[str]]:
    """How many VM instructions one claim of the Slack topic runs, and the keys it took."""
    work, claimed = await instructions(outbox.claim("slack", NOW, owner, LEASE, limit=50))
    return work, [row.key for row in claimed]


async def test_a_claim_does_the_same_work_after_twenty_thousand_rows_were_sent(connected: str) -> None:
    outbox = Outbox()
    for n in range(5):
        await outbox.add("slack", f"new-{n}", {"n": n}, NOW)
    empty_work, empty_keys = await instructions_of_a_claim(outbox, "first")

    await sent_history(20_000)
    for n in range(5):
        await outbox.add("slack", f"later-{n}", {"n": n}, NOW)
    await outbox.add("erp", "erp-row", {"n": 0}, NOW)  # another topic's open row is not taken
    work, keys = await instructions_of_a_claim(outbox, "second")

    assert empty_keys == [f"new-{n}" for n in range(5)]
    assert keys == [f"later-{n}" for n in range(5)]
    # a claim that walked the topic's history would run tens of instructions per sent row
    assert work < 2 * empty_work + 1_000, (work, empty_work)


async def scrape(registry: CollectorRegistry) -> int:
    """The VM instructions of the database part of one /metrics scrape."""
    metrics = Observability(None, registry)  # type: ignore[arg-type]  # the database part needs no runtime
    work, _ = await instructions(metrics._from_database())
    return work


async def test_a_metrics_scrape_does_the_same_work_after_twenty_thousand_rows_were_sent(connected: str) -> None:
    outbox = Outbox()
    for n in range(3):
        await outbox.add("slack", f"waiting-{n}", {"n": n}, NOW)
    empty_work = await scrape(CollectorRegistry())

    await sent_history(20_000)
    registry = CollectorRegistry()
    work = await scrape(registry)

    assert work < 2 * empty_work + 1_000, (work, empty_work)
    assert registry.get_sample_value("greenlight_outbox_rows", {"topic": "slack", "status": "pending"}) == 3
    assert registry.get_sample_value("greenlight_outbox_rows", {"topic": "erp", "status": "pending"}) == 0
    assert registry.get_sample_value("greenlight_outbox_rows", {"topic": "slack", "status": "sent"}) is None


async def test_a_metrics_scrape_does_the_same_work_after_twenty_thousand_approvals_closed(connected: str) -> None:
    await closed_approvals(8)
    db = Tortoise.get_connection("default")
    await db.execute_query("UPDATE approval SET status = 'requested' WHERE id <= 2")
    await db.execute_query("UPDATE approval SET status = 'waiting' WHERE id = 3")
    empty_work = await scrape(CollectorRegistry())

    await closed_approvals(20_000, first=8)
    registry = CollectorRegistry()
    work = await scrape(registry)

    assert work < 2 * empty_work + 1_000, (work, empty_work)
    assert registry.get_sample_value("greenlight_approvals", {"status": "requested"}) == 2
    assert registry.get_sample_value("greenlight_approvals", {"status": "waiting"}) == 1
    assert registry.get_sample_value("greenlight_approvals", {"status": "approved"}) is None  # counted as they close


async def a_quote_in_line(outbox: Outbox, quote_id: str) -> int:
    """The quote's CRM rows: the first died, two wait behind it; another quote whose id starts like
    this one's has one between. The id of the last row."""
    await outbox.add("crm", crm.crm_key(quote_id, "first"), {"n": 1}, NOW)
    db = Tortoise.get_connection("default")
    await db.execute_query("UPDATE outbox SET status = 'dead' WHERE key = ?", [crm.crm_key(quote_id, "first")])
    await outbox.add("crm", crm.crm_key(f"{quote_id}0", "other"), {"n": 2}, NOW)
    await outbox.add("crm", crm.crm_key(quote_id, "second"), {"n": 3}, NOW)
    await outbox.add("crm", crm.crm_key(quote_id, "third"), {"n": 4}, NOW)
    return int((await db.execute_query_dict("SELECT MAX(id) AS id FROM outbox"))[0]["id"])


async def test_the_crm_worker_finds_a_quotes_earlier_rows_with_the_same_work_after_twenty_thousand_sent(
    connected: str,
) -> None:
    """`store.crm.waiting_behind`, asked before each CRM row is sent: is an earlier row of its quote
    still to be sent? Asked of a quote's last row, before and after 20,000 CRM rows were sent and
    5,000 Slack rows died."""
    outbox = Outbox()
    last = await a_quote_in_line(outbox, "Q-A")
    empty_work, earlier = await instructions(crm.waiting_behind("Q-A", last))

    await sent_history(20_000, topic="crm", key="crm:Q-B{n}:event")
    await sent_history(5_000, topic="slack", key="slack:{n}", status="dead")  # a revoked token's day
    last = await a_quote_in_line(outbox, "Q-B")
    work, later = await instructions(crm.waiting_behind("Q-B", last))
    past_the_dead = await crm.waiting_behind("Q-B", last, delivered=(last - 3,))

    assert earlier is not None and earlier.status == "dead"
    assert later is not None and later.status == "dead" and later.id == last - 3
    assert past_the_dead is not None and past_the_dead.status == "pending" and past_the_dead.id == last - 1
    assert work < 2 * empty_work + 1_000, (work, empty_work)


async def test_an_admins_erp_retry_does_the_same_work_after_twenty_thousand_erp_rows_sent(connected: str) -> None:
    """`DbTx.requeue_dead` (the Retry button on an order the ERP did not take): the order's dead row
    back in line, found among the dead letters, not among every ERP row ever sent."""
    outbox = Outbox()
    await outbox.add("erp", "SO-1:released", {"n": 1}, NOW)
    await outbox.add("crm", "SO-1:released:crm", {"n": 2}, NOW)  # another topic's dead row, same prefix
    await Tortoise.get_connection("default").execute_query("UPDATE outbox SET status = 'dead'")
    store = DbStore()
    async with store.transaction() as tx:
        empty_work, requeued = await instructions(tx.requeue_dead(Topic.ERP, "SO-1:", NOW))

    await sent_history(20_000, topic="erp", key="SO-H{n}:released")
    await sent_history(5_000, topic="slack", key="slack:{n}", status="dead")
    await outbox.add("erp", "SO-X:released", {"n": 3}, NOW)
    await Tortoise.get_connection("default").execute_query(
        "UPDATE outbox SET status = 'dead' WHERE key = 'SO-X:released'"
    )
    async with store.transaction() as tx:
        work, requeued_later = await instructions(tx.requeue_dead(Topic.ERP, "SO-X:", NOW))

    statuses = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT key, status FROM outbox WHERE status <> 'sent' AND topic <> 'slack' ORDER BY id"
    )
    assert (requeued, requeued_later) == (1, 1)
    assert [(r["key"], r["status"]) for r in statuses] == [
        ("SO-1:released", "pending"),
        ("SO-1:released:crm", "dead"),
        ("SO-X:released", "pending"),
    ]
    assert work < 2 * empty_work + 1_000, (work, empty_work)
