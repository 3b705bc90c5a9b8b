"""Slack hears the answer the moment a listener acks (`bot/ack.py`), and bolt's other paths hold."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.ack import PromptListenerRunner, prompt_acks


def app() -> AsyncApp:
    async def authorize(**_: object) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=None, team_id="T0", bot_token="xoxb-test")

    bolt = AsyncApp(
        authorize=authorize,
        signing_secret="unused",
        request_verification_enabled=False,
        ssl_check_enabled=False,
        url_verification_enabled=False,
        ignoring_self_events_enabled=False,
    )
    prompt_acks(bolt)
    assert isinstance(bolt.listener_runner, PromptListenerRunner)
    return bolt


def click(action_id: str) -> AsyncBoltRequest:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0"},
        "user": {"id": "U0"},
        "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": "v"}],
        "trigger_id": "t",
    }
    body = urlencode({"payload": json.dumps(payload)})
    return AsyncBoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})


async def test_the_answer_goes_out_when_the_listener_acks_while_it_keeps_working() -> None:
    bolt = app()
    answered, finished = asyncio.Event(), asyncio.Event()

    @bolt.action("approve")
    async def approve(ack) -> None:  # type: ignore[no-untyped-def]
        await ack(text="decided")
        await answered.wait()  # work after the ack (a view published, a sweep kicked)
        finished.set()

    response = await bolt.async_dispatch(click("approve"))

    assert (response.status, response.body) == (200, "decided")
    assert not finished.is_set(), "the answer must not wait for the work after the ack"
    answered.set()
    await finished.wait()


async def test_a_listener_that_fails_before_its_ack_is_answered_by_the_error_handler() -> None:
    bolt = app()

    @bolt.error
    async def refused(error: Exception) -> None:
        assert str(error) == "no such quote"

    @bolt.action("approve")
    async def approve(ack) -> None:  # type: ignore[no-untyped-def]
        raise LookupError("no such quote")

    response = await bolt.async_dispatch(click("approve"))

    assert response.status == 500
