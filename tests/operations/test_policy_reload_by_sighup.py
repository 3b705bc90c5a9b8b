"""`kill -HUP` on `greenlight serve` (what `systemctl reload` sends) keeps it running and applies the
policy file as it is now; a broken file changes nothing and the log lists every problem."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.faults.kit import policy_text
from tests.support.postgres import fresh_database, query

from .kit import Server, environment, requested, submit, until, wait_for_log, workspace

BROKEN = policy_text(["a01", "a02"]).replace("approver: by-a02", "approver: by-nobody")


async def newest_version(url: str) -> int:
    rows = await query(url, "SELECT MAX(version) AS v FROM policy_version")
    return int(rows[0]["v"] or 0)


async def test_sighup_applies_a_changed_policy_and_a_broken_one_leaves_the_old_in_force(tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(["a01"]))
    async with workspace(["a01", "a02"]) as slack, fresh_database(tmp_path / "greenlight.db", "greenlight_hup") as url:
        server = await Server.start(environment(slack, url, policy), tmp_path, "hup")
        try:
            await submit(server, slack, "Q-0001")
            await until(lambda: _has(slack, "Q-0001", ["rule-a01"]), "Q-0001 asked a01")
            assert await newest_version(url) == 1

            # 1. A changed file: a02 must now approve too.
            policy.write_text(policy_text(["a01", "a02"]))
            server.process.send_signal(signal.SIGHUP)
            await until(lambda: _equals(newest_version(url), 2), "policy version 2 published")
            await wait_for_log(server, "policy version 2")
            await submit(server, slack, "Q-0002")
            await until(lambda: _has(slack, "Q-0002", ["rule-a01", "rule-a02"]), "Q-0002 asked a01 and a02")

            # 2. A broken file: nothing changes, the process keeps serving, the log says what is wrong.
            policy.write_text(BROKEN)
            server.process.send_signal(signal.SIGHUP)
            await wait_for_log(server, "was not applied")
            assert "by-nobody" in server.log.read_text()
            assert server.process.returncode is None
            assert await newest_version(url) == 2
            await submit(server, slack, "Q-0003")
            await until(lambda: _has(slack, "Q-0003", ["rule-a01", "rule-a02"]), "Q-0003 asked under version 2")

            # Each submission keeps the version that evaluated it.
            rows = await query(url, "SELECT quote_id, state FROM submission ORDER BY quote_id")
            versions = {row["quote_id"]: _state(row["state"]).get("policy_version") for row in rows}
            assert versions == {"Q-0001": 1, "Q-0002": 2, "Q-0003": 2}
            assert await server.stop() == 0
        finally:
            server.kill()


def _state(value: object) -> dict:
    return json.loads(value) if isinstance(value, str | bytes) else value  # type: ignore[return-value]


async def _has(slack, quote_id: str, rules: list[str]) -> bool:
    return requested(slack, quote_id) == rules


async def _equals(value, wanted: int) -> bool:
    return await value == wanted
