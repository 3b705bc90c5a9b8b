"""What the operations suite shares: `greenlight serve` processes as an operator runs them.

Servers start in a folder of the test's own (no stray .env), with settings from the environment,
against the Slack stand-in (`sandbox.slack_api`), on a database of the run's backend.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from sandbox.driver import SlackDriver
from sandbox.slack_api import SlackStandIn
from tests.faults.kit import (
    ADMIN,
    ADMIN_SLACK,
    API_SECRET,
    BOT_TOKEN,
    REP,
    REP_SLACK,
    SIGNING_SECRET,
    quote_data,
    slack_of,
    until,
)
from tests.faults.serve import Server, send_quote
from tests.support.slack import blocks_of, values_in

__all__ = [
    "Server",
    "environment",
    "healthy",
    "requested",
    "start_together",
    "submit",
    "until",
    "wait_for_log",
    "workspace",
]


def environment(slack: SlackStandIn | None, database_url: str, policy: Path, **more: str) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url if slack is not None else "http://127.0.0.1:9/api/",
        "GREENLIGHT_DATABASE_URL": database_url,
        "GREENLIGHT_POLICY": str(policy),
        "GREENLIGHT_API_SECRET": API_SECRET,
    }
    env.update(more)
    return env


async def start_together(env: dict[str, str], folder: Path, names: Iterable[str], *args: str) -> list[Server]:
    """Start one `greenlight serve` per name at the same moment; each must come up."""
    starts = [Server.start(env, folder, name, timeout=60.0) for name in names]
    results = await asyncio.gather(*starts, return_exceptions=True)
    servers = [r for r in results if isinstance(r, Server)]
    failed = [r for r in results if not isinstance(r, Server)]
    if failed:
        for server in servers:
            await server.stop()
        raise failed[0]
    return servers


async def healthy(url: str) -> bool:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as answer:
        return answer.status == 200


async def wait_for_log(server: Server, text: str, timeout: float = 15.0) -> None:
    async def logged() -> bool:
        return text in server.log.read_text()

    await until(logged, f"{server.log.name} says {text!r}", timeout=timeout)


Check = Callable[[], Awaitable[bool]]


@asynccontextmanager
async def workspace(people: Iterable[str] = ()) -> AsyncIterator[SlackStandIn]:
    """The Slack stand-in with the rep, the admin and `people` (the approvers of tests.faults.kit policies)."""
    async with SlackStandIn(bot_token=BOT_TOKEN) as stand_in:
        stand_in.add_user(REP_SLACK, REP, "rep@example.com")
        stand_in.add_user(ADMIN_SLACK, ADMIN, "dana@example.com")
        for person in people:
            stand_in.add_user(slack_of(person), person, f"{person}@example.com")
        yield stand_in


def requested(slack: SlackStandIn, quote_id: str) -> list[str]:
    """The rules whose request DM for `quote_id` was posted (one entry per post)."""
    found: list[str] = []
    for call in slack.calls("chat.postMessage"):
        if call.ok:
            found.extend(
                ref.split("/", 1)[1] for ref in set(values_in(blocks_of(call))) if ref.startswith(f"{quote_id}#")
            )
    return sorted(found)


async def submit(server: Server, slack: SlackStandIn, quote_id: str) -> None:
    """The CRM sends the quote; the rep types `/deal submit` (acked with a 200)."""
    async with (
        aiohttp.ClientSession() as session,
        SlackDriver(f"{server.url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack) as driver,
    ):
        await send_quote(session, server.url, quote_data(quote_id))
        answer = await driver.command(REP_SLACK, "/deal", f"submit {quote_id}")
        assert answer.status == 200, answer.body
