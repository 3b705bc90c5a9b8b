"""Webhooks to the CRM (crm-v1 §6) over real HTTP, to a receiver that checks signatures with its own
code: every outcome, signed and idempotent, one quote's events in order while the receiver fails and
recovers, dead letters with the admins' Retry, and Slack's trouble never holding them up."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from domain.reactions import Topic
from notifications.worker import Worker
from store.models import OutboxRow
from store.outbox import Outbox
from tests.faults.conftest import request_ref
from tests.faults.kit import ADMIN_SLACK

from .conftest import HOOK_SECRET, Crm, Open, quote


async def approve(c: Crm, person: str, quote_id: str) -> None:
    answer = await c.gl.click_approve(person, request_ref(quote_id, person))
    assert answer.status == 200, answer.body


async def decided(c: Crm, quote_id: str, data: dict[str, Any] | None = None) -> None:
    """The CRM sends the quote (DATA, else a small one) and submits it; a01 and a02 approve in Slack."""
    assert (await c.client.send(data or quote(quote_id))).status == 200
    assert (await c.client.submit(quote_id)).status == 200
    await c.deliver()
    await approve(c, "a01", quote_id)
    await approve(c, "a02", quote_id)
    await c.deliver()


async def test_a_quote_approved_in_slack_reaches_the_crm_as_signed_events_with_the_status_document(
    crm: Open,
) -> None:
    async with crm() as c:
        await decided(c, "Q-W01")

        assert c.receiver.types("Q-W01") == [
            "quote.submitted",
            "approval.decided",
            "approval.decided",
            "quote.approved",
        ]
        assert c.receiver.forged == 0
        last = c.receiver.received[-1]
        assert last.key == last.body["id"], "the Idempotency-Key is the event id"
        assert last.body["created_at"].endswith("+00:00")
        document = last.quote
        assert (document["quote"], document["status"]) == ("Q-W01", "approved")
        assert {a["acted_by"] for a in document["approvals"]} == {"a01", "a02"}
        assert len({w.key for w in c.receiver.received}) == 4


async def test_rejection_recall_and_orders_each_reach_the_crm(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-W02"))
        await c.client.submit("Q-W02")
        await c.client.recall("Q-W02", {"comment": "new terms"})
        await c.deliver()
        assert c.receiver.types("Q-W02") == ["quote.submitted", "quote.recalled"]
        assert c.receiver.received[-1].quote["comment"] == "new terms"

        await decided(c, "Q-W03")
        assert (await c.gl.deal("rep", "")).status == 200  # Slack still answers the rep meanwhile
        generated = await c.gl.runtime.orders.generate("Q-W03", "rep", c.gl.clock())
        assert generated
        await c.deliver()
        assert c.receiver.types("Q-W03")[-1] == "orders.generated"
        orders = c.receiver.received[-1].quote["orders"]
        assert orders and all(isinstance(o["total"], str) for o in orders), "money is text, never a float"


async def test_the_crm_gets_each_event_once_though_a_delivery_is_repeated(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-W04"))
        await c.client.submit("Q-W04")
        await c.deliver()
        (row,) = await OutboxRow.filter(topic="crm")
        await OutboxRow.filter(id=row.id).update(status="pending", lease_until=None)  # as if the ack was lost
        await c.deliver()

        (key,) = c.receiver.accepted
        assert c.receiver.accepted[key] == 2 and len(c.receiver.received) == 1, "the receiver dropped the repeat"


async def test_one_quotes_events_arrive_in_order_while_the_crm_fails_and_recovers(crm: Open) -> None:
    async with crm() as c:
        c.receiver.refuse(503)
        await decided(c, "Q-W05")
        for _ in range(3):
            await c.later(minutes=2)
        rows = await OutboxRow.filter(topic="crm").order_by("id")
        assert len(rows) == 4 and c.receiver.received == []
        assert set(c.receiver.attempts) == {rows[0].key.rsplit(":", 1)[-1]}, "only the first event was tried"
        assert c.receiver.attempts[rows[0].key.rsplit(":", 1)[-1]] >= 2

        c.receiver.refuse(None)
        c.receiver.fail_next(500, times=2)
        for _ in range(40):
            await c.later(minutes=10)
            if len(c.receiver.received) == 4:
                break
        assert c.receiver.types("Q-W05") == [
            "quote.submitted",
            "approval.decided",
            "approval.decided",
            "quote.approved",
        ]
        assert [w.key for w in c.receiver.received] == [r.key.rsplit(":", 1)[-1] for r in rows]


async def test_events_of_different_quotes_do_not_wait_on_each_other(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-W06"))
        await c.client.submit("Q-W06")
        c.receiver.fail_next(503)
        await c.deliver()
        await c.client.send(quote("Q-W07"))
        await c.client.submit("Q-W07")
        await c.deliver()
        assert c.receiver.types() == ["quote.submitted"] and c.receiver.received[0].quote["quote"] == "Q-W07"


async def test_a_refused_webhook_is_a_dead_letter_the_admins_retry_and_later_events_wait_behind_it(
    crm: Open,
) -> None:
    async with crm() as c:
        c.receiver.refuse(422)
        await c.client.send(quote("Q-W08"))
        await c.client.submit("Q-W08")
        await c.deliver()
        await c.client.recall("Q-W08")
        await c.deliver()

        dead = await OutboxRow.filter(topic="crm", status="dead")
        assert len(dead) == 1 and "CRM refused with 422" in (dead[0].last_error or "")
        assert c.receiver.received == []
        assert len(c.receiver.attempts) == 1, "the recall waits behind the dead letter"
        alerts = [m for m in c.gl.slack.dm_history(ADMIN_SLACK) if "crm.retry" in m.action_ids()]
        assert len(alerts) == 1 and "Q-W08" in alerts[0].text

        c.receiver.refuse(None)
        rep_click = await c.gl.driver.click(
            "U0REP", "crm.retry", value="Q-W08", channel_id=c.gl.slack.dm_channel("U0REP")
        )
        assert rep_click.status == 200
        assert await OutboxRow.filter(topic="crm", status="dead").count() == 1, "only an admin may retry"

        click = await c.gl.driver.click(
            ADMIN_SLACK, "crm.retry", value="Q-W08", channel_id=c.gl.slack.dm_channel(ADMIN_SLACK)
        )
        assert click.status == 200
        await c.deliver()
        await c.later(seconds=5)
        assert c.receiver.types("Q-W08") == ["quote.submitted", "quote.recalled"]


async def test_slack_refusing_every_call_delays_no_webhook(crm: Open) -> None:
    async with crm() as c:
        c.gl.slack.start_outage()
        await c.client.send(quote("Q-W09"))
        await c.client.submit("Q-W09")
        await c.gl.settle("slack", "crm")

        assert c.receiver.types("Q-W09") == ["quote.submitted"]
        assert {r.status for r in await OutboxRow.filter(topic="slack")} == {"pending"}, "Slack is still down"


def test_the_receiver_checks_signatures_with_its_own_code() -> None:
    import hashlib
    import hmac

    from sandbox.crm_receiver import signature_ok

    body = b'{"id":"e1"}'
    good = hmac.new(HOOK_SECRET.encode(), b"1000." + body, hashlib.sha256).hexdigest()
    assert signature_ok(HOOK_SECRET, f"t=1000,v1={good}", body, 1000)
    assert not signature_ok(HOOK_SECRET, f"t=1000,v1={good}", body + b" ", 1000)
    assert not signature_ok(HOOK_SECRET, f"t=1000,v1={good}", body, 1000 + 301)
    assert not signature_ok("another-secret", f"t=1000,v1={good}", body, 1000)
    assert dataclasses.is_dataclass(Crm)


async def test_a_rejection_with_its_reason_and_an_order_change_reach_the_crm(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-W10"))
        await c.client.submit("Q-W10")
        await c.deliver()
        a01 = "U0A01"
        opened = await c.gl.driver.click(
            a01, "approval.reject", value=request_ref("Q-W10", "a01"), channel_id=c.gl.slack.dm_channel(a01)
        )
        assert opened.status == 200
        await c.gl.slack.wait_for("views.open")
        (view,) = c.gl.slack.open_views(a01)
        reason = {"reject.reason": {"reject.reason_input": "Payment terms too long"}}
        assert (await c.gl.driver.submit_view(a01, view, reason)).status == 200
        await c.deliver()

        assert c.receiver.types("Q-W10") == ["quote.submitted", "approval.decided", "quote.rejected"]
        rejected = c.receiver.received[-1].quote
        assert rejected["status"] == "rejected"
        assert [(a["acted_by"], a["comment"]) for a in rejected["approvals"] if a["status"] == "rejected"] == [
            ("a01", "Payment terms too long")
        ]

        await decided(c, "Q-W11")
        (order, *_) = await c.gl.runtime.orders.generate("Q-W11", "rep", c.gl.clock())
        await c.gl.runtime.orders.change(order.number, "hold", "rep", c.gl.clock())
        await c.deliver()
        assert c.receiver.types("Q-W11")[-2:] == ["orders.generated", "order.changed"]
        assert c.receiver.received[-1].quote["orders"][0]["status"] == "held"


async def test_two_workers_racing_over_a_failing_crm_still_deliver_each_quotes_events_in_order(crm: Open) -> None:
    async with crm() as c:
        quotes = [f"Q-R{n:02d}" for n in range(1, 6)]
        c.receiver.refuse(503)  # nothing goes out while the events are made
        for quote_id in quotes:
            await c.client.send(quote(quote_id))
            await c.client.submit(quote_id)
            await c.client.recall(quote_id)
            await c.client.submit(quote_id)
        handle = c.gl.runtime.workers[Topic.CRM].handle
        workers = [Worker(Outbox(), "crm", handle, c.gl.clock, f"racer-{n}") for n in (1, 2)]
        await c.gl.settle("crm")
        assert c.receiver.received == []
        c.receiver.refuse(None)
        c.receiver.alternate(503, times=12)  # every other attempt fails while the two workers race
        rounds = 0
        while len(c.receiver.received) < 3 * len(quotes) and rounds < 200:
            rounds += 1
            await asyncio.gather(*(w.sweep(limit=1, batches=1) for w in workers))
            c.gl.clock.advance(minutes=5)

        assert len(c.receiver.received) == 3 * len(quotes), f"not all delivered after {rounds} rounds"
        rows = await OutboxRow.filter(topic="crm").order_by("id")
        for quote_id in quotes:
            sent = [w.key for w in c.receiver.received if w.quote["quote"] == quote_id]
            queued = [r.key.rsplit(":", 1)[-1] for r in rows if r.key.startswith(f"crm:{quote_id}:")]
            assert sent == queued, f"{quote_id} out of order"
            assert c.receiver.types(quote_id) == ["quote.submitted", "quote.recalled", "quote.submitted"]


async def test_a_contract_near_its_end_reaches_the_crm_as_renewal_due_with_the_contract(crm: Open) -> None:
    async with crm() as c:
        today = c.gl.clock().date()
        data = quote("Q-W12", start_date=today.isoformat())
        data["lines"][0].update(recurring=True, delivery_date=today.isoformat())
        assert (await c.client.send(data)).status == 200
        assert (await c.client.submit("Q-W12")).status == 200
        for person in ("a01", "a02"):
            await approve(c, person, "Q-W12")
        orders = c.gl.runtime.orders
        (order,) = await orders.generate("Q-W12", "rep", c.gl.clock())
        await c.gl.settle("release")  # delivered today: released by the sweep (a kick may have run it already)
        assert (await orders.order(order.number)).status in ("released", "synced")
        await c.deliver()

        c.gl.clock.advance(days=365 - 60)
        assert await orders.remind_renewals(c.gl.clock()) == 1
        await c.deliver()

        assert c.receiver.types("Q-W12")[-1] == "contract.renewal_due"
        body = c.receiver.received[-1].body
        assert body["contract"]["contract"] == "C-Q-W12" and body["quote"]["status"] == "approved"
