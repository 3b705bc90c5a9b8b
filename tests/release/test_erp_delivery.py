"""ERP sync (orders-v1 §4): signed POSTs, retries with Retry-After and backoff, dead letters, the admins' Retry.

Time is the tests' clock: the worker's, the order desk's and the stand-in's (which judges a
signature's freshness by it). A test moves it to a row's `next_attempt_at` instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from domain.errors import NotAllowed
from domain.order_service import Orders
from domain.service import Approvals
from notifications import erp as webhook
from notifications.erp_delivery import ErpDelivery
from notifications.worker import Worker
from sandbox.erp import ErpStandIn
from store.models import OrderRow, OutboxRow
from store.outbox import Outbox
from tests.support.clock import Clock

from .support import ADMIN, ERP_SECRET, OWNER, approve, line, order_audit, quote_data

NUMBER = "Q-4001-01"
KEY = f"{NUMBER}:released"
REFERENCE = "ERP-" + hashlib.sha256(KEY.encode()).hexdigest()[:10].upper()  # what the stand-in answers


@pytest.fixture
async def delivery(desk: Orders, erp: ErpStandIn, clock: Clock) -> AsyncIterator[ErpDelivery]:
    delivery = ErpDelivery(erp.url, ERP_SECRET, desk, clock)
    yield delivery
    await delivery.close()


@pytest.fixture
def worker(delivery: ErpDelivery, clock: Clock) -> Worker:
    return Worker(Outbox(), "erp", delivery.deliver, clock, "test-worker", lease=dt.timedelta(seconds=30))


@pytest.fixture
async def released(service: Approvals, desk: Orders, clock: Clock) -> str:
    """Q-4001-01, delivered today: released by the first sweep, its ERP message queued."""
    await approve(service, quote_data("Q-4001", line("L1", clock().date().isoformat())), clock())
    await desk.generate("Q-4001", None, clock())
    assert await desk.release_due(clock()) == 1
    return NUMBER


async def message() -> OutboxRow:
    return await OutboxRow.get(topic="erp", key=KEY)


async def test_erp_answering_503_five_times_then_200_gets_the_order_once_after_each_retry_after(
    released: str, worker: Worker, erp: ErpStandIn, desk: Orders, clock: Clock
) -> None:
    erp.fail_next(503, times=5, retry_after=120)
    for attempt in range(1, 6):
        assert await worker.sweep() == 0
        row = await message()
        assert (row.status, row.attempts, row.last_error) == ("pending", attempt, "ERP answered 503")
        assert row.next_attempt_at == clock() + dt.timedelta(seconds=120), "Retry-After honoured"
        clock.advance(seconds=119)
        assert await worker.sweep() == 0 and erp.attempts[KEY] == attempt, "not before Retry-After"
        clock.to(row.next_attempt_at)

    assert await worker.sweep() == 1
    assert erp.delivered() == {KEY: 1}
    assert erp.attempts[KEY] == 6
    assert (await message()).status == "sent"
    order = await desk.order(released)
    assert order.status == "synced"
    assert (await desk.orders_of("Q-4001"))[0].status == "synced"
    assert await order_audit(released) == [("order_released", None), ("order_synced", None)]
    assert await worker.sweep() == 0 and erp.delivered() == {KEY: 1}


async def test_the_erp_reference_of_the_answer_is_stored_on_the_order(
    released: str, worker: Worker, desk: Orders
) -> None:
    assert await worker.sweep() == 1
    assert (await OrderRow.get(number=released)).erp_reference == REFERENCE


async def test_a_503_without_retry_after_is_retried_after_an_exponential_backoff(
    released: str, worker: Worker, erp: ErpStandIn, clock: Clock
) -> None:
    erp.fail_next(503, times=3)
    ceilings = []
    for attempt in range(1, 4):
        await worker.sweep()
        row = await message()
        ceiling = dt.timedelta(seconds=2.0 * 2 ** (attempt - 1))  # full jitter up to base * 2**(attempts - 1)
        assert clock() <= row.next_attempt_at <= clock() + ceiling
        ceilings.append(ceiling)
        clock.to(row.next_attempt_at)
    assert ceilings == [dt.timedelta(seconds=s) for s in (2, 4, 8)]
    assert await worker.sweep() == 1 and erp.delivered() == {KEY: 1}


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 504])
async def test_these_answers_are_retried_not_dead_lettered(
    released: str, worker: Worker, erp: ErpStandIn, desk: Orders, clock: Clock, status: int
) -> None:
    erp.fail_next(status, retry_after=30)
    await worker.sweep()
    row = await message()
    assert (row.status, row.next_attempt_at) == ("pending", clock() + dt.timedelta(seconds=30))
    assert (await desk.order(released)).status == "released"
    clock.advance(seconds=30)
    assert await worker.sweep() == 1 and erp.delivered() == {KEY: 1}


async def test_an_erp_that_refuses_connections_is_retried(
    released: str, desk: Orders, clock: Clock, erp: ErpStandIn
) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nowhere = ErpDelivery(f"http://127.0.0.1:{port}/orders", ERP_SECRET, desk, clock)
    try:
        assert await Worker(Outbox(), "erp", nowhere.deliver, clock, "w").sweep() == 0
    finally:
        await nowhere.close()
    row = await message()
    assert row.status == "pending" and row.next_attempt_at > clock()
    assert row.last_error == "ERP unreachable: ClientConnectorError"


async def test_an_erp_still_failing_after_24_hours_leaves_the_order_sync_failed(
    released: str, worker: Worker, erp: ErpStandIn, desk: Orders, clock: Clock
) -> None:
    erp.refuse(503)
    await worker.sweep()
    clock.advance(hours=24)
    await worker.sweep()
    row = await message()
    assert row.status == "dead" and row.last_error.startswith("gave up after 24 h")
    assert (await desk.order(released)).status == "sync_failed"


async def test_a_422_dead_letters_the_message_fails_the_order_and_alerts_the_admins_until_an_admin_retries(
    released: str, worker: Worker, erp: ErpStandIn, desk: Orders, clock: Clock
) -> None:
    erp.refuse(422)
    assert await worker.sweep() == 1  # finished: dead
    row = await message()
    assert row.status == "dead" and row.last_error.startswith("ERP refused with 422")
    assert (await desk.order(released)).status == "sync_failed"
    (alert,) = [
        p
        for p in await OutboxRow.filter(topic="slack").values_list("payload", flat=True)
        if p["kind"] == "order_sync_failed"
    ]
    assert alert["detail"]["order"] == released and alert["detail"]["people"] == [ADMIN]
    assert alert["detail"]["outbox"] == row.id and alert["comment"].startswith("ERP refused with 422")
    clock.advance(hours=1)
    assert await worker.sweep() == 0 and erp.attempts[KEY] == 1, "a dead letter is not retried on its own"

    erp.refuse(None)
    with pytest.raises(NotAllowed):
        await desk.retry_sync(released, OWNER, clock())
    assert await desk.retry_sync(released, ADMIN, clock()) is True
    assert (await desk.order(released)).status == "released"
    assert await worker.sweep() == 1
    assert erp.delivered() == {KEY: 1}
    assert (await desk.order(released)).status == "synced"
    assert (await message()).status == "sent"
    assert await order_audit(released) == [
        ("order_released", None),
        ("order_sync_failed", None),
        ("order_sync_retry", ADMIN),
        ("order_synced", None),
    ]
    assert await desk.retry_sync(released, ADMIN, clock()) is False, "nothing dead to retry"


# ----------------------------------------------------------------------------------------- signature


async def test_the_stand_in_verifies_greenlights_signature_of_the_exact_bytes_sent(
    released: str, worker: Worker, erp: ErpStandIn, desk: Orders
) -> None:
    assert await worker.sweep() == 1
    (received,) = erp.received
    assert received.key == KEY and received.signed
    assert received.payload == (await message()).payload


def test_a_signature_is_an_hmac_of_timestamp_and_body_that_any_change_breaks() -> None:
    body = webhook.body_of({"number": NUMBER, "total": "10.00"})
    header = webhook.signature(ERP_SECRET, 1_800_000_000, body)
    assert re.fullmatch(r"t=1800000000,v1=[0-9a-f]{64}", header)
    assert webhook.verify(ERP_SECRET, header, body, now=1_800_000_100)
    assert not webhook.verify("another secret", header, body, now=1_800_000_100)
    assert not webhook.verify(ERP_SECRET, header, body.replace(b"10.00", b"99.00"), now=1_800_000_100)
    assert not webhook.verify(ERP_SECRET, header.replace("t=1800000000", "t=1800000001"), body, now=1_800_000_100)
    assert not webhook.verify(ERP_SECRET, header, body, now=1_800_000_000 + 301), "a replay 5 minutes later"
    assert not webhook.verify(ERP_SECRET, "v1=abc", body, now=1_800_000_000)


async def test_every_attempt_is_signed_afresh(erp: ErpStandIn, clock: Clock) -> None:
    async with aiohttp.ClientSession() as session:
        payload = {"number": NUMBER, "event": "released"}
        first = await webhook.post(session, erp.url, ERP_SECRET, KEY, payload, clock())
        clock.advance(minutes=10)  # the first signature would be stale by now
        again = await webhook.post(session, erp.url, ERP_SECRET, KEY, payload, clock())
    assert (first.kind, again.kind) == ("delivered", "delivered")
    assert erp.delivered() == {KEY: 2}  # the stand-in counts duplicates; a real ERP drops them by key
    assert json.loads(webhook.body_of(payload)) == erp.received[0].payload


async def test_a_wrong_secret_is_refused_with_401_dead_lettered_and_delivered_after_the_fix_and_a_retry(
    released: str, erp: ErpStandIn, desk: Orders, clock: Clock, worker: Worker
) -> None:
    misconfigured = ErpDelivery(erp.url, "not-the-erp-secret", desk, clock)
    try:
        assert await Worker(Outbox(), "erp", misconfigured.deliver, clock, "w").sweep() == 1
    finally:
        await misconfigured.close()
    assert erp.attempts[KEY] == 1 and erp.delivered() == {}
    row = await message()
    assert row.status == "dead" and row.last_error.startswith("ERP refused with 401")
    assert (await desk.order(released)).status == "sync_failed"

    assert await desk.retry_sync(released, ADMIN, clock())  # the secret fixed, an admin presses Retry
    assert await worker.sweep() == 1
    assert erp.delivered() == {KEY: 1} and (await desk.order(released)).status == "synced"
