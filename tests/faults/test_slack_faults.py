"""Slack answering 429, 500 and dropping connections for a while: every update delivered exactly once.

Approvers keep clicking and the rep keeps submitting while the Slack stand-in fails every Web API
call, first with 429 + Retry-After, then with 500, then by dropping the connection. The decisions
are acked (they never wait for Slack); the outbox keeps every Slack message due and retries it on
the runtime's clock. Once Slack answers again, every request DM, every update in place and every
line of the rep's thread is there exactly once, and nothing fell back to email.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator

from sandbox.slack_api import Fault
from store.models import OutboxRow, SlackMessageRow
from tests.support.slack import blocks_of, has_buttons, values_in

from .conftest import Start, request_ref, slack_stand_in
from .kit import REP_SLACK, policy_text, slack_of

APPROVERS = ["a01", "a02", "a03", "a04"]


class NoSleep(RetryIntervalCalculator):
    """slack_sdk retries a dropped connection once after ~0.5-1.5 s: record the wait, do not sleep it."""

    def __init__(self) -> None:
        self.waits: list[int] = []

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        self.waits.append(current_attempt)
        return 0.0


def request_posts(slack) -> Counter:  # type: ignore[no-untyped-def]
    """How many successful chat.postMessage calls carried each request's buttons."""
    return Counter(
        ref
        for call in slack.calls("chat.postMessage")
        if call.ok
        for ref in {ref for ref in values_in(blocks_of(call)) if "#" in ref}
    )


async def test_slack_failing_for_a_while_gets_every_update_exactly_once_afterwards(greenlight: Start):
    async with slack_stand_in(APPROVERS) as slack, greenlight(policy_text(APPROVERS), slack) as gl:
        no_sleep = NoSleep()
        for handler in gl.runtime.client.retry_handlers:
            handler.interval_calculator = no_sleep

        # Before: two quotes submitted, their 8 request DMs delivered.
        for quote_id in ("Q-S01", "Q-S02"):
            await gl.submit(quote_id)
        await gl.settle()
        assert sum(request_posts(slack).values()) == 8

        # 429 with Retry-After: 30 on every call. Clicks and submissions go on and are acked.
        outage_began, calls_before = gl.clock(), len(slack.calls())
        slack.start_outage(Fault.rate_limited(retry_after=30))
        for person in ("a01", "a02"):
            assert (await gl.click_approve(person, request_ref("Q-S01", person))).status == 200
        await gl.submit("Q-S03")
        await gl.settle()
        during = slack.calls()[calls_before:]
        assert during and all(call.status == 429 for call in during)
        due = await OutboxRow.filter(topic="slack", status="pending").count()
        assert due > 0
        before = len(slack.calls())
        await gl.later(seconds=29)
        assert len(slack.calls()) == before, "a row was tried again before Slack's Retry-After"
        await gl.later(seconds=2)
        assert len(slack.calls()) > before, "nothing was tried again after Retry-After"

        # 500 on every call, for a while.
        slack.start_outage(Fault.http_status(500))
        assert (await gl.click_approve("a03", request_ref("Q-S01", "a03"))).status == 200
        for _ in range(6):
            await gl.later(seconds=10)
        assert any(call.status == 500 for call in slack.calls())

        # Connections dropped, for a while.
        slack.start_outage(Fault.disconnect())
        assert (await gl.click_approve("a04", request_ref("Q-S01", "a04"))).status == 200
        assert (await gl.click_approve("a01", request_ref("Q-S02", "a01"))).status == 200
        await gl.submit("Q-S04")
        for _ in range(6):
            await gl.later(seconds=10)
        assert any(call.status == 0 for call in slack.calls())
        assert no_sleep.waits, "no dropped connection was retried by the client"
        assert (
            await OutboxRow.filter(topic="slack", status="sent").count() < await OutboxRow.filter(topic="slack").count()
        )

        # Slack is back, with a last hiccup of each kind on the first calls.
        slack.end_outage()
        slack.script(
            "chat.postMessage",
            [Fault.rate_limited(retry_after=5), Fault.http_status(502), Fault.disconnect(), Fault.disconnect()],
        )
        slack.script(
            "chat.update",
            [Fault.http_status(503), Fault.rate_limited(retry_after=3), Fault.disconnect(), Fault.disconnect()],
        )
        for _ in range(40):
            if await OutboxRow.filter(topic="slack").exclude(status="sent").count() == 0:
                break
            await gl.later(seconds=30)
        left = await OutboxRow.filter(topic="slack").exclude(status="sent").values("key", "status", "last_error")
        assert left == [], left
        # (well within the 15 minutes after which a request DM Slack refuses falls back to email)
        assert gl.clock() - outage_began < dt.timedelta(minutes=15)

        # Exactly once: each request DM once, each thread line once, nothing fell back to email.
        posts = request_posts(slack)
        expected = {request_ref(q, p) for q in ("Q-S01", "Q-S02", "Q-S03", "Q-S04") for p in APPROVERS}
        assert set(posts) == expected
        assert [ref for ref, n in posts.items() if n != 1] == []
        assert await OutboxRow.filter(topic="email").count() == 0
        decided = {request_ref("Q-S01", p) for p in APPROVERS} | {request_ref("Q-S02", "a01")}
        for ref in sorted(expected):
            person = ref.rsplit("/rule-", 1)[1]
            (copy,) = [
                call.response
                for call in slack.calls("chat.postMessage")
                if call.ok and ref in values_in(blocks_of(call)) and call.response
            ]
            shown = slack.message(copy["channel"], copy["ts"])
            assert copy["channel"] == slack.dm_channel(slack_of(person))
            assert has_buttons(shown) == (ref not in decided), f"{ref} shows {shown.blocks}"

        rep = slack.dm_history(REP_SLACK)
        roots = [m for m in rep if m.thread_ts is None]
        lines = [m for m in rep if m.thread_ts is not None]
        assert len(roots) == 4
        remembered = await SlackMessageRow.filter(kind="thread-line").values_list("ts", flat=True)
        assert sorted(m.ts for m in lines) == sorted(remembered)
        # 5 approvals and Q-S01 approved as a whole
        assert len(lines) == 6, [m.text for m in lines]
        assert len({(m.thread_ts, m.text) for m in lines}) == len(lines)


