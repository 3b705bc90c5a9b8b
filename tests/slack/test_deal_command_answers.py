"""`/deal` over real HTTP: help, status and preview answer ephemerally; every malformed text gets
what was wrong and the usage, and changes nothing."""

from __future__ import annotations

import pytest

from bot.commands import USAGE

from .conftest import STRANGER, Bot

MALFORMED = {
    "unknown subcommand": ("frobnicate Q-1042", None),
    "submit without a quote": ("submit", "submit"),
    "submit with two quotes": ("submit Q-1042 Q-1077", "submit"),
    "submit naming a person": ("submit <@U05AB3R8AEN|ava>", "submit"),
    "quote id too long": ("preview Q-" + "9" * 70, "preview"),
    "status without a quote": ("status", "status"),
    "recall without a quote": ("recall", "recall"),
    "orders with two quotes": ("orders Q-1042 Q-1077", "orders"),
    "ooo cancel without a number": ("ooo cancel", "ooo"),
    "ooo with one date": ("ooo 2026-11-02", "ooo"),
    "ooo without a delegate": ("ooo 2026-11-02 2026-11-06", "ooo"),
    "ooo with a slashed date": ("ooo 02/11/2026 2026-11-06 <@U05BO4F2AEN|ben>", "ooo"),
    "ooo with no such day": ("ooo 2026-02-30 2026-03-02 <@U05BO4F2AEN|ben>", "ooo"),
    "ooo ending before it starts": ("ooo 2026-11-06 2026-11-02 <@U05BO4F2AEN|ben>", "ooo"),
    "ooo delegate not a person": ("ooo 2026-11-02 2026-11-06 ben", "ooo"),
    "ooo with a fourth word": ("ooo 2026-11-02 2026-11-06 <@U05BO4F2AEN|ben> please", "ooo"),
    "ooo off with more": ("ooo off tomorrow", "ooo"),
    "delegate missing the end": ("delegate <@U03MB2N7RGM|marco> <@U05BO4F2AEN|ben> 2026-11-02", "delegate"),
    "delegate to themselves": (
        "delegate <@U03MB2N7RGM|marco> <@U03MB2N7RGM|marco> 2026-11-02 2026-11-03",
        "delegate",
    ),
    "replace with one person": ("replace <@U03FG2C7CTL|fiona>", "replace"),
    "replace with themselves": ("replace <@U03FG2C7CTL|fiona> <@U03FG2C7CTL|fiona>", "replace"),
    "replace with words": ("replace fiona felix", "replace"),
    "approvers with an argument": ("approvers all", "approvers"),
    "account without an id": ("account", "account"),
    "account with a date for an id": ("account 2026-11-02", "account"),
    "account with too much": ("account A-77 2026-11-02 2026-11-03", "account"),
    "account with a bad date": ("account A-77 yesterday", "account"),
    "help about nothing known": ("help frobnicate", None),
    "escaped angle brackets": ("submit &lt;Q-1042&gt; now", "submit"),
}


