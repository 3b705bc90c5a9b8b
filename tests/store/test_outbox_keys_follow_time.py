"""Issue 16: a new outbox row's key ends with a UUID version 7 (RFC 9562), so keys written later sort
after keys written earlier and land at the end of the outbox's unique index (on SQLite a random
UUID 4 dirtied one index page per row, a cost that grew with the table: docs/decisions.md).

The keys are read back from the database and taken apart by Python's own `uuid` module: version,
variant, and the Unix time in milliseconds they carry, which must be the wall clock's while the row
was written.
"""

from __future__ import annotations

import itertools
import time
import uuid

from tortoise import Tortoise

from domain.quote import parse_quote
from domain.service import Approvals
from store.decision import time_ordered_id
from store.tx import DbStore
from tests.release.support import create_due_orders
from tests.support.quotes import one_line_quote

from .support import NOW, PANEL_RULE


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


async def outbox_since(row_id: int) -> list[tuple[int, str, str]]:
    db = Tortoise.get_connection("default")
    after = "?" if db.capabilities.dialect == "sqlite" else "$1"
    rows = await db.execute_query_dict(
        f'SELECT "id", "topic", "key" FROM "outbox" WHERE "id" > {after} ORDER BY "id"', [row_id]
    )
    return [(int(r["id"]), str(r["topic"]), str(r["key"])) for r in rows]


def tail(key: str) -> uuid.UUID:
    return uuid.UUID(hex=key.rsplit(":", 1)[-1])


async def test_keys_carry_the_time_they_were_written_first(policy, connected: str) -> None:
    store = DbStore()
    service = Approvals(policy, store)
    rounds: list[tuple[int, int, list[tuple[int, str, str]]]] = []  # (ms before, ms after, rows written)
    last = 0
    for n in range(3):
        quote_id = f"Q-KEYS-{n}"
        before = wall_ms()
        await service.receive_quote(parse_quote(one_line_quote(quote_id)), NOW)
        await service.submit(quote_id, None, NOW)
        assert await service.decide(quote_id, PANEL_RULE, "p07", "approve", NOW, None, key=f"click-{n}")
        after = wall_ms()
        rows = await outbox_since(last)
        assert {topic for _, topic, _ in rows} >= {"slack", "crm"}, rows
        rounds.append((before, after, rows))
        last = rows[-1][0]

    for before, after, rows in rounds:
        for _, topic, key in rows:
            assert key.startswith(f"{topic}:")
            made = tail(key)
            assert made.version == 7, key
            assert made.variant == uuid.RFC_4122, key
            assert before <= made.int >> 80 <= after, key  # its first 48 bits: the clock's milliseconds
    made = [tail(key) for _, _, rows in rounds for _, _, key in rows]  # in the order written
    for earlier, later in itertools.pairwise(made):
        assert earlier.int >> 80 <= later.int >> 80
        if earlier.int >> 80 < later.int >> 80:
            assert earlier.hex < later.hex  # the text sorts as the time: what the index keeps in order


def test_ids_made_in_the_same_millisecond_differ() -> None:
    before = wall_ms()
    made = [time_ordered_id() for _ in range(10_000)]
    after = wall_ms()
    assert len(set(made)) == len(made)
    assert all(len(m) == 32 and before <= uuid.UUID(hex=m).int >> 80 <= after for m in made)
    assert len({uuid.UUID(hex=m).int >> 80 for m in made}) < len(made)  # several in one millisecond


async def test_the_bulk_release_writes_keys_of_the_same_kind(policy, connected: str) -> None:
    """`store.release` builds its rows in one statement: their keys too, from the batch's milliseconds."""
    store = DbStore()
    await create_due_orders(3, NOW)
    before = wall_ms()
    async with store.transaction() as tx:
        assert await tx.release_due(NOW, 10) == 3
    after = wall_ms()
    rows = [(topic, key) for _, topic, key in await outbox_since(0) if topic != "erp"]  # the ERP's: its order's
    assert {topic for topic, _ in rows} == {"slack", "crm"}
    assert len({key for _, key in rows}) == len(rows) == 6
    for topic, key in rows:
        made = tail(key)
        assert key.startswith(f"{topic}:")
        assert made.version == 7, key
        assert made.variant == uuid.RFC_4122, key
        assert before <= made.int >> 80 <= after, key
