"""`greenlight db migrate`: a fresh database gets every table; running it again changes nothing."""

from __future__ import annotations

import inspect
import sqlite3
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from tortoise.models import Model

from store import db, models
from tests.support.postgres import asyncpg_dsn
from tests.support.quotes import ROOT

MIGRATIONS_TABLE = "tortoise_migrations"
KEPT_ROW = """INSERT INTO "replacement" ("old", "new", "created_at") VALUES ('fin2', 'fin3', '2026-12-01 09:00:00Z')"""


def model_columns() -> dict[str, list[str]]:
    """The table of every model Greenlight defines, with the columns of its fields (a relation's key
    column is in the projection only once tortoise has set the models up: named here either way)."""
    return {
        cls._meta.db_table: sorted(
            {
                *cls._meta.fields_db_projection.values(),
                *(f"{name}_id" for name in cls._meta.fk_fields | cls._meta.o2o_fields),
            }
        )
        for _, cls in inspect.getmembers(models, inspect.isclass)
        if issubclass(cls, Model) and cls is not Model and cls.__module__ == models.__name__
    }


def migrate(url: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "greenlight.cli", "db", "migrate", "--db", url]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


async def schema(url: str) -> tuple[dict[str, list[str]], list[tuple[Any, ...]]]:
    """Every table with its columns, and the migrations recorded as applied."""
    if url.startswith("sqlite"):
        with sqlite3.connect(urlsplit(url).path) as connection:
            names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            tables = {
                name: sorted(r[1] for r in connection.execute(f'PRAGMA table_info("{name}")'))
                for name in names
                if not name.startswith("sqlite_")
            }
            applied = connection.execute(f'SELECT * FROM "{MIGRATIONS_TABLE}" ORDER BY 1').fetchall()
        return tables, applied
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        )
        tables: dict[str, list[str]] = {}
        for row in rows:
            tables.setdefault(row["table_name"], []).append(row["column_name"])
        applied = [tuple(r) for r in await connection.fetch(f'SELECT * FROM "{MIGRATIONS_TABLE}" ORDER BY 1')]
    finally:
        await connection.close()
    return {name: sorted(columns) for name, columns in tables.items()}, applied


async def sql(url: str, statement: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite"):
        with sqlite3.connect(urlsplit(url).path) as connection:
            return connection.execute(statement).fetchall()
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return [tuple(r) for r in await connection.fetch(statement)]
    finally:
        await connection.close()


async def test_a_fresh_database_gets_every_table_and_migrating_again_keeps_schema_and_data(
    fresh_database_url: str,
) -> None:
    first = migrate(fresh_database_url)
    assert first.returncode == 0, first.stderr
    assert "database is up to date" in first.stdout
    tables, applied = await schema(fresh_database_url)
    assert set(tables) == {*model_columns(), MIGRATIONS_TABLE}
    assert {name: tables[name] for name in model_columns()} == model_columns()  # no model field lacks a migration
    assert applied

    await sql(fresh_database_url, KEPT_ROW)

    second = migrate(fresh_database_url)
    assert second.returncode == 0, second.stderr
    assert "database is up to date" in second.stdout
    assert await schema(fresh_database_url) == (tables, applied)
    assert await sql(fresh_database_url, 'SELECT "old", "new" FROM "replacement"') == [("fin2", "fin3")]


def test_wipe_empties_every_table_the_models_define() -> None:
    assert set(db.TABLES) == set(model_columns())
