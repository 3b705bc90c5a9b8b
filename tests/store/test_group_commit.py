"""Issue 16 item 2: on SQLite, concurrent transactions of a process commit as one group (one fsync),
each still durable before it returns, each inside its own savepoint so that one refused or failing
change never takes the others down with it. Checked from a second, real connection to the file."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from tortoise import Tortoise

from domain.approvals import Delegation
from domain.errors import StaleRequest
from domain.quote import parse_quote
from domain.service import Approvals
from store.models import RequestKeyRow
from store.sqlite import on_sqlite
from store.tx import DbStore
from tests.support.quotes import one_line_quote

from .support import DESK_RULE, NOW, PANEL_RULE

CLICKS = 30


@pytest.fixture(autouse=True)
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("group commit is SQLite's: PostgreSQL commits each transaction on its own connection")


def committed(url: str, statement: str, *params: object) -> list[tuple[object, ...]]:
    """What another connection to the database file reads: only what was committed."""
    with sqlite3.connect(urlsplit(url).path) as other:
        return other.execute(statement, params).fetchall()


def store_of(service: Approvals) -> DbStore:
    assert isinstance(service.store, DbStore)
    return service.store


async def submitted(service: Approvals, count: int) -> list[str]:
    quote_ids = [f"Q-G{i:03d}" for i in range(count)]
    for quote_id in quote_ids:
        await service.receive_quote(parse_quote(one_line_quote(quote_id)), NOW)
        await service.submit(quote_id, None, NOW)
    return quote_ids


async def test_concurrent_decisions_share_commits_and_each_is_durable_when_it_returns(
    service: Approvals, connected: str
) -> None:
    quote_ids = await submitted(service, CLICKS)
    store = store_of(service)
    before = store.group.counts.commits
    seen_on_return: dict[str, int] = {}

    async def click(quote_id: str) -> None:
        await service.decide(quote_id, PANEL_RULE, "p01", "approve", NOW, key=f"click:{quote_id}")
        # the moment the caller could answer Slack: another connection must already see the decision
        rows = committed(connected, "SELECT COUNT(*) FROM audit WHERE quote_id = ? AND kind = 'approved'", quote_id)
        seen_on_return[quote_id] = int(rows[0][0])

    await asyncio.gather(*(click(q) for q in quote_ids))

    assert seen_on_return == {q: 1 for q in quote_ids}
    commits = store.group.counts.commits - before
    assert 1 <= commits < CLICKS, f"{CLICKS} concurrent decisions took {commits} commits"
    assert store.group.counts.largest > 1


async def test_a_refused_click_in_a_group_leaves_nothing_while_the_others_commit(
    service: Approvals, connected: str
) -> None:
    quote_ids = await submitted(service, 10)
    late = quote_ids[0]
    await service.decide(late, PANEL_RULE, "p02", "approve", NOW)

    results = await asyncio.gather(
        service.decide(late, PANEL_RULE, "p03", "approve", NOW, key="click:late"),
        *(service.decide(q, PANEL_RULE, "p04", "approve", NOW, key=f"click:{q}") for q in quote_ids[1:]),
        return_exceptions=True,
    )

    refused, *others = results
    assert isinstance(refused, StaleRequest) and "already approved by p02" in str(refused)
    assert all(isinstance(r, list) and [e.kind for e in r] == ["approved"] for r in others), others
    # the refused click's claim on its key was rolled back with its savepoint, alone
    assert await RequestKeyRow.filter(key="click:late").count() == 0
    kept = committed(connected, "SELECT key FROM request_key WHERE key LIKE 'click:%' ORDER BY key")
    assert [k for (k,) in kept] == sorted(f"click:{q}" for q in quote_ids[1:])
    assert store_of(service).group.counts.largest > 1, "the clicks were expected to share a commit"


async def test_sqlite_commits_with_synchronous_full(connected: str) -> None:
    rows = await Tortoise.get_connection("default").execute_query_dict("PRAGMA synchronous")
    assert list(rows[0].values()) == [2], "synchronous=FULL (2): a commit is on disk before it returns"


@contextlib.asynccontextmanager
async def hand_offs_recorded() -> AsyncIterator[list[list[str]]]:
    """The first word of each statement run, grouped by the hand-off to the driver's thread that ran it."""
    connection = Tortoise.get_connection("default")
    driver = connection._connection  # aiosqlite's connection: its thread runs them all
    statements: list[str] = []
    hand_offs: list[list[str]] = []
    await on_sqlite(connection, lambda db: db.set_trace_callback(statements.append))
    handing = driver._execute

    async def counted(work: object, *args: object, **kwargs: object) -> object:
        start = len(statements)
        try:
            return await handing(work, *args, **kwargs)
        finally:
            hand_offs.append([s.split()[0] for s in statements[start:]])

    driver._execute = counted
    try:
        yield hand_offs
    finally:
        driver._execute = handing
        await on_sqlite(connection, lambda db: db.set_trace_callback(None))


