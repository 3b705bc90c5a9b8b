"""The database backend of a test run, and PostgreSQL databases of its own.

    GREENLIGHT_TEST_DB=sqlite    (default) SQLite files in the tests' tmp_path
    GREENLIGHT_TEST_DB=postgres  databases created for the run (or the test) on the server at
                                 GREENLIGHT_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test)
                                 and dropped afterwards WITH (FORCE); the server's own database is
                                 never written, so runs in parallel do not meet

Tortoise caches its executors by connection name, so one process never switches backends: run
`pytest` (SQLite) and `GREENLIGHT_TEST_DB=postgres pytest tests/store tests/release tests/faults`
as two processes. The fixtures built on this module are in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import sqlite3
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from store import db

BACKENDS = ("sqlite", "postgres")
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT = 5.0

T = TypeVar("T")


def backend() -> str:
    """`sqlite` or `postgres`, as GREENLIGHT_TEST_DB says (ValueError for anything else)."""
    name = os.environ.get("GREENLIGHT_TEST_DB", "").strip().lower() or "sqlite"
    if name not in BACKENDS:
        raise ValueError(f"GREENLIGHT_TEST_DB={name!r} is not a backend: use sqlite or postgres")
    return name


def server_url() -> str:
    """The PostgreSQL server the tests create their databases on (GREENLIGHT_TEST_PG_URL)."""
    return os.environ.get("GREENLIGHT_TEST_PG_URL", "").strip() or DEFAULT_SERVER_URL


def sqlite_url(path: Path) -> str:
    return f"sqlite://{path}"


def with_database(url: str, name: str) -> str:
    """The same PostgreSQL server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def asyncpg_dsn(url: str) -> str:
    """A Greenlight postgres:// URL as asyncpg wants it."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


async def problem(url: str) -> str | None:
    """Why the server at `url` cannot be used (a sentence), or None when it answers."""
    try:
        connection = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        return f"PostgreSQL at {url} cannot be reached ({error.__class__.__name__}: {error})"
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()
    return None


async def execute(url: str, statement: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Run `statement` on a connection of its own (it survives a server restart in between)."""
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=timeout)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def create_database(server: str, prefix: str = "greenlight_test") -> str:
    """A new, empty database `<prefix>_<hex>` on `server`; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await execute(server, f'CREATE DATABASE "{name}"')
    return with_database(server, name)


async def drop_database(server: str, url: str) -> None:
    """Drop the database of `url` WITH (FORCE): whoever is still connected to it is cut off."""
    name = urlsplit(url).path.lstrip("/")
    await execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', timeout=30.0)


@asynccontextmanager
async def private_database(server: str, prefix: str = "greenlight_test") -> AsyncIterator[str]:
    """A new, empty database on `server` for the block; dropped afterwards."""
    url = await create_database(server, prefix)
    try:
        yield url
    finally:
        await drop_database(server, url)


@asynccontextmanager
async def fresh_database(sqlite_path: Path, prefix: str = "greenlight_test") -> AsyncIterator[str]:
    """A database nobody uses yet, of the run's backend: the SQLite file `sqlite_path`, or a private one."""
    if backend() == "sqlite":
        yield sqlite_url(sqlite_path)
        return
    async with private_database(server_url(), prefix) as url:
        yield url


async def query(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Read (or fix up) a database without tortoise, from outside the process using it (SQL with $1...)."""
    if url.startswith("sqlite://"):
        with sqlite3.connect(url.removeprefix("sqlite://"), timeout=10.0) as connection:
            connection.row_factory = sqlite3.Row
            rows = connection.execute(re.sub(r"\$(\d+)", r"?\1", sql), args).fetchall()
            return [dict(row) for row in rows]
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=CONNECT_TIMEOUT)
    try:
        return [dict(row) for row in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


def migrate_aside(url: str) -> None:
    """Apply every migration to the database at `url`, from a thread and loop of its own (see run_aside)."""

    async def migrate() -> None:
        await db.migrate(url)
        await db.close()

    run_aside(migrate())


def run_aside(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to its end on a thread and loop of its own.

    For session fixtures (the tests' event loop is not running yet) and for tortoise, which keeps
    its state in context variables: a migration run aside leaves the tests' context clean.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
