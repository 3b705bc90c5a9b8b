"""The Slack stand-in, a real slack_sdk client and a real bolt app served on loopback."""

from collections.abc import AsyncIterator

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.driver import SlackDriver
from sandbox.slack_api import SlackStandIn
from tests.support.slack import serving_bolt

from .support import ALICE, BOB, BOT_TOKEN, SIGNING_SECRET


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(bot_token=BOT_TOKEN) as stand_in:
        stand_in.add_user(ALICE, "alice", "alice@example.com", tz="Europe/Paris")
        stand_in.add_user(BOB, "bob", "Bob@Example.com")
        yield stand_in


@pytest.fixture
def client(slack: SlackStandIn) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)


@pytest.fixture
async def app(slack: SlackStandIn) -> AsyncApp:
    return AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url),
        signing_secret=SIGNING_SECRET,
    )


@pytest.fixture
async def driver(app: AsyncApp, slack: SlackStandIn) -> AsyncIterator[SlackDriver]:
    async with serving_bolt(app, slack, SIGNING_SECRET) as slack_driver:
        yield slack_driver