async def test_a_decision_is_one_hand_off_from_begin_to_commit(service: Approvals, connected: str) -> None:
    """Each hand-off to the driver's thread waits for a turn of the event loop, which a burst of clicks
    makes long: the click's whole group (begun, key claimed, row read, decided, written, committed)
    takes one."""
    (quote_id,) = await submitted(service, 1)

    async with hand_offs_recorded() as hand_offs:
        await service.decide(quote_id, PANEL_RULE, "p01", "approve", NOW, key="click:one")

    assert len(hand_offs) == 1, hand_offs
    (statements,) = hand_offs
    assert statements[:3] == ["BEGIN", "SAVEPOINT", "INSERT"], statements  # the key claimed first
    assert "SELECT" in statements and "UPDATE" in statements  # read, written
    assert statements[-2:] == ["RELEASE", "COMMIT"], statements
    assert committed(connected, "SELECT COUNT(*) FROM request_key WHERE key = 'click:one'") == [(1,)]


async def test_concurrent_decisions_of_a_group_share_their_hand_offs(service: Approvals, connected: str) -> None:
    quote_ids = await submitted(service, CLICKS)

    async with hand_offs_recorded() as hand_offs:
        await asyncio.gather(
            *(service.decide(q, PANEL_RULE, "p01", "approve", NOW, key=f"click:{q}") for q in quote_ids)
        )

    turns = [h for h in hand_offs if "SAVEPOINT" in h]
    assert sum(h.count("SAVEPOINT") for h in turns) == CLICKS
    assert sum(h.count("RELEASE") for h in turns) == CLICKS
    assert len(turns) < CLICKS, f"{CLICKS} concurrent decisions took {len(turns)} hand-offs: {hand_offs}"
    rows = committed(connected, "SELECT COUNT(*) FROM audit WHERE kind = 'approved' AND quote_id LIKE 'Q-G%'")
    assert rows == [(CLICKS,)]


async def test_a_decision_after_a_delegation_reads_the_directory_again_and_keeps_one_claim(
    service: Approvals, connected: str
) -> None:
    """The one-hand-off turn decides with the cached directory only while its version stands. After a
    delegation it leaves the click to the stepwise path (its claim rolled back), which reads the
    directory again: the delegate decides, and the key is claimed once."""
    (quote_id,) = await submitted(service, 1)
    store = store_of(service)
    async with store.transaction() as tx:
        await tx.add_delegation(Delegation("dana", "p01", NOW.date(), NOW.date() + dt.timedelta(days=3)))
    cached = store.directory_cache
    assert cached is not None

    events = await service.decide(quote_id, DESK_RULE, "p01", "approve", NOW, key="click:one")

    desk = [(e.kind, e.actor, e.on_behalf_of) for e in events if e.rule == DESK_RULE]
    assert desk == [("approved", "p01", "dana")], events
    assert store.directory_cache is not None and store.directory_cache.version != cached.version
    assert committed(connected, "SELECT COUNT(*) FROM request_key WHERE key = 'click:one'") == [(1,)]
    kinds = committed(connected, "SELECT kind FROM audit WHERE quote_id = ? ORDER BY id", quote_id)
    assert [k for (k,) in kinds].count("approved") == 1


async def test_a_click_given_up_before_its_group_ran_leaves_nothing(service: Approvals, connected: str) -> None:
    """A caller cancelled while its job waits in line (the connection busy): the job never runs, and
    the clicks queued beside it still decide."""
    first, second = await submitted(service, 2)
    db = Tortoise.get_connection("default")
    async with db.acquire_connection():  # tortoise's lock: the group cannot hand its jobs over meanwhile
        given_up = asyncio.create_task(service.decide(first, PANEL_RULE, "p01", "approve", NOW, key="click:gone"))
        kept = asyncio.create_task(service.decide(second, PANEL_RULE, "p01", "approve", NOW, key="click:kept"))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not given_up.done() and not kept.done()
        given_up.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await given_up

    assert [e.kind for e in await kept] == ["approved"]
    assert committed(connected, "SELECT key FROM request_key WHERE key LIKE 'click:%'") == [("click:kept",)]
    assert committed(connected, "SELECT COUNT(*) FROM audit WHERE quote_id = ? AND kind = 'approved'", first) == [(0,)]


async def test_clicks_in_line_hear_why_when_their_hand_off_fails(service: Approvals, connected: str) -> None:
    """The driver's connection gone under tortoise's feet: the clicks waiting for a group are answered
    with the error (a 500 for Slack, which retries) instead of waiting for ever."""
    quote_ids = await submitted(service, 3)
    db = Tortoise.get_connection("default")
    await db._connection.close()  # aiosqlite's thread stops; tortoise still holds the closed connection

    results = await asyncio.wait_for(  # a guard against the hang this test is about, not a timing
        asyncio.gather(
            *(service.decide(q, PANEL_RULE, "p01", "approve", NOW, key=f"click:{q}") for q in quote_ids),
            return_exceptions=True,
        ),
        timeout=60,
    )

    assert all(isinstance(r, ValueError) and "no active connection" in str(r) for r in results), results
    await db.close()
    await db.create_connection(with_db=True)  # for the fixture's own teardown
