"""Reassign (slack-v1 §4) opens a modal asking for a person and a comment; its submission hands the
request to that person, who gets it in their DM, and updates the copy of the one who handed it on.
A choice outside Greenlight's directory, or no choice, is refused in the modal and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import STRANGER, Bot, action_ids

REF = "Q-1042#1/manager-discount"


async def reassign_modal(bot: Bot, person: str) -> dict[str, Any]:
    await bot.click(person, "approval.reassign", bot.request(person, REF))
    await bot.slack.wait_for("views.open")
    [modal] = bot.slack.open_views(bot.slack_id(person))
    return modal


async def test_reassign_hands_the_request_to_the_person_chosen(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    modal = await reassign_modal(bot, "marco")
    assert modal["callback_id"] == "approval.reassign"

    answer = await bot.driver.submit_view(
        bot.slack_id("marco"),
        modal,
        {
            "reassign.to": {"reassign.to_user": bot.slack_id("vera")},
            "reassign.comment": {"reassign.comment_input": "Vera knows this account."},
        },
    )

    assert answer.status == 200 and not answer.body, answer.body
    await bot.settle()
    reassigned = [e for e in await bot.runtime.service.audit("Q-1042") if e.kind == "reassigned"]
    assert [(e.rule, e.actor, e.comment) for e in reassigned] == [
        ("manager-discount", "marco", "Vera knows this account.")
    ]
    assert "approval.approve" in action_ids(bot.request("vera", REF))
    assert "approval.approve" not in action_ids(bot.request("marco", REF)), "Marco's copy has no buttons now"


@pytest.mark.parametrize(
    ("chosen", "error"),
    [
        ({"reassign.to": {"reassign.to_user": STRANGER}}, "Choose someone who is in Greenlight's directory."),
        ({"reassign.comment": {"reassign.comment_input": "Anyone but me."}}, "Choose who takes this approval."),
    ],
    ids=["someone outside the directory", "nobody"],
)
async def test_reassign_to_nobody_greenlight_knows_is_refused_in_the_modal(
    bot: Bot, chosen: dict[str, Any], error: str
) -> None:
    await bot.submit("q1042-v1.json")
    modal = await reassign_modal(bot, "marco")
    before = await bot.runtime.service.audit("Q-1042")

    answer = await bot.driver.submit_view(bot.slack_id("marco"), modal, chosen)

    assert answer.json() == {"response_action": "errors", "errors": {"reassign.to": error}}
    assert await bot.runtime.service.audit("Q-1042") == before
