"""App Home shows an out-of-office with an End button (`home.ooo_off`): a tap ends the delegation
and publishes the Home again. A click in Home has no response_url: a refusal goes ephemerally to
the person's DM with the app, and their Home is published again."""

from __future__ import annotations

from typing import Any

from .conftest import STRANGER, Bot, action_ids


def mention(bot: Bot, person: str) -> str:
    return f"<@{bot.slack_id(person)}|{person}>"


async def away(bot: Bot, person: str) -> bool:
    today = bot.clock().date()
    return any(d.delegator == person and d.end >= today for d in (await bot.runtime.service.directory()).delegations)


async def home_of(bot: Bot, user: str, published: int) -> dict[str, Any]:
    await bot.slack.wait_for("views.publish", lambda c: c.ok and c.args.get("user_id") == user, count=published)
    home = bot.slack.home_view(user)
    assert home is not None
    return home


async def test_end_out_of_office_in_home_ends_the_delegation(bot: Bot) -> None:
    await bot.deal("marco", f"ooo 2026-11-02 2026-11-06 {mention(bot, 'ben')}")
    marco = bot.slack_id("marco")
    await bot.driver.app_home_opened(marco)
    home = await home_of(bot, marco, published=1)
    assert "Ben Okafor decides for you" in str(home["blocks"])
    assert await away(bot, "marco")

    answer = await bot.driver.click(marco, "home.ooo_off", view=home)

    assert answer.status == 200 and not answer.body
    assert not await away(bot, "marco")
    home = await home_of(bot, marco, published=2)
    assert "decides for you" not in str(home["blocks"])
    assert "home.ooo_off" not in action_ids(home)
    await bot.submit("q1042-v1.json")
    assert bot.request_posts("Q-1042#1/manager-discount", "ben") == [], "Ben no longer decides for Marco"


async def test_end_out_of_office_by_someone_outside_the_directory_is_refused_in_their_dm(bot: Bot) -> None:
    await bot.deal("marco", f"ooo 2026-11-02 2026-11-06 {mention(bot, 'ben')}")
    marco = bot.slack_id("marco")
    await bot.driver.app_home_opened(marco)
    marcos_home = await home_of(bot, marco, published=1)

    # the button of someone else's Home (a forged click): Slack sends it with no response_url
    answer = await bot.driver.click(STRANGER, "home.ooo_off", view=marcos_home)

    assert answer.status == 200
    await bot.slack.wait_for("chat.postEphemeral")
    [told] = bot.slack.ephemerals(STRANGER)
    assert told.text.startswith("You are not in Greenlight's directory")
    assert told.channel == bot.slack.dm_channel(STRANGER)
    assert "Nothing is waiting on you." in str((await home_of(bot, STRANGER, published=1))["blocks"])
    assert await away(bot, "marco")
