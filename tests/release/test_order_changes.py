"""Changes before release (orders-v1 §2) and entitlements (§3), on the database.

Before release the owner or an admin can hold, resume, reschedule, split, cancel or release an
order now, each change audited and announced; nobody else can; after release nobody can.
"""

from __future__ import annotations

import datetime as dt

import pytest

from domain.contracts import Contract
from domain.errors import Conflict, NotAllowed
from domain.order_service import Orders
from domain.quote import parse_quote
from domain.service import Approvals
from store.models import AuditRow, ContractRow, OrderRow, OutboxRow

from .support import ADMIN, OWNER, START, STRANGER, approve, audit_count, event_kinds, line, order_audit, quote_data


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


DAY = dt.date.fromisoformat
T = utc(2027, 1, 10, 9, 0)  # when the changes are made


async def two_orders(service: Approvals, desk: Orders) -> None:
    """Q-5001-01 with L1 and L2 on Jan 15, Q-5001-02 with L3 on Jan 20; released 06:00 Berlin (05:00 UTC)."""
    lines = [line("L1", "2027-01-15"), line("L2", "2027-01-15"), line("L3", "2027-01-20")]
    await approve(service, quote_data("Q-5001", *lines), START)
    orders = await desk.generate("Q-5001", None, START)
    assert [(o.number, o.line_ids) for o in orders] == [("Q-5001-01", ("L1", "L2")), ("Q-5001-02", ("L3",))]


async def release_at(number: str) -> dt.datetime:
    return (await OrderRow.get(number=number)).release_at


CHANGES = [
    ("hold", {}),
    ("resume", {}),
    ("reschedule", {"new_date": DAY("2027-02-01")}),
    ("split", {"new_date": DAY("2027-02-01"), "line_ids": ["L2"]}),
    ("cancel", {}),
    ("release", {}),
]


@pytest.mark.parametrize(("action", "options"), CHANGES, ids=[a for a, _ in CHANGES])
async def test_a_stranger_cannot_change_an_order(service: Approvals, desk: Orders, action: str, options: dict) -> None:
    await two_orders(service, desk)
    before = await OrderRow.all().order_by("id").values()
    with pytest.raises(NotAllowed, match="only the owner of Q-5001 or an admin"):
        await desk.change("Q-5001-01", action, STRANGER, T, **options)
    assert await OrderRow.all().order_by("id").values() == before
    assert await AuditRow.filter(kind__startswith="order_").count() == 0


async def test_the_owner_and_admins_change_orders_before_release_and_each_change_is_audited_and_announced(
    service: Approvals, desk: Orders
) -> None:
    await two_orders(service, desk)
    total = (await desk.order("Q-5001-01")).total

    assert [o.status for o in await desk.change("Q-5001-01", "hold", OWNER, T)] == ["held"]
    assert await desk.release_due(utc(2027, 1, 16)) == 0, "held on its day; Q-5001-02 is not due yet"
    later = utc(2027, 1, 16, 9, 0)
    (rescheduled,) = await desk.change("Q-5001-01", "reschedule", OWNER, later, new_date=DAY("2027-01-25"))
    assert (rescheduled.status, rescheduled.delivery_date) == ("held", DAY("2027-01-25"))
    assert [o.status for o in await desk.change("Q-5001-01", "resume", ADMIN, later)] == ["scheduled"]
    kept, moved = await desk.change("Q-5001-01", "split", OWNER, later, new_date=DAY("2027-02-01"), line_ids=["L2"])
    assert (kept.number, kept.line_ids, moved.number, moved.line_ids) == ("Q-5001-01", ("L1",), "Q-5001-03", ("L2",))
    assert kept.total + moved.total == total
    assert [o.status for o in await desk.change("Q-5001-02", "cancel", OWNER, later)] == ["cancelled"]

    assert await release_at("Q-5001-01") == utc(2027, 1, 25, 5, 0)
    assert await release_at("Q-5001-03") == utc(2027, 2, 1, 5, 0)
    assert await desk.release_due(utc(2027, 1, 25, 4, 59)) == 0
    assert await desk.release_due(utc(2027, 1, 25, 5, 0)) == 1
    assert await desk.release_due(utc(2027, 2, 1, 5, 0)) == 1
    assert await desk.release_due(utc(2027, 12, 31)) == 0
    assert {o.number: o.status for o in await desk.orders_of("Q-5001")} == {
        "Q-5001-01": "released",
        "Q-5001-02": "cancelled",
        "Q-5001-03": "released",
    }

    assert await order_audit("Q-5001-01") == [
        ("order_hold", OWNER),
        ("order_reschedule", OWNER),
        ("order_resume", ADMIN),
        ("order_split", OWNER),
        ("order_released", None),
    ]
    assert await order_audit("Q-5001-02") == [("order_cancel", OWNER)]
    assert await order_audit("Q-5001-03") == [("order_released", None)]
    announced = [k for k in await event_kinds() if k.startswith("order_")]
    assert announced == [
        "order_hold",
        "order_reschedule",
        "order_resume",
        "order_split",
        "order_cancel",
        "order_released",
        "order_released",
    ]
    assert sorted(await OutboxRow.filter(topic="erp").values_list("key", flat=True)) == [
        "Q-5001-01:released",
        "Q-5001-03:released",
    ]


