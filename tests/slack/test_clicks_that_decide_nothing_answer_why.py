"""Clicks that must not decide: a stranger's, a non-approver's, a stale copy's, a second tap.
Each gets its HTTP 200, an ephemeral answer through the response_url, and changes nothing."""

from __future__ import annotations

import asyncio

import pytest

from .conftest import STRANGER, Bot

REF = "Q-1042#1"


async def refusal(bot: Bot, who: str, count: int = 1) -> str:
    user = STRANGER if who == "stranger" else bot.slack_id(who)
    await bot.slack.wait_for("response_url", lambda c: c.ok, count=count)
    texts = [e.text for e in bot.slack.ephemerals(user) if e.via == "response_url"]
    assert texts, bot.slack.ephemerals()
    return texts[-1]


async def audit_kinds(bot: Bot) -> list[tuple[str, str | None, str | None]]:
    return [(e.kind, e.rule, e.actor) for e in await bot.runtime.service.audit("Q-1042")]


async def test_strangers_click_is_refused_ephemerally_and_changes_nothing(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    message = bot.request("marco", f"{REF}/manager-discount")
    before = await audit_kinds(bot)

    answer = await bot.driver.click(STRANGER, "approval.approve", message=message)

    assert answer.status == 200
    assert "not in Greenlight's directory" in await refusal(bot, "stranger")
    assert await audit_kinds(bot) == before
    assert bot.slack.message(message.channel, message.ts).edits == 0


@pytest.mark.parametrize(
    ("who", "why"),
    [
        ("hank", "not an approver of manager-discount on Q-1042"),
        ("ava", "You own Q-1042: you cannot approve your own quote."),
    ],
)
async def test_click_by_someone_who_may_not_decide_is_refused(bot: Bot, who: str, why: str) -> None:
    await bot.submit("q1042-v1.json")
    message = bot.request("marco", f"{REF}/manager-discount")
    before = await audit_kinds(bot)

    await bot.click(who, "approval.approve", message)

    assert why in await refusal(bot, who)
    assert await audit_kinds(bot) == before


async def test_stale_copy_clicked_after_the_decision_says_who_decided(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    luis_before = bot.request("luis", f"{REF}/legal-custom-terms")
    await bot.approve("lena", f"{REF}/legal-custom-terms")
    await bot.approve("leo", f"{REF}/legal-custom-terms")
    before = await audit_kinds(bot)

    await bot.click("luis", "approval.approve", luis_before)

    text = await refusal(bot, "luis")
    assert "already approved by Leo Fitzgerald" in text, text
    assert await audit_kinds(bot) == before


async def test_double_tap_on_approve_decides_once(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    message = bot.request("marco", f"{REF}/manager-discount")

    first = await bot.click("marco", "approval.approve", message)
    second = await bot.click("marco", "approval.approve", message)

    assert (first.status, second.status) == (200, 200)
    assert "already approved by Marco Bellini" in await refusal(bot, "marco")
    approved = [k for k in await audit_kinds(bot) if k[0] == "approved"]
    assert approved == [("approved", "manager-discount", "marco")]


async def test_simultaneous_taps_decide_once(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    message = bot.request("marco", f"{REF}/manager-discount")

    answers = await asyncio.gather(*(bot.click("marco", "approval.approve", message) for _ in range(5)))

    assert [a.status for a in answers] == [200] * 5
    approved = [k for k in await audit_kinds(bot) if k[0] == "approved"]
    assert approved == [("approved", "manager-discount", "marco")]
    await refusal(bot, "marco", count=4)
    await bot.settle()
    assert bot.slack.message(message.channel, message.ts).edits == 1, "one decision, one update"


async def test_slack_resending_the_same_click_decides_once(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    await bot.submit("q1042-v1.json")
    message = bot.request("fiona", f"{REF}/payment-terms")
    monkeypatch.setattr(bot.slack, "issue_trigger_id", lambda user_id: "1795.1.same-trigger")

    answers = await asyncio.gather(*(bot.click("fiona", "approval.approve", message) for _ in range(3)))

    assert [a.status for a in answers] == [200] * 3
    voted = [k for k in await audit_kinds(bot) if k[0] == "voted"]
    assert voted == [("voted", "payment-terms", "fiona")]


async def test_second_tap_in_a_group_says_you_already_voted(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    message = bot.request("fiona", f"{REF}/payment-terms")

    await bot.click("fiona", "approval.approve", message)
    await bot.click("fiona", "approval.approve", message)

    text = await refusal(bot, "fiona")
    assert "already voted" in text, text
    assert [k for k in await audit_kinds(bot) if k[0] == "voted"] == [("voted", "payment-terms", "fiona")]
