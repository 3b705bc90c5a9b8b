"""Fixtures of the fault suite: the Slack stand-in, and Greenlight built in this process.

`greenlight(...)` starts the real runtime (`greenlight.app.build`) on the selected backend, with
a clock that stands still until the test moves it, serving its HTTP surface on loopback; tests
run the sweeps themselves (`runtime.sweeps.run_now(name)`) after moving the clock, so "hours"
and "a day" of an outage pass in milliseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from domain.approvals import Submission
from domain.quote import parse_quote
from greenlight.app import Runtime, build
from greenlight.settings import Settings
from sandbox.driver import DriverResponse, SlackDriver
from sandbox.slack_api import Call, Message, SlackStandIn

from .kit import (
    ADMIN,
    ADMIN_SLACK,
    API_SECRET,
    BOT_TOKEN,
    PROXY_VARIABLES,
    REP,
    REP_SLACK,
    SIGNING_SECRET,
    Clock,
    fresh_database,
    quote_data,
    slack_of,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Restarting the PostgreSQL server disturbs whatever else uses it: that test goes last."""
    last = [item for item in items if item.get_closest_marker("restarts_postgres")]
    if last:
        items[:] = [item for item in items if item not in last] + last


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "restarts_postgres: restarts the local PostgreSQL server (runs last)")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk ignores NO_PROXY: loopback calls would go to a proxy."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@asynccontextmanager
async def slack_stand_in(people: Iterable[str] = ()) -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(bot_token=BOT_TOKEN) as stand_in:
        stand_in.add_user(REP_SLACK, REP, "rep@example.com")
        stand_in.add_user(ADMIN_SLACK, ADMIN, "dana@example.com")
        for person in people:
            stand_in.add_user(slack_of(person), person, f"{person}@example.com")
        yield stand_in


def request_ref(quote_id: str, person: str, submission: int = 1) -> str:
    return f"{quote_id}#{submission}/rule-{person}"


def refs_in(blocks: Any) -> list[str]:
    """The request refs carried by the buttons in `blocks`."""
    if isinstance(blocks, dict):
        found = [blocks["value"]] if isinstance(blocks.get("value"), str) and "action_id" in blocks else []
        return found + [ref for value in blocks.values() for ref in refs_in(value)]
    if isinstance(blocks, list):
        return [ref for item in blocks for ref in refs_in(item)]
    return []


def call_blocks(call: Call) -> list[dict[str, Any]]:
    import json

    raw = call.args.get("blocks") or []
    return json.loads(raw) if isinstance(raw, str) else raw


def has_buttons(message: Message) -> bool:
    return any(block.get("type") == "actions" for block in message.blocks)


@dataclass
class Greenlight:
    """Greenlight running in this process, and the stand-ins it talks to."""

    runtime: Runtime
    slack: SlackStandIn
    driver: SlackDriver
    url: str
    clock: Clock
    database_url: str

    async def receive(self, quote_id: str, **options: Any) -> None:
        await self.runtime.service.receive_quote(parse_quote(quote_data(quote_id, **options)), self.clock())

    async def submit(self, quote_id: str, **options: Any) -> Submission:
        """The CRM sends the quote, the rep types `/deal submit` (acked with a 200)."""
        await self.receive(quote_id, **options)
        answer = await self.driver.command(REP_SLACK, "/deal", f"submit {quote_id}")
        assert answer.status == 200, answer.body
        sub = await self.runtime.service.latest(quote_id)
        assert sub is not None and sub.status == "pending", f"{quote_id} was not submitted: {answer.body}"
        return sub

    async def click_approve(self, person: str, ref: str) -> DriverResponse:
        """`person` taps Approve on request `ref` (the button's value), in their DM."""
        return await self.driver.click(slack_of(person), "approval.approve", value=ref,
                                       channel_id=self.slack.dm_channel(slack_of(person)))  # fmt: skip

    async def sweep(self, *names: str) -> None:
        for name in names or ("slack",):
            await self.runtime.sweeps.run_now(name)

    async def later(self, delta: dt.timedelta, *names: str) -> None:
        """Move the clock on, then run the sweeps (what the scheduler would do when they fall due)."""
        self.clock.advance(delta)
        await self.sweep(*names)


Start = Callable[..., AbstractAsyncContextManager[Greenlight]]


@pytest.fixture
def greenlight(tmp_path: Path, clock: Clock) -> Start:
    """`async with greenlight(policy_text, slack, **environment) as gl:` starts Greenlight in this process."""

    @asynccontextmanager
    async def start(policy: str, slack: SlackStandIn, database_url: str | None = None,
                    **environment: str) -> AsyncIterator[Greenlight]:  # fmt: skip
        policy_file = tmp_path / "policy.yaml"
        policy_file.write_text(policy)
        async with fresh_database(tmp_path) if database_url is None else _given(database_url) as url:
            settings = Settings.from_env(
                environ={
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "SLACK_API_URL": slack.api_url,
                    "GREENLIGHT_DATABASE_URL": url,
                    "GREENLIGHT_POLICY": str(policy_file),
                    "GREENLIGHT_API_SECRET": API_SECRET,
                    **environment,
                },
                env_file=None,
            )
            hour = dt.timedelta(hours=1)
            runtime = build(settings, clock=clock, sweep_every=hour, tick_every=hour, release_every=hour)
            await runtime.start()
            runner = web.AppRunner(runtime.web, shutdown_timeout=1.0)
            try:
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", 0).start()
                host, port = runner.addresses[0][:2]
                address = f"http://{host}:{port}"
                async with SlackDriver(f"{address}/slack/events", signing_secret=SIGNING_SECRET,
                                       stand_in=slack) as driver:  # fmt: skip
                    yield Greenlight(runtime, slack, driver, address, clock, url)
            finally:
                await runner.cleanup()
                await runtime.stop()

    return start


@asynccontextmanager
async def _given(url: str) -> AsyncIterator[str]:
    yield url
