"""`greenlight db migrate`: a fresh database gets every table; running it again changes nothing."""

from __future__ import annotations

import inspect
import sqlite3
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from tortoise.migrations.api import migrate as run_migrations
from tortoise.models import Model

from domain import amounts
from domain import approvals as lifecycle
from domain.amounts import Amount
from domain.approvals import Directory, Submission
from domain.policy import Policy
from domain.quote import parse_quote
from domain.service import Approvals
from store import codec, db, models, sqlite, submissions
from store.models import SubmissionSnapshotRow
from store.tx import DbStore
from tests.support import postgres
from tests.support.postgres import asyncpg_dsn
from tests.support.quotes import ROOT, one_line_quote

from .support import NOW

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


# ---------------------------------------------------------------- 0014: the snapshot's own table

BEFORE_0014 = "greenlight.0013_outbox_open_rows"
AS_STORED = {
    "Q-LEGACY": "before 0011: the snapshot inside the state, no column",
    "Q-COLUMN": "0011: a snapshot column, no heading",
    "Q-HEADED": "0012: a snapshot and a heading column",
}


def migrate_to(url: str, target: str) -> None:
    async def run() -> None:
        await run_migrations(config=db.config(url), target=target)
        await db.close()

    postgres.run_aside(run())


def submitted(policy: Policy, quote_id: str) -> Submission:
    data = one_line_quote(quote_id, net_total=Amount("28500.00"), list_total=30000, discount_percent=Amount("5.0000"))
    data["lines"] = [{**data["lines"][0], "id": f"L{n}"} for n in range(1, 4)]
    ctx = Approvals(policy, DbStore()).context(Directory(), NOW)
    sub, _ = lifecycle.submit(ctx, parse_quote(data), 1, None)
    return sub


async def store_as_before_0014(url: str, sub: Submission) -> None:
    """SUB as Greenlight stored it in its time (`AS_STORED`), with the columns of migration 0012."""
    state, snapshot, heading = codec.dump(sub), amounts.dumps(sub.snapshot), amounts.dumps(sub.heading())
    if sub.quote_id == "Q-LEGACY":
        state, snapshot, heading = {**state, "snapshot": sub.snapshot}, None, None
    elif sub.quote_id == "Q-COLUMN":
        heading = None
    at = sub.submitted_at if url.startswith("postgres") else sqlite.instant(sub.submitted_at)
    await postgres.query(
        url,
        'INSERT INTO "submission" ("quote_id", "number", "quote_version", "owner", "status", "revision", '
        '"submitted_at", "state", "snapshot", "heading") VALUES ($1, 1, $2, $3, $4, 0, $5, $6, $7, $8)',
        *(sub.quote_id, sub.quote_version, sub.owner, sub.status, at, amounts.dumps(state), snapshot, heading),
    )


async def indexes_of_submission(url: str) -> list[str]:
    return await indexes_of(url, "submission")


async def indexes_of(url: str, table: str) -> list[str]:
    if url.startswith("sqlite"):
        statement = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 ORDER BY name"
    else:
        statement = "SELECT indexname AS name FROM pg_indexes WHERE tablename = $1 ORDER BY indexname"
    return [row["name"] for row in await postgres.query(url, statement, table)]


async def columns_of_submission(url: str) -> dict[str, tuple[Any, Any]]:
    """The snapshot and heading columns of every submission (at 0012), decoded."""
    rows = await postgres.query(url, 'SELECT "quote_id", "snapshot", "heading" FROM "submission"')
    return {
        r["quote_id"]: tuple(None if v is None else amounts.loads(v) for v in (r["snapshot"], r["heading"]))
        for r in rows
    }


