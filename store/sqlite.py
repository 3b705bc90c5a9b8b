"""SQLite through the connection tortoise opened: its instants as text, and work handed to the
driver's own thread (several statements for one hand-off)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError, OperationalError

T = TypeVar("T")


def instant(value: dt.datetime | None) -> str | None:
    """An instant as tortoise keeps it in SQLite: UTC text."""
    return None if value is None else str(value.astimezone(dt.UTC))


async def on_sqlite(connection: Any, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run WORK with the sqlite3 connection behind tortoise's (aiosqlite's) in the driver's own
    thread: several statements for one hand-off. Errors are tortoise's, as its client raises them."""
    driver = connection._connection  # the aiosqlite.Connection tortoise opened (its private API, pinned)
    try:
        result: T = await driver._execute(work, driver._conn)
    except (sqlite3.IntegrityError, sqlite3.OperationalError) as error:
        raise as_tortoise(error) from error
    return result


def as_tortoise(error: BaseException) -> BaseException:
    """ERROR as tortoise's client raises it (sqlite3's integrity and operational errors wrapped)."""
    if isinstance(error, sqlite3.IntegrityError):
        return IntegrityError(error)
    if isinstance(error, sqlite3.OperationalError):
        return OperationalError(error)
    return error
