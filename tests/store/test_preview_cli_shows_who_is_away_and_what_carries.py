"""`greenlight preview` says what its help and the README promise: with `--db` it shows who is
away (and who decides for them) and what smart approvals would carry; alone it says it cannot.
The owner is named, not shown as a Slack id; a `field:` approver that points at nobody says why
the fallback takes it."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest

from domain.policy import read_policy
from domain.quote import parse_quote
from domain.service import Approvals
from greenlight.cli import main
from store import db
from store.db import wipe
from store.tx import DbStore
from tests.support.quotes import EXAMPLE_POLICY, changed, example_quote_data

NOW = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def database(database_url: str, backend: str) -> str:
    """The run's backend (SQLite, or PostgreSQL under GREENLIGHT_TEST_DB=postgres), emptied."""
    asyncio.run(emptied(database_url, backend))
    return database_url


async def emptied(url: str, backend: str) -> None:
    await db.connect(url)
    try:
        if backend == "postgres":
            await wipe()
    finally:
        await db.close()


def quote_file(tmp_path: Path, name: str, **changes: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(changed(example_quote_data("q1042-v1.json"), **changes)))
    return path


async def rejected_once_and_marco_away(url: str) -> None:
    policy = read_policy(str(EXAMPLE_POLICY))
    await db.connect(url)
    try:
        service = Approvals(policy, DbStore())
        await service.receive_quote(parse_quote(example_quote_data("q1042-v1.json")), NOW)
        await service.submit("Q-1042", "ava", NOW)
        await service.decide("Q-1042", "manager-discount", "marco", "approve", NOW)
        await service.decide("Q-1042", "services-discount", "sam", "reject", NOW, comment="Services too deep.")
        await service.delegate("sam", "hank", dt.date(2026, 11, 2), dt.date(2026, 11, 6), "sam", NOW)
    finally:
        await db.close()


def test_with_the_store_the_preview_shows_who_is_away_and_what_would_carry(
    tmp_path: Path, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(rejected_once_and_marco_away(database))
    v2 = quote_file(tmp_path, "v2.json", version=2)

    code = main(
        ["preview", "--policy", str(EXAMPLE_POLICY), "--quote", str(v2), "--db", database, "--at", NOW.isoformat()]
    )

    out = capsys.readouterr().out
    assert code == 0
    assert "owner Ava Brooks" in out
    assert "carried from Q-1042#1" in out, out
    assert "sam (away → hank)" in out, out
    assert "No store given" not in out


def test_without_a_store_the_preview_says_what_it_cannot_know(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["preview", "--policy", str(EXAMPLE_POLICY), "--quote", str(quote_file(tmp_path, "q.json"))])

    out = capsys.readouterr().out
    assert code == 0
    assert "No store given: nobody is shown away and nothing carried. --db URL reads" in out
    assert "owner Ava Brooks" in out and "U05AB3R8AEN" not in out


def test_a_field_approver_pointing_at_nobody_says_why_the_fallback_takes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Omar has no manager in the example policy: `owner.manager` points at nobody
    path = quote_file(tmp_path, "q.json", owner="omar")

    main(["preview", "--policy", str(EXAMPLE_POLICY), "--quote", str(path)])
    text = capsys.readouterr().out
    main(["preview", "--policy", str(EXAMPLE_POLICY), "--quote", str(path), "--format", "json"])
    data = json.loads(capsys.readouterr().out)

    assert "[fallback: owner.manager points at nobody on this quote" in text, text
    (manager,) = [
        i for c in data["chains"] for s in c["steps"] for i in s["approvals"] if i["rule"] == "manager-discount"
    ]
    assert manager["fallback"] is True
    assert manager["fallback_reason"].startswith("owner.manager points at nobody")
