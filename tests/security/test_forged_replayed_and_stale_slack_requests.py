"""Requests on /slack/events that Slack did not sign just now get 401 and change nothing.

Bolt checks `X-Slack-Signature` (HMAC of `v0:<timestamp>:<body>` with SLACK_SIGNING_SECRET) and
refuses a timestamp more than five minutes off. A captured request can be replayed inside those
five minutes: then the click's idempotency key and the request's state make it decide once.
"""

from __future__ import annotations

import copy
import json
import time

import pytest

from sandbox.driver import BAD_SIGNATURE, STALE_TIMESTAMP, Signing, SlackDriver, slack_signature
from tests.support.quotes import example_quote_data

from .conftest import REF, SIGNING_SECRET, App
from .wire import Captured, header, send, tap

FUTURE_TIMESTAMP = Signing(clock_skew=10 * 60)


@pytest.fixture
async def submitted(app: App) -> App:
    await app.submit(example_quote_data("q1042-v1.json"))
    return app


async def test_a_click_signed_with_the_wrong_secret_gets_401_and_decides_nothing(submitted: App) -> None:
    app = submitted
    message = app.request("marco", REF)
    before = await app.snapshot()

    answer = await app.driver.click(app.slack_id("marco"), "approval.approve", message=message, signing=BAD_SIGNATURE)

    assert answer.status == 401
    assert await app.snapshot() == before
    assert await app.approval_status("Q-1042", "manager-discount") == "requested"
    assert app.slack.message(message.channel, message.ts).edits == 0
    assert app.slack.calls("response_url") == []


async def test_a_click_with_a_timestamp_ten_minutes_off_gets_401_and_decides_nothing(submitted: App) -> None:
    app = submitted
    message = app.request("marco", REF)
    before = await app.snapshot()

    for signing in (STALE_TIMESTAMP, FUTURE_TIMESTAMP):
        answer = await app.driver.click(app.slack_id("marco"), "approval.approve", message=message, signing=signing)
        assert answer.status == 401, signing

    assert await app.snapshot() == before
    assert app.slack.calls("response_url") == []


async def test_a_slash_command_signed_with_the_wrong_secret_gets_401_and_submits_nothing(app: App) -> None:
    await app.receive(example_quote_data("q1042-v1.json"))
    before = await app.snapshot()

    answer = await app.driver.command(app.slack_id("ava"), "/deal", "submit Q-1042", signing=BAD_SIGNATURE)

    assert answer.status == 401
    assert await app.runtime.service.latest("Q-1042") is None
    assert await app.snapshot() == before
    assert app.slack.calls("chat.postMessage") == []


async def test_a_stale_slash_command_gets_401_and_submits_nothing(app: App) -> None:
    await app.receive(example_quote_data("q1042-v1.json"))
    before = await app.snapshot()

    answer = await app.driver.command(app.slack_id("ava"), "/deal", "submit Q-1042", signing=STALE_TIMESTAMP)

    assert answer.status == 401
    assert await app.snapshot() == before


async def test_a_forged_reject_modal_submission_gets_401_and_rejects_nothing(submitted: App) -> None:
    app = submitted
    marco = app.slack_id("marco")
    await app.driver.click(marco, "approval.reject", message=app.request("marco", REF))
    await app.slack.wait_for("views.open")
    [modal] = app.slack.open_views(marco)
    before = await app.snapshot()

    answer = await app.driver.submit_view(
        marco, modal, {"reject.reason": {"reject.reason_input": "Too deep."}}, signing=BAD_SIGNATURE
    )

    assert answer.status == 401
    assert await app.snapshot() == before
    assert await app.approval_status("Q-1042", "manager-discount") == "requested"


async def test_a_forged_app_home_event_gets_401_and_publishes_nothing(submitted: App) -> None:
    app = submitted
    before = await app.snapshot()
    published = len(app.slack.calls("views.publish"))

    answer = await app.driver.app_home_opened(app.slack_id("marco"), signing=BAD_SIGNATURE)

    assert answer.status == 401
    assert len(app.slack.calls("views.publish")) == published, "nothing more than the requests themselves published"
    assert await app.snapshot() == before


async def test_a_request_without_signature_headers_gets_401(submitted: App) -> None:
    app = submitted
    before = await app.snapshot()
    body = b"command=%2Fdeal&text=submit+Q-1042&user_id=" + app.slack_id("ava").encode()

    answer = await send(
        app.http, app.driver.request_url, Captured(body, {"Content-Type": "application/x-www-form-urlencoded"})
    )

    assert answer.status == 401
    assert await app.snapshot() == before


async def test_a_forged_url_verification_gets_401_and_no_challenge_back(app: App) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "echo-me-back", "token": "x"}).encode()
    stamp = str(int(time.time()))
    forged = Captured(
        body,
        {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": slack_signature("not-the-secret", stamp, body),
        },
    )

    answer = await send(app.http, app.driver.request_url, forged)

    assert answer.status == 401
    assert "echo-me-back" not in answer.body


# ---- captured on the wire ------------------------------------------------------------------------


