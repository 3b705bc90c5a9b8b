"""Bookkeeping writes on SQLite that do not wait for the disk themselves.

Every commit on SQLite waits for an fsync (`synchronous=FULL`): a click's decision is on disk
before it is answered. Some writes only record work already done outside the database: the Slack
message a worker just posted, an outbox row claimed, sent or put back for later. Losing one of
those in a power cut repeats the work once (the message is posted again, the row delivered again,
as after a crash before the write); it never loses or doubles a decision, and never loses a row to
deliver (`Outbox.add` keeps its fsync). For them `write` sets `synchronous=NORMAL` for one statement, in the same
hand-off to the driver's thread, and puts `FULL` back before anything else can use the connection.

What that keeps, in WAL mode (SQLite's documentation, "synchronous"):
- A crash or kill of the process loses nothing: the commit is in the write-ahead log.
- A power cut can lose the statement, until the next full commit (a click's) syncs the log, or
  the system writes it out. The log is written in order, so a record survives whenever a later
  write does: a row marked sent has its message records on disk.

PostgreSQL, or a statement inside a transaction, goes the usual way (the caller's ORM call).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import TransactionalDBClient

from .sqlite import on_sqlite


def available(connection_name: str = "default") -> Any | None:
    """The SQLite client to `write` through, or None (PostgreSQL, or inside a transaction)."""
    db = Tortoise.get_connection(connection_name)
    if db.capabilities.dialect != "sqlite" or isinstance(db, TransactionalDBClient):
        return None
    return db


async def write(db: Any, sql: str, values: Sequence[Any]) -> list[dict[str, Any]]:
    """Run one statement (autocommit) without an fsync of its own; its RETURNING rows, by column."""

    def run(connection: sqlite3.Connection) -> list[dict[str, Any]]:
        connection.execute("PRAGMA synchronous = NORMAL")
        try:
            cursor = connection.execute(sql, tuple(values))
            rows = cursor.fetchall()
        finally:
            connection.execute("PRAGMA synchronous = FULL")
        names = [column[0] for column in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in rows]

    async with db.acquire_connection():  # tortoise's lock: no transaction is open on the connection
        return await on_sqlite(db, run)
