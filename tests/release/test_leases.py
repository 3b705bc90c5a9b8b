"""Leases that outlast the work (orders-v1 §4, notifications/worker.py): a slow ERP never gets a second
POST in normal operation, a lease that runs out anyway is logged and counted, and a date-form
`Retry-After` is honoured like a number of seconds."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging

import pytest
from prometheus_client import CollectorRegistry

from domain.order_service import Orders
from domain.service import Approvals
from notifications.erp_delivery import ErpDelivery
from notifications.worker import RECLAIMS, Worker
from sandbox.erp import ErpStandIn
from store.models import OutboxRow
from store.outbox import Outbox
from tests.support.clock import Clock

from .support import ERP_SECRET, approve, line, quote_data


def reclaims() -> float:
    registry = CollectorRegistry()
    registry.register(RECLAIMS)
    return registry.get_sample_value("greenlight_outbox_reclaims_total", {"topic": "erp"}) or 0.0


async def three_released(service: Approvals, desk: Orders, now: dt.datetime) -> list[str]:
    """Three orders of three quotes, released now: three ERP messages queued."""
    for number in (1, 2, 3):
        quote_id = f"Q-800{number}"
        await approve(service, quote_data(quote_id, line("L1", now.date().isoformat())), now)
        await desk.generate(quote_id, None, now)
    assert await desk.release_due(now) == 3
    return [f"Q-800{n}-01:released" for n in (1, 2, 3)]


async def test_a_date_form_retry_after_is_honoured(
    service: Approvals, desk: Orders, erp: ErpStandIn, clock: Clock
) -> None:
    await approve(service, quote_data("Q-8101", line("L1", clock().date().isoformat())), clock())
    await desk.generate("Q-8101", None, clock())
    await desk.release_due(clock())
    later = clock() + dt.timedelta(minutes=7)
    erp.fail_next(503, retry_after=email.utils.format_datetime(later, usegmt=True))
    delivery = ErpDelivery(erp.url, ERP_SECRET, desk, clock)
    worker = Worker(Outbox(), "erp", delivery.deliver, clock, "w", lease=dt.timedelta(seconds=30))
    try:
        assert await worker.sweep() == 0
        row = await OutboxRow.get(key="Q-8101-01:released")
        assert (row.status, row.next_attempt_at) == ("pending", later)
        clock.to(later)
        assert await worker.sweep() == 1
    finally:
        await delivery.close()
    assert erp.delivered() == {"Q-8101-01:released": 1}


async def test_a_row_whose_lease_ran_out_is_taken_over_logged_and_counted(
    service: Approvals, desk: Orders, erp: ErpStandIn, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    keys = await three_released(service, desk, clock())
    stalled = await Outbox().claim("erp", clock(), "stalled-worker", dt.timedelta(seconds=30), limit=1)
    assert [row.key for row in stalled] == keys[:1]
    delivery = ErpDelivery(erp.url, ERP_SECRET, desk, clock)
    worker = Worker(Outbox(), "erp", delivery.deliver, clock, "survivor", lease=dt.timedelta(seconds=30))
    before = reclaims()
    try:
        assert await worker.sweep() == 2, "the stalled worker's row is not taken while its lease runs"
        clock.advance(seconds=31)
        with caplog.at_level(logging.WARNING, logger="greenlight.outbox"):
            assert await worker.sweep() == 1
    finally:
        await delivery.close()
    assert reclaims() == before + 1
    (warning,) = [r.getMessage() for r in caplog.records if "ran out" in r.getMessage()]
    assert "stalled-worker" in warning and keys[0] in warning and "survivor" in warning
    assert erp.delivered() == {key: 1 for key in keys}


async def test_a_slow_erp_keeps_its_lease_so_another_worker_never_posts_the_same_message_again(
    service: Approvals, desk: Orders, erp: ErpStandIn
) -> None:
    """One batch of 3 at 1 s per POST needs 3 s on a 1.5 s lease: the lease is kept while it runs."""

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    erp.clock = lambda: now().timestamp()
    keys = await three_released(service, desk, now())
    erp.delay = 1.0
    lease = dt.timedelta(seconds=1.5)
    slow = ErpDelivery(erp.url, ERP_SECRET, desk, now)
    other = ErpDelivery(erp.url, ERP_SECRET, desk, now)
    first = Worker(Outbox(), "erp", slow.deliver, now, "first", lease=lease)
    second = Worker(Outbox(), "erp", other.deliver, now, "second", lease=lease)
    before = reclaims()
    try:
        sweeping = asyncio.create_task(first.sweep(limit=3))
        await erp.wait_for(2, timeout=30)  # 2 s after the claim: the first lease would have run out
        assert await second.sweep() == 0, "nothing to take over: the first worker still holds its batch"
        assert await sweeping == 3
    finally:
        await slow.close()
        await other.close()
    assert erp.attempts == {key: 1 for key in keys}, "one POST per message"
    assert reclaims() == before
