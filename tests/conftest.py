"""Fixtures every suite may use; the harness itself is the `tests.support` package.

- no proxy for any test: loopback calls must never go to a proxy from the environment
- the database backend of the run (GREENLIGHT_TEST_DB) and a migrated database: on SQLite a copy
  of the template per test, on PostgreSQL a database of the run's own: `database_url` (not
  connected), `connected` (this process connected to it, emptied)
- `migrated_db`: an SQLite file with every migration applied, made once, to copy for each test
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from store import db
from store.db import wipe
from tests.support import postgres
from tests.support.loopback import PROXY_VARIABLES


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk ignores NO_PROXY and aiohttp honours these with trust_env: loopback calls would go to a proxy."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def backend() -> str:
    try:
        return postgres.backend()
    except ValueError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def postgres_server(backend: str) -> str:
    """The PostgreSQL server of the run (skips the test when it does not answer)."""
    if backend != "postgres":
        pytest.skip("PostgreSQL only: run with GREENLIGHT_TEST_DB=postgres")
    server = postgres.server_url()
    problem = postgres.run_aside(postgres.problem(server))
    if problem is not None:
        pytest.skip(problem)
    return server


@pytest.fixture(scope="session")
def postgres_database(postgres_server: str) -> Iterator[str]:
    """A migrated PostgreSQL database of this run's own, dropped at the end (PostgreSQL runs only)."""
    url = postgres.run_aside(postgres.create_database(postgres_server, "greenlight_run"))
    try:
        postgres.migrate_aside(url)
        yield url
    finally:
        postgres.run_aside(postgres.drop_database(postgres_server, url))


def _database_url(backend: str, request: pytest.FixtureRequest, directory: Path) -> str:
    if backend == "postgres":
        return request.getfixturevalue("postgres_database")
    # a copy of the migrated template: migrating a new file costs about two seconds of fsyncs
    path = directory / "greenlight.db"
    shutil.copyfile(request.getfixturevalue("migrated_db"), path)
    return postgres.sqlite_url(path)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The run's backend's database for one test (not connected): a migrated SQLite file of its own, or
    the run's database."""
    return _database_url(backend, request, tmp_path)


@pytest.fixture(scope="module")
def module_database_url(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The run's backend's database for a whole module (not connected)."""
    return _database_url(backend, request, tmp_path_factory.mktemp("db"))


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
    if backend == "postgres":
        request.getfixturevalue("postgres_server")
    async with postgres.fresh_database(tmp_path / "fresh.db", "greenlight_fresh") as url:
        yield url


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database with every migration applied, made once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "greenlight.db"
    postgres.migrate_aside(postgres.sqlite_url(path))
    assert path.exists()
    return path
