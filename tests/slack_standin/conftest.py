"""The Slack stand-in, a real slack_sdk client and a real bolt app served on loopback."""

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.driver import SlackDriver
from sandbox.slack_api import SlackStandIn

from .support import ALICE, BOB, BOT_TOKEN, SIGNING_SECRET


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk reads these and ignores NO_PROXY: loopback calls would go to the proxy.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


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
    runner = web.AppRunner(app.web_app(path="/slack/events"), shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/slack/events"
    try:
        async with SlackDriver(url, signing_secret=SIGNING_SECRET, stand_in=slack) as slack_driver:
            yield slack_driver
    finally:
        await runner.cleanup()
