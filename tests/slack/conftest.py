"""The real Greenlight app served on loopback, talking to the Slack stand-in, on a real SQLite store.

Time is the runtime's own clock (`Clock`): tests move it with `clock.advance(...)` to reach an
outbox row's `next_attempt_at` (Retry-After, backoff) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from domain.approvals import Submission
from domain.policy import Policy, read_policy
from domain.quote import Quote, load_quote_text, parse_quote
from greenlight.app import Runtime, build
from greenlight.settings import Settings
from sandbox.driver import DriverResponse, SlackDriver
from sandbox.erp import ErpStandIn
from sandbox.slack_api import Call, Message, SlackStandIn
from store import db
from store.models import OutboxRow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BOT_TOKEN = "xoxb-greenlight-slack-tests"
SIGNING_SECRET = "slack-tests-signing-secret"
API_SECRET = "slack-tests-api-secret-0123456789"
MONDAY_MORNING = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)  # 09:00 in New York, no year-end rule
STRANGER = "U09STRANGER"  # in the workspace, not in Greenlight's policy


class Clock:
    """The runtime's clock: stands still until a test moves it."""

    def __init__(self, now: dt.datetime = MONDAY_MORNING) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


def quote_data(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / "quotes" / name).read_text())


def blocks_of(call: Call) -> list[dict[str, Any]]:
    raw = call.args.get("blocks") or []
    return json.loads(raw) if isinstance(raw, str) else raw


def values_in(blocks: Any) -> Iterator[str]:
    if isinstance(blocks, dict):
        if isinstance(blocks.get("value"), str) and isinstance(blocks.get("action_id"), str):
            yield blocks["value"]
        for item in blocks.values():
            yield from values_in(item)
    elif isinstance(blocks, list):
        for item in blocks:
            yield from values_in(item)


def action_ids(message: Message | dict[str, Any]) -> list[str]:
    blocks = message.blocks if isinstance(message, Message) else message.get("blocks", [])
    return [e["action_id"] for b in blocks for e in b.get("elements", []) if isinstance(e, dict) and "action_id" in e]


@dataclass
class Bot:
    runtime: Runtime
    slack: SlackStandIn
    driver: SlackDriver
    url: str
    clock: Clock

    @property
    def policy(self) -> Policy:
        return self.runtime.policy

    def slack_id(self, person: str) -> str:
        slack = self.runtime.policy.people[person].slack
        assert slack, f"{person} has no Slack id in the example policy"
        return slack

    async def receive(self, name: str, **changes: Any) -> str:
        """Store a quote from examples/quotes as the CRM sends it; `account__name=...` changes a field."""
        if not changes:
            quote = load_quote_text((EXAMPLES / "quotes" / name).read_text(), name)
        else:
            quote = changed_quote(quote_data(name), **changes)
        await self.runtime.service.receive_quote(quote, self.runtime.clock())
        return quote.id

    async def deal(self, person: str, text: str) -> DriverResponse:
        """`/deal <text>` typed by `person`; the ack must be a 200."""
        answer = await self.driver.command(self.slack_id(person), "/deal", text)
        assert answer.status == 200, answer.body
        return answer

    async def submit(self, quote_file: str, owner: str = "ava") -> Submission:
        quote_id = await self.receive(quote_file)
        await self.deal(owner, f"submit {quote_id}")
        await self.settle()
        sub = await self.runtime.service.latest(quote_id)
        assert sub is not None
        return sub

    async def settle(self, *names: str) -> None:
        """Let the sweeps (the outbox to Slack by default) finish everything due now."""
        for name in names or ("slack",):
            await self.runtime.sweeps.run_now(name)

    async def later(self, **delta: float) -> None:
        """Move the runtime's clock on and deliver what fell due."""
        self.clock.advance(**delta)
        await self.settle()

    async def drain(self, topic: str = "slack", rounds: int = 20) -> None:
        """Move the clock to each waiting outbox row's next attempt and deliver, until none waits."""
        for _ in range(rounds):
            waiting = await self.outbox(topic, "pending")
            if not waiting:
                return
            self.clock.now = max(self.clock.now, min(row.next_attempt_at for row in waiting))
            await self.settle()
        raise AssertionError(f"{topic} outbox rows still waiting after {rounds} rounds: {waiting}")

    def dm(self, person: str) -> list[Message]:
        return self.slack.dm_history(self.slack_id(person))

    def request_posts(self, ref: str, person: str | None = None) -> list[Call]:
        """Successful chat.postMessage calls that carried the buttons of request `ref` (Q-1042#1/rule)."""
        channel = self.slack.dm_channel(self.slack_id(person)) if person else None
        return [
            call
            for call in self.slack.calls("chat.postMessage")
            if call.ok
            and ref in values_in(blocks_of(call))
            and (channel is None or (call.response and call.response["channel"] == channel))
        ]

    def request(self, person: str, ref: str) -> Message:
        """`person`'s copy of request `ref` as it shows now (buttons or outcome)."""
        posts = self.request_posts(ref, person)
        assert len(posts) == 1, f"{person} got {len(posts)} copies of {ref}: {self.dm(person)}"
        assert posts[0].response is not None
        return self.slack.message(posts[0].response["channel"], posts[0].response["ts"])

    async def click(self, person: str, action_id: str, message: Message, **kwargs: Any) -> DriverResponse:
        answer = await self.driver.click(self.slack_id(person), action_id, message=message, **kwargs)
        assert answer.status == 200, answer.body
        return answer

    async def approve(self, person: str, ref: str) -> DriverResponse:
        """`person` taps Approve on their DM for `ref`, then the outbox runs."""
        answer = await self.click(person, "approval.approve", self.request(person, ref))
        await self.settle()
        return answer

    def thread(self, person: str) -> list[Message]:
        """The rep's thread under the first root message in their DM."""
        messages = self.dm(person)
        roots = [m for m in messages if m.thread_ts is None]
        assert roots, f"no thread root in {person}'s DM"
        return [m for m in messages if m.thread_ts == roots[0].ts]

    def ephemerals(self, person: str) -> list[str]:
        user = self.slack_id(person) if person in self.policy.people else person
        return [e.text for e in self.slack.ephemerals(user)]

    async def outbox(self, topic: str, status: str | None = None) -> list[OutboxRow]:
        query = OutboxRow.filter(topic=topic)
        if status is not None:
            query = query.filter(status=status)
        return await query.order_by("id")


