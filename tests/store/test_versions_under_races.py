"""Quote versions from the CRM under races (crm-v1 §3, issue 12 items 1, 2 and 5), served over loopback.

On PostgreSQL the requests of one round run on separate pooled connections at the same instant,
so the database (not the event loop) decides who goes first. Each race runs ROUNDS rounds.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from tortoise import Tortoise

from domain.service import Approvals
from greenlight.api import create_app
from greenlight.settings import Settings
from store.models import QuoteRow, QuoteVersionRow, SubmissionRow
from store.tx import DbStore
from tests.support.crm import Crm
from tests.support.loopback import served
from tests.support.quotes import example_policy, example_quote_data

from .support import NOW

SECRET = "crm-shared-secret-for-the-race-tests-0123456789"
ROUNDS = 30
V1 = example_quote_data("q1042-v1.json")
V2 = example_quote_data("q1042-v2.json")


def version(data: dict[str, Any], quote_id: str, number: int) -> dict[str, Any]:
    body = copy.deepcopy(data)
    body["id"], body["version"] = quote_id, number
    return body


async def database_answers() -> bool:
    await Tortoise.get_connection("default").execute_query("SELECT 1")
    return True


@pytest.fixture
def service(connected: str) -> Approvals:
    return Approvals(example_policy(), DbStore())


@pytest.fixture
async def crm(connected: str, service: Approvals) -> AsyncIterator[Crm]:
    settings = Settings.from_env(
        environ={"GREENLIGHT_API_SECRET": SECRET, "GREENLIGHT_DATABASE_URL": connected},
        env_file=None,
        require_slack=False,
    )
    app = create_app(service=service, settings=settings, health=database_answers, clock=lambda: NOW)
    async with served(app) as url, aiohttp.ClientSession() as session:
        yield Crm(url, session, SECRET, lambda: NOW)


async def test_two_versions_sent_at_once_keep_the_higher_and_the_loser_is_told_the_stored_version(crm: Crm) -> None:
    orders = {"v3 first": 0, "v2 first": 0}
    for round_ in range(ROUNDS):
        quote_id = f"Q-RACE-{round_}"
        assert (await crm.post(version(V1, quote_id, 1))).status == 200

        v3, v2 = await asyncio.gather(crm.post(version(V2, quote_id, 3)), crm.post(version(V1, quote_id, 2)))

        assert (v3.status, v3.body["status"]) == (200, "stored"), f"round {round_}: {v3}"
        if v2.status == 200:
            orders["v2 first"] += 1
            assert v2.body["status"] == "stored"
        else:
            orders["v3 first"] += 1
            assert v2.status == 409, f"round {round_}: {v2}"
            assert (v2.body["quote"], v2.body["stored_version"]) == (quote_id, 3)
            assert "version 2 is stale: version 3 is stored" in v2.body["error"]
        row = await QuoteRow.get(id=quote_id)
        assert (row.version, row.data["version"]) == (3, 3), f"round {round_}: v{row.version} stored after a 200 for v3"
        again = await crm.post(version(V2, quote_id, 3))
        assert (again.status, again.body["status"]) == (200, "unchanged"), f"round {round_}: {again}"
        assert await QuoteVersionRow.filter(quote_id=quote_id, version=3).count() == 1
    print(f"\n{ROUNDS} rounds of v3 and v2 at once: {orders}")


async def test_a_submit_at_the_moment_a_new_version_arrives_never_leaves_the_old_version_pending(
    crm: Crm, service: Approvals
) -> None:
    orders = {"submitted, then recalled by v2": 0, "v2 stored, then submitted": 0}
    for round_ in range(ROUNDS):
        quote_id = f"Q-SUB-{round_}"
        assert (await crm.post(version(V1, quote_id, 1))).status == 200

        submitted, received = await asyncio.gather(
            service.submit(quote_id, None, NOW), crm.post(version(V2, quote_id, 2))
        )

        sub, _ = submitted
        assert received.status == 200, f"round {round_}: {received}"
        rows = await SubmissionRow.filter(quote_id=quote_id).order_by("number")
        assert len(rows) == 1
        if sub.quote_version == 1:
            orders["submitted, then recalled by v2"] += 1
            assert received.body["status"] == "recalled", (
                f"round {round_}: v1 was submitted, the CRM was told {received}"
            )
            assert rows[0].status == "recalled"
        else:
            orders["v2 stored, then submitted"] += 1
            assert sub.quote_version == 2
            assert received.body["status"] == "stored"
            assert (rows[0].status, rows[0].quote_version) == ("pending", 2)
        pending = await SubmissionRow.filter(quote_id=quote_id, status="pending").values_list(
            "quote_version", flat=True
        )
        assert all(v == 2 for v in pending), f"round {round_}: version {pending} pending while version 2 is stored"
    print(f"\n{ROUNDS} rounds of submit and v2 at once: {orders}")


@pytest.mark.parametrize("number", [2**31, 2**32 + 7, 1_733_000_000_000, 2**53 - 1])
async def test_versions_up_to_two_to_the_53_minus_one_are_stored_and_ordered(crm: Crm, number: int) -> None:
    reply = await crm.post(version(V1, "Q-BIG", number))

    assert (reply.status, reply.body) == (200, {"quote": "Q-BIG", "version": number, "status": "stored"})
    assert (await QuoteRow.get(id="Q-BIG")).version == number
    lower = await crm.post(version(V2, "Q-BIG", number - 1))
    assert (lower.status, lower.body["stored_version"]) == (409, number)


async def test_a_stored_quote_with_a_big_version_can_be_submitted(crm: Crm, service: Approvals) -> None:
    assert (await crm.post(version(V1, "Q-EPOCH", 1_733_000_000_000))).status == 200
    sub, _ = await service.submit("Q-EPOCH", None, NOW)
    assert sub.quote_version == 1_733_000_000_000
    assert (await SubmissionRow.get(quote_id="Q-EPOCH")).quote_version == 1_733_000_000_000


async def test_amounts_are_stored_and_read_back_with_every_digit_the_crm_sent(crm: Crm, service: Approvals) -> None:
    body = version(V1, "Q-EXACT", 1)
    body["lines"][0]["net_price"] = 0.1  # placeholder, replaced in the raw text below
    raw = json.dumps(body).replace('"net_price": 0.1', '"net_price": 33.3333333333333333333', 1)
    assert "33.3333333333333333333" in raw

    reply = await crm.post(raw.encode())

    assert reply.status == 200, reply
    row = await QuoteRow.get(id="Q-EXACT")
    assert repr(row.data["lines"][0]["net_price"]) == "33.3333333333333333333"
    assert Decimal(repr(row.data["lines"][0]["net_price"])) == Decimal("33.3333333333333333333")
    stored = await service.stored_quote("Q-EXACT")
    assert stored is not None and stored.content_hash == row.content_hash
    again = await crm.post(raw.encode())
    assert (again.status, again.body["status"]) == (200, "unchanged")  # the same digits are the same quote
    sub, _ = await service.submit("Q-EXACT", None, NOW)
    assert repr(sub.snapshot["lines"][0]["net_price"]) == "33.3333333333333333333"
    assert repr((await service.latest("Q-EXACT")).snapshot["lines"][0]["net_price"]) == "33.3333333333333333333"