async def test_0014_moves_every_snapshot_to_its_own_table_and_each_submission_reads_as_before(
    fresh_database_url: str, policy: Policy
) -> None:
    url = fresh_database_url
    migrate_to(url, BEFORE_0014)
    subs = {quote_id: submitted(policy, quote_id) for quote_id in AS_STORED}
    for sub in subs.values():
        await store_as_before_0014(url, sub)
    indexes = await indexes_of_submission(url)

    migrated = migrate(url)
    assert migrated.returncode == 0, migrated.stderr

    tables, _ = await schema(url)
    assert "snapshot" not in tables["submission"] and "heading" not in tables["submission"]
    kept_indexes = [name for name in indexes if name != OWNER_INDEX]  # (dropped by 0015)
    assert await indexes_of_submission(url) == kept_indexes, "the submission table lost an index (its unique key?)"
    expected = {q: (sub.snapshot, sub.heading()) for q, sub in subs.items()}
    await db.connect(url, apply_migrations=False)
    try:
        kept = await SubmissionSnapshotRow.all().values_list("submission__quote_id", "snapshot", "heading")
        assert {q: (s, h) for q, s, h in kept} == {
            "Q-COLUMN": (expected["Q-COLUMN"][0], None),
            "Q-HEADED": expected["Q-HEADED"],
        }, "copied as they were; a legacy submission gets no row"
        await reads_as_submitted(expected)
        await db.close()

        migrate_to(url, BEFORE_0014)  # back: the columns as they were
        assert await columns_of_submission(url) == {
            "Q-LEGACY": (None, None),
            "Q-COLUMN": (expected["Q-COLUMN"][0], None),
            "Q-HEADED": expected["Q-HEADED"],
        }
        assert migrate(url).returncode == 0, "and forth again"

        await db.connect(url, apply_migrations=False)
        store = DbStore()
        for quote_id in AS_STORED:  # a change moves the legacy one's snapshot to its row, once
            async with store.transaction() as tx:
                sub = await tx.latest(quote_id)
                assert sub is not None
                sub.revision += 1
                assert await tx.update_submission(sub, sub.revision - 1)
        kept = await SubmissionSnapshotRow.all().values_list("submission__quote_id", "snapshot", "heading")
        assert {q: (s, h) for q, s, h in kept} == {**expected, "Q-COLUMN": (expected["Q-COLUMN"][0], None)}
        await reads_as_submitted(expected)
    finally:
        await db.close()


