"""The SMTP server down for hours: every email delivered once when it is back.

Approvers without Slack get their requests by email. The mail server is down (nothing listens
on its port) while quotes are submitted; the runtime's clock moves through the outage in
5-minute steps, the email sweep running at each, as the scheduler would. Then the server is
back and every email arrives once (one Message-ID each), none is a dead letter and no admin is
alerted. Each test fixes the worker's random jitter (a seeded RNG), so a run is repeatable.
"""

from __future__ import annotations

import random
from collections import Counter

from store.models import OutboxRow
from tests.support.loopback import free_port
from tests.support.smtp import Inbox, smtp_server

from .conftest import Greenlight, Start, slack_stand_in
from .kit import LINK_SECRET, policy_text

MAILERS = ["m01", "m02", "m03"]  # approvers with an email address and no Slack id
QUOTES = ["Q-E01", "Q-E02", "Q-E03", "Q-E04", "Q-E05"]
STEP_MINUTES = 5


async def email_rows(status: str | None = None) -> int:
    query = OutboxRow.filter(topic="email")
    return await (query.filter(status=status) if status else query).count()


async def submit_during_outage(gl: Greenlight, port: int) -> None:
    gl.runtime.workers["email"].handle.__self__.rng = random.Random(20261102)  # type: ignore[attr-defined]
    for quote_id in QUOTES:
        await gl.submit(quote_id)
    await gl.settle("slack", "email")
    assert await email_rows() == len(QUOTES) * len(MAILERS)
    assert await email_rows("sent") == 0


async def outage(gl: Greenlight, hours: int) -> None:
    """Move the clock through the outage, sweeping the email outbox every 5 minutes."""
    for _ in range(hours * 60 // STEP_MINUTES):
        await gl.later("email", "slack", minutes=STEP_MINUTES)


async def deliver_after(gl: Greenlight, inbox: Inbox, port: int) -> None:
    """The server is back: sweep every 5 minutes until the email outbox is empty (at most 2 hours)."""
    with smtp_server(inbox, port):
        for _ in range(24):
            await gl.later("email", "slack", minutes=STEP_MINUTES)
            if await OutboxRow.filter(topic="email", status__in=["pending", "sending"]).count() == 0:
                break


async def assert_each_email_arrived_once(inbox: Inbox) -> None:
    messages = inbox.messages()
    ids = Counter(str(message["Message-ID"]) for message in messages)
    assert [mid for mid, n in ids.items() if n > 1] == [], "an email arrived twice"
    sent = Counter((str(message["To"]), str(message["Subject"])) for message in messages)
    assert [key for key, n in sent.items() if n > 1] == []
    dead = await OutboxRow.filter(topic="email", status="dead").values("key", "attempts", "last_error")
    assert dead == [], f"{len(dead)} emails were given up during the outage, e.g. {dead[:1]}"
    assert len(messages) == len(QUOTES) * len(MAILERS)
    assert await email_rows("sent") == len(QUOTES) * len(MAILERS)
    alerts = await OutboxRow.filter(topic="slack", key__startswith="email-failed:").count()
    assert alerts == 0, "admins were told emails failed"


def environment(port: int) -> dict[str, str]:
    return {
        "GREENLIGHT_SMTP_URL": f"smtp://127.0.0.1:{port}",
        "GREENLIGHT_SECRET": LINK_SECRET,
        "GREENLIGHT_MAIL_FROM": "Greenlight <greenlight@example.com>",
    }


async def test_smtp_down_for_two_hours_every_email_is_delivered_once_afterwards(greenlight: Start):
    port, inbox = free_port(), Inbox()
    async with (
        slack_stand_in() as slack,
        greenlight(policy_text(email_approvers=MAILERS), slack, **environment(port)) as gl,
    ):
        await submit_during_outage(gl, port)
        await outage(gl, hours=2)
        assert await email_rows("sent") == 0 and inbox.messages() == []
        await deliver_after(gl, inbox, port)
        await assert_each_email_arrived_once(inbox)


async def test_smtp_down_for_an_eight_hour_night_every_email_is_delivered_once_afterwards(greenlight: Start):
    """A mail relay down overnight (8 hours) is an outage of hours too: the emails must not be lost.

    Request links stay valid for 72 hours, so there is no reason to give a request up after 8.
    """
    port, inbox = free_port(), Inbox()
    async with (
        slack_stand_in() as slack,
        greenlight(policy_text(email_approvers=MAILERS), slack, **environment(port)) as gl,
    ):
        await submit_during_outage(gl, port)
        await outage(gl, hours=8)
        await deliver_after(gl, inbox, port)
        await assert_each_email_arrived_once(inbox)