def changed_quote(data: dict[str, Any], **changes: Any) -> Quote:
    data = copy.deepcopy(data)
    for key, value in changes.items():
        target = data
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    return parse_quote(data)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def policy_file() -> Path:
    return EXAMPLES / "policy.yaml"


@pytest.fixture
def absent_from_slack() -> set[str]:
    """People of the policy whose Slack account is gone (deactivated): parametrize to change."""
    return set()


@pytest.fixture
async def slack(policy_file: Path, absent_from_slack: set[str]) -> AsyncIterator[SlackStandIn]:
    policy = read_policy(policy_file)
    async with SlackStandIn(bot_token=BOT_TOKEN) as stand_in:
        for key, person in policy.people.items():
            if person.slack and key not in absent_from_slack:
                stand_in.add_user(person.slack, key, person.email, tz=person.timezone or policy.timezone)
        stand_in.add_user(STRANGER, "stranger", "stranger@elsewhere.example")
        yield stand_in


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database with every migration applied, made once and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "greenlight.db"

    async def migrate() -> None:
        await db.connect(f"sqlite://{path}")
        await db.close()

    # its own thread and loop: tortoise keeps its state in context variables
    worker = threading.Thread(target=asyncio.run, args=(migrate(),))
    worker.start()
    worker.join()
    assert path.exists()
    return path


@pytest.fixture
def smtp_url() -> str | None:
    """Email is on, so that fallbacks queue email rows; nothing listens there, so they stay queued.
    Parametrize with None for a deployment without email."""
    return "smtp://127.0.0.1:1"


@pytest.fixture
def erp() -> ErpStandIn | None:
    """No ERP: ERP sync is off. Override with a started `ErpStandIn` to turn it on."""
    return None


@pytest.fixture
async def bot(
    slack: SlackStandIn,
    tmp_path: Path,
    clock: Clock,
    policy_file: Path,
    migrated_db: Path,
    smtp_url: str | None,
    erp: ErpStandIn | None,
) -> AsyncIterator[Bot]:
    database = tmp_path / "greenlight.db"
    shutil.copyfile(migrated_db, database)
    settings = Settings.from_env(
        environ={
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "GREENLIGHT_DATABASE_URL": f"sqlite://{database}",
            "GREENLIGHT_POLICY": str(policy_file),
            "GREENLIGHT_API_SECRET": API_SECRET,
            "GREENLIGHT_SECRET": "slack-tests-link-secret-0123456789",
            **({"GREENLIGHT_SMTP_URL": smtp_url} if smtp_url else {}),
            **({"GREENLIGHT_ERP_URL": erp.url, "GREENLIGHT_ERP_SECRET": erp.secret} if erp else {}),
        },
        env_file=None,
    )
    runtime = build(settings, clock=clock, sweep_every=dt.timedelta(hours=1), tick_every=dt.timedelta(hours=1))
    await runtime.start()
    runner = web.AppRunner(runtime.web, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}"
    try:
        async with SlackDriver(f"{url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack) as driver:
            yield Bot(runtime, slack, driver, url, clock)
    finally:
        await runner.cleanup()
        await runtime.stop()
