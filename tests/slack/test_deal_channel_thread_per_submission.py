"""A policy's `deal_channel`: each submission gets one thread there (submitted, each decision,
the outcome, orders) for the team to discuss, the way a CRM's feed follows a deal."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Bot
from .kit17 import POLICY, submit_deal, write_policy

CHANNEL = "C0DEALS"


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write_policy(tmp_path, POLICY.replace("admins: [dana]", f"admins: [dana]\ndeal_channel: {CHANNEL}"))


async def test_each_submission_gets_one_thread_in_the_deal_channel_that_follows_it(bot: Bot) -> None:
    quote_id = await submit_deal(bot, "Strategic logo")
    roots = [m for m in bot.slack.messages(CHANNEL) if m.thread_ts is None]
    assert len(roots) == 1, roots
    assert "pending" in roots[0].text

    await bot.approve("max", f"{quote_id}#1/manager-discount")
    await bot.approve("vera", f"{quote_id}#1/vp-discount")

    thread = bot.slack.thread(CHANNEL, roots[0].ts)
    said = [m.text for m in thread]
    assert any("Max Müller approved manager-discount" in t for t in said), said
    assert any("Vera Lindqvist approved vp-discount" in t for t in said), said
    assert len([m for m in bot.slack.messages(CHANNEL) if m.thread_ts is None]) == 1, "still one thread"


async def test_a_resubmission_gets_a_thread_of_its_own(bot: Bot) -> None:
    quote_id = await submit_deal(bot)
    await bot.deal("ava", f"recall {quote_id}")
    await bot.settle()
    await bot.deal("ava", f"submit {quote_id}")
    await bot.settle()

    roots = [m for m in bot.slack.messages(CHANNEL) if m.thread_ts is None]
    assert len(roots) == 2
