"""Reject opens a modal that requires a reason; the reason reaches every copy and the rep."""

from __future__ import annotations

from typing import Any

from .conftest import Bot, action_ids

REF = "Q-1042#1"
REASON = ("reject.reason", "reject.reason_input")


async def open_reject_modal(bot: Bot, person: str, rule: str) -> dict[str, Any]:
    message = bot.request(person, f"{REF}/{rule}")
    await bot.click(person, "approval.reject", message)
    call = await bot.slack.wait_for("views.open")
    assert call.ok, call.response
    (view,) = bot.slack.open_views(bot.slack_id(person))
    assert view["callback_id"] == "approval.reject"
    assert view["private_metadata"] == f"{REF}/{rule}"
    return view


def reason(text: str) -> dict[str, dict[str, str]]:
    return {REASON[0]: {REASON[1]: text}}


async def test_reject_with_a_reason_rejects_the_quote_and_tells_everyone(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    view = await open_reject_modal(bot, "marco", "manager-discount")
    assert (await bot.runtime.service.latest("Q-1042")).status == "pending", "opening the modal decides nothing"

    answer = await bot.driver.submit_view(bot.slack_id("marco"), view, reason("32% is below our floor: 25% max."))
    assert answer.status == 200 and not answer.body, answer.body
    assert bot.slack.open_views(bot.slack_id("marco")) == [], "a plain ack closes the modal"
    await bot.settle()

    sub = await bot.runtime.service.latest("Q-1042")
    assert sub.status == "rejected"
    assert sub.approval("manager-discount").comment == "32% is below our floor: 25% max."
    marco = bot.request("marco", f"{REF}/manager-discount")
    assert marco.text.startswith(
        "Rejected by Marco Bellini at 9:00\u202fAM (New York): 32% is below our floor: 25% max."
    )
    for person, rule in [("sam", "services-discount"), ("carl", "payment-terms"), ("lena", "legal-custom-terms")]:
        copy = bot.request(person, f"{REF}/{rule}")
        assert "approval.approve" not in action_ids(copy), (person, rule)
        assert copy.text.startswith("Closed: the quote was rejected by Marco Bellini on manager-discount")
    thread = [m.text for m in bot.thread("ava")]
    assert any("was rejected by Marco Bellini (manager-discount): 32% is below our floor" in line for line in thread), (
        thread
    )


async def test_blank_reason_is_refused_in_the_modal_and_nothing_changes(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    view = await open_reject_modal(bot, "marco", "manager-discount")

    answer = await bot.driver.submit_view(bot.slack_id("marco"), view, reason("   "))

    assert answer.status == 200
    ack = answer.json()
    assert ack["response_action"] == "errors"
    assert set(ack["errors"]) == {"reject.reason"}
    assert "Say why" in ack["errors"]["reject.reason"]
    assert len(bot.slack.open_views(bot.slack_id("marco"))) == 1, "the modal stays open for the reason"
    sub = await bot.runtime.service.latest("Q-1042")
    assert sub.status == "pending" and sub.approval("manager-discount").status == "requested"


async def test_reject_submitted_after_the_quorum_was_reached_is_refused_in_the_modal(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    view = await open_reject_modal(bot, "lena", "legal-custom-terms")
    await bot.approve("leo", f"{REF}/legal-custom-terms")
    await bot.approve("luis", f"{REF}/legal-custom-terms")

    answer = await bot.driver.submit_view(bot.slack_id("lena"), view, reason("MFN is a no-go."))

    ack = answer.json()
    assert ack["response_action"] == "errors"
    assert "already approved" in ack["errors"]["reject.reason"]
    sub = await bot.runtime.service.latest("Q-1042")
    assert sub.status == "pending" and sub.approval("legal-custom-terms").status == "approved"


async def test_reject_button_of_someone_else_opens_no_modal_and_says_why(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    message = bot.request("marco", f"{REF}/manager-discount")

    await bot.click("hank", "approval.reject", message)

    call = await bot.slack.wait_for("response_url")
    assert call.ok
    assert bot.slack.calls("views.open") == []
    assert "not an approver of manager-discount" in bot.ephemerals("hank")[0]
