"""A quote submitted with /deal reaches its approvers as DMs, and a tap on Approve decides."""

from __future__ import annotations

from .conftest import Bot


def request_in(bot: Bot, person: str, rule: str):
    for message in bot.slack.dm_history(bot.slack_id(person)):
        for block in message.blocks:
            for element in block.get("elements", []) or []:
                if element.get("action_id", "").startswith("approval.approve") and element.get("value", "").endswith(
                    f"/{rule}"
                ):
                    return message
    return None


async def test_submitted_quote_reaches_its_approvers_and_one_tap_approves(bot: Bot) -> None:
    await bot.receive("q1042-v1.json")
    answer = await bot.driver.command(bot.slack_id("ava"), "/deal", "submit Q-1042")
    assert answer.status == 200, answer.body
    await bot.settle()
    message = request_in(bot, "marco", "manager-discount")
    assert message is not None, bot.slack.dm_history(bot.slack_id("marco"))
    assert message.text.startswith("Approval needed")
    click = await bot.driver.click(bot.slack_id("marco"), "approval.approve", message=message)
    assert click.status == 200, click.body
    sub = await bot.runtime.service.latest("Q-1042")
    assert sub.approval("manager-discount").status == "approved"
    await bot.settle()
    updated = bot.slack.message(message.channel, message.ts)
    assert not any(b.get("type") == "actions" for b in updated.blocks)
