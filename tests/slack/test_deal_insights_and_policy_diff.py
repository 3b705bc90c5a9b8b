"""`/deal insights` and `/deal policy diff` for admins, and the signed chart page their link opens."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from notifications import insights_page
from sandbox.slack_api import RESPONSE_URL

from .conftest import EXAMPLES, Bot

SECRET = "slack-tests-link-secret-0123456789"


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    """A copy of the example policy that a test may change on disk while the bot runs."""
    path = tmp_path / "policy.yaml"
    shutil.copyfile(EXAMPLES / "policy.yaml", path)
    return path


async def answered_later(bot: Bot, person: str, text: str) -> dict[str, Any]:
    """`/deal <text>`: acknowledged at once, the answer then posted to the response_url."""
    ack = (await bot.deal(person, text)).json()
    assert ack["text"] == "Gathering the figures: the answer follows in a moment."
    call = await bot.slack.wait_for(RESPONSE_URL)
    assert call.ok, call.response
    assert call.args["text"] in bot.ephemerals(person)  # shown to the admin alone
    return call.args


async def test_an_admin_gets_the_summary_the_worst_bottlenecks_and_a_link_to_the_charts(bot: Bot) -> None:
    sub = await bot.submit("q1042-v1.json")
    await bot.later(hours=3, minutes=10)
    await bot.approve("marco", f"{sub.ref}/manager-discount")

    answer = await answered_later(bot, "dana", "insights")

    assert answer["text"].startswith("Last 28 days: median cycle time -, 3 open requests, 0 stuck beyond 2 d")
    shown = str(answer["blocks"])
    assert "median 3 h 10 min" in shown  # marco's wait on manager-discount
    assert "Worst bottlenecks" in shown
    [button] = [
        element
        for block in answer["blocks"]
        if block.get("accessory")
        for element in [block["accessory"]]
        if element.get("action_id") == "insights.open"
    ]
    assert button["url"].startswith("http://127.0.0.1:3000/insights/i1.")
    token = button["url"].rsplit("/", 1)[1]
    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/insights/{token}") as page:
        html = await page.text()
        assert page.status == 200, html
        assert "Where deals wait" in html and "data:image/svg+xml;base64," in html
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        assert "<script" not in html


async def test_the_chart_link_refuses_tampered_expired_and_non_admin_tokens(bot: Bot) -> None:
    now = bot.clock()
    good = insights_page.issue(SECRET, "dana", now)
    cases = {
        good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB"): (403, "This link has been altered"),
        "not-a-token": (400, "This is not a Greenlight link"),
        insights_page.issue("another-secret-0123456789", "dana", now): (403, "This link has been altered"),
        insights_page.issue(SECRET, "ava", now): (403, "This page is for admins"),
    }
    async with aiohttp.ClientSession() as session:
        for token, (status, title) in cases.items():
            async with session.get(f"{bot.url}/insights/{token}") as page:
                html = await page.text()
                assert (page.status, title in html) == (status, True), (token, html)
        bot.clock.advance(minutes=15)
        async with session.get(f"{bot.url}/insights/{good}") as page:
            assert page.status == 410
            assert "Run /deal insights again for a fresh one" in await page.text()


async def test_insights_and_policy_diff_are_for_admins(bot: Bot) -> None:
    for text in ("insights", "policy diff"):
        answer = (await bot.deal("ava", text)).json()
        assert answer["response_type"] == "ephemeral"
        assert answer["text"].startswith("Only an admin can"), answer["text"]
    assert not bot.slack.calls(RESPONSE_URL)


async def test_policy_diff_compares_the_file_on_disk_with_the_policy_in_force(bot: Bot, policy_file: Path) -> None:
    await bot.submit("q1042-v1.json")  # 32.4% off: the manager's approval is needed above 10%

    same = await answered_later(bot, "dana", "policy diff")
    assert same["text"] == f"The policy on disk ({policy_file}) is the one in force: reloading it would change nothing."

    text = policy_file.read_text()
    policy_file.write_text(text.replace("value: 10, smart: true, label: quote discount", "value: 40, smart: true"))
    changed = (await bot.deal("dana", "policy diff")).json()
    assert changed["text"].startswith("Gathering")
    call = await bot.slack.wait_for(RESPONSE_URL, count=2)
    assert call.args["text"] == (
        "The policy on disk would change the approvals of 1 of 1 submitted quote versions, "
        "and 0 decided quotes would have ended differently."
    )
    shown = str(call.args["blocks"])
    assert "*manager-discount*: 0 newly need it, 1 no longer do (e.g. Q-1042)" in shown
    assert "marco: 1 → 0 (-1)" in shown
    assert bot.runtime.policy.rule("manager-discount").conditions[0].value == 10  # nothing was reloaded

    policy_file.write_text("version: 1\nrules: [\n")
    await bot.deal("dana", "policy diff")
    call = await bot.slack.wait_for(RESPONSE_URL, count=3)
    assert "policy.yaml" in call.args["text"]
