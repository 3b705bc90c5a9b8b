"""PostgreSQL restarted mid-run: the bot recovers without a restart of its own and loses nothing.

Greenlight runs in this process on a PostgreSQL database of its own. Mid-run the server is
stopped (fast shutdown: every connection is cut) and started again. While it is down, health says
so and no click is acknowledged without being stored; once it is back, the same process answers
clicks again (health first), the outbox delivers everything that was due, and every click that
got a 200 before, during or after is in the database.

Only with GREENLIGHT_TEST_DB=postgres. It restarts the shared local server (other runs using it
at that moment see their connections cut), so it is short and runs after every other test.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest

from store.models import ApprovalRow, OutboxRow
from tests.support.postgres import backend
from tests.support.slack import has_buttons

from .conftest import Greenlight, Start, request_ref, slack_stand_in
from .kit import policy_text, until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.restarts_postgres,
    pytest.mark.skipif(backend() != "postgres", reason="PostgreSQL only: run with GREENLIGHT_TEST_DB=postgres"),
]

APPROVERS = ["a01", "a02", "a03", "a04"]


def cluster() -> tuple[str, str]:
    """The local Debian cluster (version, name) and its control command."""
    versions = sorted(Path("/etc/postgresql").glob("*/main"), key=lambda p: [int(x) for x in p.parent.name.split(".")])
    if shutil.which("pg_ctlcluster") is None or not versions:
        pytest.skip("no pg_ctlcluster here to restart PostgreSQL with")
    return versions[-1].parent.name, "main"


async def pg_ctl(action: str) -> None:
    version, name = cluster()
    extra = ["-m", "fast"] if action in ("stop", "restart") else []
    process = await asyncio.create_subprocess_exec(
        "pg_ctlcluster",
        "--skip-systemctl-redirect",
        version,
        name,
        action,
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, f"pg_ctlcluster {action} failed: {output.decode()}"


async def healthy(gl: Greenlight) -> bool:
    async with aiohttp.ClientSession() as session, session.get(f"{gl.url}/healthz") as answer:
        return answer.status == 200


async def click(gl: Greenlight, person: str, quote_id: str) -> int | None:
    try:
        return (await gl.click_approve(person, request_ref(quote_id, person))).status
    except (aiohttp.ClientError, OSError):
        return None


async def test_postgres_restarted_mid_run_the_bot_recovers_without_a_restart_and_loses_nothing(greenlight: Start):
    cluster()
    async with slack_stand_in(APPROVERS) as slack, greenlight(policy_text(APPROVERS), slack) as gl:
        for quote_id in ("Q-P01", "Q-P02"):
            await gl.submit(quote_id)
        await gl.settle()
        acked: list[tuple[str, str]] = []
        statuses: dict[tuple[str, str], int | None] = {}

        async def tap(person: str, quote_id: str) -> int | None:
            status = statuses[(person, quote_id)] = await click(gl, person, quote_id)
            if status == 200:
                acked.append((person, quote_id))
            return status

        assert await tap("a01", "Q-P01") == 200

        # A quick restart between two clicks: the very next click is answered and stored.
        await pg_ctl("restart")
        assert await tap("a01", "Q-P02") == 200, "the first click after a PostgreSQL restart failed"
        assert await healthy(gl)

        # Down for a while, with clicks and sweeps meanwhile.
        try:
            await pg_ctl("stop")
            assert not await healthy(gl), "/healthz says the database answers while PostgreSQL is down"
            for person in ("a02", "a03"):
                await tap(person, "Q-P01")  # may fail (no ack): then it must not be stored either
            await gl.settle()  # a sweep failing on the database must not break the scheduler
        finally:
            await pg_ctl("start")

        # Back: the same process answers again, without a restart.
        await until(lambda: healthy(gl), "/healthz after PostgreSQL came back", timeout=15)
        for person in APPROVERS:
            for quote_id in ("Q-P01", "Q-P02"):
                if (person, quote_id) not in acked:
                    assert await tap(person, quote_id) == 200, f"{person} on {quote_id} after the restart"
        # A row a worker had claimed when the database went away could not be marked either way:
        # it waits out its lease (60 s), then the next claim takes it over. Move past the lease.
        await gl.later(seconds=61)
        stored = {(a.acted_by, a.quote_id) for a in await ApprovalRow.filter(status="approved")}
        assert set(acked) <= stored, f"acked but lost: {set(acked) - stored}"
        assert stored == {(p, q) for p in APPROVERS for q in ("Q-P01", "Q-P02")}
        left = await OutboxRow.filter(topic="slack").exclude(status="sent").values("key", "status", "last_error")
        assert left == [], left
        for message in slack.dm_history("U0A01") + slack.dm_history("U0A04"):
            assert not has_buttons(message), message.text
