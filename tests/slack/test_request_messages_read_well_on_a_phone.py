"""The DMs a real run sends, checked for a phone: the push text says it all, few blocks, the deal
and the reason first, buttons before the details; and quote data that looks like Slack markup
(`&`, `<`, `>`, `<!channel>`) shows as typed, never as markup."""

from __future__ import annotations

import re
from typing import Any

from sandbox.slack_api import Call, Message

from .conftest import Bot, blocks_of, values_in

REF = "Q-1042#1"
CUSTOMER = "Bolt & Nut <Freight> Co <!channel>"
ESCAPED = "Bolt &amp; Nut &lt;Freight&gt; Co &lt;!channel&gt;"
DATE_TOKEN = re.compile(r"<!date\^\d+\^[^|<>]*\|[^<>]*>")  # a moment each reader sees in their zone
MARKUP = re.compile(r"<(?![@#!]|https?://|mailto:)|(?<![\w|/])>")  # a raw < or > Slack would read as markup


def texts(blocks: Any, kinds: tuple[str, ...] = ("mrkdwn", "plain_text")) -> list[str]:
    """Every text a person reads in these blocks (mrkdwn and plain by default)."""
    found: list[str] = []
    if isinstance(blocks, dict):
        if blocks.get("type") in kinds and isinstance(blocks.get("text"), str):
            found.append(blocks["text"])
        for value in blocks.values():
            found.extend(texts(value, kinds))
    elif isinstance(blocks, list):
        for item in blocks:
            found.extend(texts(item, kinds))
    return found


def request_dms(bot: Bot) -> list[Call]:
    return [
        c
        for c in bot.slack.calls("chat.postMessage")
        if c.ok and any(v.startswith(REF) for v in values_in(blocks_of(c)))
    ]


def assert_reads_well_on_a_phone(text: str, blocks: list[dict[str, Any]], rule: str) -> None:
    assert len(blocks) <= 12
    for part in ("Meridian Freight Lines", "Q-1042 v1", "$404,580.00", "32.4% discount", rule):
        assert part in text, (part, text)
    first_two = " ".join(texts(blocks[:2]))
    for part in ("Meridian Freight Lines", "$404,580.00", "32.4%", rule):
        assert part in first_two, (part, first_two)
    assert "•" in texts(blocks[1])[0], "the reasons, with their values, in the second block"
    kinds = [b["type"] for b in blocks]
    if "actions" in kinds:
        assert kinds.index("actions") == 2, kinds
        assert all(k == "context" for k in kinds[3:]), "details come after the buttons"


async def test_every_request_dm_of_a_run_reads_well_on_a_phone(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.approve("marco", f"{REF}/manager-discount")
    await bot.approve("sam", f"{REF}/services-discount")
    await bot.approve("fiona", f"{REF}/payment-terms")

    posted = request_dms(bot)
    assert len(posted) == 8, [c.args.get("text") for c in posted]
    for call in posted:
        rule = call.args["text"].rsplit(": ", 1)[-1]
        assert call.args["text"].startswith("Approval needed: ")
        assert_reads_well_on_a_phone(call.args["text"], blocks_of(call), rule)

    updates = [c for c in bot.slack.calls("chat.update") if c.ok and c.args["text"].startswith(("Approved", "You"))]
    assert updates
    for call in updates:
        text = call.args["text"]
        assert text.endswith("."), text
        rule = re.search(r"\((\S+) on Meridian", text)
        assert rule, text
        blocks = blocks_of(call)
        assert len(blocks) <= 12
        first_two = " ".join(texts(blocks[:2]))
        assert "Meridian Freight Lines" in first_two and "$404,580.00" in first_two and rule[1] in first_two


async def test_vp_request_shows_what_was_already_decided_after_the_buttons(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    await bot.approve("marco", f"{REF}/manager-discount")
    await bot.approve("sam", f"{REF}/services-discount")

    vera = bot.request("vera", f"{REF}/vp-deep-discount")

    kinds = [b["type"] for b in vera.blocks]
    assert kinds[:3] == ["section", "section", "actions"]
    decided = next(b for b in vera.blocks if b.get("block_id") == "request.decided")
    assert vera.blocks.index(decided) > kinds.index("actions")
    assert "manager-discount: approved by Marco Bellini" in texts(decided)[0]


def markup_in(message: Message | dict[str, Any]) -> list[str]:
    """Texts Slack reads as mrkdwn (the top-level text too) that hold unescaped data or markup;
    plain_text is shown as typed, so it is not escaped and not checked."""
    if isinstance(message, Message):
        shown = [message.text, *texts(message.blocks, ("mrkdwn",))]
    else:
        shown = [message.get("text", ""), *texts(message.get("blocks", []), ("mrkdwn",))]
    return [t for t in shown if CUSTOMER in t or MARKUP.search(DATE_TOKEN.sub("", t.replace(ESCAPED, "")))]


async def test_customer_name_with_slack_markup_shows_escaped_everywhere(bot: Bot) -> None:
    await bot.receive("q1042-v1.json", account__name=CUSTOMER)
    preview = (await bot.deal("ava", "preview Q-1042")).json()
    assert ESCAPED in preview["text"] and markup_in(preview) == []

    await bot.deal("ava", "submit Q-1042")
    await bot.settle()
    marco = bot.request("marco", f"{REF}/manager-discount")
    assert marco.text.startswith(f"Approval needed: {ESCAPED}, Q-1042 v1")
    assert ESCAPED in texts(marco.blocks)[0]
    assert markup_in(marco) == []

    await bot.approve("marco", f"{REF}/manager-discount")
    marco = bot.request("marco", f"{REF}/manager-discount")
    assert ESCAPED in marco.text and markup_in(marco) == []

    for message in bot.dm("ava"):
        assert markup_in(message) == [], message.text
    status = (await bot.deal("ava", "status Q-1042")).json()
    assert markup_in(status) == []
    assert ESCAPED in str(status["blocks"])

    await bot.driver.app_home_opened(bot.slack_id("sam"))
    await bot.slack.wait_for("views.publish")
    home = bot.slack.home_view(bot.slack_id("sam"))
    assert ESCAPED in str(home["blocks"])
    assert markup_in(home) == []

    await bot.click("sam", "approval.details", bot.request("sam", f"{REF}/services-discount"))
    await bot.slack.wait_for("views.open")
    (details,) = bot.slack.open_views(bot.slack_id("sam"))
    assert ESCAPED in str(details["blocks"]) and markup_in(details) == []
