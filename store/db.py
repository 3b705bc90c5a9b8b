"""Connecting, migrating and closing the database."""

from __future__ import annotations

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from domain.errors import GreenlightError

APP = "greenlight"


class DatabaseError(GreenlightError):
    pass


def config(url: str) -> dict[str, Any]:
    scheme = urlsplit(url).scheme
    if scheme not in ("sqlite", "postgres", "postgresql", "asyncpg"):
        raise DatabaseError(
            f"GREENLIGHT_DATABASE_URL has an unknown scheme {scheme!r}: use sqlite://PATH or postgres://..."
        )
    if scheme == "postgresql":
        url = "postgres" + url[len("postgresql") :]
    connection = expand_db_url(url)
    if scheme == "sqlite":
        # Every commit reaches the disk before a click is answered (a group of them shares the fsync).
        connection["credentials"].setdefault("synchronous", "FULL")
    else:
        connection["credentials"]["reset"] = keep_session
    return {
        "connections": {"default": connection},
        "apps": {
            APP: {
                "models": ["store.models"],
                "migrations": "store.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def keep_session(connection: asyncpg.Connection) -> None:
    """How a pooled PostgreSQL connection is reset when given back: asyncpg has already rolled back
    any transaction left open (and dropped listeners) before it calls this. Its default goes on with
    a round trip of its own (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) after
    every statement outside a transaction and every transaction, a third of a click's round trips.
    Greenlight keeps no session state on pooled connections (no SET outside a transaction, no
    advisory lock: the migrations' is taken on a connection of its own, no LISTEN, no cursor), so
    there is nothing for it to reset."""


MIGRATION_LOCK = 0x6772_6E6C_6967_6874 & 0x7FFF_FFFF_FFFF_FFFF
"""The PostgreSQL advisory lock key every Greenlight process migrates under ("grnlight")."""


async def migrate(url: str) -> None:
    """Apply every migration not yet applied (safe to run on every start, by any number of processes at once).

    The processes take turns: an advisory lock on PostgreSQL, a lock file beside the database on
    SQLite. The first applies what is missing; the others then find nothing left to do.
    """
    config(url)  # an unknown scheme is refused before any lock is taken
    async with migration_lock(url):
        await run_migrations(config=config(url))


@asynccontextmanager
async def migration_lock(url: str) -> AsyncIterator[None]:
    """Held by one process at a time per database; released when the block ends or the process dies."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = (parts.netloc + parts.path).strip()
        if not path or path == ":memory:":
            yield
            return
        descriptor = os.open(f"{path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing the file releases the lock
        return
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        yield
    finally:
        # ending the session releases its advisory locks
        try:
            await connection.close(timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError):
            connection.terminate()


async def pending_migrations(url: str) -> list[str]:
    """The migrations not yet applied to the database at `url` (names), without applying any."""
    found: list[str] = []

    class Planned(Exception):
        pass

    def report(connection: str, plan: list[Any], fake: bool, dry_run: bool) -> None:
        found.extend(f"{step.migration.app_label}.{step.migration.name}" for step in plan if not step.backward)
        raise Planned  # stop before the executor writes anything, even its own bookkeeping table

    try:
        await run_migrations(config=config(url), reporter=report)
    except Planned:
        pass
    except Exception:
        # no bookkeeping table yet: a database never migrated
        await Tortoise.close_connections()
        return ["every migration (the database was never migrated)"]
    await Tortoise.close_connections()
    return found


async def connect(url: str, *, apply_migrations: bool = True) -> None:
    if apply_migrations:
        await migrate(url)
    await Tortoise.init(config=config(url))


async def close() -> None:
    await Tortoise.close_connections()


async def ping() -> bool:
    """Whether the database answers now (for /healthz)."""
    try:
        await Tortoise.get_connection("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


TABLES = (
    "orders",
    "contract",
    "slack_message",
    "request_key",
    "outbox",
    "audit",
    "assignment",
    "approval",
    "submission_snapshot",
    "submission",
    "quote_version",
    "quote",
    "delegation",
    "replacement",
    "person_pref",
    "crm_watermark",
    "person_change",
    "policy_version",
    "directory_version",
)
"""Every table, children before parents."""


async def wipe() -> None:
    """Empty every table (a fresh database for the next scenario, schema kept)."""
    connection = Tortoise.get_connection("default")
    for table in TABLES:
        await connection.execute_script(f'DELETE FROM "{table}"')
