"""An email request for a rule that has no description names the rule once, not
"vp-discount (vp-discount)"; and it carries the rep's justification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.smtp import Inbox, smtp_server

from .conftest import Bot
from .kit17 import submit_deal, write_policy


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write_policy(tmp_path)


@pytest.fixture
async def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def smtp_url(inbox: Inbox) -> AsyncIterator[str]:
    with smtp_server(inbox) as server:
        yield f"smtp://127.0.0.1:{server.port}"


async def test_the_rule_is_named_once_and_the_justification_is_there(bot: Bot, inbox: Inbox) -> None:
    await bot.deal("vera", "notify email")
    await submit_deal(bot, "Strategic logo in retail")
    await bot.settle("email")

    (arrived,) = await inbox.wait_for(1)
    text = arrived.message.get_body(("plain",)).get_content()
    html = arrived.message.get_body(("html",)).get_content()
    assert "vp-discount (vp-discount)" not in text and "(vp-discount)</span>" not in html
    assert "vp-discount" in text
    assert "Why (from the rep): Strategic logo in retail" in text
