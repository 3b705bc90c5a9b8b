"""One database backend per test run, chosen by GREENLIGHT_TEST_DB (the convention of tests/store).

    GREENLIGHT_TEST_DB=sqlite    (default) a fresh SQLite file in each test's tmp_path
    GREENLIGHT_TEST_DB=postgres  a database of its own, created for this run on the server at
                                 GREENLIGHT_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test),
                                 emptied with `wipe()` before each test and dropped at the end; the
                                 tests skip if the server cannot be reached

A database of its own, because tests/store empties `test` before each of its tests and may run at
the same time. Tests that need several processes on one database skip on SQLite: several
processes mean PostgreSQL (reliability.md).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from domain.order_service import Orders
from domain.policy import Policy
from domain.service import Approvals
from sandbox.erp import ErpStandIn
from store import db
from store.db import wipe
from store.tx import DbStore

from .support import ERP_SECRET, START, Clock, asyncpg_dsn, make_policy, with_database

BACKENDS = ("sqlite", "postgres")
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test"
PG_CONNECT_TIMEOUT = 3.0


def _run(coroutine):  # the tests' event loop is not running yet when session fixtures are made
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _postgres_problem(url: str) -> str | None:
    try:
        connection = await asyncpg.connect(asyncpg_dsn(url), timeout=PG_CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        return f"PostgreSQL at {url} cannot be reached ({error.__class__.__name__}: {error})"
    await connection.close()
    return None


async def _admin(server: str, sql: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(server), timeout=PG_CONNECT_TIMEOUT)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _migrate(url: str) -> None:
    await db.migrate(url)
    await db.close()


@pytest.fixture(scope="session")
def backend() -> str:
    name = os.environ.get("GREENLIGHT_TEST_DB", "").strip().lower() or "sqlite"
    if name not in BACKENDS:
        pytest.fail(f"GREENLIGHT_TEST_DB={name!r} is not a backend: use sqlite or postgres", pytrace=False)
    return name


@pytest.fixture(scope="session")
def postgres_database(backend: str) -> Iterator[str]:
    """A migrated PostgreSQL database of this run's own (skips the test when the server does not answer)."""
    if backend != "postgres":
        pytest.skip("several processes share one database on PostgreSQL only: run with GREENLIGHT_TEST_DB=postgres")
    server = os.environ.get("GREENLIGHT_TEST_PG_URL", "").strip() or DEFAULT_PG_URL
    problem = _run(_postgres_problem(server))
    if problem is not None:
        pytest.skip(problem)
    name = f"greenlight_release_{uuid.uuid4().hex[:12]}"
    _run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        url = with_database(server, name)
        _run(_migrate(url))
        yield url
    finally:
        _run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "postgres":
        return request.getfixturevalue("postgres_database")
    return f"sqlite://{tmp_path / 'greenlight.db'}"


@pytest.fixture
async def connected(database_url: str, backend: str) -> AsyncIterator[str]:
    """This process connected to an empty, migrated database; closed when the test ends."""
    await db.connect(database_url)
    try:
        if backend == "postgres":
            await wipe()
        yield database_url
    finally:
        await db.close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def service(policy: Policy, connected: str) -> Approvals:
    return Approvals(policy, DbStore())


@pytest.fixture
def desk(policy: Policy, connected: str) -> Orders:
    return Orders(policy, DbStore())


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
async def erp(clock: Clock) -> AsyncIterator[ErpStandIn]:
    """The ERP stand-in on loopback; it judges a signature's freshness by the tests' clock."""
    async with ErpStandIn(ERP_SECRET, clock=clock.timestamp) as standin:
        yield standin
