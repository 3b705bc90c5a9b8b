"""`/deal ooo FROM TO @delegate`: the delegate gets the requests already open and new ones, and a
tap by the delegate is recorded on behalf of the person away."""

from __future__ import annotations

from .conftest import Bot, action_ids

REF = "Q-1042#1/manager-discount"


def mention(bot: Bot, person: str) -> str:
    return f"<@{bot.slack_id(person)}|{person}>"


async def test_delegate_gets_open_requests_and_decides_on_behalf_of_the_person_away(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    answer = await bot.deal("marco", f"ooo 2026-11-02 2026-11-06 {mention(bot, 'ben')}")

    assert "You are away from 2 Nov 2026 to 6 Nov 2026" in answer.json()["text"]
    await bot.settle()
    ben = bot.request("ben", REF)
    assert "approval.approve" in action_ids(ben)
    assert "approval.approve" in action_ids(bot.request("marco", REF)), "Marco may still decide himself"

    await bot.approve("ben", REF)

    sub = await bot.runtime.service.latest("Q-1042")
    approval = sub.approval("manager-discount")
    assert (approval.status, approval.acted_by, approval.on_behalf_of) == ("approved", "ben", "marco")
    audit = [e for e in await bot.runtime.service.audit("Q-1042") if e.kind == "approved"]
    assert [(e.rule, e.actor, e.on_behalf_of) for e in audit] == [("manager-discount", "ben", "marco")]
    marco = bot.request("marco", REF)
    assert action_ids(marco) == []
    assert marco.text.startswith("Approved by Ben Okafor (for Marco Bellini)"), marco.text
    assert "Ben Okafor (for Marco Bellini) approved manager-discount" in bot.thread("ava")[-1].text


async def test_requests_made_while_away_go_to_the_delegate_at_once(bot: Bot) -> None:
    await bot.deal("marco", f"ooo 2026-11-02 2026-11-06 {mention(bot, 'ben')}")

    await bot.submit("q1042-v1.json")

    assert "approval.approve" in action_ids(bot.request("ben", REF))
    assert "approval.approve" in action_ids(bot.request("marco", REF))


async def test_delegate_joins_open_requests_on_the_first_day_away(bot: Bot) -> None:
    await bot.submit("q1042-v1.json")

    await bot.deal("marco", f"ooo 2026-11-09 2026-11-13 {mention(bot, 'ben')}")
    await bot.settle()
    assert bot.request_posts(REF, "ben") == [], "the delegation has not started"

    bot.clock.advance(days=7)
    await bot.settle("approvals", "slack")

    assert "approval.approve" in action_ids(bot.request("ben", REF))


async def test_ooo_off_ends_the_delegation(bot: Bot) -> None:
    await bot.deal("marco", f"ooo 2026-11-02 2026-11-06 {mention(bot, 'ben')}")

    answer = await bot.deal("marco", "ooo off")

    assert answer.json()["text"] == "Welcome back: your delegation is off."
    await bot.submit("q1042-v1.json")
    assert bot.request_posts(REF, "ben") == []


async def test_a_member_whose_delegate_already_voted_is_told_who_voted_for_them_and_when(bot: Bot) -> None:
    ref = "Q-1042#1/payment-terms"  # a group where every member votes: fiona and carl
    await bot.submit("q1042-v1.json")
    await bot.deal("fiona", f"ooo 2026-11-02 2026-11-06 {mention(bot, 'ben')}")
    await bot.settle()
    fiona_copy = bot.request("fiona", ref)
    await bot.approve("ben", ref)
    assert (await bot.runtime.service.latest("Q-1042")).approval("payment-terms").status == "requested"

    await bot.click("fiona", "approval.approve", fiona_copy)
    await bot.slack.wait_for("response_url")

    told = bot.ephemerals("fiona")[-1]
    assert "Ben Okafor already voted to approve payment-terms on Q-1042 on your behalf (" in told, told
    assert "not an approver" not in told
