"""The real Greenlight, built by its composition root and served on loopback, against the Slack stand-in.

`serving(...)` builds the runtime (`greenlight.app.build`) with the test's clock and sweeps that
wait an hour (tests run them with `settle(...)`), serves its HTTP surface on 127.0.0.1 and signs
requests to it like Slack (`sandbox.driver.SlackDriver`). It yields a `Running` (or the suite's
subclass of it), which knows the moves every suite makes: a person's Slack id, `/deal`, the
sweeps, moving the clock, the outbox, the request messages a person got.

Block Kit readers (`blocks_of`, `values_in`, `action_ids`) read what Greenlight posted.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp

from domain.policy import Policy
from greenlight.app import Runtime, build
from greenlight.settings import Settings
from sandbox.driver import DriverResponse, SlackDriver
from sandbox.slack_api import Call, Message, SlackStandIn
from store.models import OutboxRow

from .clock import Clock
from .loopback import served

STRANGER = "U09STRANGER"  # in the workspace, not in Greenlight's policy
SWEEPS_WAIT = dt.timedelta(hours=1)  # the scheduler's own rounds never come within a test

# ---- reading what Greenlight posted --------------------------------------------------------------


def blocks_of(call: Call) -> list[dict[str, Any]]:
    """The blocks a Web API call carried (the SDK sends them as JSON text or as a list)."""
    raw = call.args.get("blocks") or []
    return json.loads(raw) if isinstance(raw, str) else raw


def values_in(node: Any) -> list[str]:
    """Every button value in a Block Kit structure (request refs such as Q-1042#1/manager-discount)."""
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("value"), str) and isinstance(node.get("action_id"), str):
            found.append(node["value"])
        for item in node.values():
            found.extend(values_in(item))
    elif isinstance(node, list):
        for item in node:
            found.extend(values_in(item))
    return found


def action_ids(message: Message | dict[str, Any]) -> list[str]:
    """The action ids of a message's top-level elements (its buttons), in order."""
    blocks = message.blocks if isinstance(message, Message) else message.get("blocks", [])
    return [e["action_id"] for b in blocks for e in b.get("elements", []) if isinstance(e, dict) and "action_id" in e]


def has_buttons(message: Message) -> bool:
    return any(block.get("type") == "actions" for block in message.blocks)


# ---- the workspace -------------------------------------------------------------------------------


def add_policy_people(stand_in: SlackStandIn, policy: Policy, absent: Iterable[str] = ()) -> None:
    """Everyone of `policy` with a Slack id joins the workspace (but `absent`), and a STRANGER not in it."""
    gone = set(absent)
    for key, person in policy.people.items():
        if person.slack and key not in gone:
            stand_in.add_user(person.slack, key, person.email, tz=person.timezone or policy.timezone)
    stand_in.add_user(STRANGER, "stranger", "stranger@elsewhere.example")


# ---- Greenlight running --------------------------------------------------------------------------


@dataclass
class Running:
    """Greenlight running in this process, the Slack stand-in it talks to and its clock."""

    runtime: Runtime
    slack: SlackStandIn
    driver: SlackDriver
    url: str
    clock: Clock

    @property
    def policy(self) -> Policy:
        return self.runtime.policy

    def slack_id(self, person: str) -> str:
        slack = self.policy.people[person].slack
        assert slack, f"{person} has no Slack id in the policy"
        return slack

    async def deal(self, person: str, text: str) -> DriverResponse:
        """`/deal <text>` typed by `person`; the ack must be a 200."""
        answer = await self.driver.command(self.slack_id(person), "/deal", text)
        assert answer.status == 200, answer.body
        return answer

    async def settle(self, *names: str) -> None:
        """Let the sweeps (the outbox to Slack by default) finish everything due now."""
        for name in names or ("slack",):
            await self.runtime.sweeps.run_now(name)

    async def later(self, *names: str, **delta: float) -> None:
        """Move the clock on by `timedelta(**delta)`, then run the sweeps `names` (Slack by default)."""
        self.clock.advance(**delta)
        await self.settle(*names)

    async def outbox(self, topic: str, status: str | None = None) -> list[OutboxRow]:
        query = OutboxRow.filter(topic=topic)
        if status is not None:
            query = query.filter(status=status)
        return await query.order_by("id")

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


R = TypeVar("R", bound=Running)


@asynccontextmanager
async def serving(
    harness: type[R],
    settings: Settings,
    slack: SlackStandIn,
    clock: Clock,
    *,
    policy: Policy | None = None,
    sock: socket.socket | None = None,
    access_log_class: Any = None,
    home_every: float = 0.0,
    **fields: Any,
) -> AsyncIterator[R]:
    """Greenlight built from `settings` and served on loopback (on `sock` if given) until the block ends.
    Its App Homes are republished after every batch (`home_every` 0) unless a test asks otherwise.

    Yields `harness(runtime, slack, driver, url, clock, **fields)`.
    """
    runtime = build(
        settings,
        policy=policy,
        clock=clock,
        sweep_every=SWEEPS_WAIT,
        tick_every=SWEEPS_WAIT,
        release_every=SWEEPS_WAIT,
        policy_every=SWEEPS_WAIT,
        home_every=home_every,
    )
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    options = {} if access_log_class is None else {"access_log_class": access_log_class}
    await runtime.start()
    try:
        async with (
            served(runtime.web, sock=sock, **options) as url,
            SlackDriver(f"{url}/slack/events", signing_secret=secret, stand_in=slack) as driver,
        ):
            yield harness(runtime, slack, driver, url, clock, **fields)
    finally:
        await runtime.stop()


@asynccontextmanager
async def serving_bolt(app: AsyncApp, slack: SlackStandIn, signing_secret: str) -> AsyncIterator[SlackDriver]:
    """A bolt app of the test's own served on loopback at /slack/events; yields the driver that signs to it."""
    async with (
        served(app.web_app(path="/slack/events")) as url,
        SlackDriver(f"{url}/slack/events", signing_secret=signing_secret, stand_in=slack) as driver,
    ):
        yield driver
