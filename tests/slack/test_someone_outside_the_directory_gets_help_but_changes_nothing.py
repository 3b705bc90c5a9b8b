"""Who is acting comes from the request (the clicker, the command's user, the event's user) and
Greenlight's directory. Someone in the workspace but not in the directory gets `/deal help` like
anyone, and is refused, with the same sentence, wherever they would see or change something."""

from __future__ import annotations

from bot.commands import USAGE

from .conftest import STRANGER, Bot

NOT_IN_DIRECTORY = "You are not in Greenlight's directory: ask an admin to add your Slack id to the policy."


async def test_deal_help_answers_someone_outside_the_directory(bot: Bot) -> None:
    answer = await bot.driver.command(STRANGER, "/deal", "help")

    assert answer.status == 200
    assert answer.json()["text"].startswith("Greenlight /deal commands")
    assert USAGE["submit"] in str(answer.json()["blocks"])


async def test_details_of_a_request_are_refused_to_someone_outside_the_directory(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    answer = await bot.driver.click(
        STRANGER, "approval.details", message=bot.request("sam", "Q-1042#1/services-discount")
    )

    assert answer.status == 200
    await bot.slack.wait_for("response_url", lambda c: c.ok)
    assert [e.text for e in bot.slack.ephemerals(STRANGER)] == [NOT_IN_DIRECTORY]
    assert bot.slack.calls("views.open") == []


async def test_out_of_office_submitted_by_someone_outside_the_directory_is_refused_in_the_modal(bot: Bot) -> None:
    await bot.driver.app_home_opened(STRANGER)
    await bot.slack.wait_for("views.publish")
    await bot.driver.click(STRANGER, "home.ooo", view=bot.slack.home_view(STRANGER))
    await bot.slack.wait_for("views.open")
    [modal] = bot.slack.open_views(STRANGER)

    answer = await bot.driver.submit_view(
        STRANGER,
        modal,
        {
            "ooo.start": {"ooo.start_date": "2026-11-02"},
            "ooo.end": {"ooo.end_date": "2026-11-06"},
            "ooo.delegate": {"ooo.delegate_user": bot.slack_id("ben")},
        },
    )

    assert answer.json() == {"response_action": "errors", "errors": {"ooo.end": NOT_IN_DIRECTORY[:-1]}}
    assert (await bot.runtime.service.directory()).delegations == []
