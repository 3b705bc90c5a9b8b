"""`store.light`: a posted message is recorded on SQLite without an fsync of its own.

The record must read back as the ORM writes it, survive a kill of the process (WAL keeps a commit
made with synchronous=NORMAL), and leave the connection at synchronous=FULL for the decisions that
follow, also when the statement fails.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import textwrap

import pytest
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from store import light
from store.slack_messages import Posted, SlackMessages
from tests.support.postgres import backend
from tests.support.quotes import ROOT

NOW = dt.datetime(2026, 12, 4, 9, 30, 15, 123456, tzinfo=dt.UTC)
COLUMNS = '"person", "channel", "ts", "submission_ref", "rule", "kind", "created_at"'

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="SQLite's synchronous setting")


async def synchronous() -> int:
    rows = await Tortoise.get_connection("default").execute_query_dict("PRAGMA synchronous")
    return int(next(iter(rows[0].values())))


async def record(key: str) -> tuple[object, ...]:
    rows = await Tortoise.get_connection("default").execute_query_dict(
        f'SELECT {COLUMNS} FROM "slack_message" WHERE "key" = ?', [key]
    )
    return tuple(rows[0].values())


async def test_a_message_recorded_lightly_reads_back_as_the_orm_writes_it(connected: str) -> None:
    messages = SlackMessages()
    assert light.available() is not None
    await messages.add("light", "p01", "D1", "1733.0001", "Q-1#1", "deal-desk", "request", NOW)
    async with in_transaction():
        assert light.available() is None  # inside a transaction: the ORM's insert
        await messages.add("orm", "p01", "D1", "1733.0001", "Q-1#1", "deal-desk", "request", NOW)

    assert await record("light") == await record("orm")
    assert await messages.find("light") == Posted("light", "p01", "D1", "1733.0001")
    await messages.preload(["Q-1#1"])
    assert await messages.copies("Q-1#1", "deal-desk") == [
        Posted("light", "p01", "D1", "1733.0001"),
        Posted("orm", "p01", "D1", "1733.0001"),
    ]
    assert await synchronous() == 2  # FULL again


async def test_a_refused_record_raises_as_tortoise_does_and_leaves_the_connection_at_full(connected: str) -> None:
    messages = SlackMessages()
    await messages.add("twice", "p01", "D1", "1.1", "Q-1#1", None, "thread-line", NOW)
    with pytest.raises(IntegrityError):
        await messages.add("twice", "p02", "D2", "2.2", "Q-1#1", None, "thread-line", NOW)

    assert await synchronous() == 2
    assert (await record("twice"))[:3] == ("p01", "D1", "1.1")


async def test_a_record_survives_a_kill_of_the_process_right_after_it(connected: str) -> None:
    url = connected
    await Tortoise.close_connections()
    script = textwrap.dedent(
        f"""
        import asyncio, datetime as dt, os, signal
        from store import db
        from store.slack_messages import SlackMessages

        async def main():
            await db.connect({url!r}, apply_migrations=False)
            await SlackMessages().add("kept", "p01", "D1", "9.9", "Q-9#1", None, "thread-line",
                                      dt.datetime(2026, 12, 4, tzinfo=dt.UTC))
            os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint

        asyncio.run(main())
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    from store import db

    await db.connect(url, apply_migrations=False)
    assert (await record("kept"))[:3] == ("p01", "D1", "9.9")
