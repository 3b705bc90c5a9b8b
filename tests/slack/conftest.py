"""The real Greenlight app served on loopback, talking to the Slack stand-in, on a real SQLite store.

Time is the runtime's own clock (`Clock`): tests move it with `bot.later(...)` or `clock.advance(...)`
to reach an outbox row's `next_attempt_at` (Retry-After, backoff) instead of sleeping. The harness
is tests.support.slack; `Bot` adds the moves of the Slack suite to its `Running`.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.approvals import Submission
from domain.policy import read_policy
from domain.quote import Quote, load_quote_text, parse_quote
from greenlight.settings import Settings
from sandbox.driver import DriverResponse
from sandbox.erp import ErpStandIn
from sandbox.slack_api import Message, SlackStandIn
from tests.support.clock import MONDAY_MORNING, Clock
from tests.support.quotes import EXAMPLE_POLICY, EXAMPLES, changed, example_quote_data, example_quote_path
from tests.support.slack import (
    STRANGER,
    Running,
    action_ids,
    add_policy_people,
    blocks_of,
    serving,
    values_in,
)

__all__ = [
    "EXAMPLES",
    "MONDAY_MORNING",
    "STRANGER",
    "Bot",
    "Clock",
    "action_ids",
    "blocks_of",
    "changed_quote",
    "quote_data",
    "values_in",
]

BOT_TOKEN = "xoxb-greenlight-slack-tests"
SIGNING_SECRET = "slack-tests-signing-secret"
API_SECRET = "slack-tests-api-secret-0123456789"

quote_data = example_quote_data


def changed_quote(data: dict[str, Any], **changes: Any) -> Quote:
    return parse_quote(changed(data, **changes))


class Bot(Running):
    async def receive(self, name: str, **changes: Any) -> str:
        """Store a quote from examples/quotes as the CRM sends it; `account__name=...` changes a field."""
        if not changes:
            quote = load_quote_text(example_quote_path(name).read_text(), name)
        else:
            quote = changed_quote(quote_data(name), **changes)
        await self.runtime.service.receive_quote(quote, self.runtime.clock())
        return quote.id

    async def submit(self, quote_file: str, owner: str = "ava") -> Submission:
        quote_id = await self.receive(quote_file)
        await self.deal(owner, f"submit {quote_id}")
        await self.settle()
        sub = await self.runtime.service.latest(quote_id)
        assert sub is not None
        return sub

    async def drain(self, topic: str = "slack", rounds: int = 20) -> None:
        """Move the clock to each waiting outbox row's next attempt and deliver, until none waits."""
        for _ in range(rounds):
            waiting = await self.outbox(topic, "pending")
            if not waiting:
                return
            self.clock.now = max(self.clock.now, min(row.next_attempt_at for row in waiting))
            await self.settle()
        raise AssertionError(f"{topic} outbox rows still waiting after {rounds} rounds: {waiting}")

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


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@pytest.fixture
def policy_file() -> Path:
    return EXAMPLE_POLICY


@pytest.fixture
def absent_from_slack() -> set[str]:
    """People of the policy whose Slack account is gone (deactivated): parametrize to change."""
    return set()


@pytest.fixture
async def slack(policy_file: Path, absent_from_slack: set[str]) -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(bot_token=BOT_TOKEN) as stand_in:
        add_policy_people(stand_in, read_policy(policy_file), absent_from_slack)
        yield stand_in


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
def home_every() -> float:
    """Seconds between two publications of a person's App Home by delivery: 0, after every batch, so
    that a test sees each change's Home at once. Override to test the production spacing."""
    return 0.0


@pytest.fixture
async def bot(
    slack: SlackStandIn,
    tmp_path: Path,
    clock: Clock,
    policy_file: Path,
    migrated_db: Path,
    smtp_url: str | None,
    erp: ErpStandIn | None,
    home_every: float,
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
    async with serving(Bot, settings, slack, clock, home_every=home_every) as running:
        yield running
