"""Slack over Socket Mode (SLACK_APP_TOKEN): the real Greenlight against the Socket Mode stand-in.

Commands and clicks come as envelopes over the WebSocket and are acknowledged after their
decision is committed; HTTP keeps serving /healthz, /metrics and the CRM API. Slack's
`disconnect` (refresh) and a dropped socket make the app open a new connection; an acknowledged
click is never lost, and one sent again after a drop decides once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from domain.quote import parse_quote
from greenlight.settings import Settings
from greenlight.socket_mode import SocketMode
from sandbox.slack_api import SlackStandIn
from sandbox.socket_mode import APP_TOKEN, SocketDriver, SocketModeStandIn
from tests.faults.kit import API_SECRET, BOT_TOKEN, REP_SLACK, SIGNING_SECRET, policy_text, quote_data, slack_of, until
from tests.operations.kit import Server, environment, workspace
from tests.support.clock import MONDAY_MORNING, Clock
from tests.support.postgres import query
from tests.support.slack import Running, serving

APPROVERS = ["a01", "a02"]


class Socketed(Running):
    socket: SocketModeStandIn
    over: SocketDriver
    database_url: str


@pytest.fixture
async def gl(tmp_path: Path) -> AsyncIterator[Socketed]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(APPROVERS))
    url = f"sqlite://{tmp_path / 'greenlight.db'}"
    async with workspace(APPROVERS) as slack, SocketModeStandIn(slack) as socket:
        settings = Settings.from_env(
            environ={
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": slack.api_url,
                "GREENLIGHT_DATABASE_URL": url,
                "GREENLIGHT_POLICY": str(policy),
                "GREENLIGHT_API_SECRET": API_SECRET,
            },
            env_file=None,
        )
        async with serving(Socketed, settings, slack, Clock(MONDAY_MORNING)) as running:
            mode = SocketMode.for_app(running.runtime.bolt, APP_TOKEN, ping_interval=0.2)
            running.runtime.socket = mode
            mode.start()
            try:
                await socket.wait_connected()
                running.socket, running.over, running.database_url = socket, SocketDriver(socket), url
                yield running
            finally:
                await mode.close()
                await running.over.close()


async def submitted(gl: Socketed, quote_id: str) -> None:
    await gl.runtime.service.receive_quote(parse_quote(quote_data(quote_id)), gl.clock())
    answer = await gl.over.command(REP_SLACK, "/deal", f"submit {quote_id}")
    assert answer.status == 200, answer
    await gl.settle()


async def approve(gl: Socketed, person: str, quote_id: str):
    channel = gl.slack.dm_channel(slack_of(person))
    return await gl.over.click(
        slack_of(person), "approval.approve", value=f"{quote_id}#1/rule-{person}", channel_id=channel
    )


async def decisions(gl: Socketed, quote_id: str) -> list[dict]:
    return await query(
        gl.database_url,
        "SELECT rule, actor FROM audit WHERE kind = 'approved' AND quote_id = $1 ORDER BY rule",
        quote_id,
    )


async def test_a_slash_command_over_the_socket_is_answered_while_http_serves_healthz_and_metrics(gl: Socketed):
    answer = await gl.over.command(REP_SLACK, "/deal", "help")
    assert answer.status == 200
    assert "/deal submit" in answer.body
    async with aiohttp.ClientSession() as session:
        for path in ("/healthz", "/metrics"):
            async with session.get(gl.url + path) as reply:
                assert reply.status == 200, path
    assert gl.socket.opened == 1


async def test_a_click_acknowledged_before_slack_asks_for_a_refresh_is_kept_and_the_app_reconnects(gl: Socketed):
    await submitted(gl, "Q-0001")
    answer = await approve(gl, "a01", "Q-0001")
    assert answer.status == 200
    await gl.socket.disconnect("refresh_requested")
    await gl.socket.wait_connected(connections=2)
    assert gl.socket.opened == 2, "the app asked apps.connections.open for a new URL"
    assert await decisions(gl, "Q-0001") == [{"rule": "rule-a01", "actor": "a01"}]

    answer = await approve(gl, "a02", "Q-0001")
    assert answer.status == 200, "the new connection carries the next click"
    await gl.settle()
    rows = await query(gl.database_url, "SELECT status FROM submission WHERE quote_id = 'Q-0001'")
    assert rows == [{"status": "approved"}]


async def test_a_dropped_socket_is_reopened_and_a_click_sent_again_decides_once(gl: Socketed):
    await submitted(gl, "Q-0002")
    await gl.socket.drop()
    # Slack holds the click until the app is back, then delivers it on the new connection.
    answer = await approve(gl, "a01", "Q-0002")
    assert answer.status == 200
    assert gl.socket.connections >= 2
    # The approver taps again (a retry): acknowledged, nothing more decided.
    again = await approve(gl, "a01", "Q-0002")
    assert again.status == 200
    await until(lambda: _one(gl), "a01's decision recorded once")
    assert await decisions(gl, "Q-0002") == [{"rule": "rule-a01", "actor": "a01"}]


async def _one(gl: Socketed) -> bool:
    return len(await decisions(gl, "Q-0002")) == 1


def test_slack_stand_in_refuses_apps_connections_open_with_the_bot_token():
    """The app-level token opens connections; the bot token does not (as on Slack)."""
    import asyncio

    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    async def check() -> None:
        async with SlackStandIn(bot_token=BOT_TOKEN) as slack, SocketModeStandIn(slack):
            client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
            with pytest.raises(SlackApiError, match="invalid_auth"):
                await client.apps_connections_open(app_token=BOT_TOKEN)
            opened = await client.apps_connections_open(app_token=APP_TOKEN)
            assert str(opened["url"]).startswith("ws://127.0.0.1:")

    asyncio.run(check())


async def test_greenlight_serve_with_an_app_token_takes_slack_over_the_socket_and_stops_cleanly(tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(APPROVERS))
    async with workspace(APPROVERS) as slack, SocketModeStandIn(slack) as socket:
        env = environment(slack, f"sqlite://{tmp_path / 'greenlight.db'}", policy, SLACK_APP_TOKEN=APP_TOKEN)
        server = await Server.start(env, tmp_path, "socket")
        try:
            await socket.wait_connected()
            async with SocketDriver(socket) as over:
                answer = await over.command(REP_SLACK, "/deal", "help")
            assert answer.status == 200 and "/deal submit" in answer.body
            async with aiohttp.ClientSession() as session, session.get(server.url + "/healthz") as reply:
                assert reply.status == 200
            assert await server.stop() == 0
            assert "Socket Mode is on" in server.log.read_text()
            assert APP_TOKEN not in server.log.read_text()
        finally:
            server.kill()
