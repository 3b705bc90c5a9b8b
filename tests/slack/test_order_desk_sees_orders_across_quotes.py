"""The order desk (`/deal orders due`): orders of every quote due in a week or between two dates, by
release time, paged, with their actions; for the people the policy names as the order desk
(`orders.desk`) and the admins only; a period that is not one is answered with the usage."""

from __future__ import annotations

import json

from .conftest import Bot, action_ids
from .test_order_buttons_change_orders_before_release import FIRST, SECOND, orders_generated


async def desk(bot: Bot, person: str, period: str = "2026-12-01..2026-12-31"):
    await bot.deal(person, f"orders due {period}")
    return bot.slack.ephemerals(bot.slack_id(person))[-1]


async def test_an_admin_sees_every_order_due_in_the_period_with_its_actions(bot: Bot) -> None:
    await orders_generated(bot)

    shown = await desk(bot, "dana")

    assert shown.text == "Orders due 2026-12-01 to 2026-12-31: 2"
    blocks = json.dumps(shown.blocks, ensure_ascii=False)
    assert blocks.index(FIRST) < blocks.index(SECOND), "by release time"
    assert {"orders.hold:0", "orders.release:1", "orders.split:0"} <= set(action_ids({"blocks": shown.blocks}))


async def test_a_period_without_orders_says_so(bot: Bot) -> None:
    await orders_generated(bot)
    shown = await desk(bot, "dana", "2027-03-01..2027-03-07")
    assert shown.text == "No order is due from 2027-03-01 to 2027-03-07."


async def test_this_week_is_the_default(bot: Bot) -> None:
    await orders_generated(bot)
    shown = await desk(bot, "dana", "")
    assert shown.text == "No order is due from 2026-11-02 to 2026-11-08."  # the tests' clock: Monday 2 November


async def test_someone_who_is_not_the_order_desk_is_refused(bot: Bot) -> None:
    await orders_generated(bot)
    shown = await desk(bot, "ava")
    assert "only the order desk (orders.desk in the policy) and admins see orders across quotes" in shown.text
    assert FIRST not in json.dumps(shown.blocks)


async def test_a_period_that_is_not_one_gets_the_usage(bot: Bot) -> None:
    shown = await desk(bot, "dana", "2026-12-31..2026-12-01")
    assert "The last day 2026-12-01 is before the first day 2026-12-31." in shown.text
    assert "/deal orders due [this week | YYYY-MM-DD..YYYY-MM-DD]" in shown.text + json.dumps(shown.blocks)


async def test_app_home_shows_the_order_desk_this_weeks_orders(bot: Bot) -> None:
    await orders_generated(bot)
    bot.runtime.clock.to(bot.runtime.clock().replace(month=11, day=30))  # Monday of the week of 1 December

    await bot.driver.app_home_opened(bot.slack_id("dana"))
    await bot.slack.wait_for("views.publish")
    home = json.dumps(bot.slack.home_view(bot.slack_id("dana")), ensure_ascii=False)
    assert "Order desk: 1 due this week" in home and FIRST in home
    assert SECOND not in home, "due on Monday 7 December: next week"

    await bot.driver.app_home_opened(bot.slack_id("ava"))
    await bot.slack.wait_for("views.publish", count=2)
    assert "Order desk" not in json.dumps(bot.slack.home_view(bot.slack_id("ava")))
