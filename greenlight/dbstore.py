"""Running scenarios against a real database: `greenlight policy test --db URL`."""

from __future__ import annotations

from tortoise import Tortoise

from domain.service import Store
from domain.store import db
from domain.store.tx import DbStore

from .scenarios import ScenarioResult, run_files

TABLES = (
    "orders", "contract", "slack_message", "request_key", "outbox", "audit", "assignment", "approval",
    "submission", "quote_version", "quote", "delegation", "replacement",
)  # fmt: skip


async def wipe() -> None:
    """Empty every table (a fresh database for the next scenario, schema kept)."""
    connection = Tortoise.get_connection("default")
    for table in TABLES:
        await connection.execute_script(f'DELETE FROM "{table}"')


async def run_on_database(paths: list[str], url: str) -> list[ScenarioResult]:
    """Each scenario on an emptied database at `url` (migrated first), then the connection closed."""

    async def fresh() -> Store:
        await wipe()
        return DbStore()

    await db.connect(url)
    try:
        return await run_files(paths, fresh)
    finally:
        await db.close()
