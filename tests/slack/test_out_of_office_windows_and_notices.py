"""Out of office that behaves, and nobody left untold: each person a delegation or replacement
concerns gets one notice with the dates; own windows are listed, replaced or cancelled
explicitly; past, overlong and overlapping windows are refused with a sentence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from store.models import DelegationRow

from .conftest import Bot
from .kit17 import mention, submit_deal, write_policy


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write_policy(tmp_path)


def notices(bot: Bot, person: str) -> list[str]:
    return [m.text for m in bot.dm(person) if any(b.get("block_id") == "notice.text" for b in m.blocks)]


async def windows(bot: Bot) -> list[tuple[str, str, str, str]]:
    rows = await DelegationRow.all().order_by("id")
    return [(r.delegator, r.delegate, str(r.start), str(r.end)) for r in rows]


async def test_the_delegate_is_told_once_with_the_dates(bot: Bot) -> None:
    answer = await bot.deal("max", f"ooo 2026-11-09 2026-11-13 {mention(bot, 'ben')}")
    assert "Ben Okafor decides for you and has been told" in answer.json()["text"]
    await bot.settle()
    await bot.settle()

    assert notices(bot, "ben") == [
        "Max Müller is out of office from 9 Nov 2026 to 13 Nov 2026: you decide their Greenlight approvals"
        " meanwhile. Their requests come to you here."
    ]
    assert notices(bot, "max") == [], "Max set it himself"


async def test_an_admin_marking_someone_away_tells_both_the_person_and_the_delegate(bot: Bot) -> None:
    await bot.deal("dana", f"delegate {mention(bot, 'max')} {mention(bot, 'ben')} 2026-11-09 2026-11-13")
    await bot.settle()

    assert notices(bot, "max") == [
        "Dana Whitfield marked you out of office from 9 Nov 2026 to 13 Nov 2026: Ben Okafor decides your"
        " Greenlight approvals meanwhile."
    ]
    assert "(Dana Whitfield set this)" in notices(bot, "ben")[0]


async def test_a_replaced_approver_and_the_replacement_are_told(bot: Bot) -> None:
    await submit_deal(bot)

    answer = await bot.deal("dana", f"replace {mention(bot, 'max')} {mention(bot, 'ben')}")
    assert "Ben Okafor now stands wherever Max Müller did; 1 open request(s) moved." in answer.json()["text"]
    await bot.settle()

    assert notices(bot, "max") == [
        "Dana Whitfield replaced you with Ben Okafor as a Greenlight approver: 1 open request moved to them, and new"
        " ones go to them."
    ]
    assert notices(bot, "ben") == [
        "Dana Whitfield made you a Greenlight approver in place of Max Müller: 1 open request moved to you, and new"
        " ones come to you."
    ]
    audit = [e for e in await bot.runtime.service.audit("") if e.kind == "replacement_set"]
    assert [(e.actor, e.detail["old"], e.detail["new"]) for e in audit] == [("dana", "max", "ben")]


async def test_someone_without_slack_is_told_by_email(bot: Bot) -> None:
    await bot.deal("max", f"ooo 2026-11-09 2026-11-13 {mention(bot, 'ben')}")
    await bot.runtime.service.delegate("vera", "noah", dt.date(2026, 11, 9), dt.date(2026, 11, 10), "vera", bot.clock())
    await bot.settle()

    emails = [row.payload for row in await bot.outbox("email")]
    assert [(e["person"], e["detail"]) for e in emails] == [
        (
            "noah@example.com",
            "Vera Lindqvist is out of office from 9 Nov 2026 to 10 Nov 2026: you decide their Greenlight approvals"
            " meanwhile. Their requests come to you here.",
        )
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("ooo 2026-10-01 2026-10-05 {ben}", "The window 2026-10-01 to 2026-10-05 is in the past (today is 2026-11-02)"),
        ("ooo 2026-11-09 2027-11-08 {ben}", "The window is 365 days long; the policy allows at most 60"),
        ("ooo 2026-11-09 2026-11-13 {max}", "You cannot be your own delegate"),
    ],
    ids=["past", "a year long", "self"],
)
async def test_windows_that_make_no_sense_are_refused_with_a_sentence_and_nothing_is_stored(
    bot: Bot, text: str, said: str
) -> None:
    answer = await bot.deal("max", text.format(ben=mention(bot, "ben"), max=mention(bot, "max")))

    assert said in answer.json()["text"], answer.json()["text"]
    assert await windows(bot) == []
    await bot.settle()
    assert notices(bot, "ben") == []


async def test_an_overlapping_window_is_refused_and_says_how_to_replace_the_other(bot: Bot) -> None:
    await bot.deal("max", f"ooo 2026-11-09 2026-11-13 {mention(bot, 'ben')}")
    (first,) = await DelegationRow.all()

    answer = await bot.deal("max", f"ooo 2026-11-12 2026-11-20 {mention(bot, 'vera')}")

    text = answer.json()["text"]
    assert f"It overlaps the window 2026-11-09 to 2026-11-13 (#{first.id}, Ben Okafor decides)" in text, text
    assert f"/deal ooo replace {first.id} 2026-11-12 2026-11-20 @delegate" in text
    assert len(await windows(bot)) == 1


async def test_own_windows_are_listed_replaced_and_cancelled_and_each_delegate_is_told(bot: Bot) -> None:
    await bot.deal("max", f"ooo 2026-11-09 2026-11-13 {mention(bot, 'ben')}")
    await bot.deal("max", f"ooo 2026-12-21 2026-12-31 {mention(bot, 'vera')}")
    first, second = await DelegationRow.all().order_by("id")

    listed = (await bot.deal("max", "ooo")).json()["text"]
    assert "You have 2 out-of-office windows." in listed

    replaced = await bot.deal("max", f"ooo replace {first.id} 2026-11-10 2026-11-12 {mention(bot, 'dana')}")
    assert f"Window #{first.id} replaced" in replaced.json()["text"]
    cancelled = await bot.deal("max", f"ooo cancel {second.id}")
    assert f"Window #{second.id} (21 Dec 2026 to 31 Dec 2026, Vera Lindqvist) is cancelled" in cancelled.json()["text"]
    await bot.settle()

    assert await windows(bot) == [("max", "dana", "2026-11-10", "2026-11-12")]
    assert (
        notices(bot, "ben")[-1]
        == "Max Müller's out-of-office from 9 Nov 2026 to 13 Nov 2026 was cancelled: you no longer decide for them."
    )
    assert "from 10 Nov 2026 to 12 Nov 2026" in notices(bot, "dana")[0]
    assert notices(bot, "vera")[-1].startswith(
        "Max Müller's out-of-office from 21 Dec 2026 to 31 Dec 2026 was cancelled"
    )
    nothing = (await bot.deal("max", "ooo cancel 999")).json()["text"]
    assert "There is no window #999 of yours to cancel" in nothing


async def test_app_home_shows_every_window(bot: Bot) -> None:
    await bot.deal("max", f"ooo 2026-11-09 2026-11-13 {mention(bot, 'ben')}")
    await bot.deal("max", f"ooo 2026-12-21 2026-12-31 {mention(bot, 'vera')}")

    await bot.driver.app_home_opened(bot.slack_id("max"))
    await bot.slack.wait_for("views.publish")

    home = bot.slack.home_view(bot.slack_id("max"))
    status = next(b for b in home["blocks"] if b.get("block_id") == "home.ooo.status")["text"]["text"]
    assert "You have 2 out-of-office windows" in status
    assert "9 Nov 2026 to 13 Nov 2026: Ben Okafor decides" in status
    assert "21 Dec 2026 to 31 Dec 2026: Vera Lindqvist decides" in status


async def open_ooo_modal(bot: Bot, person: str) -> dict:
    user = bot.slack_id(person)
    published = len([c for c in bot.slack.calls("views.publish") if c.args.get("user_id") == user])
    opened = len(bot.slack.calls("views.open"))
    await bot.driver.app_home_opened(user)
    await bot.slack.wait_for("views.publish", lambda c: c.args.get("user_id") == user, count=published + 1)
    await bot.driver.click(user, "home.ooo", view=bot.slack.home_view(user))
    await bot.slack.wait_for("views.open", count=opened + 1)
    return bot.slack.open_views(user)[-1]


async def test_choosing_oneself_as_delegate_in_the_home_modal_is_said_under_the_delegate_field(bot: Bot) -> None:
    modal = await open_ooo_modal(bot, "max")

    answer = await bot.driver.submit_view(
        bot.slack_id("max"),
        modal,
        {
            "ooo.start": {"ooo.start_date": "2026-11-09"},
            "ooo.end": {"ooo.end_date": "2026-11-13"},
            "ooo.delegate": {"ooo.delegate_user": bot.slack_id("max")},
        },
    )

    errors = answer.json()["errors"]
    assert set(errors) == {"ooo.delegate"}, errors
    assert errors["ooo.delegate"].startswith("You cannot be your own delegate"), "a sentence, capitalised"
    assert await windows(bot) == []


async def test_change_in_home_replaces_the_window_and_an_added_overlap_is_refused_in_the_modal(bot: Bot) -> None:
    await bot.deal("max", f"ooo 2026-11-05 2026-11-06 {mention(bot, 'ben')}")
    change = await open_ooo_modal(bot, "max")
    answer = await bot.driver.submit_view(
        bot.slack_id("max"),
        change,
        {
            "ooo.start": {"ooo.start_date": "2026-11-09"},
            "ooo.end": {"ooo.end_date": "2026-11-13"},
            "ooo.delegate": {"ooo.delegate_user": bot.slack_id("ben")},
        },
    )
    assert answer.status == 200 and not answer.body, answer.body
    assert await windows(bot) == [("max", "ben", "2026-11-09", "2026-11-13")], "Change replaced the window"
    await bot.deal("max", f"ooo 2026-12-01 2026-12-02 {mention(bot, 'ben')}")
    modal = await open_ooo_modal(bot, "max")  # two windows: the button adds one

    answer = await bot.driver.submit_view(
        bot.slack_id("max"),
        modal,
        {
            "ooo.start": {"ooo.start_date": "2026-11-12"},
            "ooo.end": {"ooo.end_date": "2026-11-20"},
            "ooo.delegate": {"ooo.delegate_user": bot.slack_id("vera")},
        },
    )

    errors = answer.json()["errors"]
    assert "It overlaps the window 2026-11-09 to 2026-11-13" in errors["ooo.end"], errors
    assert len(await windows(bot)) == 2
