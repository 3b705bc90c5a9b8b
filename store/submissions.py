"""Submissions read in bulk by their refs (quote id, number): one statement for a list or a batch.

App Home's lists read them in a transaction (`DbTx.submissions_at`); the outbox worker reads a
delivery batch's outside any (`submissions_at`): on SQLite that waits for the connection between
the click groups (`store.group`) instead of queueing a turn in them, and reads only what they
committed.

Each snapshot (`submission_snapshot`, joined) stays text until something reads it; a list reads
none, only each quote's heading (written with the snapshot, and before it in the row so that SQLite
reads it without the snapshot's overflow pages; cut from the snapshot by the database for rows from
before migration 0012), so a list of 1,000-line quotes reads what a list of 1-line quotes does.
A submission stored before issue 16 has no snapshot row: its snapshot is in its state.
"""

from __future__ import annotations

import json
from typing import Any

from tortoise import Tortoise

from domain import amounts
from domain.approvals import Submission

from . import codec

SQLITE = """
SELECT s."revision", s."state", {snapshot} AS "snapshot", k."submission_id" IS NULL AS "legacy",
       COALESCE(k."heading", json_remove(k."snapshot", '$.lines')) AS "heading"
FROM "submission" s JOIN json_each(?) r
ON s."quote_id" = json_extract(r.value, '$[0]') AND s."number" = json_extract(r.value, '$[1]')
LEFT JOIN "submission_snapshot" k ON k."submission_id" = s."id"
"""

POSTGRES = """
SELECT s.revision, s.state::text AS state, {snapshot} AS snapshot, k.submission_id IS NULL AS legacy,
       COALESCE(k.heading, k.snapshot - 'lines')::text AS heading
FROM submission s JOIN jsonb_array_elements($1::text::jsonb) r
ON s.quote_id = r.value->>0 AND s.number = (r.value->>1)::int
LEFT JOIN submission_snapshot k ON k.submission_id = s.id
"""


async def read(db: Any, refs: list[tuple[str, int]], *, snapshots: bool) -> list[Submission]:
    """The submissions of `refs` that exist, in the order of `refs`, through the connection DB.

    Without `snapshots` (a list), a submission's snapshot is not read: reading it raises, and
    `heading()` has what a list shows."""
    if not refs:
        return []
    pairs = json.dumps([[quote_id, number] for quote_id, number in refs])
    postgres = db.capabilities.dialect == "postgres"
    column = ("k.snapshot::text" if postgres else 'k."snapshot"') if snapshots else "NULL"
    query = (POSTGRES if postgres else SQLITE).format(snapshot=column)
    found: dict[tuple[str, int], Submission] = {}
    for row in await db.execute_query_dict(query, [pairs]):
        snapshot = row["snapshot"] if snapshots or row["legacy"] else codec.UNREAD
        sub = codec.load_lazily(amounts.loads(row["state"]), snapshot, row["heading"])
        sub.revision = row["revision"]
        found[(sub.quote_id, sub.number)] = sub
    return [found[ref] for ref in refs if ref in found]


async def submissions_at(
    refs: list[tuple[str, int]], connection_name: str = "default"
) -> dict[tuple[str, int], Submission]:
    """The submissions of `refs` that exist, by ref, read outside any transaction."""
    subs = await read(Tortoise.get_connection(connection_name), sorted(set(refs)), snapshots=True)
    return {(sub.quote_id, sub.number): sub for sub in subs}
