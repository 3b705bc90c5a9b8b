"""Lanes (notifications/worker.py): a batch's rows of different lanes (the Slack worker's quotes)
are delivered at once, the rows of one lane one after the other in id order, each marked once."""

from __future__ import annotations

import asyncio
import datetime as dt

from notifications.worker import Retry, Worker
from store.models import OutboxRow
from store.outbox import Claimed, Outbox
from tests.support.clock import Clock


def lane(row: Claimed) -> str:
    return str(row.payload["quote_id"])


async def test_two_quotes_are_delivered_at_once_and_each_quotes_rows_in_order(connected: str) -> None:
    clock = Clock()
    outbox = Outbox()
    for n in range(4):
        for quote in ("Q-A", "Q-B"):
            await outbox.add("lanes", f"{quote}:{n}", {"quote_id": quote, "n": n}, clock())
    seen: list[tuple[str, int]] = []
    b_started = asyncio.Event()

    async def handle(row: Claimed) -> None:
        quote, n = row.payload["quote_id"], row.payload["n"]
        if quote == "Q-B":
            b_started.set()
        if (quote, n) == ("Q-A", 1):
            # Q-A:0 goes alone (the probe that finds a refusing receiver with one call); then only a
            # lane of its own lets Q-B start while Q-A's next row is still being delivered
            await asyncio.wait_for(b_started.wait(), timeout=30)
        if (quote, n) == ("Q-B", 2):
            raise Retry(clock() + dt.timedelta(minutes=1), "Slack said wait")
        seen.append((quote, n))

    worker = Worker(outbox, "lanes", handle, clock, "w", mark_in_batches=True, lane=lane, lanes=4)
    assert await worker.sweep() == 7
    assert [n for quote, n in seen if quote == "Q-A"] == [0, 1, 2, 3]
    assert [n for quote, n in seen if quote == "Q-B"] == [0, 1, 3]
    statuses = {row.key: row.status for row in await OutboxRow.filter(topic="lanes")}
    assert statuses == {f"{q}:{n}": "sent" for q in ("Q-A", "Q-B") for n in range(4)} | {"Q-B:2": "pending"}


async def test_without_lanes_a_batch_is_delivered_in_id_order(connected: str) -> None:
    clock = Clock()
    outbox = Outbox()
    for n in range(3):
        for quote in ("Q-A", "Q-B"):
            await outbox.add("one-lane", f"{quote}:{n}", {"quote_id": quote, "n": n}, clock())
    seen: list[str] = []

    async def handle(row: Claimed) -> None:
        seen.append(row.key)

    assert await Worker(outbox, "one-lane", handle, clock, "w").sweep() == 6
    assert seen == [f"{q}:{n}" for n in range(3) for q in ("Q-A", "Q-B")]
