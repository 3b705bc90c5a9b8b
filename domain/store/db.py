"""Connecting, migrating and closing the database."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tortoise import Tortoise
from tortoise.migrations.api import migrate as run_migrations

from ..errors import GreenlightError

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
                "models": ["domain.store.models"],
                "migrations": "domain.store.migrations",
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
