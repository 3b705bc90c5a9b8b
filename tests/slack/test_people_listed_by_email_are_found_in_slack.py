"""A person listed in the policy by email only (no Slack id) has their Slack id looked up
(`users.lookupByEmail`), at start and every hour after: once they are in Slack, Greenlight
knows them when they type `/deal`, with no edit of the YAML and no restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Bot
from .kit17 import mention, write_policy


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write_policy(tmp_path)


async def test_a_new_hire_listed_by_email_is_known_once_slack_has_them(bot: Bot) -> None:
    assert bot.policy.people["noah"].slack is None
    bot.slack.add_user("U0NOAH", "noah", "Noah@Example.com")
    before = await bot.driver.command("U0NOAH", "/deal", f"ooo 2026-11-09 2026-11-13 {mention(bot, 'ben')}")
    assert "directory" in before.json()["text"], "not known before the lookup"

    await bot.settle("people")

    assert bot.policy.people["noah"].slack == "U0NOAH"
    lookups = [c for c in bot.slack.calls("users.lookupByEmail") if c.ok]
    assert [c.args.get("email") for c in lookups] == ["noah@example.com"], "only who has no Slack id is looked up"
    after = await bot.driver.command("U0NOAH", "/deal", f"ooo 2026-11-09 2026-11-13 {mention(bot, 'ben')}")
    assert "You are away from 9 Nov 2026 to 13 Nov 2026" in after.json()["text"], after.json()


async def test_someone_slack_does_not_know_yet_stays_reached_by_email(bot: Bot) -> None:
    await bot.settle("people")

    assert bot.policy.people["noah"].slack is None
    errors = [c.error for c in bot.slack.calls("users.lookupByEmail")]
    assert errors and set(errors) == {"users_not_found"}, "asked at start and on each round, not found"
