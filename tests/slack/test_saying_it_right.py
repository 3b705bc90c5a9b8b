"""Saying it right: names instead of raw mentions and keys, one period after a reason, no
"yes = yes", a suggestion for a quote id typed in the wrong case, and a reason when a
`field:` approver points at nobody and the fallback takes the request."""

from __future__ import annotations

from .conftest import Bot

REF = "Q-1042#1"


async def test_a_quote_id_in_the_wrong_case_gets_a_suggestion_and_changes_nothing(bot: Bot) -> None:
    await bot.receive("q1042-v1.json")

    text = (await bot.deal("ava", "submit q-1042")).json()["text"]

    assert "Greenlight has no quote q-1042; did you mean Q-1042?" in text, text
    assert "`/deal submit Q-1042`" in text
    assert await bot.runtime.service.latest("Q-1042") is None


async def test_someone_outside_the_directory_is_named_as_typed_not_as_a_raw_mention(bot: Bot) -> None:
    named = (await bot.deal("dana", "replace <@U0ZED|zed> <@U05BO4F2AEN|ben>")).json()["text"]
    bare = (await bot.deal("dana", "replace <@U0ZED> <@U05BO4F2AEN|ben>")).json()["text"]

    assert named.startswith("@zed (Slack id U0ZED) is not in Greenlight's directory"), named
    assert bare.startswith("The person with Slack id U0ZED is not in Greenlight's directory"), bare
    assert "<@U0ZED" not in named + bare and "&lt;@U0ZED" not in named + bare


async def test_reassigning_to_someone_already_asked_names_them(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.click("lena", "approval.reassign", bot.request("lena", f"{REF}/legal-custom-terms"))
    await bot.slack.wait_for("views.open")
    [modal] = bot.slack.open_views(bot.slack_id("lena"))

    answer = await bot.driver.submit_view(
        bot.slack_id("lena"), modal, {"reassign.to": {"reassign.to_user": bot.slack_id("leo")}}
    )

    error = answer.json()["errors"]["reassign.to"]
    assert "Leo Fitzgerald is already an assignee of legal-custom-terms" in error, error


async def test_a_true_condition_reads_as_a_fact_not_as_yes_equals_yes(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    lena = str(bot.request("lena", f"{REF}/legal-custom-terms").blocks)

    assert "custom terms: yes" in lena
    assert "yes = yes" not in lena


async def test_a_reason_ending_with_a_period_gets_no_second_one(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.click("marco", "approval.reject", bot.request("marco", f"{REF}/manager-discount"))
    await bot.slack.wait_for("views.open")
    [modal] = bot.slack.open_views(bot.slack_id("marco"))
    await bot.driver.submit_view(
        bot.slack_id("marco"), modal, {"reject.reason": {"reject.reason_input": "Too deep for a 3-year term."}}
    )
    await bot.settle()

    status = (await bot.deal("ava", "status Q-1042")).json()["text"]

    assert status.endswith("Too deep for a 3-year term."), status
    assert ".." not in status
    assert not any(".." in m.text for m in bot.dm("ava"))


async def test_a_field_approver_pointing_at_nobody_says_why_the_fallback_has_it(bot: Bot) -> None:
    # Omar has no manager in the example policy: `owner.manager` points at nobody
    quote_id = await bot.receive("q1042-v1.json", owner="omar")
    await bot.deal("omar", f"submit {quote_id}")
    await bot.settle()

    dana = bot.request("dana", f"{REF}/manager-discount")
    meta = dana.blocks[-1]["elements"][0]["text"]
    assert "fallback approver: owner.manager points at nobody on this quote" in meta, meta
