"""A policy change without a restart: `/deal policy reload` (admins) and `greenlight policy apply FILE`
publish a new version every replica follows; an invalid policy changes nothing and the admin gets
every located problem; each submission records the version that evaluated it, and `/deal status`
and the audit show it."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.quote import parse_quote
from greenlight.settings import Settings
from store.models import AuditRow
from tests.faults.kit import ADMIN, API_SECRET, BOT_TOKEN, REP, SIGNING_SECRET, policy_text, quote_data
from tests.support.clock import MONDAY_MORNING, Clock
from tests.support.postgres import fresh_database
from tests.support.quotes import ROOT
from tests.support.slack import Running, serving, values_in

from .kit import workspace

BROKEN = (
    policy_text(["a01", "a02"])
    .replace("approver: by-a02", "approver: by-nobody")
    .replace('release_time: "06:00"', 'release_time: "6 o\'clock"')
)


@pytest.fixture
async def gl(tmp_path: Path) -> AsyncIterator[Running]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(["a01"]))
    async with (
        workspace(["a01", "a02"]) as slack,
        fresh_database(tmp_path / "greenlight.db", "greenlight_live") as url,
    ):
        settings = Settings.from_env(
            environ={
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.api_url,
                "GREENLIGHT_DATABASE_URL": url,
                "GREENLIGHT_POLICY": str(policy),
                "GREENLIGHT_API_SECRET": API_SECRET,
            },
            env_file=None,
        )
        async with serving(Running, settings, slack, Clock(MONDAY_MORNING)) as running:
            yield running


def policy_file(gl: Running) -> Path:
    return Path(gl.runtime.settings.policy_file)


async def submit(gl: Running, quote_id: str) -> list[str]:
    """Submit a quote; the rules it asked for (from the request DMs posted)."""
    await gl.runtime.service.receive_quote(parse_quote(quote_data(quote_id)), gl.clock())
    await gl.deal(REP, f"submit {quote_id}")
    await gl.settle()
    blocks = [call.args.get("blocks") for call in gl.slack.calls("chat.postMessage")]
    refs = {r for b in blocks for r in values_in(json.loads(b) if isinstance(b, str) else b or [])}
    return sorted(ref.split("/", 1)[1] for ref in refs if ref.startswith(f"{quote_id}#"))


async def test_an_admin_reloads_the_policy_from_slack_and_the_next_submission_is_evaluated_by_it(gl: Running):
    assert await submit(gl, "Q-0001") == ["rule-a01"]
    policy_file(gl).write_text(policy_text(["a01", "a02"]))

    answer = (await gl.deal(ADMIN, "policy reload")).json()
    assert "Policy version 2" in answer["text"], answer
    assert await submit(gl, "Q-0002") == ["rule-a01", "rule-a02"]

    status = json.dumps((await gl.deal(REP, "status Q-0002")).json())
    assert "evaluated by policy version 2" in status
    assert "evaluated by policy version 1" in json.dumps((await gl.deal(REP, "status Q-0001")).json())
    details = await AuditRow.filter(kind="submitted").order_by("id").values_list("quote_id", "detail")
    assert [(q, d.get("policy_version")) for q, d in details] == [("Q-0001", 1), ("Q-0002", 2)]

    again = (await gl.deal(ADMIN, "policy reload")).json()
    assert "already in force (version 2)" in again["text"]


async def test_a_broken_policy_changes_nothing_and_the_admin_gets_every_problem(gl: Running):
    policy_file(gl).write_text(BROKEN)
    answer = json.dumps((await gl.deal(ADMIN, "policy reload")).json())
    assert "was not applied: 2 problems" in answer
    assert "by-nobody" in answer and "release_time" in answer
    assert gl.runtime.live is not None and gl.runtime.live.version == 1
    assert await submit(gl, "Q-0003") == ["rule-a01"]


async def test_only_an_admin_may_reload_the_policy(gl: Running):
    policy_file(gl).write_text(policy_text(["a01", "a02"]))
    answer = json.dumps((await gl.deal(REP, "policy reload")).json())
    assert "admin" in answer
    assert gl.runtime.live is not None and gl.runtime.live.version == 1


async def test_policy_apply_on_the_command_line_reaches_a_running_replica(gl: Running, tmp_path: Path):
    new = tmp_path / "new-policy.yaml"
    new.write_text(policy_text(["a01", "a02"]))
    url = gl.runtime.settings.database_url.get_secret_value()
    command = [sys.executable, "-m", "greenlight.cli", "policy", "apply", str(new), "--db", url, "--by", "ops"]
    code, out, err = await run(command)
    assert code == 0, err
    assert "Policy version 2" in out

    await gl.settle("policy")  # the replica's poll (every 2 s when serving)
    assert await submit(gl, "Q-0004") == ["rule-a01", "rule-a02"]

    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN)
    code, out, err = await run([*command[:5], str(broken), *command[6:]])
    assert code == 1
    assert "by-nobody" in err and "release_time" in err


async def run(command: list[str]) -> tuple[int, str, str]:
    """A command line run beside the replica (its event loop keeps going meanwhile)."""
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()
