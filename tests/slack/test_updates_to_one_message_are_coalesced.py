"""Cheaper delivery: updates queued for the same Slack message are sent once, with the latest content.

Two votes on Q-1042's payment terms (finance-review: fiona and carl must both sign) are decided
while the outbox waits, then delivered in one sweep. Each copy of the request is updated once,
with the final state; when that one update fails, the row is retried and the latest content still
arrives. Every Web API call goes over one kept-alive connection, not one connection per call.
"""

from __future__ import annotations

from sandbox.slack_api import Call, Fault, Message
from tests.support.slack import has_buttons

from .conftest import Bot

REF = "Q-1042#1"
RULE = "payment-terms"
SIGNERS = ("fiona", "carl")


def homes_published(bot: Bot, person: str) -> int:
    return sum(
        1 for call in bot.slack.calls("views.publish") if call.ok and call.args.get("user_id") == bot.slack_id(person)
    )


def updates_of(bot: Bot, message: Message) -> list[Call]:
    return [
        call
        for call in bot.slack.calls("chat.update")
        if call.ok and call.args.get("channel") == message.channel and call.args.get("ts") == message.ts
    ]


async def both_sign_while_the_outbox_waits(bot: Bot) -> None:
    for person in SIGNERS:
        await bot.runtime.service.decide("Q-1042", RULE, person, "approve", bot.clock())
    assert len(await bot.outbox("slack", "pending")) >= 2, "both decisions wait for one sweep"


async def test_two_votes_queued_for_one_request_update_each_copy_and_home_once_with_the_final_state(
    bot: Bot,
) -> None:
    await bot.submit("q1042-v1.json")
    copies = {person: bot.request(person, f"{REF}/{RULE}") for person in SIGNERS}
    before = {person: len(updates_of(bot, copy)) for person, copy in copies.items()}
    homes = {person: homes_published(bot, person) for person in SIGNERS}

    await both_sign_while_the_outbox_waits(bot)
    await bot.settle()

    for person, copy in copies.items():
        sent = updates_of(bot, copy)[before[person] :]
        assert len(sent) == 1, f"{person}'s copy: {len(sent)} updates for two queued changes"
        shown = bot.request(person, f"{REF}/{RULE}")
        assert not has_buttons(shown), f"{person}'s copy still asks for a vote: {shown.text}"
        assert sent[0].args["text"] == shown.text
        assert homes_published(bot, person) == homes[person] + 1, f"{person}'s App Home: once for the batch"
    assert await bot.outbox("slack", "pending") == []


async def test_the_latest_content_arrives_when_the_one_update_left_fails_first(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    copies = {person: bot.request(person, f"{REF}/{RULE}") for person in SIGNERS}
    before = {person: len(updates_of(bot, copy)) for person, copy in copies.items()}

    await both_sign_while_the_outbox_waits(bot)
    bot.slack.script("chat.update", [Fault.http_status(503)])
    await bot.settle()
    assert await bot.outbox("slack", "pending"), "the row whose update failed waits for a retry"
    await bot.drain()

    for person, copy in copies.items():
        sent = updates_of(bot, copy)[before[person] :]
        shown = bot.request(person, f"{REF}/{RULE}")
        assert not has_buttons(shown), f"{person}'s copy lost the final state: {shown.text}"
        assert sent and sent[-1].args["text"] == shown.text, "the last update sent is the latest content"


async def test_every_web_api_call_of_a_submission_goes_over_one_kept_alive_connection(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    calls = [call for call in bot.slack.calls() if call.peer]
    peers = {call.peer for call in calls}
    assert len(calls) >= 10, f"expected the submission's DMs and thread, got {len(calls)} calls"
    assert len(peers) <= 2, f"{len(calls)} calls over {len(peers)} connections"
