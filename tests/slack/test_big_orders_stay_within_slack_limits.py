"""A 400-line order (and a quote of 30 orders) is shown and split from Slack within Slack's limits:
each text under 3,000 characters, at most 50 blocks, at most 100 options in a select. The order is
summarised (its first lines, a count, a Lines button paging through all of them), the orders are
paged, and the split modal groups consecutive lines when there are more than 100."""

from __future__ import annotations

import json
from typing import Any

from domain.orders import PlannedOrder
from domain.quote import parse_quote
from sandbox.slack_api import RESPONSE_URL, Ephemeral

from .conftest import Bot, action_ids, quote_data

QUOTE = "Q-4400"


def big_quote(lines: int, dates: int = 1) -> dict[str, Any]:
    data = quote_data("q1001-v1.json")
    data["id"] = QUOTE
    data["lines"] = [
        {
            "id": f"L{i:04d}",
            "sku": f"HW-PART-{i:04d}",
            "family": "Accessories",
            "quantity": 2,
            "list_price": 10,
            "net_price": 10,
            "net_total": 20,
            "list_total": 20,
            "recurring": False,
            "delivery_date": f"2027-01-{1 + i % dates:02d}",
        }
        for i in range(1, lines + 1)
    ]
    data.update(net_total=20 * lines, list_total=20 * lines, discount_percent=0)
    return data


async def generated(bot: Bot, data: dict[str, Any]) -> list[PlannedOrder]:
    await bot.runtime.service.receive_quote(parse_quote(data), bot.runtime.clock())
    await bot.deal("ava", f"submit {QUOTE}")
    await bot.settle()
    return await bot.runtime.orders.generate(QUOTE, "ava", bot.runtime.clock())


def within_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= 50
    texts = [b["text"]["text"] for b in blocks if b.get("type") == "section" and "text" in b]
    assert all(len(t) <= 3000 for t in texts)
    for block in blocks:
        element = block.get("element") or {}
        assert len(element.get("options") or []) <= 100


async def orders_message(bot: Bot) -> Ephemeral:
    await bot.deal("ava", f"orders {QUOTE}")
    return bot.slack.ephemerals(bot.slack_id("ava"))[-1]


async def test_a_400_line_order_is_summarised_and_its_lines_paged_in_a_modal(bot: Bot) -> None:
    await generated(bot, big_quote(400))
    message = await orders_message(bot)

    within_limits(message.blocks)
    summary = json.dumps(message.blocks, ensure_ascii=False)
    assert "L0001×2" in summary and "392 more lines (400 in all" in summary
    assert "L0400" not in summary

    await bot.click("ava", "orders.lines:0", message)
    await bot.slack.wait_for("views.open")
    [modal] = bot.slack.open_views(bot.slack_id("ava"))
    within_limits(modal["blocks"])
    assert "page 1 of 2" in json.dumps(modal["blocks"], ensure_ascii=False) and "L0200" in json.dumps(
        modal["blocks"], ensure_ascii=False
    )

    await bot.driver.click(bot.slack_id("ava"), "orders.lines_page:1", view=modal)
    await bot.slack.wait_for("views.update")
    [modal] = bot.slack.open_views(bot.slack_id("ava"))
    within_limits(modal["blocks"])
    assert "page 2 of 2" in json.dumps(modal["blocks"], ensure_ascii=False) and "L0400" in json.dumps(
        modal["blocks"], ensure_ascii=False
    )


async def test_a_400_line_order_is_split_from_a_modal_of_grouped_lines(bot: Bot) -> None:
    (order,) = await generated(bot, big_quote(400))
    message = await orders_message(bot)
    await bot.click("ava", "orders.split:0", message)
    await bot.slack.wait_for("views.open")
    [modal] = bot.slack.open_views(bot.slack_id("ava"))
    within_limits(modal["blocks"])
    options = modal["blocks"][0]["element"]["options"]
    assert len(options) == 100 and options[0]["text"]["text"] == "L0001 to L0004 (4 lines)"

    answer = await bot.driver.submit_view(
        bot.slack_id("ava"),
        modal,
        {
            "split.lines": {"split.lines_select": [options[0]["value"], options[99]["value"]]},
            "split.date": {"split.date_pick": "2027-02-01"},
        },
    )

    assert answer.status == 200 and not answer.body, answer.body
    kept, moved = await bot.runtime.orders.orders_of(QUOTE)
    assert moved.line_ids == ("L0001", "L0002", "L0003", "L0004", "L0397", "L0398", "L0399", "L0400")
    assert len(kept.lines) == 392 and kept.total + moved.total == order.total


async def test_thirty_orders_are_shown_twelve_to_a_page(bot: Bot) -> None:
    await generated(bot, big_quote(60, dates=30))
    message = await orders_message(bot)
    within_limits(message.blocks)
    assert "30 orders (page 1 of 3)" in message.text
    assert "orders.page:1" in action_ids({"blocks": message.blocks})

    await bot.click("ava", "orders.page:1", message)

    await bot.slack.wait_for(RESPONSE_URL, lambda c: c.ok and c.args.get("replace_original") is True)
    [shown] = [e for e in bot.slack.ephemerals(bot.slack_id("ava")) if e.ts == message.ts]
    assert "(page 2 of 3)" in shown.text and "Q-4400-13" in json.dumps(shown.blocks, ensure_ascii=False)
    within_limits(shown.blocks)
