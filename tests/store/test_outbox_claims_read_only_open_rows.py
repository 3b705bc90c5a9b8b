"""Issue 16: a claim reads the rows still to deliver, not every row its topic ever sent.

Measured as the work SQLite's virtual machine does (the instructions it runs, counted with a
progress handler in the driver's own thread), so the test counts rows read, not time.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tortoise import Tortoise

from store.outbox import Outbox
from tests.support.postgres import backend

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="counts SQLite's virtual machine instructions")


async def sent_history(rows: int) -> None:
    """ROWS Slack rows delivered long ago, written as the worker leaves them."""
    values = [("slack", f"old-{n}", json.dumps({"n": n}), "sent", 1, str(NOW), str(NOW), str(NOW)) for n in range(rows)]
    driver = Tortoise.get_connection("default")._connection
    await driver.executemany(
        "INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at, sent_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )
    await driver.commit()


async def instructions_of_a_claim(outbox: Outbox, owner: str) -> tuple[int, list[str]]:
    """How many VM instructions one claim of the Slack topic runs, and the keys it took."""
    driver = Tortoise.get_connection("default")._connection
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0  # go on

    await driver._execute(driver._conn.set_progress_handler, count, 1)
    try:
        claimed = await outbox.claim("slack", NOW, owner, LEASE, limit=50)
    finally:
        await driver._execute(driver._conn.set_progress_handler, None, 1)
    return counted[0], [row.key for row in claimed]


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
