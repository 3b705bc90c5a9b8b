"""App Home pages "Waiting on you" ten submissions at a time: Previous / Next buttons, "Page 2 of 3",
the page each person turned to remembered by the process, and a page that no longer exists (its
requests were decided) shown as the last one."""

from __future__ import annotations

from typing import Any

from .conftest import Bot, action_ids
from .test_app_home_shows_what_waits_on_you import open_home, text_of

RULE = "manager-discount"


async def waiting_on_marco(bot: Bot, count: int) -> list[str]:
    """`count` quotes (copies of Q-1042 under other ids), each waiting on Marco's manager-discount."""
    ids = [f"Q-{2001 + n}" for n in range(count)]
    for quote_id in ids:
        await bot.receive("q1042-v1.json", id=quote_id)
        await bot.runtime.service.submit(quote_id, "ava", bot.runtime.clock())
    return ids


def quotes_shown(view: dict[str, Any]) -> list[str]:
    refs = [b["value"] for b in buttons(view) if b["action_id"].startswith("approval.approve:")]
    return [ref.split("#", 1)[0] for ref in refs]


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def turn(bot: Bot, action_id: str, view: dict[str, Any], then: str) -> dict[str, Any]:
    """Marco clicks a page button of his Home; his Home once republished showing `then`."""
    marco = bot.slack_id("marco")

    def showing(call: Any) -> bool:
        return bool(call.args.get("user_id") == marco and then in str(call.args.get("view")))

    before = len([c for c in bot.slack.calls("views.publish") if showing(c)])
    answer = await bot.driver.click(marco, action_id, view=view)
    assert answer.status == 200
    call = await bot.slack.wait_for("views.publish", showing, count=before + 1)
    assert call.ok, call.response
    home = bot.slack.home_view(marco)
    assert home is not None
    return home


async def test_next_and_previous_turn_the_pages_of_what_waits_on_you(bot: Bot) -> None:
    ids = await waiting_on_marco(bot, 23)

    first = await open_home(bot, "marco")

    assert "Waiting on you (23)" in text_of(first) and "Page 1 of 3" in text_of(first)
    assert quotes_shown(first) == ids[:10]
    assert "home.page_next" in action_ids(first) and "home.page_previous" not in action_ids(first)

    second = await turn(bot, "home.page_next", first, "Page 2 of 3")

    assert quotes_shown(second) == ids[10:20]
    assert {"home.page_previous", "home.page_next"} <= set(action_ids(second))

    third = await turn(bot, "home.page_next", second, "Page 3 of 3")

    assert quotes_shown(third) == ids[20:]
    assert "home.page_next" not in action_ids(third)

    back = await turn(bot, "home.page_previous", third, "Page 2 of 3")

    assert quotes_shown(back) == ids[10:20]


async def test_the_page_is_remembered_and_a_page_gone_shows_the_last(bot: Bot) -> None:
    ids = await waiting_on_marco(bot, 23)
    first = await open_home(bot, "marco")
    second = await turn(bot, "home.page_next", first, "Page 2 of 3")
    await turn(bot, "home.page_next", second, "Page 3 of 3")
    for quote_id in ids[:5]:
        await bot.runtime.service.decide(quote_id, RULE, "marco", "approve", bot.runtime.clock())

    again = await open_home(bot, "marco")

    assert "Waiting on you (18)" in text_of(again) and "Page 2 of 2" in text_of(again)
    assert quotes_shown(again) == ids[15:]
    assert "home.page_next" not in action_ids(again) and "home.page_previous" in action_ids(again)
    luis = await open_home(bot, "luis")
    assert "Waiting on you (23)" in text_of(luis) and "Page 1 of 3" in text_of(luis), "a page is each person's own"


async def test_a_request_decided_from_a_later_page_republishes_that_page(bot: Bot) -> None:
    ids = await waiting_on_marco(bot, 12)
    first = await open_home(bot, "marco")
    second = await turn(bot, "home.page_next", first, "Page 2 of 2")
    assert quotes_shown(second) == ids[10:]

    answer = await bot.driver.click(bot.slack_id("marco"), "approval.approve:0", view=second)

    assert answer.status == 200
    latest = await bot.runtime.service.latest(ids[10])
    assert latest is not None and latest.approval(RULE).status == "approved"
    marco = bot.slack_id("marco")
    await bot.slack.wait_for(
        "views.publish",
        lambda c: c.args.get("user_id") == marco and "Waiting on you (11)" in str(c.args.get("view")),
    )
    await bot.settle()  # the outbox worker republishes Homes too: on the page each reader is on
    home = bot.slack.home_view(marco)
    assert home is not None
    assert "Page 2 of 2" in text_of(home) and quotes_shown(home) == ids[11:]
