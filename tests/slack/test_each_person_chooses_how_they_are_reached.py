"""`/deal notify slack|email|both`: each person chooses how Greenlight reaches them; requests and
the rep's outcome follow the choice; a choice they cannot have is refused with a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Bot
from .kit17 import submit_deal, write_policy


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write_policy(tmp_path)


async def emails(bot: Bot) -> list[tuple[str, str, str | None]]:
    return [(r.payload["kind"], r.payload["person"], r.payload.get("rule")) for r in await bot.outbox("email")]


async def test_requests_follow_each_persons_choice(bot: Bot) -> None:
    assert "Greenlight reaches you in Slack." in (await bot.deal("vera", "notify")).json()["text"]
    assert "by email" in (await bot.deal("vera", "notify email")).json()["text"]
    assert "in Slack and by email" in (await bot.deal("max", "notify both")).json()["text"]

    quote_id = await submit_deal(bot)

    sent = await emails(bot)
    assert ("request", "vera", "vp-discount") in sent
    assert ("request", "max", "manager-discount") in sent
    assert bot.request_posts(f"{quote_id}#1/vp-discount", "vera") == [], "Vera chose email only"
    assert len(bot.request_posts(f"{quote_id}#1/manager-discount", "max")) == 1, "Max chose both"
    assert not [e for e in sent if e[1] == "fay"], "Fay kept Slack"


async def test_the_rep_who_chose_email_gets_the_outcome_by_email(bot: Bot) -> None:
    await bot.deal("ava", "notify email")
    quote_id = await submit_deal(bot)
    view_ref = f"{quote_id}#1/finance-terms"
    await bot.click("fay", "approval.reject", bot.request("fay", view_ref))
    await bot.slack.wait_for("views.open")
    (view,) = bot.slack.open_views(bot.slack_id("fay"))
    await bot.driver.submit_view(bot.slack_id("fay"), view, {"reject.reason": {"reject.reason_input": "Net 90, no."}})
    await bot.settle()

    assert ("decision", "ava", None) in await emails(bot)
    assert not [m for m in bot.dm("ava") if m.thread_ts and "was rejected" in m.text], "no Slack reply for it"


@pytest.mark.parametrize(
    ("person", "text", "said"),
    [
        ("fay", "notify email", "You have no email address in Greenlight's directory"),
        ("vera", "notify pigeon", "`pigeon` is not a way to be reached: choose slack, email or both."),
        ("vera", "notify email slack", "is not a way to be reached"),
    ],
)
async def test_a_choice_that_cannot_be_had_is_refused_and_changes_nothing(
    bot: Bot, person: str, text: str, said: str
) -> None:
    answer = (await bot.deal(person, text)).json()["text"]

    assert said in answer, answer
    assert "Greenlight reaches you in Slack." in (await bot.deal(person, "notify")).json()["text"]


async def test_delivery_outside_a_batch_reads_the_choice_as_it_is_stored(bot: Bot) -> None:
    await bot.deal("vera", "notify email")
    delivery = bot.runtime.delivery  # a batch reads every choice at once; a lone delivery asks the store

    assert await delivery._notify_of("vera") == "email"
    assert await delivery._notify_of("fay") == "slack"
