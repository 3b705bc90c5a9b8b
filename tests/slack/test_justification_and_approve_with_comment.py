"""Context on both sides: the rep says why on `/deal submit`, an approver may approve with a
comment, and both reach every place people read about the deal (requests, the rep's thread,
`/deal status`, email and the audit)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from greenlight.storecli import render_audit
from tests.support.smtp import Inbox, smtp_server

from .conftest import Bot, action_ids

REF = "Q-1042#1"
WHY = "Competitive displacement of Oracle: they offered 35% & a free year <really>."
NOTE = ("approve.comment", "approve.comment_input")


def _texts(node: Any) -> str:
    return json.dumps(node, ensure_ascii=False)


async def test_justification_typed_after_the_quote_id_is_shown_to_approvers_the_rep_and_the_audit(bot: Bot) -> None:
    quote_id = await bot.receive("q1042-v1.json")

    answer = await bot.deal(
        "ava",
        f"submit {quote_id}   Competitive displacement of Oracle: they offered 35% &amp; a free year &lt;really&gt;.",
    )
    await bot.settle()

    ack = answer.json()
    assert "Competitive displacement of Oracle" in _texts(ack["blocks"]), "the submit answer repeats it"
    sub = await bot.runtime.service.latest(quote_id)
    assert sub.justification == WHY, "Slack's escapes are undone and runs of spaces folded"
    marco = bot.request("marco", f"{REF}/manager-discount")
    shown = [b for b in marco.blocks if b.get("block_id") == "request.justification"]
    assert shown, marco.blocks
    assert "Why, from Ava Brooks" in shown[0]["text"]["text"]
    assert "they offered 35% &amp; a free year &lt;really&gt;." in shown[0]["text"]["text"], "escaped for mrkdwn"
    dm = bot.dm("ava")
    assert any("Competitive displacement" in _texts(m.blocks) for m in dm), [m.text for m in dm]
    status = (await bot.deal("ava", f"status {quote_id}")).json()
    assert "Competitive displacement" in _texts(status["blocks"])
    (submitted,) = [e for e in await bot.runtime.service.audit(quote_id) if e.kind == "submitted"]
    assert submitted.comment == WHY
    assert WHY in render_audit([submitted], "csv")


async def test_submit_without_justification_shows_no_empty_line(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    marco = bot.request("marco", f"{REF}/manager-discount")
    assert all(b.get("block_id") != "request.justification" for b in marco.blocks)


async def test_overlong_justification_is_refused_with_its_length_and_nothing_is_submitted(bot: Bot) -> None:
    quote_id = await bot.receive("q1042-v1.json")

    answer = await bot.deal("ava", f"submit {quote_id} " + "because " * 200)

    text = answer.json()["text"]
    assert "1599 characters; keep it to 1500" in text, text
    assert "/deal submit Q-1042 [why the deal needs it]" in text
    assert await bot.runtime.service.latest(quote_id) is None


async def open_approve_modal(bot: Bot, person: str, rule: str) -> dict[str, Any]:
    message = bot.request(person, f"{REF}/{rule}")
    await bot.click(person, "approval.approve_comment", message)
    call = await bot.slack.wait_for("views.open")
    assert call.ok, call.response
    (view,) = bot.slack.open_views(bot.slack_id(person))
    assert view["callback_id"] == "approval.approve_comment"
    return view


async def test_approve_with_comment_approves_and_the_comment_reaches_the_rep_and_the_others(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    assert "approval.approve_comment" in action_ids(bot.request("marco", f"{REF}/manager-discount"))
    view = await open_approve_modal(bot, "marco", "manager-discount")
    assert (await bot.runtime.service.latest("Q-1042")).approval("manager-discount").status == "requested"

    answer = await bot.driver.submit_view(
        bot.slack_id("marco"), view, {NOTE[0]: {NOTE[1]: "OK given the 3-year term; no more this quarter."}}
    )
    assert answer.status == 200 and not answer.body, answer.body
    await bot.settle()

    approval = (await bot.runtime.service.latest("Q-1042")).approval("manager-discount")
    assert approval.status == "approved" and approval.comment == "OK given the 3-year term; no more this quarter."
    marco = bot.request("marco", f"{REF}/manager-discount")
    assert "approval.approve" not in action_ids(marco)
    assert "no more this quarter" in marco.text
    thread = [m.text for m in bot.thread("ava")]
    assert any("Marco Bellini approved manager-discount" in t and "no more this quarter" in t for t in thread), thread
    audit = [e for e in await bot.runtime.service.audit("Q-1042") if e.kind == "approved"]
    assert audit[0].comment == "OK given the 3-year term; no more this quarter."


async def test_approve_with_a_blank_comment_is_refused_in_the_modal_and_nothing_changes(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    view = await open_approve_modal(bot, "marco", "manager-discount")

    answer = await bot.driver.submit_view(bot.slack_id("marco"), view, {NOTE[0]: {NOTE[1]: "  "}})

    ack = answer.json()
    assert ack["response_action"] == "errors"
    assert "tap Approve to approve without one" in ack["errors"]["approve.comment"]
    assert (await bot.runtime.service.latest("Q-1042")).approval("manager-discount").status == "requested"


async def test_approve_with_comment_by_someone_else_opens_nothing_and_says_why(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    await bot.click("hank", "approval.approve_comment", bot.request("marco", f"{REF}/manager-discount"))

    await bot.slack.wait_for("response_url")
    assert bot.slack.calls("views.open") == []
    assert "not an approver of manager-discount" in bot.ephemerals("hank")[0]


@pytest.fixture
async def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def smtp_url(inbox: Inbox) -> AsyncIterator[str]:
    with smtp_server(inbox) as server:
        yield f"smtp://127.0.0.1:{server.port}"


async def test_the_justification_is_in_the_email_of_an_approver_reached_by_email(bot: Bot, inbox: Inbox) -> None:
    quote_id = await bot.receive("q1042-v1.json")
    await bot.deal("ava", f"submit {quote_id} Strategic logo for the retail vertical")
    await bot.settle()
    sub = await bot.runtime.service.latest(quote_id)
    farah = [a.rule for a in sub.approvals if any(s.holder == "farah" for s in a.seats)]
    assert farah, "the example needs an approval of Farah's (she has no Slack)"
    for approval in sub.approvals:
        if approval.status == "requested" and approval.rule not in farah:
            people = [s.holder for s in approval.seats if bot.policy.people[s.holder].slack]
            for person in people[: approval.quorum or 1] if approval.mode != "all" else people:
                await bot.approve(person, f"{REF}/{approval.rule}")
    await bot.settle("slack", "email")
    await bot.settle("email")

    arrived = await inbox.wait_for(1)
    bodies = [a.message.get_body(("plain",)).get_content() for a in arrived]
    assert any("Why (from the rep): Strategic logo for the retail vertical" in b for b in bodies), bodies