@pytest.fixture
async def captured_click(submitted: App) -> tuple[App, Captured]:
    """Marco's genuine Approve click, as it went over the wire (it decided manager-discount)."""
    app = submitted
    async with (
        tap(app.driver.request_url, app.http) as (wire, url),
        SlackDriver(url, signing_secret=SIGNING_SECRET, stand_in=app.slack) as tapped,
    ):
        answer = await tapped.click(app.slack_id("marco"), "approval.approve", message=app.request("marco", REF))
    assert answer.status == 200
    assert await app.approval_status("Q-1042", "manager-discount") == "approved"
    return app, wire.captured[-1]


async def test_a_captured_click_replayed_at_once_decides_once(captured_click: tuple[App, Captured]) -> None:
    app, click = captured_click
    before = await app.snapshot()

    answer = await send(app.http, app.driver.request_url, click)

    assert answer.status == 200, "inside the five minutes the signature still holds"
    assert "already approved by Marco Bellini" in await app.refusal(app.slack_id("marco"))
    assert await app.snapshot() == before
    assert [kind for kind in await app.audit() if kind[0] == "approved"] == [("approved", "manager-discount", "marco")]


@pytest.fixture
async def held_click(submitted: App) -> tuple[App, Captured]:
    """Marco's genuine Approve click, captured on the wire and held back: it never reached the app."""
    app = submitted
    async with (
        tap(app.driver.request_url, app.http, forward=False) as (wire, url),
        SlackDriver(url, signing_secret=SIGNING_SECRET, stand_in=app.slack) as tapped,
    ):
        await tapped.click(app.slack_id("marco"), "approval.approve", message=app.request("marco", REF))
    assert await app.approval_status("Q-1042", "manager-discount") == "requested"
    return app, wire.captured[-1]


async def test_a_held_back_click_delivered_as_captured_decides(held_click: tuple[App, Captured]) -> None:
    """The control for the edits below: the capture itself is a valid click."""
    app, click = held_click

    answer = await send(app.http, app.driver.request_url, click)

    assert answer.status == 200
    assert await app.approval_status("Q-1042", "manager-discount") == "approved"


async def test_a_captured_click_replayed_with_a_fresh_timestamp_gets_401(held_click: tuple[App, Captured]) -> None:
    app, click = held_click
    before = await app.snapshot()
    later = str(int(header(click.headers, "X-Slack-Request-Timestamp")) + 301)

    answer = await send(app.http, app.driver.request_url, click.with_headers(X_Slack_Request_Timestamp=later))

    assert answer.status == 401
    assert await app.snapshot() == before


async def test_a_captured_click_edited_to_come_from_someone_else_gets_401(submitted: App) -> None:
    app = submitted
    async with (
        tap(app.driver.request_url, app.http, forward=False) as (wire, url),
        SlackDriver(url, signing_secret=SIGNING_SECRET, stand_in=app.slack) as tapped,
    ):
        answer = await tapped.click(app.slack_id("hank"), "approval.details", message=app.request("marco", REF))
    assert answer.status == 200
    payload = json.loads(wire.captured[-1].payload_field())  # Hank looking at the details of Marco's request
    forged = copy.deepcopy(payload)
    forged["user"]["id"] = app.slack_id("marco")
    forged["actions"][0]["action_id"] = "approval.approve"
    before = await app.snapshot()

    replayed = await send(app.http, app.driver.request_url, wire.captured[-1].with_payload(json.dumps(forged)))

    assert replayed.status == 401
    assert await app.snapshot() == before
    assert await app.approval_status("Q-1042", "manager-discount") == "requested"


def edited(click: Captured, timestamp: str, signature: str) -> Captured:
    """The captured click with its signature headers rewritten from templates ({ts}, {sig}, ...)."""
    stamp = header(click.headers, "X-Slack-Request-Timestamp")
    sig = header(click.headers, "X-Slack-Signature")
    values = {
        "ts": stamp,
        "sig": sig,
        "sig_v1": "v1=" + sig[3:],
        "sig_upper": "v0=" + sig[3:].upper(),
        "sig_short": sig[:-1],
    }
    return click.with_headers(
        X_Slack_Request_Timestamp=timestamp.format(**values), X_Slack_Signature=signature.format(**values)
    )


async def test_malformed_signatures_get_401(held_click: tuple[App, Captured]) -> None:
    app, click = held_click
    before = await app.snapshot()

    for timestamp, signature in [
        ("{ts}", ""),
        ("{ts}", "v0="),
        ("{ts}", "{sig_v1}"),
        ("{ts}", "{sig_upper}"),
        ("{ts}", "{sig}00"),
        ("{ts}", "{sig_short}"),
        ("99999999999999999999", "{sig}"),
    ]:
        answer = await send(app.http, app.driver.request_url, edited(click, timestamp, signature))
        assert answer.status == 401, (timestamp, signature)

    assert await app.snapshot() == before


@pytest.mark.parametrize("timestamp", ["", "1.5e9"], ids=["empty", "not-whole"])
async def test_a_timestamp_that_is_not_a_whole_number_gets_401_not_a_server_error(
    held_click: tuple[App, Captured], timestamp: str
) -> None:
    """slack-v1 §2: anything but a good signature and timestamp gets 401 (bolt itself raises here)."""
    app, click = held_click
    before = await app.snapshot()

    answer = await send(app.http, app.driver.request_url, edited(click, timestamp, "{sig}"))

    assert answer.status == 401, answer
    assert await app.snapshot() == before
