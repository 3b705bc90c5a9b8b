"""PostgreSQL: a change sent straight through asyncpg (`DbStore._change_through_asyncpg`) loses its races
the way the stepwise path does: nothing written, and the retry decides or is told it is a repeat.

Between its read and its write another connection (another process, as far as the click can tell)
changes the database. The store refuses to take the stepwise path here, so that a test cannot pass
on the wrong one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from domain.policy import Policy
from domain.quote import parse_quote
from domain.service import Approvals, Opened, Step
from store.tx import DbStore
from tests.support import postgres
from tests.support.quotes import one_line_quote

from .support import NOW, PANEL_RULE, audit_kinds, submission_revision

QUOTE = "Q-7001"


class MeddlingStore(DbStore):
    """A DbStore whose first change runs MEANWHILE on another connection between its read and its write."""

    def __init__(self, meanwhile: Callable[[], Awaitable[Any]]) -> None:
        super().__init__()
        self.meanwhile = meanwhile
        self.meddled = False

    async def change_latest(self, quote_id: str, now: dt.datetime, key: str | None, step: Step) -> list[Any]:
        def meddling(opened: Opened) -> Any:
            if not self.meddled:
                self.meddled = True
                postgres.run_aside(self.meanwhile())  # this click's loop waits, as if it were slow
            return step(opened)

        return await super().change_latest(quote_id, now, key, meddling)

    def change(self) -> Any:
        raise AssertionError("the change took the stepwise path, not asyncpg's")


@pytest.fixture
async def on_postgres(backend: str, connected: str) -> str:
    if backend == "sqlite":
        pytest.skip("PostgreSQL's path: SQLite runs the change in one job of its group commit")
    return connected


async def approve_while(policy: Policy, url: str, key: str, statement: str, *args: Any) -> tuple[Approvals, list[Any]]:
    """p01 approves the submitted quote with KEY while STATEMENT runs between its read and its write;
    the service, and the events the approval returned."""
    store = MeddlingStore(lambda: postgres.query(url, statement, *args))
    service = Approvals(policy, store)  # (submitting reads the directory: the store keeps it)
    await service.receive_quote(parse_quote(one_line_quote(QUOTE)), NOW)
    sub, _ = await service.submit(QUOTE, None, NOW)
    assert sub.approval(PANEL_RULE).status == "requested"
    events = await service.decide(QUOTE, PANEL_RULE, "p01", "approve", NOW, key=key)
    assert store.meddled
    return service, events


async def test_a_key_claimed_by_another_process_between_read_and_write_makes_the_click_a_repeat(
    policy: Policy, on_postgres: str
) -> None:
    url = on_postgres
    claim = "INSERT INTO request_key (key, answer, created_at) VALUES ('k1', '{}', $1)"
    _, events = await approve_while(policy, url, "k1", claim, NOW)

    # the write failed whole on the key (a unique violation); the retry read the key taken
    assert events == []
    assert "approved" not in await audit_kinds(QUOTE)
    assert await submission_revision(QUOTE) == 0
    rows = await postgres.query(url, "SELECT COUNT(*) AS n FROM outbox WHERE payload->>'kind' = 'approved'")
    assert rows[0]["n"] == 0


async def test_a_revision_moved_by_another_process_between_read_and_write_is_read_again_and_decided(
    policy: Policy, on_postgres: str
) -> None:
    move = "UPDATE submission SET revision = revision + 1 WHERE quote_id = $1"
    service, events = await approve_while(policy, on_postgres, "k2", move, QUOTE)

    # the compare-and-set failed, nothing of it kept (its key neither); the retry read the new revision
    assert [(e.kind, e.rule) for e in events] == [("approved", PANEL_RULE)]
    assert (await audit_kinds(QUOTE)).count("approved") == 1
    assert await submission_revision(QUOTE) == 2
    assert await service.decide(QUOTE, PANEL_RULE, "p01", "approve", NOW, key="k2") == []
