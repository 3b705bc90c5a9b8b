"""Scripted faults reach slack_sdk the way Slack's own failures do, and its retry handlers react."""

import asyncio
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryIntervalCalculator
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from sandbox.slack_api import RESPONSE_URL, Fault, SlackStandIn

from .support import ALICE, BOT_TOKEN


class RecordedRateLimitWaits(AsyncRateLimitErrorRetryHandler):
    """The SDK's 429 handler, recording the Retry-After it would sleep instead of sleeping."""

    def __init__(self, max_retry_count: int = 1) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.waits: list[int] = []

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        assert response is not None
        headers = {name.lower(): values for name, values in response.headers.items()}
        self.waits.append(int(headers["retry-after"][0]))
        state.next_attempt_requested = True
        state.increment_current_attempt()


class NoWait(RetryIntervalCalculator):
    """Retries at once and remembers which attempts asked for a wait."""

    def __init__(self) -> None:
        self.attempts: list[int] = []

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        self.attempts.append(current_attempt)
        return 0.0


def client_with(slack: SlackStandIn, *handlers: AsyncRetryHandler) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=list(handlers))


def statuses(slack: SlackStandIn, method: str) -> list[int]:
    return [call.status for call in slack.calls(method)]


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


async def test_rate_limited_call_is_retried_after_the_advertised_wait(
    slack: SlackStandIn,
) -> None:
    slack.script("chat.postMessage", [Fault.rate_limited(retry_after=7)])
    handler = RecordedRateLimitWaits()

    posted = await client_with(slack, handler).chat_postMessage(channel="C0DEALS", text="hi")

    assert handler.waits == [7]
    assert statuses(slack, "chat.postMessage") == [429, 200]
    assert [m.ts for m in slack.messages("C0DEALS")] == [posted["ts"]]


async def test_the_sdk_own_rate_limit_handler_retries_for_real(slack: SlackStandIn) -> None:
    # The one test that lets the SDK sleep: Retry-After 0 costs it random() seconds, below 1 s.
    slack.script("chat.postMessage", [Fault.rate_limited(retry_after=0)])
    client = client_with(slack, AsyncRateLimitErrorRetryHandler())

    await client.chat_postMessage(channel="C0DEALS", text="hi")

    assert statuses(slack, "chat.postMessage") == [429, 200]


async def test_rate_limit_without_a_handler_raises_with_retry_after(slack: SlackStandIn) -> None:
    slack.script("chat.update", [Fault.rate_limited(retry_after=30)])

    error = await api_error(client_with(slack).chat_update(channel="C0DEALS", ts="1.1", text="x"))

    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "30"
    assert error.response["error"] == "ratelimited"


async def test_dropped_connection_surfaces_as_a_connection_error(slack: SlackStandIn) -> None:
    slack.script("chat.postMessage", [Fault.disconnect()])

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client_with(slack).chat_postMessage(channel="C0DEALS", text="hi")

    assert statuses(slack, "chat.postMessage") == [0]
    assert slack.messages("C0DEALS") == []


async def test_connection_handler_retries_one_drop_but_not_two(slack: SlackStandIn) -> None:
    interval = NoWait()
    client = client_with(slack, AsyncConnectionErrorRetryHandler(interval_calculator=interval))
    slack.script("chat.postMessage", [Fault.disconnect()])
    await client.chat_postMessage(channel="C0DEALS", text="after one drop")

    slack.script("chat.postMessage", [Fault.disconnect(), Fault.disconnect()])
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel="C0DEALS", text="after two drops")

    assert statuses(slack, "chat.postMessage") == [0, 200, 0, 0]
    assert interval.attempts == [0, 0]
    assert [m.text for m in slack.messages("C0DEALS")] == ["after one drop"]


async def test_server_error_is_an_api_error_unless_a_handler_retries_it(
    slack: SlackStandIn,
) -> None:
    slack.script("chat.postMessage", [Fault.http_status(503), Fault.http_status(500)])

    error = await api_error(client_with(slack).chat_postMessage(channel="C0DEALS", text="hi"))
    retrying = client_with(slack, AsyncServerErrorRetryHandler(interval_calculator=NoWait()))
    await retrying.chat_postMessage(channel="C0DEALS", text="hi again")

    assert error.response.status_code == 503
    assert statuses(slack, "chat.postMessage") == [503, 500, 200]


async def test_ok_false_is_never_retried(slack: SlackStandIn) -> None:
    slack.script("chat.postMessage", [Fault.api_error("fatal_error")])
    client = client_with(
        slack,
        AsyncConnectionErrorRetryHandler(interval_calculator=NoWait()),
        RecordedRateLimitWaits(),
        AsyncServerErrorRetryHandler(interval_calculator=NoWait()),
    )

    error = await api_error(client.chat_postMessage(channel="C0DEALS", text="hi"))

    assert error.response["error"] == "fatal_error"
    assert statuses(slack, "chat.postMessage") == [200]


async def test_scripted_faults_are_used_once_in_order_then_service_resumes(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    slack.script("auth.test", [Fault.api_error("first"), Fault.api_error("second")])

    first = await api_error(client.auth_test())
    second = await api_error(client.auth_test())
    third = await client.auth_test()

    assert (first.response["error"], second.response["error"], third["ok"]) == (
        "first",
        "second",
        True,
    )


async def test_outage_fails_every_call_until_it_ends(slack: SlackStandIn) -> None:
    client = client_with(slack)
    webhook = AsyncWebhookClient(slack.response_url(ALICE, slack.dm_channel(ALICE)))
    slack.start_outage()

    during = await api_error(client.auth_test())
    hook_during = await webhook.send(text="during")
    slack.end_outage()
    after = await client.auth_test()

    assert during.response.status_code == 503
    assert hook_during.status_code == 503
    assert after["ok"] is True
    assert slack.ephemerals(ALICE) == []


async def test_response_url_faults_are_scripted_like_methods(slack: SlackStandIn) -> None:
    slack.script(RESPONSE_URL, [Fault.http_status(500)])
    webhook = AsyncWebhookClient(slack.response_url(ALICE, slack.dm_channel(ALICE)))

    failed = await webhook.send(text="first try")
    delivered = await webhook.send(text="second try")

    assert (failed.status_code, delivered.status_code) == (500, 200)
    assert [e.text for e in slack.ephemerals(ALICE)] == ["second try"]


async def test_response_url_works_five_times(slack: SlackStandIn) -> None:
    webhook = AsyncWebhookClient(slack.response_url(ALICE, slack.dm_channel(ALICE)))

    answers = [await webhook.send(text=f"reply {n}") for n in range(6)]

    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert "used_url" in answers[-1].body


async def test_wait_for_wakes_on_a_later_call_and_sees_earlier_ones(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    await client.auth_test()
    later = asyncio.create_task(slack.wait_for("chat.postMessage", lambda call: call.args.get("channel") == "C0LATER"))

    assert (await slack.wait_for("auth.test")).ok
    await client.chat_postMessage(channel="C0LATER", text="hi")
    assert (await later).ok


async def test_wait_for_times_out_naming_what_it_saw(slack: SlackStandIn, client: AsyncWebClient) -> None:
    await client.auth_test()

    with pytest.raises(TimeoutError, match=r"calls so far: auth\.test"):
        await slack.wait_for("chat.update", timeout=0.05)