async def test_a_held_order_resumed_after_its_release_time_goes_out_with_the_next_sweep(
    service: Approvals, desk: Orders
) -> None:
    await two_orders(service, desk)
    await desk.change("Q-5001-01", "hold", OWNER, T)
    assert await desk.release_due(utc(2027, 1, 17)) == 0
    await desk.change("Q-5001-01", "resume", OWNER, utc(2027, 1, 17, 9, 0))
    assert await desk.release_due(utc(2027, 1, 17, 9, 0)) == 1
    assert (await desk.order("Q-5001-01")).released_at == utc(2027, 1, 17, 9, 0)


async def test_an_admin_releases_an_order_now_and_the_sweep_does_not_release_it_again(
    service: Approvals, desk: Orders
) -> None:
    await two_orders(service, desk)
    (order,) = await desk.change("Q-5001-02", "release", ADMIN, T)
    assert (order.status, order.released_at) == ("released", T)
    assert await desk.release_due(utc(2027, 1, 15, 5, 0)) == 1  # Q-5001-01 on its day
    assert await desk.release_due(utc(2027, 1, 20, 5, 0)) == 0
    assert await order_audit("Q-5001-02") == [("order_release", ADMIN)]
    assert await OutboxRow.filter(topic="erp", key="Q-5001-02:released").count() == 1


@pytest.mark.parametrize(("action", "options"), CHANGES, ids=[a for a, _ in CHANGES])
@pytest.mark.parametrize("who", [OWNER, ADMIN])
async def test_a_released_order_can_no_longer_be_changed(
    service: Approvals, desk: Orders, who: str, action: str, options: dict
) -> None:
    await two_orders(service, desk)
    assert await desk.release_due(utc(2027, 1, 15, 5, 0)) == 1
    before = await OrderRow.all().order_by("id").values()
    with pytest.raises(Conflict, match="Q-5001-01 is released: it can no longer be"):
        await desk.change("Q-5001-01", action, who, utc(2027, 1, 15, 9, 0), **options)
    assert await OrderRow.all().order_by("id").values() == before
    assert await order_audit("Q-5001-01") == [("order_released", None)]


async def test_a_cancelled_order_is_never_released(service: Approvals, desk: Orders) -> None:
    await two_orders(service, desk)
    await desk.change("Q-5001-02", "cancel", ADMIN, T)
    with pytest.raises(Conflict):
        await desk.change("Q-5001-02", "resume", ADMIN, T)
    assert await desk.release_due(utc(2030, 1, 1)) == 1
    assert await audit_count("order_released") == {"Q-5001-01": 1}


# -------------------------------------------------------------------------------------- entitlements


async def test_an_account_is_entitled_to_what_its_released_orders_hold_from_the_day_they_go_out(
    service: Approvals, desk: Orders
) -> None:
    lines = [
        line("L1", "2027-01-04", recurring=True),  # a 12-month subscription
        line("L2", "2027-01-11", quantity=3, net_price=100, net_total=300, asset="per_unit"),
        line("L3", "2027-01-18"),
    ]
    await approve(service, quote_data("Q-6001", *lines, zone="America/Denver", account="A-6"), START)
    await desk.generate("Q-6001", None, START)

    async def entitled(day: str) -> tuple[list[str], list[str]]:
        contracts, found = await desk.account("A-6", DAY(day))
        assert [c.quote_id for c in contracts] == ["Q-6001"]
        return [s.id for s in found.subscriptions], [a.id for a in found.assets]

    assert await entitled("2027-01-20") == ([], []), "nothing is released yet"

    assert await desk.release_due(utc(2027, 1, 4, 13, 0)) == 1  # 06:00 in Denver
    assert await entitled("2027-01-03") == ([], [])
    assert await entitled("2027-01-04") == (["Q-6001-01/L1"], [])
    await desk.synced("Q-6001-01", "ERP-1", utc(2027, 1, 4, 13, 1))
    assert await entitled("2028-01-03") == (["Q-6001-01/L1"], []), "synced still counts"
    assert await entitled("2028-01-04") == ([], []), "the term has ended"

    await desk.change("Q-6001-03", "cancel", OWNER, utc(2027, 1, 5))
    assert await desk.release_due(utc(2027, 1, 11, 13, 0)) == 1
    assert await entitled("2027-01-10") == (["Q-6001-01/L1"], [])
    units = ["Q-6001-02/L2"]  # one entry of 3 units, tracked one by one by the ERP
    assert await entitled("2027-01-11") == (["Q-6001-01/L1"], units)
    assert await desk.release_due(utc(2027, 2, 1)) == 0
    assert await entitled("2027-02-01") == (["Q-6001-01/L1"], units), "the cancelled order gives nothing"


async def test_a_change_after_a_newer_version_arrived_rebuilds_the_contract_of_the_orders_version(
    service: Approvals, desk: Orders
) -> None:
    await two_orders(service, desk)
    newer = quote_data("Q-5001", line("L1", "2027-03-01"), line("L9", "2027-03-01"))
    await service.receive_quote(parse_quote({**newer, "version": 2}), T)  # not submitted yet

    await desk.change("Q-5001-01", "split", OWNER, T, new_date=DAY("2027-02-01"), line_ids=["L2"])

    (row,) = await ContractRow.filter(quote_id="Q-5001")
    contract = Contract.from_dict(row.data)
    assert contract.quote_version == 1
    assert [(a.id, a.delivery_date) for a in contract.assets] == [
        ("Q-5001-01/L1", DAY("2027-01-15")),
        ("Q-5001-02/L3", DAY("2027-01-20")),
        ("Q-5001-03/L2", DAY("2027-02-01")),
    ]
