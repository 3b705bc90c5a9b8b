"""`greenlight audit --since --until` exports across quotes (CSV and JSON), delegations included,
not one quote at a time; a window that cannot hold anything is refused with a sentence."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json

import pytest

from domain.policy import read_policy
from domain.quote import parse_quote
from domain.service import Approvals
from greenlight.cli import main
from store import db
from store.db import wipe
from store.tx import DbStore
from tests.support.quotes import EXAMPLE_POLICY, example_quote_data

NOV_2 = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)
NOV_5 = dt.datetime(2026, 11, 5, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def database(database_url: str, backend: str) -> str:
    """The run's backend (SQLite, or PostgreSQL under GREENLIGHT_TEST_DB=postgres), emptied, with two quotes."""
    asyncio.run(emptied(database_url, backend))
    asyncio.run(two_quotes_three_days_apart(database_url))
    return database_url


async def emptied(url: str, backend: str) -> None:
    await db.connect(url)
    try:
        if backend == "postgres":
            await wipe()
    finally:
        await db.close()


async def two_quotes_three_days_apart(url: str) -> None:
    policy = read_policy(str(EXAMPLE_POLICY))
    await db.connect(url)
    try:
        service = Approvals(policy, DbStore())
        await service.receive_quote(parse_quote(example_quote_data("q1042-v1.json")), NOV_2)
        await service.submit("Q-1042", "ava", NOV_2, "Displacing Oracle")
        await service.receive_quote(parse_quote(example_quote_data("q1200-v1.json")), NOV_5)
        await service.submit("Q-1200", None, NOV_5)
        await service.delegate("sam", "hank", dt.date(2026, 11, 5), dt.date(2026, 11, 6), "sam", NOV_5)
    finally:
        await db.close()


def test_a_window_exports_every_quote_and_delegation_in_it_as_csv(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["audit", "--since", "2026-11-05", "--until", "2026-11-05", "--db", database])

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert code == 0
    assert {r["quote_id"] for r in rows} == {"Q-1200", "Q-1042", ""}
    assert "submitted" not in {r["kind"] for r in rows if r["quote_id"] == "Q-1042"}, "submitted on the 2nd"
    assert any(r["kind"] == "delegation_set" and r["on_behalf_of"] == "sam" for r in rows)
    assert all(r["at"].startswith("2026-11-05") for r in rows)


def test_an_open_ended_window_as_json_carries_the_justification(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["audit", "--until", "2026-11-03T00:00:00Z", "--format", "json", "--db", database])

    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {r["quote_id"] for r in rows} == {"Q-1042"}
    (submitted,) = [r for r in rows if r["kind"] == "submitted"]
    assert submitted["comment"] == "Displacing Oracle"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["audit", "--since", "2026-11-05", "--until", "2026-11-01"], "--until 2026-11-01 is not after --since"),
        (["audit", "--since", "last week"], "--since 'last week' is not a date (2026-11-01) or an ISO time"),
        (["audit"], "name a quote, or a window with --since and/or --until"),
    ],
)
def test_a_window_that_makes_no_sense_is_refused_with_a_sentence(
    database: str, capsys: pytest.CaptureFixture[str], argv: list[str], said: str
) -> None:
    code = main([*argv, "--db", database])

    assert code == 1
    assert said in capsys.readouterr().err
