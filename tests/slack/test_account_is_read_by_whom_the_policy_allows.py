"""`/deal account` shows an account's contracts (number, status, dates, versions) and what is in force,
only to an admin, the order desk or a rep with a quote on the account; anyone else is told who may,
and learns nothing about the account."""

from __future__ import annotations

from .conftest import Bot
from .test_order_buttons_change_orders_before_release import orders_generated

ACCOUNT = "A-3016"  # Bluebird Coffee Roasters, the account of Q-1001 (owner: ava)


async def account_answer(bot: Bot, person: str) -> str:
    await bot.deal(person, f"account {ACCOUNT} 2026-12-08")
    answer = bot.slack.ephemerals(bot.slack_id(person))[-1]
    return answer.text + str(answer.blocks)


async def test_the_reps_of_the_account_and_the_admins_read_its_contract(bot: Bot) -> None:
    await orders_generated(bot)
    await bot.runtime.orders.release_due(bot.runtime.clock().replace(year=2026, month=12, day=8))

    for person in ("ava", "dana"):
        shown = await account_answer(bot, person)
        assert "C-Q-1001" in shown and "active" in shown and "v1" in shown, shown


async def test_someone_without_a_quote_on_the_account_is_refused_and_shown_nothing(bot: Bot) -> None:
    await orders_generated(bot)

    shown = await account_answer(bot, "hank")

    assert "only an admin, the order desk or the owner of one of A-3016's quotes can read its contracts" in shown
    assert "C-Q-1001" not in shown
