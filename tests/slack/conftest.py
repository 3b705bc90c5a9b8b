"""The real Greenlight app served on loopback, talking to the Slack stand-in, on a real SQLite store."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from domain.policy import read_policy
from domain.quote import load_quote_text
from greenlight.app import Runtime, build
from greenlight.settings import Settings
from sandbox.driver import SlackDriver
from sandbox.slack_api import SlackStandIn

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BOT_TOKEN = "xoxb-greenlight-slack-tests"
SIGNING_SECRET = "slack-tests-signing-secret"
API_SECRET = "slack-tests-api-secret-0123456789"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@dataclass
class Bot:
    runtime: Runtime
    slack: SlackStandIn
    driver: SlackDriver
    url: str

    def slack_id(self, person: str) -> str:
        slack = self.runtime.policy.people[person].slack
        assert slack, f"{person} has no Slack id in the example policy"
        return slack

    async def receive(self, name: str) -> str:
        quote = load_quote_text((EXAMPLES / "quotes" / name).read_text(), name)
        await self.runtime.service.receive_quote(quote, self.runtime.clock())
        return quote.id

    async def settle(self, *names: str) -> None:
        """Let the sweeps (the outbox to Slack by default) finish everything due now."""
        for name in names or ("slack",):
            await self.runtime.sweeps.run_now(name)


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    policy = read_policy(EXAMPLES / "policy.yaml")
    async with SlackStandIn(bot_token=BOT_TOKEN) as stand_in:
        for key, person in policy.people.items():
            if person.slack:
                stand_in.add_user(person.slack, key, person.email, tz=person.timezone or policy.timezone)
        yield stand_in


@pytest.fixture
async def bot(slack: SlackStandIn, tmp_path: Path) -> AsyncIterator[Bot]:
    settings = Settings.from_env(
        environ={
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "GREENLIGHT_DATABASE_URL": f"sqlite://{tmp_path}/greenlight.db",
            "GREENLIGHT_POLICY": str(EXAMPLES / "policy.yaml"),
            "GREENLIGHT_API_SECRET": API_SECRET,
        },
        env_file=None,
    )
    runtime = build(settings, sweep_every=dt.timedelta(hours=1), tick_every=dt.timedelta(hours=1))
    await runtime.start()
    runner = web.AppRunner(runtime.web, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}"
    try:
        async with SlackDriver(f"{url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack) as driver:
            yield Bot(runtime, slack, driver, url)
    finally:
        await runner.cleanup()
        await runtime.stop()