async def test_after_a_429_the_worker_waits_retry_after_before_calling_that_method_again(greenlight: Start):
    """Slack's 429 means "this app, this method: no more calls for Retry-After seconds".

    A backlog must not be fired at a rate-limited Slack one row after another, each earning another
    429 (Slack lengthens the limits of apps that keep calling): the first 429 pauses that method.
    """
    async with slack_stand_in(APPROVERS) as slack, greenlight(policy_text(APPROVERS), slack) as gl:
        await gl.submit("Q-S01")
        await gl.settle()
        calls_before = len(slack.calls())
        slack.start_outage(Fault.rate_limited(retry_after=30))
        for quote_id in ("Q-S02", "Q-S03", "Q-S04"):
            await gl.submit(quote_id)  # 3 x (4 request DMs + the rep's thread): 15 chat.postMessage due
        await gl.settle()
        during = Counter(call.method for call in slack.calls()[calls_before:])
        assert during == {"chat.postMessage": 1}, f"calls made after Slack said 429, Retry-After: 30: {during}"


async def test_slack_down_for_twenty_minutes_with_email_off_still_delivers_every_request_dm(greenlight: Start):
    """Email is off (no GREENLIGHT_SMTP_URL): Slack is the only way to reach an approver.

    A Slack outage longer than the 15-minute email fallback must not drop the request DMs of
    quotes submitted meanwhile: once Slack answers again, each approver gets their DM once.
    """
    async with slack_stand_in(APPROVERS) as slack, greenlight(policy_text(APPROVERS), slack) as gl:
        assert "email" not in gl.runtime.workers
        await gl.submit("Q-S01")
        await gl.settle()
        slack.start_outage(Fault.http_status(503))
        await gl.submit("Q-S02")
        for _ in range(20):
            await gl.later(seconds=60)
        slack.end_outage()
        for _ in range(40):
            if await OutboxRow.filter(topic="slack").exclude(status="sent").count() == 0:
                break
            await gl.later(seconds=60)
        posts = request_posts(slack)
        missing = sorted({request_ref("Q-S02", p) for p in APPROVERS} - set(posts))
        unsent = await OutboxRow.filter(topic="email").exclude(status="sent").values_list("key", flat=True)
        assert missing == [], f"request DMs never posted: {missing}; email rows nobody sends: {unsent}"
        assert [ref for ref, n in posts.items() if n != 1] == []
