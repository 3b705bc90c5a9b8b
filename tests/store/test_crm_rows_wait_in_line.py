"""A quote's CRM rows leave in order (crm-v1 §6): `store.crm.waiting_behind` names the earliest row of
the same quote not sent yet, and `requeue_quote` puts a quote's dead rows back in line with those
waiting behind them. Both read only the rows still in play (`store.outbox.not_sent`); here, on the run's
database, that they still find the right rows: not another quote's whose id starts the same, not a
sent one, and a delivered one counted as sent."""

from __future__ import annotations

import datetime as dt

from tortoise import Tortoise

from store import crm
from store.outbox import Outbox

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(hours=1)


async def rows_of(*keys: tuple[str, str]) -> list[int]:
    """Outbox rows (quote, event) in order, their ids."""
    outbox, db = Outbox(), Tortoise.get_connection("default")
    for quote_id, event in keys:
        await outbox.add("crm", crm.crm_key(quote_id, event), {"event": event}, NOW)
    rows = await db.execute_query_dict("SELECT id FROM outbox ORDER BY id")
    return [int(row["id"]) for row in rows]


async def set_status(row_id: int, status: str) -> None:
    await Tortoise.get_connection("default").execute_query(
        "UPDATE outbox SET status = $1 WHERE id = $2"
        if Tortoise.get_connection("default").capabilities.dialect == "postgres"
        else "UPDATE outbox SET status = ? WHERE id = ?",
        [status, row_id],
    )


async def test_a_row_waits_behind_its_own_quotes_earlier_rows_only(connected: str) -> None:
    sent, dead, other, waiting, mine_too, last = await rows_of(
        ("Q-1", "a"), ("Q-1", "b"), ("Q-1:x", "c"), ("Q-1", "d"), ("Q-10", "e"), ("Q-1", "f")
    )
    await set_status(sent, "sent")
    await set_status(dead, "dead")
    await set_status(other, "dead")  # Q-1:x's keys start like Q-1's, with one more colon

    first = await crm.waiting_behind("Q-1", last)
    second = await crm.waiting_behind("Q-1", last, delivered=(dead,))
    none_left = await crm.waiting_behind("Q-1", last, delivered=(dead, waiting))
    at_the_front = await crm.waiting_behind("Q-1", dead)

    assert first is not None and (first.id, first.status) == (dead, "dead")
    assert second is not None and (second.id, second.status) == (waiting, "pending")
    assert second.next_attempt_at == NOW
    assert none_left is None and at_the_front is None
    assert await crm.waiting_behind("Q-10", mine_too) is None  # Q-10 has one row: nothing ahead of it


async def test_requeue_puts_a_quotes_dead_rows_and_those_behind_them_back_in_line(connected: str) -> None:
    dead, other, waiting = await rows_of(("Q-2", "a"), ("Q-20", "b"), ("Q-2", "c"))
    await set_status(dead, "dead")
    await set_status(other, "dead")

    assert await crm.requeue_quote("Q-2", LATER) == 1

    rows = await Tortoise.get_connection("default").execute_query_dict(
        "SELECT id, status, attempts FROM outbox ORDER BY id"
    )
    assert [(int(r["id"]), r["status"]) for r in rows] == [(dead, "pending"), (other, "dead"), (waiting, "pending")]
    assert await crm.waiting_behind("Q-2", waiting) is not None  # back in line, ahead of the waiting one
