"""Amendments as deltas on the database (docs/orders.md): Q-7100's story, on SQLite and PostgreSQL.

v1 sold 5 gateways and a training (11 January), 100 seats for a year (1 February) and an on-site
day (1 June). The gateways, the training and the seats were released and synced. On 1 March the CRM
sends v2: the same gateways, 150 seats from 1 April, no training, the same on-site day. The ERP must
receive the gateways once, the seat increase as an amendment, the training as a cancellation, and
the account's entitlements must be right on every date, under one contract.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from domain.events import Event, Kind
from domain.order_service import Orders
from domain.quote import parse_quote
from domain.service import Approvals
from notifications.erp_delivery import ErpDelivery
from notifications.worker import Worker
from sandbox.erp import ErpStandIn
from store.models import ContractRow, OrderRow
from store.outbox import Outbox
from tests.support.clock import Clock

from .support import ERP_SECRET, approve, line, quote_data

DAY = dt.date.fromisoformat
BERLIN_SIX = dt.time(5, 0)  # 06:00 in Berlin in winter, as UTC


def at(day: str, time: dt.time = BERLIN_SIX) -> dt.datetime:
    return dt.datetime.combine(DAY(day), time, tzinfo=dt.UTC)


def v1() -> dict:
    return quote_data(
        "Q-7100",
        line("GW", "2027-01-11", quantity=5, net_price=400, net_total=2000),
        line("TRAIN", "2027-01-11", net_total=1500),
        line("SEATS", "2027-02-01", recurring=True, quantity=100, net_price=120, net_total=12000),
        line("ONSITE", "2027-06-01", net_total=900),
        account="A-71",
    )


def v2() -> dict:
    data = quote_data(
        "Q-7100",
        line("GW", "2027-01-11", quantity=5, net_price=400, net_total=2000),
        line("SEATS", "2027-04-01", recurring=True, quantity=150, net_price=120, net_total=18000),
        line("ONSITE", "2027-06-01", net_total=900),
        account="A-71",
    )
    return {**data, "version": 2, "payment_terms": "Net 30", "po_number": "PO-7100-B"}


@pytest.fixture
async def worker(desk: Orders, erp: ErpStandIn, clock: Clock) -> AsyncIterator[Worker]:
    delivery = ErpDelivery(erp.url, ERP_SECRET, desk, clock)
    yield Worker(Outbox(), "erp", delivery.deliver, clock, "test-worker", lease=dt.timedelta(seconds=30))
    await delivery.close()


async def release_and_sync(desk: Orders, worker: Worker, clock: Clock, moment: dt.datetime) -> int:
    clock.to(moment)
    released = await desk.release_due(moment)
    await worker.sweep()
    return released


async def entitled(desk: Orders, day: str) -> dict[str, int]:
    contracts, found = await desk.account("A-71", DAY(day))
    assert [c.number for c in contracts] == ["C-Q-7100"], "one contract, amended"
    return {item.line_id: int(item.quantity) for item in (*found.subscriptions, *found.assets)}


async def test_q7100_v2_amends_what_v1_released_the_erp_gets_each_item_once_and_entitlements_hold_at_every_date(
    service: Approvals, desk: Orders, worker: Worker, erp: ErpStandIn, clock: Clock
) -> None:
    await approve(service, v1(), clock())
    assert [o.number for o in await desk.generate("Q-7100", None, clock())] == [
        "Q-7100-01",  # gateways and training, 11 January
        "Q-7100-02",  # seats, 1 February
        "Q-7100-03",  # on-site day, 1 June
    ]
    assert await release_and_sync(desk, worker, clock, at("2027-01-11")) == 1
    assert await release_and_sync(desk, worker, clock, at("2027-02-01")) == 1

    clock.to(at("2027-03-01", dt.time(9, 0)))
    received = await service.receive_quote(parse_quote(v2()), clock())
    assert received.status == "stored"
    held = await desk.order("Q-7100-03")
    assert (held.status, held.held_for) == ("held", 2), "v1's unreleased order waits for v2's decision"
    assert await desk.release_due(at("2027-06-01")) == 0, "a held order is not released"

    await approve(service, v2(), clock())
    amendment = await desk.generate("Q-7100", None, clock())
    assert [(o.number, o.kind, [(x.id, x.change, int(x.quantity)) for x in o.lines]) for o in amendment] == [
        ("Q-7100-04", "cancellation", [("TRAIN", "remove", -1)]),
        ("Q-7100-05", "amendment", [("SEATS", "increase", 50)]),
        ("Q-7100-06", "amendment", [("ONSITE", "add", 1)]),
    ]
    assert [o.total for o in amendment] == [Decimal("-1500.00"), Decimal("6000.00"), Decimal("900.00")]
    assert (await desk.order("Q-7100-03")).status == "cancelled", "superseded by Q-7100-06"
    assert await desk.generate("Q-7100", None, clock()) == amendment, "generating again changes nothing"

    assert await release_and_sync(desk, worker, clock, clock()) == 1  # the cancellation, due at once
    assert await release_and_sync(desk, worker, clock, at("2027-04-01", dt.time(4, 0))) == 1  # 06:00 CEST
    assert await release_and_sync(desk, worker, clock, at("2027-06-01", dt.time(4, 0))) == 1

    assert erp.delivered() == collections.Counter(
        {
            "Q-7100-01:released": 1,
            "Q-7100-02:released": 1,
            "Q-7100-04:cancelled": 1,
            "Q-7100-05:amended": 1,
            "Q-7100-06:amended": 1,
        }
    )
    sent = {r.key: r.payload for r in erp.received}
    gateways = [x["quantity"] for p in sent.values() for x in p["lines"] if x["id"] == "GW"]
    assert gateways == [5], "the gateways went to the ERP once"
    assert sent["Q-7100-05:amended"]["type"] == "order.amended"
    assert sent["Q-7100-05:amended"]["billing"] == {
        "customer": {"account_id": "A-71", "name": "Acme GmbH"},
        "bill_to": "Acme GmbH",
        "ship_to": "Berlin HQ",
        "payment_terms": "Net 30",
        "po_number": "PO-7100-B",
        "contract": "C-Q-7100",
    }
    assert sent["Q-7100-04:cancelled"]["lines"][0]["net_total"] == "-1500.00"
    assert await OrderRow.filter(quote_id="Q-7100").exclude(status__in=("synced", "cancelled")).count() == 0

    assert await entitled(desk, "2027-01-10") == {}
    assert await entitled(desk, "2027-01-11") == {"GW": 5, "TRAIN": 1}
    assert await entitled(desk, "2027-02-01") == {"SEATS": 100, "GW": 5, "TRAIN": 1}
    assert await entitled(desk, "2027-02-28") == {"SEATS": 100, "GW": 5, "TRAIN": 1}
    assert await entitled(desk, "2027-03-01") == {"SEATS": 100, "GW": 5}, "the training is given back"
    assert await entitled(desk, "2027-04-01") == {"SEATS": 150, "GW": 5}
    assert await entitled(desk, "2027-06-01") == {"SEATS": 150, "GW": 5, "ONSITE": 1}
    assert await entitled(desk, "2028-01-31") == {"SEATS": 150, "GW": 5, "ONSITE": 1}
    assert await entitled(desk, "2028-02-01") == {"GW": 5, "ONSITE": 1}, "the increase ends with the seats' term"

    (row,) = await ContractRow.filter(quote_id="Q-7100")
    assert (row.number, row.quote_version, row.start_date, row.end_date) == (
        "C-Q-7100",
        2,
        DAY("2027-01-11"),
        DAY("2028-02-01"),
    )


async def test_orders_held_for_a_version_that_is_rejected_go_ahead_as_before(
    service: Approvals, desk: Orders, clock: Clock
) -> None:
    await approve(service, v1(), clock())
    await desk.generate("Q-7100", None, clock())
    await service.receive_quote(parse_quote(v2()), clock())
    assert {o.number: o.status for o in await desk.orders_of("Q-7100")} == {
        "Q-7100-01": "held",
        "Q-7100-02": "held",
        "Q-7100-03": "held",
    }
    rejected = Event(Kind.QUOTE_REJECTED, clock(), "Q-7100", 2, 2)  # what the `orders` topic is handed
    assert len(await desk.react(rejected, clock())) == 3
    orders = await desk.orders_of("Q-7100")
    assert [(o.status, o.held_for) for o in orders] == [("scheduled", None)] * 3
    assert await desk.release_due(at("2027-01-11")) == 1
