"""One person Slack refuses for good (account gone, conversation gone) must not cost the others
their DMs or updates: that person is asked by email, the rest of the event is delivered."""

from __future__ import annotations

import pytest

from sandbox.slack_api import Fault

from .conftest import Bot, action_ids

LEGAL = "Q-1042#1/legal-custom-terms"


@pytest.mark.parametrize("absent_from_slack", [{"leo"}])
async def test_approver_whose_slack_account_is_gone_is_asked_by_email_and_the_others_in_slack(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    assert "approval.approve" in action_ids(bot.request("lena", LEGAL))
    assert "approval.approve" in action_ids(bot.request("luis", LEGAL))
    emails = [(e.payload["person"], e.payload["rule"]) for e in await bot.outbox("email")]
    assert ("leo", "legal-custom-terms") in emails
    assert await bot.outbox("slack", "dead") == []


@pytest.mark.parametrize(("absent_from_slack", "smtp_url"), [({"leo"}, None)])
async def test_approver_whose_slack_account_is_gone_does_not_cost_the_others_their_dms_when_email_is_off(
    bot: Bot,
) -> None:
    await bot.submit("q1042-v1.json")

    assert "approval.approve" in action_ids(bot.request("lena", LEGAL))
    assert "approval.approve" in action_ids(bot.request("luis", LEGAL))
    assert await bot.outbox("email") == []
    assert await bot.outbox("slack", "dead") == []


async def test_copy_slack_refuses_to_update_does_not_stop_the_other_copies(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.approve("lena", LEGAL)
    bot.slack.script("chat.update", [Fault.api_error("channel_not_found")])

    await bot.approve("leo", LEGAL)

    updated = [c for c in bot.slack.calls("chat.update") if c.ok and "Approved by Leo" in str(c.args.get("text"))]
    assert len(updated) == 2, "the two other copies are updated"
    assert any("Leo Fitzgerald approved legal-custom-terms" in m.text for m in bot.thread("ava"))
