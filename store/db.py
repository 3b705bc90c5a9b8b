"""Connecting, migrating and closing the database."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tortoise import Tortoise
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
    return {
        "connections": {"default": url},
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


async def migrate(url: str) -> None:
    """Apply every migration not yet applied (safe to run on every start)."""
    await run_migrations(config=config(url))


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
    "submission",
    "quote_version",
    "quote",
    "delegation",
    "replacement",
    "person_pref",
    "crm_watermark",
    "person_change",
)
"""Every table, children before parents."""


async def wipe() -> None:
    """Empty every table (a fresh database for the next scenario, schema kept)."""
    connection = Tortoise.get_connection("default")
    for table in TABLES:
        await connection.execute_script(f'DELETE FROM "{table}"')
