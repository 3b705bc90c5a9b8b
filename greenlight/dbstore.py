"""Running scenarios against a real database: `greenlight policy test --db URL`."""

from __future__ import annotations

from domain.service import Store
from store import db
from store.tx import DbStore

from .scenarios import ScenarioResult, run_files


async def run_on_database(paths: list[str], url: str) -> list[ScenarioResult]:
    """Each scenario on an emptied database at `url` (migrated first), then the connection closed."""

    async def fresh() -> Store:
        await db.wipe()
        return DbStore()

    await db.connect(url)
    try:
        return await run_files(paths, fresh)
    finally:
        await db.close()
