"""Messages that ask someone to act, or tell the rep the outcome, notify: reminders and outcomes
are broadcast replies (a reply only in a thread may never push to a phone), reminders repeat
(`remind_every`), an escalated request says who has not answered for how long at the top, a
delegate's request says whom they act for in its header, and groups are worded by their mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Bot, action_ids
from .kit17 import mention, submit_deal, write_policy


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write_policy(tmp_path)


def _posts_to(bot: Bot, person: str) -> list[dict]:
    channel = bot.slack.dm_channel(bot.slack_id(person))
    return [
        c.args for c in bot.slack.calls("chat.postMessage") if c.ok and c.response and c.response["channel"] == channel
    ]


async def test_reminders_repeat_every_day_and_each_is_a_broadcast_reply(bot: Bot) -> None:
    quote_id = await submit_deal(bot)
    ref = f"{quote_id}#1/vp-discount"
    assert "approval.approve" in action_ids(bot.request("vera", ref))

    await bot.later("approvals", "slack", hours=4)
    await bot.later("approvals", "slack", hours=24)
    await bot.later("approvals", "slack", hours=24)

    reminders = [a for a in _posts_to(bot, "vera") if str(a.get("text", "")).startswith("Reminder")]
    assert len(reminders) == 3, reminders
    assert all(a.get("reply_broadcast") in (True, "true", "1", 1) for a in reminders), reminders
    assert all(a.get("thread_ts") for a in reminders)
    await bot.approve("vera", ref)
    await bot.later("approvals", "slack", hours=48)
    after = [a for a in _posts_to(bot, "vera") if str(a.get("text", "")).startswith("Reminder")]
    assert len(after) == 3, "no reminder once decided"


async def test_an_escalated_request_says_who_has_not_answered_for_how_long_at_the_top(bot: Bot) -> None:
    quote_id = await submit_deal(bot)
    ref = f"{quote_id}#1/vp-discount"

    await bot.later("approvals", "slack", hours=24)

    dana = bot.request("dana", ref)
    assert dana.blocks[0]["block_id"] == "request.escalated", dana.blocks[0]
    assert "Vera Lindqvist has not answered for 24 h" in dana.blocks[0]["text"]["text"]
    assert dana.text.startswith("Escalated: Vera Lindqvist has not answered for 24 h. Approval needed"), dana.text
    assert "approval.approve" in action_ids(dana)


async def test_a_delegates_request_says_whom_they_act_for_in_its_header(bot: Bot) -> None:
    quote_id = await submit_deal(bot)
    ref = f"{quote_id}#1/manager-discount"

    await bot.deal("max", f"ooo 2026-11-02 2026-11-06 {mention(bot, 'ben')}")
    await bot.settle("approvals", "slack")

    ben = bot.request("ben", ref)
    assert ben.text.startswith("Approval needed for Max Müller:"), ben.text
    assert ben.blocks[0]["text"]["text"].startswith("*Approval needed for Max Müller:"), ben.blocks[0]
    max_copy = bot.request("max", ref)
    assert max_copy.text.startswith("Approval needed:"), "Max's own copy is his own"


async def test_the_outcome_reaches_the_rep_as_a_broadcast_reply(bot: Bot) -> None:
    quote_id = await submit_deal(bot)
    sub = await bot.runtime.service.latest(quote_id)
    await bot.approve("max", f"{quote_id}#1/manager-discount")
    lines = [a for a in _posts_to(bot, "ava") if a.get("thread_ts")]
    assert lines and not any(a.get("reply_broadcast") for a in lines), "a single decision is a quiet reply"

    view_ref = f"{quote_id}#1/finance-terms"
    await bot.click("fay", "approval.reject", bot.request("fay", view_ref))
    await bot.slack.wait_for("views.open")
    (view,) = bot.slack.open_views(bot.slack_id("fay"))
    await bot.driver.submit_view(
        bot.slack_id("fay"), view, {"reject.reason": {"reject.reason_input": "Net 90 is too slow."}}
    )
    await bot.settle()

    assert sub.ref == f"{quote_id}#1"
    told = [a for a in _posts_to(bot, "ava") if "was rejected" in str(a.get("text"))]
    assert len(told) == 1 and told[0].get("reply_broadcast") is True, told


async def test_groups_are_worded_by_their_mode_and_the_wording_follows_the_votes(bot: Bot) -> None:
    quote_id = await submit_deal(bot)

    status = (await bot.deal("ava", f"status {quote_id}")).json()["text"]
    assert "Fay Fin and Fio Fin (both must approve) (finance-terms)" in status, status
    assert "2 more of Lou Able, Lia Bell or Lee Cole (legal-terms)" in status, status
    assert "Fay Fin or Fio Fin" not in status

    await bot.approve("fay", f"{quote_id}#1/finance-terms")
    await bot.approve("lb", f"{quote_id}#1/legal-terms")

    status = (await bot.deal("ava", f"status {quote_id}")).json()["text"]
    assert "waiting on Max Müller (manager-discount)" in status
    assert "Fio Fin (finance-terms)" in status, status
    assert "1 more of Lou Able or Lee Cole (legal-terms)" in status, status
    fio = bot.request("fio", f"{quote_id}#1/finance-terms")
    meta = fio.blocks[-1]["elements"][0]["text"]
    assert "both of Fay Fin, Fio Fin (Fay Fin approved; waiting on Fio Fin)" in meta, meta
    la = bot.request("la", f"{quote_id}#1/legal-terms")
    assert (
        "2 of 3: Lou Able, Lia Bell, Lee Cole (Lia Bell approved; 1 more needed)"
        in la.blocks[-1]["elements"][0]["text"]
    )


async def test_app_home_is_republished_for_everyone_whose_pending_list_a_decision_changed(bot: Bot) -> None:
    quote_id = await submit_deal(bot)
    ref = f"{quote_id}#1/legal-terms"
    await bot.driver.app_home_opened(bot.slack_id("la"))
    await bot.slack.wait_for("views.publish", lambda c: c.args.get("user_id") == bot.slack_id("la"))
    assert "legal-terms" in str(bot.slack.home_view(bot.slack_id("la"))["blocks"])

    await bot.approve("lb", ref)
    await bot.approve("lc", ref)

    home = str(bot.slack.home_view(bot.slack_id("la"))["blocks"])
    assert "Waiting on you (0)" in home, "Lou's Home no longer offers the request the quorum settled"
    ava = str(bot.slack.home_view(bot.slack_id("ava"))["blocks"])
    assert "Your quotes" in ava and quote_id in ava, "the rep's Home follows the quote too"


async def test_start_up_logs_no_misleading_bolt_warning_about_the_bot_token(
    caplog: pytest.LogCaptureFixture, bot: Bot
) -> None:
    said = [r.getMessage() for r in caplog.get_records("setup")]
    assert bot.runtime is not None
    assert not [m for m in said if "SLACK_BOT_TOKEN" in m or "`token` will be unused" in m], said
