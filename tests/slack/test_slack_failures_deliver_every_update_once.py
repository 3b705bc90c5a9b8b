"""Rate limits and outages delay Slack messages, never duplicate or lose them.

A 429 reschedules the outbox row to its `Retry-After`; 5xx and dropped connections back off. The
tests move the runtime's clock to the moment the row falls due, then let the outbox run.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sandbox.slack_api import Fault

from .conftest import Bot, action_ids, blocks_of, values_in

REF = "Q-1042#1"
FIRST_REQUESTS = [
    ("marco", "manager-discount"),
    ("sam", "services-discount"),
    ("fiona", "payment-terms"),
    ("carl", "payment-terms"),
    ("lena", "legal-custom-terms"),
    ("leo", "legal-custom-terms"),
    ("luis", "legal-custom-terms"),
]


def request_posts(bot: Bot) -> Counter[tuple[str, str]]:
    """How many times each (DM channel, request) was posted successfully."""
    return Counter(
        (call.response["channel"], value)
        for call in bot.slack.calls("chat.postMessage")
        if call.ok and call.response
        for value in set(values_in(blocks_of(call)))
    )


def thread_roots(bot: Bot) -> int:
    channel = bot.slack.dm_channel(bot.slack_id("ava"))
    return sum(
        1
        for call in bot.slack.calls("chat.postMessage")
        if call.ok and call.response and call.response["channel"] == channel and not call.args.get("thread_ts")
    )


def assert_each_request_posted_once(bot: Bot) -> None:
    posts = request_posts(bot)
    for person, rule in FIRST_REQUESTS:
        channel = bot.slack.dm_channel(bot.slack_id(person))
        assert posts[(channel, f"{REF}/{rule}")] == 1, (person, rule, posts)
    assert max(posts.values()) == 1, posts
    assert thread_roots(bot) == 1


async def pending_at(bot: Bot) -> list[dt.datetime]:
    return sorted(row.next_attempt_at for row in await bot.outbox("slack", "pending"))


async def test_rate_limited_posts_wait_for_retry_after_and_are_posted_once(bot: Bot) -> None:
    bot.slack.script("chat.postMessage", [Fault.rate_limited(retry_after=30)])
    await bot.receive("q1042-v1.json")
    await bot.deal("ava", "submit Q-1042")
    await bot.settle()

    limited = [c for c in bot.slack.calls("chat.postMessage") if c.status == 429]
    assert len(limited) == 1, "after a 429 no other call is made before Retry-After"
    due = await pending_at(bot)
    assert due and set(due) == {bot.clock() + dt.timedelta(seconds=30)}, "Retry-After is honoured"

    calls = len(bot.slack.calls())
    await bot.settle()
    assert len(bot.slack.calls()) == calls, "nothing is retried before Retry-After"

    await bot.later(seconds=29)
    assert len(bot.slack.calls()) == calls
    await bot.later(seconds=1)

    assert await pending_at(bot) == []
    assert_each_request_posted_once(bot)
    for person, rule in FIRST_REQUESTS:
        assert "approval.approve" in action_ids(bot.request(person, f"{REF}/{rule}"))


async def test_rate_limited_updates_are_retried_and_every_copy_ends_up_updated(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    legal = f"{REF}/legal-custom-terms"
    bot.slack.script("chat.update", [Fault.rate_limited(retry_after=5)] * 3)

    await bot.approve("lena", legal)
    await bot.approve("leo", legal)
    assert any(c.status == 429 for c in bot.slack.calls("chat.update"))
    assert "approval.approve" in action_ids(bot.request("luis", legal)), "not updated yet"

    await bot.drain()

    for person in ("lena", "leo", "luis"):
        copy = bot.request(person, legal)
        assert action_ids(copy) == [], person
        assert "Approved by Leo Fitzgerald" in copy.text
    assert await pending_at(bot) == []
    assert_each_request_posted_once(bot)


async def test_slack_outage_then_recovery_delivers_everything_once(bot: Bot) -> None:
    bot.slack.start_outage()
    await bot.receive("q1042-v1.json")
    await bot.deal("ava", "submit Q-1042")
    await bot.settle()
    await bot.later(minutes=1)
    failed = [c for c in bot.slack.calls() if c.status == 503]
    assert failed, "the outbox tried during the outage"
    assert all(c.status == 503 for c in bot.slack.calls())
    assert await pending_at(bot), "rows wait for a later attempt"

    bot.slack.end_outage()
    await bot.later(minutes=5)

    assert await pending_at(bot) == []
    assert_each_request_posted_once(bot)
    assert await bot.outbox("email") == [], "recovered before the email fallback time"


async def test_dropped_connections_are_retried_without_duplicates(bot: Bot) -> None:
    bot.slack.script("chat.postMessage", [Fault.disconnect(), Fault.disconnect(), Fault.http_status(502)])
    await bot.submit("q1042-v1.json")
    await bot.later(minutes=5)

    assert await pending_at(bot) == []
    assert_each_request_posted_once(bot)


async def test_decisions_made_during_an_outage_reach_slack_after_it(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    bot.slack.start_outage()
    await bot.approve("marco", f"{REF}/manager-discount")
    await bot.approve("sam", f"{REF}/services-discount")
    assert (await bot.runtime.service.latest("Q-1042")).approval("services-discount").status == "approved"

    bot.slack.end_outage()
    await bot.later(minutes=5)

    assert action_ids(bot.request("marco", f"{REF}/manager-discount")) == []
    assert action_ids(bot.request("sam", f"{REF}/services-discount")) == []
    assert "approval.approve" in action_ids(bot.request("vera", f"{REF}/vp-deep-discount"))
    assert_each_request_posted_once(bot)
    thread = [m.text for m in bot.thread("ava")]
    assert sum("approved manager-discount" in t for t in thread) == 1
    assert sum("approved services-discount" in t for t in thread) == 1


async def test_requests_go_by_email_when_slack_stays_down_past_the_fallback_time(bot: Bot) -> None:
    bot.runtime.delivery.email_on = True  # as with GREENLIGHT_SMTP_URL set: the email rows are what is checked
    bot.slack.start_outage()
    await bot.submit("q1042-v1.json")
    await bot.later(minutes=16)
    await bot.later(minutes=60)

    emails = await bot.outbox("email")
    asked = Counter((e.payload["person"], e.payload["rule"]) for e in emails if e.payload["kind"] == "request")
    expected = {(person, rule) for person, rule in FIRST_REQUESTS}
    assert set(asked) == expected
    assert max(asked.values()) == 1, asked

    bot.slack.end_outage()
    await bot.later(minutes=60)
    assert request_posts(bot) == Counter(), "those asked by email are not asked again in Slack"


async def test_first_command_after_a_restart_during_an_outage_is_still_recorded(bot: Bot) -> None:
    await bot.receive("q1042-v1.json")
    bot.slack.start_outage()

    answer = await bot.deal("ava", "submit Q-1042")

    assert "install" not in answer.body, "no auth.test round trip before the listener runs"
    assert await bot.runtime.service.latest("Q-1042") is not None
    assert bot.slack.calls("auth.test") == []
