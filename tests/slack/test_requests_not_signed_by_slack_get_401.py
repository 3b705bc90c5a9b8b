"""Every request to /slack/events is checked: a bad signature, a stale or future timestamp, or no
signature at all gets 401 and reaches no listener."""

from __future__ import annotations

import time

import aiohttp
import pytest

from sandbox.driver import BAD_SIGNATURE, STALE_TIMESTAMP, Signing, slack_signature

from .conftest import SIGNING_SECRET, Bot

FUTURE_TIMESTAMP = Signing(clock_skew=10 * 60)
SIGNINGS = {"bad signature": BAD_SIGNATURE, "stale timestamp": STALE_TIMESTAMP, "future timestamp": FUTURE_TIMESTAMP}


@pytest.mark.parametrize("signing", SIGNINGS.values(), ids=SIGNINGS.keys())
async def test_slash_command_not_signed_by_slack_gets_401_and_submits_nothing(bot: Bot, signing: Signing) -> None:
    await bot.receive("q1042-v1.json")

    answer = await bot.driver.command(bot.slack_id("ava"), "/deal", "submit Q-1042", signing=signing)

    assert answer.status == 401
    assert await bot.runtime.service.latest("Q-1042") is None
    assert bot.slack.ephemerals() == []


@pytest.mark.parametrize("signing", SIGNINGS.values(), ids=SIGNINGS.keys())
async def test_click_not_signed_by_slack_gets_401_and_decides_nothing(bot: Bot, signing: Signing) -> None:
    await bot.submit("q1042-v1.json")
    message = bot.request("marco", "Q-1042#1/manager-discount")

    answer = await bot.driver.click(bot.slack_id("marco"), "approval.approve", message=message, signing=signing)

    assert answer.status == 401
    assert (await bot.runtime.service.latest("Q-1042")).approval("manager-discount").status == "requested"


@pytest.mark.parametrize("signing", SIGNINGS.values(), ids=SIGNINGS.keys())
async def test_event_not_signed_by_slack_gets_401_and_publishes_nothing(bot: Bot, signing: Signing) -> None:
    answer = await bot.driver.app_home_opened(bot.slack_id("marco"), signing=signing)

    assert answer.status == 401
    assert bot.slack.calls("views.publish") == []


async def test_request_without_slack_headers_gets_401(bot: Bot) -> None:
    url = f"{bot.url}/slack/events"
    async with aiohttp.ClientSession() as session, session.post(url, data={"payload": "{}"}) as answer:
        assert answer.status == 401


async def test_signature_over_other_bytes_gets_401(bot: Bot) -> None:
    timestamp = str(int(time.time()))
    signed = b"command=%2Fdeal&text=help"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": slack_signature(SIGNING_SECRET, timestamp, signed),
    }
    url = f"{bot.url}/slack/events"
    async with aiohttp.ClientSession() as session, session.post(url, data=signed + b"&x=1", headers=headers) as answer:
        assert answer.status == 401


async def test_slacks_unsigned_ssl_check_is_answered_200_and_reaches_no_listener(bot: Bot) -> None:
    url = f"{bot.url}/slack/events"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data={"ssl_check": "1", "token": "legacy-verification-token"}) as answer:
            assert answer.status == 200
        # A command dressed up as an ssl_check is still checked.
        async with session.post(url, data={"ssl_check": "1", "command": "/deal", "text": "help"}) as answer:
            assert answer.status == 401
    assert bot.slack.ephemerals() == []
