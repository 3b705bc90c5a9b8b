"""One database backend per test run, chosen by GREENLIGHT_TEST_DB.

    GREENLIGHT_TEST_DB=sqlite    (default) a fresh SQLite file in the test's tmp_path
    GREENLIGHT_TEST_DB=postgres  the database at GREENLIGHT_TEST_PG_URL
                                 (default postgres://postgres@127.0.0.1:5432/test), emptied with
                                 `wipe()` before each test; the tests skip if it cannot be reached

Tortoise caches its executors by connection name, so one process never switches backends: run
`pytest` (SQLite) and `GREENLIGHT_TEST_DB=postgres pytest tests/store` as two processes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from domain.policy import Policy, load_policy
from domain.service import Approvals
from store import db
from store.db import wipe
from store.tx import DbStore

from .support import asyncpg_dsn, panel_policy, sqlite_url, with_database

BACKENDS = ("sqlite", "postgres")
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test"
PG_CONNECT_TIMEOUT = 3.0


async def _postgres_problem(url: str) -> str | None:
    try:
        connection = await asyncpg.connect(asyncpg_dsn(url), timeout=PG_CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        return f"PostgreSQL at {url} cannot be reached ({error.__class__.__name__}: {error})"
    try:
        await connection.fetchval("SELECT 1")
    finally:
        await connection.close()
    return None


@pytest.fixture(scope="session")
def backend() -> str:
    name = os.environ.get("GREENLIGHT_TEST_DB", "").strip().lower() or "sqlite"
    if name not in BACKENDS:
        pytest.fail(f"GREENLIGHT_TEST_DB={name!r} is not a backend: use sqlite or postgres", pytrace=False)
    return name


@pytest.fixture(scope="session")
def postgres_url(backend: str) -> str:
    """The PostgreSQL test database (skips the test when it does not answer)."""
    url = os.environ.get("GREENLIGHT_TEST_PG_URL", "").strip() or DEFAULT_PG_URL
    # Probed on a thread of its own: the tests' event loop is not running yet at this point.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        problem = pool.submit(asyncio.run, _postgres_problem(url)).result()
    if problem is not None:
        pytest.skip(problem)
    return url


def _url(backend: str, request: pytest.FixtureRequest, directory: Path) -> str:
    if backend == "postgres":
        return request.getfixturevalue("postgres_url")
    return sqlite_url(directory / "greenlight.db")


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The selected backend's database for one test (not connected)."""
    return _url(backend, request, tmp_path)


@pytest.fixture(scope="module")
def module_database_url(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The selected backend's database for a whole module (not connected)."""
    return _url(backend, request, tmp_path_factory.mktemp("db"))


@pytest.fixture
async def connected(database_url: str, backend: str) -> AsyncIterator[str]:
    """This process connected to an empty, migrated database; closed when the test ends."""
    try:
        await db.connect(database_url)
        if backend == "postgres":
            await wipe()
        yield database_url
    finally:
        await db.close()


@pytest.fixture
async def fresh_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database nobody has migrated yet: a new SQLite file, or a new PostgreSQL database dropped after."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path / "fresh.db")
        return
    server = request.getfixturevalue("postgres_url")
    name = f"greenlight_fresh_{uuid.uuid4().hex[:12]}"
    await _on_server(server, f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        await _on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _on_server(url: str, statement: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=PG_CONNECT_TIMEOUT)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(panel_policy(), "panel policy")


@pytest.fixture
def service(policy: Policy, connected: str) -> Approvals:
    return Approvals(policy, DbStore())
