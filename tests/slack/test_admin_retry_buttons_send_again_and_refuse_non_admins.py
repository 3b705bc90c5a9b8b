"""The admins' alerts carry a Retry button: on an email that could not be delivered (`email.retry`)
and on an order the ERP did not take (`erp.retry`). An admin's tap sends it again; anyone else,
and a button naming nothing Greenlight sent, gets an ephemeral refusal and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.erp import ErpStandIn
from sandbox.mailbox import Mailbox
from sandbox.slack_api import RESPONSE_URL, Message

from .conftest import STRANGER, Bot, Clock, action_ids

ORDER = "Q-1001-01"


@pytest.fixture
async def mail_port() -> int:
    """A port where the mail server is down: nothing listens there until a test starts a Mailbox on it."""
    async with Mailbox() as mailbox:
        return mailbox.port


@pytest.fixture
def smtp_url(mail_port: int) -> str:
    return f"smtp://127.0.0.1:{mail_port}"


@pytest.fixture
def absent_from_slack() -> set[str]:
    return {"leo"}  # Leo's account is gone: his request goes by email


@pytest.fixture
async def erp(clock: Clock) -> AsyncIterator[ErpStandIn]:
    async with ErpStandIn(secret="slack-tests-erp-secret", clock=lambda: clock().timestamp()) as stand_in:
        stand_in.refuse(422)
        yield stand_in


def user(bot: Bot, who: str) -> str:
    return STRANGER if who == "stranger" else bot.slack_id(who)


async def refusal(bot: Bot, who: str) -> str:
    await bot.slack.wait_for(RESPONSE_URL, lambda c: c.ok and not c.args.get("replace_original"))
    return [e.text for e in bot.slack.ephemerals(user(bot, who)) if e.via == RESPONSE_URL][-1]


def alert(bot: Bot, admin: str, action_id: str) -> Message:
    [message] = [m for m in bot.dm(admin) if action_id in action_ids(m)]
    return message


async def email_failed(bot: Bot) -> int:
    """Leo's request email fails for a day: the row is dead and the admins are alerted. Its outbox id."""
    await bot.submit("q1042-v1.json")
    [row] = await bot.outbox("email")
    await bot.settle("email")  # the mail server is down: tried again later
    await bot.later(hours=25)
    await bot.settle("email")  # still down a day later: given up, the admins are told
    await bot.settle()
    [row] = await bot.outbox("email", "dead")
    return row.id


async def erp_refused_the_order(bot: Bot) -> None:
    """Q-1001's first order is released now and the ERP answers 422: the admins are alerted."""
    await bot.submit("q1001-v1.json")
    [approved] = [m for m in bot.thread("ava") if "orders.generate" in action_ids(m)]
    await bot.click("ava", "orders.generate", approved)
    await bot.slack.wait_for("chat.postMessage", lambda c: "orders generated" in str(c.args.get("text")))
    await bot.deal("ava", "orders Q-1001")
    await bot.click("ava", "orders.release:0", bot.slack.ephemerals(bot.slack_id("ava"))[-1])
    await bot.slack.wait_for("chat.postMessage", lambda c: f"ERP sync failed for order {ORDER}" in c.args["text"])
    await bot.settle()


async def order_status(bot: Bot) -> str:
    return (await bot.runtime.orders.order(ORDER)).status


async def test_an_admins_retry_sends_the_failed_email_again(bot: Bot, mail_port: int) -> None:
    row_id = await email_failed(bot)
    message = alert(bot, "dana", "email.retry")
    assert "An email to leo about Q-1042 could not be delivered" in message.text

    async with Mailbox(port=mail_port) as mailbox:  # the mail server is back
        answer = await bot.click("dana", "email.retry", message)

        mail = await mailbox.wait_for(predicate=lambda m: bot.policy.people["leo"].email in m.rcpt_tos)

    assert answer.status == 200 and not answer.body
    assert "Q-1042" in mail.subject
    [row] = await bot.outbox("email")
    assert row.id == row_id


