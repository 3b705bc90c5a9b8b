"""`/deal replace @old @new` (admins): open requests move to the new approver, whose DMs arrive;
the old person's copies lose their buttons and say who has it now."""

from __future__ import annotations

from .conftest import Bot, action_ids

REF = "Q-1042#1/payment-terms"


def mention(bot: Bot, person: str) -> str:
    return f"<@{bot.slack_id(person)}|{person}>"


async def test_admin_replaces_an_approver_and_the_open_request_moves(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")
    before = bot.request("fiona", REF)

    answer = await bot.deal("dana", f"replace {mention(bot, 'fiona')} {mention(bot, 'felix')}")

    assert "1 open request(s) moved" in answer.json()["text"]
    await bot.settle()
    fiona = bot.request("fiona", REF)
    assert action_ids(fiona) == []
    assert fiona.text.startswith("Reassigned to Felix Nakamura"), fiona.text
    felix = bot.request("felix", REF)
    assert "approval.approve" in action_ids(felix)
    assert "approval.approve" in action_ids(bot.request("carl", REF)), "Carl's seat did not move"

    await bot.click("fiona", "approval.approve", before)
    await bot.slack.wait_for("response_url")
    assert "not an approver of payment-terms" in bot.ephemerals("fiona")[0]

    await bot.approve("felix", REF)
    await bot.approve("carl", REF)
    approval = (await bot.runtime.service.latest("Q-1042")).approval("payment-terms")
    assert approval.status == "approved"
    assert {s.voted_by for s in approval.seats} == {"felix", "carl"}


async def test_replace_by_someone_who_is_not_an_admin_is_refused(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    answer = await bot.deal("ava", f"replace {mention(bot, 'fiona')} {mention(bot, 'felix')}")

    assert "/deal replace is for an admin" in answer.json()["text"]
    await bot.settle()
    assert bot.request_posts(REF, "felix") == []


async def test_replace_naming_someone_outside_the_directory_changes_nothing(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    answer = await bot.deal("dana", f"replace {mention(bot, 'fiona')} <@U09STRANGER|stranger>")

    assert "is not in Greenlight's directory" in answer.json()["text"]
    assert "approval.approve" in action_ids(bot.request("fiona", REF))


async def test_the_admin_is_told_each_request_moved_and_can_list_and_undo_the_replacement(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    moved = (await bot.deal("dana", f"replace {mention(bot, 'fiona')} {mention(bot, 'felix')}")).json()
    assert "1 open request(s) moved. Q-1042#1 payment-terms → Felix Nakamura." in moved["text"], moved["text"]
    listed = (await bot.deal("dana", "replacements")).json()["text"]
    assert "Felix Nakamura for Fiona" in listed and "by Dana" in listed, listed
    assert "not an admin" not in listed

    undone = (await bot.deal("dana", f"replacements undo {mention(bot, 'fiona')}")).json()["text"]

    assert "is no longer replaced by Felix Nakamura; 1 open request(s) given back. Q-1042#1" in undone, undone
    await bot.settle()
    approval = (await bot.runtime.service.latest("Q-1042")).approval("payment-terms")
    assert sorted(s.holder for s in approval.seats) == ["carl", "fiona"]
    assert (await bot.deal("dana", "replacements")).json()["text"] == "No replacement is in force."
    kinds = [e.kind for e in await bot.runtime.service.audit("")]
    assert kinds.count("replacement_set") == 1 and kinds.count("replacement_undone") == 1


async def test_replacements_by_someone_who_is_not_an_admin_is_refused(bot: Bot) -> None:
    answer = await bot.deal("ava", "replacements")
    assert "/deal replacements is for an admin" in answer.json()["text"]
