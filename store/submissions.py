"""Submissions read in bulk, for the outbox worker: one statement for a whole batch of rows.

Outside any transaction: on SQLite it waits for the connection between the click groups
(`store.group`) instead of queueing a turn in them, and reads only what they committed.
"""

from __future__ import annotations

import json
from typing import Any

from tortoise import Tortoise

from domain import amounts
from domain.approvals import Submission

from . import codec


def _document(value: Any) -> Any:
    return amounts.loads(value) if isinstance(value, str | bytes) else value


async def submissions_at(
    refs: list[tuple[str, int]], connection_name: str = "default"
) -> dict[tuple[str, int], Submission]:
    """The submissions of `refs` (quote id, number) that exist, by ref."""
    wanted = set(refs)
    if not wanted:
        return {}
    db = Tortoise.get_connection(connection_name)
    quotes = sorted({quote for quote, _ in wanted})
    columns = 'SELECT "quote_id", "number", "revision", "state", "snapshot" FROM "submission" '
    if db.capabilities.dialect == "postgres":
        rows = await db.execute_query_dict(columns + 'WHERE "quote_id" = ANY($1::text[])', [quotes])
    else:
        rows = await db.execute_query_dict(
            columns + 'WHERE "quote_id" IN (SELECT value FROM json_each(?))', [json.dumps(quotes)]
        )
    found: dict[tuple[str, int], Submission] = {}
    for row in rows:
        ref = (row["quote_id"], int(row["number"]))
        if ref not in wanted:
            continue
        sub = codec.load(_document(row["state"]), _document(row["snapshot"]))
        sub.revision = row["revision"]
        found[ref] = sub
    return found
