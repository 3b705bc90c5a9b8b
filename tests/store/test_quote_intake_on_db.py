"""The CRM quote intake served on loopback over the database store: answers, and what each leaves stored."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from tortoise import Tortoise

from domain.service import Approvals
from greenlight.api import MAX_QUOTE_BYTES, create_app
from greenlight.settings import Settings
from store.models import AuditRow
from store.tx import DbStore
from tests.support.crm import SIGNATURE_HEADER, Crm, Reply
from tests.support.loopback import served
from tests.support.quotes import example_policy, example_quote_data

from .support import NOW, quote_tables

SECRET = "crm-shared-secret-for-the-store-tests-0123456789"
V1 = example_quote_data("q1042-v1.json")
V2 = example_quote_data("q1042-v2.json")


async def database_answers() -> bool:
    await Tortoise.get_connection("default").execute_query("SELECT 1")
    return True


@pytest.fixture
async def intake(connected: str) -> AsyncIterator[Crm]:
    """The real application (settings from an environment) over Approvals on the database store."""
    settings = Settings.from_env(
        environ={"GREENLIGHT_API_SECRET": SECRET, "GREENLIGHT_DATABASE_URL": connected},
        env_file=None,
        require_slack=False,
    )
    service = Approvals(example_policy(), DbStore())
    app = create_app(service=service, settings=settings, health=database_answers, clock=lambda: NOW)
    async with served(app) as url, aiohttp.ClientSession() as session:
        yield Crm(url, session, SECRET, lambda: NOW)


async def stored() -> tuple[Any, ...]:
    quotes, versions = await quote_tables()
    return quotes, versions, await AuditRow.all().count()


async def test_a_signed_quote_is_stored_with_its_version_and_sent_again_is_unchanged(intake: Crm) -> None:
    reply = await intake.post(V1)
    assert (reply.status, reply.body) == (200, {"quote": "Q-1042", "version": 1, "status": "stored"})
    quotes, versions = await quote_tables()
    assert [(q["id"], q["version"], q["owner"], q["data"]) for q in quotes] == [("Q-1042", 1, "ava", V1)]
    assert [(v["quote_id"], v["version"], v["data"]) for v in versions] == [("Q-1042", 1, V1)]
    before = await stored()

    again = await intake.post(V1)

    assert (again.status, again.body["status"]) == (200, "unchanged")
    assert await stored() == before


async def test_a_higher_version_replaces_the_quote_and_keeps_every_version(intake: Crm) -> None:
    assert (await intake.post(V1)).status == 200
    reply = await intake.post(V2)
    assert (reply.status, reply.body["status"]) == (200, "stored")
    quotes, versions = await quote_tables()
    assert [(q["id"], q["version"], q["data"]) for q in quotes] == [("Q-1042", 2, V2)]
    assert [(v["version"], v["data"]) for v in versions] == [(1, V1), (2, V2)]


async def refused(send: Callable[[], Awaitable[Reply]], status: int, says: str) -> None:
    """SEND is answered STATUS with an error sentence containing SAYS, and the tables are as they were."""
    before = await stored()
    reply = await send()
    assert reply.status == status, reply.body
    assert says in reply.body["error"]
    assert await stored() == before


async def test_a_stale_version_is_refused_with_409_and_changes_nothing(intake: Crm) -> None:
    assert (await intake.post(V2)).status == 200
    await refused(lambda: intake.post(V1), 409, "version 1 is stale: version 2 is stored")
    edited = copy.deepcopy(V2)
    edited["discount_percent"] = 1
    await refused(lambda: intake.post(edited), 409, "version 2 is stale: version 2 is stored")


async def test_an_unauthenticated_request_is_refused_with_401_and_changes_nothing(intake: Crm) -> None:
    assert (await intake.post(V1)).status == 200
    await refused(lambda: intake.post(V2, secret="another-secret-of-a-stranger-0123456"), 401, "signature")
    await refused(lambda: intake.post(V2, omit=(SIGNATURE_HEADER,)), 401, SIGNATURE_HEADER)
    await refused(lambda: intake.post(V2, timestamp=str(int(NOW.timestamp()) - 600)), 401, "old")


async def test_a_body_that_is_not_a_quote_is_refused_with_422_and_changes_nothing(intake: Crm) -> None:
    assert (await intake.post(V1)).status == 200
    await refused(lambda: intake.post(b'{"id": "Q-1042", "version": 2,'), 422, "not a JSON quote")
    broken = copy.deepcopy(V2)
    del broken["lines"]
    broken["net_total"] = "a lot"
    await refused(lambda: intake.post(broken), 422, "and was not stored")


async def test_a_body_over_1_mb_is_refused_with_413_and_changes_nothing(intake: Crm) -> None:
    assert (await intake.post(V1)).status == 200
    padded = dict(V2, notes="x" * MAX_QUOTE_BYTES)
    await refused(lambda: intake.post(padded), 413, "at most 1 MB")
    await refused(lambda: intake.post_chunked(MAX_QUOTE_BYTES + 1), 413, "at most 1 MB")


async def test_the_health_check_answers_200_while_the_database_answers(intake: Crm) -> None:
    async with intake.session.get(intake.url + "/healthz") as response:
        assert (response.status, await response.json()) == (200, {"ok": True})


async def test_a_quote_delivered_several_times_at_once_is_stored_once_and_every_delivery_gets_200(
    intake: Crm, backend: str, request: pytest.FixtureRequest
) -> None:
    replies = await asyncio.gather(*(intake.post(V1) for _ in range(5)))

    assert sorted((r.status, r.body.get("status")) for r in replies) == [(200, "stored")] + [(200, "unchanged")] * 4
    quotes, versions = await quote_tables()
    assert [(q["id"], q["version"]) for q in quotes] == [("Q-1042", 1)]
    assert [(v["quote_id"], v["version"]) for v in versions] == [("Q-1042", 1)]
