"""Two `greenlight serve` processes on one database and a slow Slack: each quote's thread root in the rep's
DM is posted exactly once across processes (issue 12 item 12).

Slack answers every chat.postMessage one second late (after it has posted the message), the way a slow
Slack does. The rep submits each quote on the first process and recalls it on the second at once, so the
second process handles the recall while the first is still waiting for Slack to answer the root's post.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from aiohttp import web

from sandbox.driver import SlackDriver
from sandbox.slack_api import SlackStandIn
from tests.support.loopback import served
from tests.support.postgres import fresh_database, query

from .conftest import slack_stand_in
from .kit import API_SECRET, BOT_TOKEN, REP_SLACK, SIGNING_SECRET, policy_text, quote_data, until
from .serve import Server, send_quote

APPROVERS = ["a01"]
QUOTES = [f"Q-{n:04d}" for n in range(1, 31)]  # 30 rounds, run side by side
SLOW = 1.0  # seconds Slack takes to answer a post


@asynccontextmanager
async def slow_slack(slack: SlackStandIn) -> AsyncIterator[str]:
    """A Web API in front of the stand-in that answers chat.postMessage SLOW seconds after the stand-in did."""
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        target = slack.api_url.rstrip("/") + "/" + method
        body = await request.read()
        async with session.request(request.method, target, params=request.query, data=body, headers=headers) as answer:
            body, status = await answer.read(), answer.status
            kept = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "retry-after")}
            kept.update({k: v for k, v in answer.headers.items() if k.lower().startswith("x-")})
        if method == "chat.postMessage":
            await asyncio.sleep(SLOW)  # the stand-in's latency, not a test waiting for something
        return web.Response(body=body, status=status, headers=kept)

    app = web.Application()
    app.router.add_route("*", "/api/{method}", forward)  # users.info is a GET, the rest POSTs
    try:
        async with served(app) as url:
            yield url + "/api/"
    finally:
        await session.close()


async def test_a_recall_handled_by_the_second_process_replies_in_the_one_thread_root(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(APPROVERS))
    async with (
        slack_stand_in(APPROVERS) as slack,
        slow_slack(slack) as api_url,
        fresh_database(tmp_path / "greenlight.db", "greenlight_faults") as database_url,
    ):
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "GREENLIGHT_DATABASE_URL": database_url,
            "GREENLIGHT_POLICY": str(policy),
            "GREENLIGHT_API_SECRET": API_SECRET,
        }
        first = await Server.start(env, tmp_path, "first")
        second = await Server.start(env, tmp_path, "second")
        try:
            async with (
                aiohttp.ClientSession() as session,
                SlackDriver(f"{first.url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack) as one,
                SlackDriver(f"{second.url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack) as two,
            ):

                async def round_(quote_id: str) -> None:
                    await send_quote(session, first.url, quote_data(quote_id))
                    submitted = await one.command(REP_SLACK, "/deal", f"submit {quote_id}")
                    assert submitted.status == 200, submitted.body
                    recalled = await two.command(REP_SLACK, "/deal", f"recall {quote_id}")
                    assert recalled.status == 200, recalled.body

                await asyncio.gather(*(round_(quote_id) for quote_id in QUOTES))

            async def every_recall_in_its_thread() -> bool:
                rows = await query(database_url, "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'sent'")
                lines = [m for m in slack.dm_history(REP_SLACK) if m.thread_ts is not None and "recalled" in m.text]
                return rows[0]["n"] == 0 and len(lines) >= len(QUOTES)

            await until(every_recall_in_its_thread, "every recall posted in the rep's thread", timeout=120)
        finally:
            await asyncio.gather(first.stop(), second.stop())

        rep_dm = slack.dm_history(REP_SLACK)
        roots = [m for m in rep_dm if m.thread_ts is None]
        per_quote = {q: [m for m in roots if q in m.text] for q in QUOTES}
        twice = {q: len(found) for q, found in per_quote.items() if len(found) != 1}
        assert not twice, f"thread roots per quote (expected one each): {twice}"
        root_ts = {q: found[0].ts for q, found in per_quote.items()}
        for quote_id in QUOTES:
            lines = [m for m in rep_dm if m.thread_ts == root_ts[quote_id]]
            assert any("recalled" in m.text for m in lines), f"{quote_id}: no recall line in its thread"
        dead = await query(database_url, "SELECT key, last_error FROM outbox WHERE status = 'dead'")
        assert dead == []
