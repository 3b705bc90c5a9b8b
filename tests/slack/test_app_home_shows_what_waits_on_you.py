"""App Home (`app_home_opened` -> views.publish): what waits on an approver, with buttons that
work; a rep's quotes; the out-of-office controls; and for admins the approvers overview."""

from __future__ import annotations

from typing import Any

from .conftest import STRANGER, Bot, action_ids


async def open_home(bot: Bot, person: str) -> dict[str, Any]:
    user = STRANGER if person == "stranger" else bot.slack_id(person)
    published = len([c for c in bot.slack.calls("views.publish") if c.args.get("user_id") == user])
    answer = await bot.driver.app_home_opened(user)
    assert answer.status == 200
    call = await bot.slack.wait_for("views.publish", lambda c: c.args.get("user_id") == user, count=1 + published)
    assert call.ok, call.response
    home = bot.slack.home_view(user)
    assert home is not None and home["type"] == "home"
    return home


def text_of(view: dict[str, Any]) -> str:
    return str(view["blocks"])


async def test_approver_sees_waiting_requests_and_approves_from_home(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    home = await open_home(bot, "marco")

    assert "Waiting on you (1)" in text_of(home)
    assert "Meridian Freight Lines" in text_of(home) and "manager-discount" in text_of(home)
    assert action_ids(home)[:5] == [
        "approval.approve:0",
        "approval.approve_comment:0",
        "approval.reject:0",
        "approval.reassign:0",
        "approval.details:0",
    ]

    answer = await bot.driver.click(bot.slack_id("marco"), "approval.approve:0", view=home)

    assert answer.status == 200
    assert (await bot.runtime.service.latest("Q-1042")).approval("manager-discount").status == "approved"
    await bot.slack.wait_for(
        "views.publish",
        lambda c: (
            c.args.get("user_id") == bot.slack_id("marco") and "Nothing is waiting on you." in str(c.args.get("view"))
        ),
    )
    assert "Nothing is waiting on you." in text_of(bot.slack.home_view(bot.slack_id("marco")))
    await bot.settle()
    assert action_ids(bot.request("marco", "Q-1042#1/manager-discount")) == [], "the DM copy is updated too"


async def test_stale_button_in_home_is_answered_and_home_refreshed(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    home = await open_home(bot, "luis")
    await bot.approve("lena", "Q-1042#1/legal-custom-terms")
    await bot.approve("leo", "Q-1042#1/legal-custom-terms")

    answer = await bot.driver.click(bot.slack_id("luis"), "approval.approve:0", view=home)

    assert answer.status == 200
    call = await bot.slack.wait_for("chat.postEphemeral")
    assert call.ok and "already approved by Leo Fitzgerald" in call.args["text"]
    await bot.slack.wait_for(
        "views.publish",
        lambda c: (
            c.args.get("user_id") == bot.slack_id("luis") and "Nothing is waiting on you." in str(c.args.get("view"))
        ),
    )
    assert "Nothing is waiting on you." in text_of(bot.slack.home_view(bot.slack_id("luis")))


async def test_details_button_in_home_opens_the_details_modal(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    home = await open_home(bot, "sam")

    await bot.driver.click(bot.slack_id("sam"), "approval.details:0", view=home)

    call = await bot.slack.wait_for("views.open")
    assert call.ok
    (modal,) = bot.slack.open_views(bot.slack_id("sam"))
    assert modal["callback_id"] == "approval.details"
    assert "commercial chain* (this request)" in str(modal["blocks"])


async def test_rep_sees_their_quotes_and_nothing_waiting(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.approve("fiona", "Q-1042#1/payment-terms")

    home = await open_home(bot, "ava")

    shown = text_of(home)
    assert "Waiting on you (0)" in shown and "Nothing is waiting on you." in shown
    assert "Your quotes" in shown and "Meridian Freight Lines" in shown and "Q-1042 v1" in shown
    assert "pending: with Marco Bellini (manager-discount)" in shown
    assert "approval.approve:0" not in action_ids(home)
    assert "home.ooo" in action_ids(home), "the out-of-office button"
    assert "Approvers (admin)" not in shown


async def test_admin_sees_the_approvers_overview(bot: Bot) -> None:
    home = await open_home(bot, "dana")

    shown = text_of(home)
    assert "Approvers (admin)" in shown
    assert "finance-review" in shown and "legal" in shown


async def test_someone_outside_the_directory_gets_an_empty_home(bot: Bot) -> None:
    home = await open_home(bot, "stranger")

    assert "Nothing is waiting on you." in text_of(home)


async def test_out_of_office_set_from_home_routes_requests_to_the_delegate(bot: Bot) -> None:
    home = await open_home(bot, "marco")
    await bot.driver.click(bot.slack_id("marco"), "home.ooo", view=home)
    await bot.slack.wait_for("views.open")
    (modal,) = bot.slack.open_views(bot.slack_id("marco"))

    answer = await bot.driver.submit_view(
        bot.slack_id("marco"),
        modal,
        {
            "ooo.start": {"ooo.start_date": "2026-11-02"},
            "ooo.end": {"ooo.end_date": "2026-11-06"},
            "ooo.delegate": {"ooo.delegate_user": bot.slack_id("ben")},
        },
    )

    assert answer.status == 200 and not answer.body
    await bot.slack.wait_for(
        "views.publish",
        lambda c: (
            c.args.get("user_id") == bot.slack_id("marco") and "Ben Okafor decides for you" in str(c.args.get("view"))
        ),
    )
    assert "Ben Okafor decides for you" in text_of(bot.slack.home_view(bot.slack_id("marco")))
    await bot.submit("q1042-v1.json")
    assert "approval.approve" in action_ids(bot.request("ben", "Q-1042#1/manager-discount"))


async def test_out_of_office_modal_refuses_a_last_day_before_the_first(bot: Bot) -> None:
    home = await open_home(bot, "marco")
    await bot.driver.click(bot.slack_id("marco"), "home.ooo", view=home)
    await bot.slack.wait_for("views.open")
    (modal,) = bot.slack.open_views(bot.slack_id("marco"))

    answer = await bot.driver.submit_view(
        bot.slack_id("marco"),
        modal,
        {
            "ooo.start": {"ooo.start_date": "2026-11-06"},
            "ooo.end": {"ooo.end_date": "2026-11-02"},
            "ooo.delegate": {"ooo.delegate_user": bot.slack_id("ben")},
        },
    )

    assert answer.json()["response_action"] == "errors"
    assert "ooo.end" in answer.json()["errors"]
