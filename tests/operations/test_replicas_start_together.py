"""Any number of `greenlight serve` replicas may start at once on a fresh database: migrations take
turns under a lock (an advisory lock on PostgreSQL, a lock file on SQLite). `serve --no-migrate`
leaves migrating to a release step and refuses to start while one is pending."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from store import db
from tests.faults.kit import policy_text
from tests.support.postgres import backend, fresh_database, private_database, query, server_url, sqlite_url
from tests.support.quotes import ROOT

from .kit import Server, environment, healthy, start_together

# The acceptance runs 20 tries (GREENLIGHT_REPLICA_TRIES=20); the suite runs a few.
TRIES = int(os.environ.get("GREENLIGHT_REPLICA_TRIES", "3"))


@pytest.mark.skipif(backend() != "postgres", reason="several processes on one database mean PostgreSQL")
async def test_two_replicas_started_at_once_on_a_fresh_postgresql_database_both_answer_healthz(tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(["a01"]))
    answered = 0
    for attempt in range(TRIES):
        async with private_database(server_url(), "greenlight_replicas") as url:
            servers = await start_together(
                environment(None, url, policy), tmp_path, [f"try{attempt}-a", f"try{attempt}-b"]
            )
            try:
                results = await asyncio.gather(*(healthy(server.url) for server in servers))
                answered += all(results)
                applied = await query(url, "SELECT COUNT(*) AS n FROM tortoise_migrations")
                assert applied[0]["n"] == len(await _migration_names())
            finally:
                codes = [await server.stop() for server in servers]
            assert codes == [0, 0], [server.log.read_text()[-2000:] for server in servers]
    assert answered == TRIES, f"both replicas answered /healthz in {answered} of {TRIES} tries"


async def _migration_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "store" / "migrations").glob("0*.py"))


def test_processes_migrating_one_fresh_sqlite_file_at_once_take_turns(tmp_path: Path):
    url = sqlite_url(tmp_path / "fresh.db")
    script = (
        "import asyncio, sys\nfrom store import db\n"
        "async def main():\n    await db.migrate(sys.argv[1])\n    await db.close()\n"
        "asyncio.run(main())\nprint('migrated')"
    )

    async def together() -> list[tuple[int, str]]:
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                script,
                url,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(4)
        ]
        outputs = [await process.communicate() for process in processes]
        return [(p.returncode or 0, (out + err).decode()) for p, (out, err) in zip(processes, outputs, strict=True)]

    results = asyncio.run(together())
    assert [code for code, _ in results] == [0, 0, 0, 0], [text[-1500:] for _, text in results]
    assert asyncio.run(_pending(url)) == []


async def _pending(url: str) -> list[str]:
    return await db.pending_migrations(url)


async def test_serve_no_migrate_refuses_a_database_with_pending_migrations_and_serves_once_migrated(tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(["a01"]))
    async with fresh_database(tmp_path / "greenlight.db", "greenlight_nomigrate") as url:
        env = environment(None, url, policy)
        with pytest.raises(AssertionError, match="greenlight db migrate"):
            await Server.start(env, tmp_path, "refused", options=("--no-migrate",))
        assert await db.pending_migrations(url) != [], "--no-migrate must not have migrated anything"

        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "greenlight.cli", "db", "migrate", "--db", url, cwd=ROOT, env={**os.environ}
        )
        assert await migrate.wait() == 0
        server = await Server.start(env, tmp_path, "served", options=("--no-migrate",))
        try:
            assert await healthy(server.url)
        finally:
            assert await server.stop() == 0
