"""`greenlight crm salesforce` run as a user runs it: a separate process, settings from the
environment, a Salesforce org (the stand-in, over HTTPS) and a database."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

from tests.faults.kit import policy_text
from tests.support.clock import Clock
from tests.support.salesforce import CERT, SalesforceStandIn

from .test_salesforce import LINE, MAPPING, record

ROOT = Path(__file__).resolve().parents[2]


async def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "greenlight.cli",
        "crm",
        "salesforce",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_one_pull_from_the_command_line_stores_and_submits_and_says_what_it_did(
    tmp_path: Path, migrated_db: Path, clock: Clock
) -> None:
    database = tmp_path / "greenlight.db"
    shutil.copyfile(migrated_db, database)
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(["a01"]))
    org = SalesforceStandIn()
    org.put_quote("a0Q000000000001", record(1), [LINE], clock())
    org.put_quote("a0Q000000000002", record(2, owner="stranger@example.com"), [LINE], clock())
    async with org:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "REQUESTS_CA_BUNDLE": str(CERT),
            "GREENLIGHT_DATABASE_URL": f"sqlite://{database}",
            "GREENLIGHT_POLICY": str(policy),
            "GREENLIGHT_SALESFORCE_LOGIN_URL": org.url,
            "GREENLIGHT_SALESFORCE_CLIENT_ID": org.client_id,
            "GREENLIGHT_SALESFORCE_CLIENT_SECRET": org.client_secret,
            "GREENLIGHT_SALESFORCE_MAPPING": MAPPING,
        }
        code, out, err = await run(env)
        assert code == 1, "a quote was refused"
        assert "read 2 changed quotes in 1 page(s): 1 stored (1 submitted), 0 unchanged, 1 refused" in out
        assert "Q-SF00002: not taken: $.owner: owner 'stranger@example.com' matches nobody" in err

        wrong = await run({**env, "GREENLIGHT_SALESFORCE_CLIENT_SECRET": "not-the-secret"})
        assert wrong[0] == 1 and "Salesforce refused the login (400: invalid client credentials)" in wrong[2]
        assert org.client_secret not in wrong[1] + wrong[2]
