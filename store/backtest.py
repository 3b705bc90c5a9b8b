"""The submissions a backtest replays, read in batches: never the whole table at once.

Each batch is two statements: the next submissions by id with their quote version's data, and
the approvals recorded for exactly those submissions (rule and status only).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

from tortoise import Tortoise

from domain.approvals import Directory
from domain.backtest import Backtest, Backtester, Recorded
from domain.policy import Policy
from domain.quote import Quote

from .insights import Dialect, as_instant, period
from .models import ReplacementRow

BATCH = 2000


async def recorded(
    since: dt.datetime | None = None, until: dt.datetime | None = None, connection: Any = None, batch: int = BATCH
) -> AsyncIterator[list[Recorded]]:
    """Every submission made in [since, until), oldest first, `batch` at a time."""
    connection = connection or Tortoise.get_connection("default")
    last, stop = await _ids_within(connection, since, until)
    while stop is None or last < stop:
        d = Dialect(connection.capabilities.dialect)
        # Batches walk the primary key: on SQLite `+` keeps the planner off the submitted_at index,
        # which would make every batch scan and sort the whole period again.
        at = "s.submitted_at" if d.postgres else "+s.submitted_at"
        clauses, values = [f"s.id > {d.param()}"], [last]
        if stop is not None:
            clauses.append(f"s.id <= {d.param()}")
            values.append(stop)
        within, dates = period(d, at, since, until)
        clauses.append(within)
        values += dates
        rows = await connection.execute_query_dict(
            f"""SELECT s.id, s.quote_id, s.number, s.quote_version, s.status, s.submitted_at, v.data
                FROM submission s JOIN quote_version v ON v.quote_id = s.quote_id AND v.version = s.quote_version
                WHERE {" AND ".join(clauses)} ORDER BY s.id LIMIT {int(batch)}""",
            values,
        )
        if not rows:
            return
        first, last = int(rows[0]["id"]), int(rows[-1]["id"])
        d = Dialect(connection.capabilities.dialect)
        approvals = await connection.execute_query(
            f"SELECT submission_id, rule, status FROM approval WHERE submission_id BETWEEN {d.param()} AND {d.param()}",
            [first, last],
        )
        by_submission: dict[int, dict[str, str]] = {}
        for submission_id, rule, status in _tuples(approvals):
            by_submission.setdefault(int(submission_id), {})[str(rule)] = str(status)
        yield [
            Recorded(
                quote_id=str(r["quote_id"]),
                number=int(r["number"]),
                version=int(r["quote_version"]),
                status=str(r["status"]),
                submitted_at=as_instant(r["submitted_at"]),
                quote=Quote(r["data"] if isinstance(r["data"], dict) else json.loads(r["data"])),
                approvals=by_submission.get(int(r["id"]), {}),
            )
            for r in rows
        ]
        if len(rows) < batch:
            return


async def _ids_within(connection: Any, since: dt.datetime | None, until: dt.datetime | None) -> tuple[int, int | None]:
    """The ids the walk goes between: after the last id before the period, up to its last one (None:
    no period, to the end). Read through the `submitted_at` index, so that the walk does not read
    every submission made before the period (the batches' own test of `submitted_at` still decides
    what is in it)."""
    if since is None and until is None:
        return 0, None
    within, values = period(Dialect(connection.capabilities.dialect), "submitted_at", since, until)
    rows = await connection.execute_query_dict(
        f"SELECT MIN(id) AS first, MAX(id) AS last FROM submission WHERE {within}", values
    )
    if not rows or rows[0]["first"] is None:
        return 0, 0
    return int(rows[0]["first"]) - 1, int(rows[0]["last"])


def _tuples(result: Any) -> list[tuple[Any, ...]]:
    """`execute_query` answers (count, rows); rows are sqlite3.Row or asyncpg Record: both index."""
    _, rows = result
    return [tuple(row) for row in rows]


async def backtest(
    new: Policy,
    current: Policy,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    connection: Any = None,
) -> Backtest:
    """Replay the recorded submissions under `new` (see `domain.backtest`)."""
    connection = connection or Tortoise.get_connection("default")
    replacements = {r.old: r.new for r in await ReplacementRow.all().using_db(connection)}
    tester = Backtester(new, current, Directory([], replacements))
    async for items in recorded(since, until, connection):
        for item in items:
            tester.add(item)
        await asyncio.sleep(0)  # a batch at a time: a bot's other requests are not held up for long
    return tester.result
