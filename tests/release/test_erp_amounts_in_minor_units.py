"""The ERP gets money as plain decimal text in the currency's minor unit: "4256" yen, "1234567.50"
euros; never a float, never a localized string. Checked by the ERP stand-in, which verifies each
signature with its own code and reads the JSON as it came."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from domain.order_service import Orders
from domain.service import Approvals
from notifications.erp_delivery import ErpDelivery
from notifications.worker import Worker
from sandbox.erp import ErpStandIn
from store.outbox import Outbox
from tests.support.clock import Clock

from .support import ERP_SECRET, approve, line, quote_data


@pytest.fixture
async def worker(desk: Orders, erp: ErpStandIn, clock: Clock) -> AsyncIterator[Worker]:
    delivery = ErpDelivery(erp.url, ERP_SECRET, desk, clock)
    yield Worker(Outbox(), "erp", delivery.deliver, clock, "test-worker", lease=dt.timedelta(seconds=30))
    await delivery.close()


async def released_to_the_erp(
    quote_id: str,
    currency: str,
    totals: list[float],
    service: Approvals,
    desk: Orders,
    clock: Clock,
    erp: ErpStandIn,
    worker: Worker,
) -> dict:
    today = clock().date().isoformat()
    lines = [line(f"L{n}", today, net_total=total) for n, total in enumerate(totals, 1)]
    data = quote_data(quote_id, *lines) | {"currency": currency}
    data["net_total"] = sum(totals)  # as a CRM's JSON gives it: a float
    await approve(service, data, clock())
    await desk.generate(quote_id, None, clock())
    assert await desk.release_due(clock()) == 1
    assert await worker.sweep() == 1
    (received,) = [r for r in erp.received if r.payload["quote_id"] == quote_id]
    return received.payload


async def test_yen_reach_the_erp_as_whole_units_in_plain_text(
    service: Approvals, desk: Orders, clock: Clock, erp: ErpStandIn, worker: Worker
) -> None:
    order = await released_to_the_erp("Q-JPY1", "JPY", [1419, 1419, 1418], service, desk, clock, erp, worker)
    assert order["currency"] == "JPY"
    assert order["total"] == "4256"
    assert [entry["net_total"] for entry in order["lines"]] == ["1419", "1419", "1418"]
    assert [entry["net_price"] for entry in order["lines"]] == ["1419", "1419", "1418"]


async def test_euros_reach_the_erp_with_their_two_decimals_in_plain_text(
    service: Approvals, desk: Orders, clock: Clock, erp: ErpStandIn, worker: Worker
) -> None:
    order = await released_to_the_erp("Q-EUR1", "EUR", [1234000.25, 567.25], service, desk, clock, erp, worker)
    assert order["currency"] == "EUR"
    assert order["total"] == "1234567.50"
    assert [entry["net_total"] for entry in order["lines"]] == ["1234000.25", "567.25"]
    for amount in [order["total"], *(entry["net_total"] for entry in order["lines"])]:
        assert isinstance(amount, str) and "," not in amount and "€" not in amount and "e" not in amount.lower()
