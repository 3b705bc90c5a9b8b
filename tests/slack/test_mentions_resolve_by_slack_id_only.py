"""A mention names a person by its Slack id alone: an unknown id is refused, whatever label it carries
(issue 12 item 6). Nothing is stored and nobody's requests move."""

from __future__ import annotations

import pytest

from store.models import DelegationRow, ReplacementRow

from .conftest import Bot, action_ids

REF = "Q-1042#1/payment-terms"
STRANGER_LABELLED_FIONA = "<@U0XXXFAKE|fiona>"


def mention(bot: Bot, person: str) -> str:
    return f"<@{bot.slack_id(person)}|{person}>"


@pytest.mark.parametrize(
    "command",
    [
        "ooo 2026-12-02 2026-12-09 {stranger}",
        "delegate {felix} {stranger} 2026-12-02 2026-12-09",
        "replace {felix} {stranger}",
    ],
)
async def test_a_mention_of_an_unknown_slack_id_is_refused_even_with_a_directory_label(bot: Bot, command: str) -> None:
    await bot.submit("q1042-v1.json")

    text = command.format(stranger=STRANGER_LABELLED_FIONA, felix=mention(bot, "felix"))
    answer = (await bot.deal("dana", text)).json()["text"]

    assert "Slack id U0XXXFAKE" in answer and "is not in Greenlight's directory" in answer, answer
    assert "nothing was changed" in answer
    assert await DelegationRow.all().count() == 0
    assert await ReplacementRow.all().count() == 0
    assert "approval.approve" in action_ids(bot.request("fiona", REF))