async def reads_as_submitted(expected: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Every way the store reads a submission finds its snapshot and heading as submitted."""
    refs = [(quote_id, 1) for quote_id in expected]
    async with DbStore().transaction() as tx:
        for quote_id, (snapshot, heading) in expected.items():
            general = await tx.latest(quote_id)
            opened = await tx.open_latest(quote_id, NOW, None)
            assert general is not None and opened is not None and opened.submission is not None
            assert (general.snapshot, general.heading()) == (snapshot, heading), quote_id
            assert (opened.submission.snapshot, opened.submission.heading()) == (snapshot, heading), quote_id
        listed = await tx.submissions_at(refs)
    assert {sub.quote_id: sub.heading() for sub in listed} == {q: h for q, (_, h) in expected.items()}
    batch = await submissions.submissions_at(refs)
    assert {ref[0]: (sub.snapshot, sub.heading()) for ref, sub in batch.items()} == expected


# ---------------------------------------------------------------- 0015: fewer indexes to write

BEFORE_0015 = "greenlight.0014_submission_snapshot"
OWNER_INDEX = "idx_submission_owner_b3b604"
DROPPED = {"outbox": ["idx_outbox_next_at_59be67", "idx_outbox_status_9c8966"], "submission": [OWNER_INDEX]}
FAILED_COUNT = (
    "SELECT topic, status, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox "
    "WHERE status IN ('failed', 'dead') GROUP BY topic, status"
)
"""The outbox gauge's statement for the rows that failed (greenlight.observability)."""


async def plan_of(url: str, statement: str) -> str:
    if url.startswith("sqlite"):
        rows = await postgres.query(url, f"EXPLAIN QUERY PLAN {statement}")
        return " / ".join(str(row["detail"]) for row in rows)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:  # a table this small is read whole unless told otherwise
        await connection.execute("SET enable_seqscan = off")
        return " / ".join(row[0] for row in await connection.fetch(f"EXPLAIN {statement}"))
    finally:
        await connection.close()


async def test_0015_drops_three_indexes_a_decision_wrote_and_failed_rows_keep_one_of_their_own(
    fresh_database_url: str,
) -> None:
    url = fresh_database_url
    migrate_to(url, BEFORE_0015)
    before = {table: await indexes_of(url, table) for table in DROPPED}
    for table, names in DROPPED.items():
        assert set(names) <= set(before[table]), f"{table}: the index names tortoise gave are not these"

    migrate_to(url, BEFORE_0016)  # 0015 itself (0017 replaces idx_outbox_failed)
    after = {table: await indexes_of(url, table) for table in DROPPED}
    assert after["submission"] == [name for name in before["submission"] if name != OWNER_INDEX]
    assert after["outbox"] == sorted(
        [*(n for n in before["outbox"] if n not in DROPPED["outbox"]), "idx_outbox_failed"]
    )
    assert "idx_outbox_failed" in await plan_of(url, FAILED_COUNT), "the gauge counts failed rows through it"
    assert "idx_submission_owner_submitted" in await plan_of(url, "SELECT id FROM submission WHERE owner = 'rep'")

    migrate_to(url, BEFORE_0015)  # back: the indexes as they were
    assert {table: await indexes_of(url, table) for table in DROPPED} == before
    migrate_to(url, BEFORE_0016)  # and forth again
    assert {table: await indexes_of(url, table) for table in DROPPED} == after


# ---------------------------------------------------------------- 0016: the contract end_date index

BEFORE_0016 = "greenlight.0015_fewer_indexes_to_write"
END_DATE_INDEX = "idx_contract_end_dat_b9aad1"
RENEWALS = (  # DbTx.renewals_due's statement
    "SELECT id FROM contract WHERE end_date <= '2027-02-01' AND end_date >= '2027-01-01' "
    "AND renewal_sent_at IS NULL ORDER BY end_date, id LIMIT 200"
)


async def indexes_back_and_forth(url: str, before_migration: str, table: str) -> tuple[list[str], list[str]]:
    """TABLE's indexes at BEFORE_MIGRATION and after the migrations that follow it, checked to be
    the same again after migrating back, and forth. The database is left migrated."""
    migrate_to(url, before_migration)
    before = await indexes_of(url, table)
    assert migrate(url).returncode == 0
    after = await indexes_of(url, table)
    migrate_to(url, before_migration)
    assert await indexes_of(url, table) == before, "back: the indexes as they were"
    assert migrate(url).returncode == 0
    assert await indexes_of(url, table) == after, "and forth again"
    return before, after


async def test_0016_creates_the_end_date_index_the_renewals_sweep_reads_through(fresh_database_url: str) -> None:
    before, after = await indexes_back_and_forth(fresh_database_url, BEFORE_0016, "contract")

    assert END_DATE_INDEX not in before, "0007 declared it; tortoise's AddField never made it"
    assert after == sorted([*before, END_DATE_INDEX])
    assert END_DATE_INDEX in await plan_of(fresh_database_url, RENEWALS)


# ---------------------------------------------------------------- 0017: dead letters by topic

BEFORE_0017 = "greenlight.0016_contract_end_date_index"
CRM_DEAD = (  # the second statement of store.outbox.not_sent, as the CRM worker asks it
    "SELECT id, key, status, next_attempt_at FROM outbox WHERE topic = 'crm' AND status IN ('failed', 'dead') "
    "AND substr(key, 1, 8) = 'crm:Q-1:' AND id < 1000"
)


async def test_0017_indexes_dead_letters_by_topic_for_the_crm_worker_and_the_gauge(fresh_database_url: str) -> None:
    before, after = await indexes_back_and_forth(fresh_database_url, BEFORE_0017, "outbox")

    assert "idx_outbox_failed" in before and "idx_outbox_dead" not in before
    assert after == sorted([*(n for n in before if n != "idx_outbox_failed"), "idx_outbox_dead"])
    url = fresh_database_url
    assert "idx_outbox_dead" in await plan_of(url, CRM_DEAD), "a topic's dead letters, not every topic's"
    assert "idx_outbox_dead" in await plan_of(url, FAILED_COUNT), "the gauge counts failed rows through it"
