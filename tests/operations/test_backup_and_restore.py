"""The documented backup paths (docs/operations.md §7), tried: a quote is submitted, the database is
backed up while `serve` runs, restored elsewhere, and a new `serve` on the restore answers with it."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from sandbox.driver import SlackDriver
from tests.faults.kit import REP_SLACK, SIGNING_SECRET, policy_text
from tests.support.postgres import asyncpg_dsn, backend, fresh_database, private_database, server_url

from .kit import Server, environment, healthy, submit, workspace


async def run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, (command[0], err.decode()[-2000:])


@pytest.mark.skipif(
    shutil.which("sqlite3" if backend() == "sqlite" else "pg_dump") is None, reason="the backup tool is missing"
)
async def test_a_backup_taken_while_serving_restores_and_serves_the_same_quotes(tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(["a01"]))
    async with workspace(["a01"]) as slack, fresh_database(tmp_path / "live.db", "greenlight_backup") as url:
        server = await Server.start(environment(slack, url, policy), tmp_path, "live")
        try:
            await submit(server, slack, "Q-0001")
            if backend() == "sqlite":
                backup = tmp_path / "backup.db"
                await run("sqlite3", url.removeprefix("sqlite://"), f".backup {backup}")
            else:
                backup = tmp_path / "greenlight.dump"
                await run("pg_dump", "-Fc", "-f", str(backup), asyncpg_dsn(url))
        finally:
            assert await server.stop() == 0

        if backend() == "sqlite":
            restored = tmp_path / "restored" / "greenlight.db"
            restored.parent.mkdir()
            shutil.copy(backup, restored)
            await _serve_restored(slack, policy, tmp_path, f"sqlite://{restored}")
        else:
            async with private_database(server_url(), "greenlight_restored") as target:
                await run("pg_restore", "--no-owner", "-d", asyncpg_dsn(target), str(backup))
                await _serve_restored(slack, policy, tmp_path, target)


async def _serve_restored(slack, policy: Path, folder: Path, url: str) -> None:
    server = await Server.start(environment(slack, url, policy), folder, "restored", options=("--no-migrate",))
    try:
        assert await healthy(server.url)
        async with SlackDriver(f"{server.url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack) as driver:
            answer = await driver.command(REP_SLACK, "/deal", "status Q-0001")
        assert answer.status == 200
        assert "Q-0001 v1 is pending" in json.dumps(answer.json())
    finally:
        assert await server.stop() == 0
