"""Safe taps on orders: Cancel and Release now ask first (Slack's `confirm` dialog, naming the order
and its date), and a date in the past is refused with a sentence, never released."""

from __future__ import annotations

import datetime as dt

from sandbox.slack_api import RESPONSE_URL

from .conftest import Bot, action_ids
from .test_order_buttons_change_orders_before_release import SECOND, orders, orders_generated, orders_message


def element(blocks: list[dict], action_id: str) -> dict:
    for block in blocks:
        for item in block.get("elements") or []:
            if item.get("action_id") == action_id:
                return item
    raise LookupError(action_id)


async def test_cancel_and_release_now_ask_for_confirmation_naming_the_order_and_its_date(bot: Bot) -> None:
    await orders_generated(bot)
    message = await orders_message(bot)

    cancel = element(message.blocks, "orders.cancel:1")["confirm"]
    release = element(message.blocks, "orders.release:1")["confirm"]

    assert cancel["title"]["text"] == "Cancel this order?"
    assert f"Order {SECOND} (due 2026-12-07) will never be released" in cancel["text"]["text"]
    assert release["title"]["text"] == "Release now?"
    assert f"Order {SECOND} (due 2026-12-07) goes to the ERP at once" in release["text"]["text"]
    assert "confirm" not in element(message.blocks, "orders.hold:1"), "a hold is undone with Resume"


async def test_a_reschedule_to_a_past_date_is_refused_and_the_order_stays(bot: Bot) -> None:
    await orders_generated(bot)
    message = await orders_message(bot)
    yesterday = (bot.runtime.clock() - dt.timedelta(days=1)).date().isoformat()

    await bot.click("ava", "orders.reschedule:1", message, selected={"selected_date": yesterday})

    await bot.slack.wait_for(RESPONSE_URL, lambda c: c.ok and not c.args.get("replace_original"))
    said = [e.text for e in bot.slack.ephemerals(bot.slack_id("ava")) if e.via == RESPONSE_URL][-1]
    assert said.startswith(f"{yesterday} is in the past: order {SECOND} was not moved")
    after = (await orders(bot))[SECOND]
    assert (after.status, after.delivery_date) == ("scheduled", dt.date(2026, 12, 7))
    assert await bot.outbox("erp") == []
    assert "orders.reschedule:1" in action_ids({"blocks": message.blocks})