@pytest.mark.parametrize(("text", "subcommand"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_deal_text_gets_its_usage_and_changes_nothing(
    bot: Bot, text: str, subcommand: str | None
) -> None:
    await bot.receive("q1042-v1.json")

    answer = (await bot.deal("dana", text)).json()

    assert answer["response_type"] == "ephemeral"
    assert "Usage:" in answer["text"]
    shown = str(answer["blocks"])
    for usage in [USAGE[subcommand]] if subcommand else USAGE.values():
        assert usage.split(" · ")[0] in shown, usage
    assert [e.kind for e in await bot.runtime.service.audit("Q-1042")] == ["quote_received"]
    assert await bot.runtime.service.latest("Q-1042") is None
    assert bot.slack.ephemerals(bot.slack_id("dana"))[-1].text == answer["text"]


@pytest.mark.parametrize("text", ["help", "", "   "])
async def test_deal_help_lists_every_subcommand(bot: Bot, text: str) -> None:
    answer = (await bot.deal("ava", text)).json()

    assert answer["response_type"] == "ephemeral"
    assert answer["text"].startswith("Greenlight /deal commands")
    shown = str(answer["blocks"])
    for usage in USAGE.values():
        for part in usage.split(" · "):
            assert part.split(" [")[0] in shown, part


async def test_deal_help_about_one_subcommand(bot: Bot) -> None:
    answer = (await bot.deal("ava", "help ooo")).json()

    assert answer["text"] == f"Usage: {USAGE['ooo']}"


async def test_deal_status_shows_who_holds_the_quote(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.approve("marco", "Q-1042#1/manager-discount")
    await bot.approve("fiona", "Q-1042#1/payment-terms")

    answer = (await bot.deal("ava", "status Q-1042")).json()

    text = answer["text"]
    assert text.startswith("Q-1042 v1 is pending: waiting on Sam Adeyemi (services-discount)"), text
    assert "Carl Jensen (payment-terms)" in text, "Fiona voted: only Carl holds it"
    shown = str(answer["blocks"])
    assert "Waiting on" in shown and "Done" in shown and "Next" in shown
    assert "approved by Marco Bellini" in shown
    assert "Fiona Gallagher voted to approve" in shown


@pytest.mark.parametrize(("who", "allowed"), [("marco", True), ("dana", True), ("hank", False)])
async def test_deal_status_is_for_the_owner_its_approvers_and_admins(bot: Bot, who: str, allowed: bool) -> None:
    await bot.submit("q1042-v1.json")

    text = (await bot.deal(who, "status Q-1042")).json()["text"]

    assert text.startswith("Q-1042 v1 is pending") is allowed, text
    if not allowed:
        assert "/deal status is for the quote's owner, its approvers or an admin" in text


async def test_deal_status_of_an_unknown_quote_says_so(bot: Bot) -> None:
    text = (await bot.deal("ava", "status Q-9999")).json()["text"]

    assert "Greenlight has no quote Q-9999" in text


async def test_deal_preview_lists_the_approvals_a_submission_would_need(bot: Bot) -> None:
    await bot.receive("q1042-v1.json")

    answer = (await bot.deal("ava", "preview Q-1042")).json()

    assert answer["text"] == "Preview of Q-1042 v1 (Meridian Freight Lines). Needs 6 approvals in 3 chains."
    shown = str(answer["blocks"])
    for rule in (
        "manager-discount",
        "services-discount",
        "vp-deep-discount",
        "payment-terms",
        "rev-rec-multi-year",
        "legal-custom-terms",
    ):
        assert rule in shown
    assert "2 of 3: Lena Vogel, Leo Fitzgerald, Luis Ortega" in shown
    assert await bot.runtime.service.latest("Q-1042") is None, "a preview submits nothing"
    assert bot.slack.calls("chat.postMessage") == []


@pytest.mark.parametrize(("who", "allowed"), [("dana", True), ("marco", False)])
async def test_deal_preview_is_for_the_owner_and_admins(bot: Bot, who: str, allowed: bool) -> None:
    await bot.receive("q1042-v1.json")

    text = (await bot.deal(who, "preview Q-1042")).json()["text"]

    assert text.startswith("Preview of Q-1042") is allowed, text


async def test_deal_submit_answers_with_what_was_requested(bot: Bot) -> None:
    await bot.receive("q1042-v1.json")

    text = (await bot.deal("ava", "submit Q-1042")).json()["text"]

    assert text == "Submitted Q-1042 v1 (Meridian Freight Lines) as Q-1042#1. Needs 6 approvals in 3 chains."


async def test_deal_approvers_shows_every_definition_to_an_admin(bot: Bot) -> None:
    answer = (await bot.deal("dev", "approvers")).json()

    assert answer["text"].startswith("10 approver definitions")
    assert "finance-review" in str(answer["blocks"])


async def test_someone_outside_the_directory_is_told_so_and_submits_nothing(bot: Bot) -> None:
    await bot.receive("q1042-v1.json")

    answer = await bot.driver.command(STRANGER, "/deal", "submit Q-1042")

    assert answer.status == 200
    assert answer.json()["text"].startswith("You are not in Greenlight's directory")
    assert await bot.runtime.service.latest("Q-1042") is None


async def test_an_account_is_read_by_an_admin_and_refused_to_someone_outside_the_directory(bot: Bot) -> None:
    """Issue 13: accounts are no longer open to anyone in the workspace (domain.permissions)."""
    answer = await bot.driver.command(bot.slack_id("dana"), "/deal", "account A-2301 2027-01-15")

    assert answer.status == 200
    assert answer.json()["text"] == "A-2301 has no contract with Greenlight yet."

    refused = await bot.driver.command(STRANGER, "/deal", "account A-2301 2027-01-15")
    assert "A-2301 has no contract" not in str(refused.json())