async def test_an_admins_retry_sends_the_refused_order_to_the_erp_again(bot: Bot, erp: ErpStandIn) -> None:
    await erp_refused_the_order(bot)
    assert await order_status(bot) == "sync_failed"
    erp.refuse(None)  # the ERP takes it now

    answer = await bot.click("dev", "erp.retry", alert(bot, "dev", "erp.retry"))

    assert answer.status == 200 and not answer.body
    await erp.wait_for(1)
    assert [r.key for r in erp.received] == [f"{ORDER}:released"]
    await bot.slack.wait_for("chat.postMessage", lambda c: "The ERP received order" in str(c.args.get("text")))
    assert await order_status(bot) == "synced"


@pytest.mark.parametrize(
    ("who", "why"),
    [
        ("ava", "only an admin can send a failed email again."),
        ("hank", "only an admin can send a failed email again."),
        ("stranger", "You are not in Greenlight's directory: ask an admin to add your Slack id to the policy."),
    ],
)
async def test_email_retry_by_someone_who_is_not_an_admin_is_refused(bot: Bot, who: str, why: str) -> None:
    row_id = await email_failed(bot)

    # a forwarded alert, or a forged click: the button only reaches the admins
    answer = await bot.driver.click(user(bot, who), "email.retry", message=alert(bot, "dana", "email.retry"))

    assert answer.status == 200, "refused after its ack: the ack stands"
    assert await refusal(bot, who) == why
    assert [(row.id, row.status) for row in await bot.outbox("email")] == [(row_id, "dead")]


@pytest.mark.parametrize("value", ["seven", "", "-1", "1e3", "9" * 40])
async def test_email_retry_naming_no_outbox_row_is_refused(bot: Bot, value: str) -> None:
    await email_failed(bot)

    await bot.click("dana", "email.retry", alert(bot, "dana", "email.retry"), value=value)

    assert await refusal(bot, "dana") == "this Retry button does not name a failed Greenlight email."
    assert [row.status for row in await bot.outbox("email")] == ["dead"]


@pytest.mark.parametrize(
    ("who", "why"),
    [
        ("ava", "only an admin can retry an ERP delivery."),
        ("stranger", "You are not in Greenlight's directory: ask an admin to add your Slack id to the policy."),
    ],
)
async def test_erp_retry_by_someone_who_is_not_an_admin_is_refused(
    bot: Bot, erp: ErpStandIn, who: str, why: str
) -> None:
    await erp_refused_the_order(bot)
    erp.refuse(None)

    answer = await bot.driver.click(user(bot, who), "erp.retry", message=alert(bot, "dana", "erp.retry"))

    assert answer.status == 200
    assert await refusal(bot, who) == why
    assert await order_status(bot) == "sync_failed"
    assert [row.status for row in await bot.outbox("erp")] == ["dead"]
    assert erp.received == []


async def test_erp_retry_naming_no_order_is_refused(bot: Bot, erp: ErpStandIn) -> None:
    await erp_refused_the_order(bot)

    await bot.click("dana", "erp.retry", alert(bot, "dana", "erp.retry"), value="Q-9999-01")

    assert await refusal(bot, "dana") == "there is no order Q-9999-01."
    assert [row.status for row in await bot.outbox("erp")] == ["dead"]


async def test_retry_confirms_and_the_alert_is_updated_in_place_once_the_erp_takes_the_order(
    bot: Bot, erp: ErpStandIn
) -> None:
    await erp_refused_the_order(bot)
    shown = alert(bot, "dev", "erp.retry")
    erp.refuse(None)

    await bot.click("dev", "erp.retry", shown)

    await bot.slack.wait_for(RESPONSE_URL, lambda c: c.ok and "back in line for the ERP" in str(c.args.get("text")))
    await erp.wait_for(1)
    await bot.slack.wait_for("chat.update", lambda c: "reached the ERP" in str(c.args.get("text")))
    await bot.settle()
    [updated] = [m for m in bot.dm("dev") if m.ts == shown.ts]
    assert f"Order {ORDER} of Q-1001 reached the ERP (reference ERP-" in updated.text
    assert "erp.retry" not in action_ids(updated)
    for admin in ("dana", "dev"):
        assert not [m for m in bot.dm(admin) if "erp.retry" in action_ids(m)], f"{admin} has no Retry left"
