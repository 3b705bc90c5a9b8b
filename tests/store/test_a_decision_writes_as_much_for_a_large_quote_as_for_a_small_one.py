"""Issue 16: a decision's cost does not grow with the quote's size (SQLite).

SQLite rewrites a whole record on UPDATE: while the snapshot (the quote as submitted, 1,000 lines
here: about 270 KB) was a column of `submission`, every decision wrote it again, overflow pages and
all. It has a table of its own, written once (migration 0014), so a decision on a 1,000-line quote
writes as many pages as one on a 1-line quote. Counted in the write-ahead log: emptied before the
decision, it holds afterwards exactly the pages the decision's commit wrote.

(On PostgreSQL the row's TOAST pointer was kept; `test_nothing_grows_with_history` checks there that
the snapshot's row is never written again.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tortoise import Tortoise

from domain.quote import parse_quote
from domain.service import Approvals
from store.tx import DbStore
from tests.support.quotes import one_line_quote

from .support import DESK_RULE, NOW, PANEL_RULE
from .test_decision_statements_write_what_the_models_write import through_the_models

LINES = 1_000
CLICKED_AT = NOW + dt.timedelta(minutes=5)
SLACK = 2
"""Pages a small and a large quote's decisions may differ by (where their rows fall in the tables)."""


def quote(quote_id: str, lines: int) -> dict[str, Any]:
    data = one_line_quote(quote_id)
    (line,) = data["lines"]
    data["lines"] = [{**line, "id": f"L{n}"} for n in range(1, lines + 1)]
    data["net_total"], data["list_total"] = line["net_total"] * lines, line["list_total"] * lines
    return data


async def pages_written(change: Callable[[], Awaitable[Any]]) -> int:
    """The pages the commit of CHANGE put in SQLite's write-ahead log."""
    connection = Tortoise.get_connection("default")
    _, rows = await connection.execute_query("PRAGMA wal_checkpoint(TRUNCATE)")
    assert rows[0][0] == 0, "the log was not emptied (a reader held it)"
    await change()
    _, rows = await connection.execute_query("PRAGMA wal_checkpoint(PASSIVE)")
    return int(rows[0][1])


async def test_a_decision_on_a_quote_of_1000_lines_writes_the_pages_of_one_on_a_quote_of_one_line(
    policy, connected: str, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    store = DbStore()
    service = Approvals(policy, store)
    sizes = {"Q-SMALL": 1, "Q-LARGE": LINES}
    for quote_id, lines in sizes.items():
        await service.receive_quote(parse_quote(quote(quote_id, lines)), NOW)
        await service.submit(quote_id, None, NOW)

    clicked: dict[str, int] = {}
    through_models: dict[str, int] = {}
    for quote_id in sizes:
        clicked[quote_id] = await pages_written(
            lambda q=quote_id: service.decide(q, PANEL_RULE, "p01", "approve", CLICKED_AT, key=f"click-{q}")
        )
        through_models[quote_id] = await pages_written(
            lambda q=quote_id: through_the_models(service, store, q, (DESK_RULE, "dana", "approve", None, 10))
        )

    for quote_id in sizes:
        sub = await service.latest(quote_id)
        assert sub is not None and sub.status == "approved", "both decisions were made"
        assert len(sub.snapshot["lines"]) == sizes[quote_id]
    assert clicked["Q-SMALL"] > 0 and through_models["Q-SMALL"] > 0, "nothing was counted"
    assert clicked["Q-LARGE"] <= clicked["Q-SMALL"] + SLACK, f"the click's path: {clicked}"
    assert through_models["Q-LARGE"] <= through_models["Q-SMALL"] + SLACK, f"the models' path: {through_models}"
