"""The orders service on the in-memory store: generation, changes, the release sweep and ERP results.

The same commands run on the database in tests/release; here they run on the memory twin, where a
test sees every event recorded (`store.events`), every topic queued (`store.outbox`) and every ERP
message (`store.messages`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from domain.errors import Conflict, NotAllowed, NotFound
from domain.events import Kind
from domain.memory import MemoryStore, MemoryTx
from domain.order_service import Orders
from domain.orders import erp_message
from domain.policy import load_policy
from domain.quote import parse_quote
from domain.reactions import Topic
from domain.service import Approvals

from .kit import utc

OWNER, ADMIN, STRANGER = "rita", "dana", "mallory"
START = utc(2026, 12, 1, 9, 0)
T = utc(2027, 1, 10, 9, 0)
DAY = dt.date.fromisoformat
POLICY = load_policy(
    f"""
version: 1
timezone: UTC
admins: [{ADMIN}]
fallback_approver: {ADMIN}
people:
  {OWNER}: {{slack: U0RITA}}
  {ADMIN}: {{slack: U0DANA}}
  {STRANGER}: {{slack: U0MAL}}
orders:
  release_time: "06:00"
""",
    "orders service test policy",
)


def line(line_id: str, delivery_date: str, net_total: int = 1000, **more: object) -> dict:
    return {
        "id": line_id,
        "sku": f"SKU-{line_id}",
        "quantity": 1,
        "net_price": net_total,
        "net_total": net_total,
        "recurring": False,
        "delivery_date": delivery_date,
        **more,
    }


def quote_data(*lines: dict, version: int = 1, quote_id: str = "Q-5001") -> dict:
    return {
        "id": quote_id,
        "version": version,
        "owner": OWNER,
        "currency": "EUR",
        "term_months": 12,
        "account": {"id": "A-1", "name": "Acme GmbH", "timezone": "Europe/Berlin", "ship_to": "Berlin HQ"},
        "net_total": sum(x["net_total"] for x in lines),
        "lines": list(lines),
    }


TWO_ORDERS = (line("L1", "2027-01-15"), line("L2", "2027-01-15"), line("L3", "2027-01-20"))


class Desk:
    """A memory store with both services over it."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.approvals = Approvals(POLICY, self.store)
        self.orders = Orders(POLICY, self.store)

    async def approve(self, data: dict, now: dt.datetime = START) -> None:
        """Receive and submit a quote that needs no approval: it is approved at submit."""
        await self.approvals.receive_quote(parse_quote(data), now)
        submission, _ = await self.approvals.submit(data["id"], None, now)
        assert submission.status == "approved"

    async def statuses(self, quote_id: str = "Q-5001") -> dict[str, str]:
        return {o.number: o.status for o in await self.orders.orders_of(quote_id)}

    def kinds(self, prefix: str = "order") -> list[str]:
        return [e.kind.value for e in self.store.events if e.kind.value.startswith(prefix)]

    def audit_of(self, number: str) -> list[tuple[str, str | None]]:
        return [(e.kind.value, e.actor) for e in self.store.events if e.detail.get("order") == number]


@pytest.fixture
async def desk() -> Desk:
    """Q-5001-01 with L1 and L2 on Jan 15, Q-5001-02 with L3 on Jan 20; released 06:00 Berlin (05:00 UTC)."""
    desk = Desk()
    await desk.approve(quote_data(*TWO_ORDERS))
    orders = await desk.orders.generate("Q-5001", None, START)
    assert [(o.number, o.line_ids) for o in orders] == [("Q-5001-01", ("L1", "L2")), ("Q-5001-02", ("L3",))]
    return desk


# ------------------------------------------------------------------------------------------- generating


async def test_generated_orders_are_announced_and_come_with_a_contract(desk: Desk) -> None:
    (generated,) = [e for e in desk.store.events if e.kind is Kind.ORDERS_GENERATED]
    assert (generated.quote_id, generated.quote_version, generated.submission, generated.actor) == (
        "Q-5001",
        1,
        1,
        None,
    )
    assert [o["number"] for o in generated.detail["orders"]] == ["Q-5001-01", "Q-5001-02"]
    assert (Topic.SLACK, generated) in desk.store.outbox
    (contract,) = desk.store.contracts
    assert [a.id for a in contract.assets] == ["Q-5001-01/L1", "Q-5001-01/L2", "Q-5001-02/L3"]
    assert contract.total == Decimal("3000.00")


async def test_generating_again_returns_the_same_orders_and_records_nothing(desk: Desk) -> None:
    before = list(desk.store.events)
    again = await desk.orders.generate("Q-5001", OWNER, T)
    assert [o.number for o in again] == ["Q-5001-01", "Q-5001-02"]
    assert desk.store.events == before


async def test_orders_come_only_from_an_approved_quote_and_from_its_owner_or_an_admin() -> None:
    desk = Desk()
    with pytest.raises(NotFound, match="no quote Q-5001 has been received"):
        await desk.orders.generate("Q-5001", None, START)
    await desk.approvals.receive_quote(parse_quote(quote_data(*TWO_ORDERS)), START)
    with pytest.raises(Conflict, match="orders come from an approved quote: Q-5001 v1 has not been submitted"):
        await desk.orders.generate("Q-5001", None, START)
    await desk.approvals.submit("Q-5001", None, START)
    with pytest.raises(NotAllowed, match="only the owner of Q-5001 or an admin can generate its orders"):
        await desk.orders.generate("Q-5001", STRANGER, START)
    assert len(await desk.orders.generate("Q-5001", ADMIN, START)) == 2


async def test_orders_of_a_newer_approved_version_hold_only_what_changed_and_supersede_the_unreleased_ones(
    desk: Desk,
) -> None:
    await desk.orders.change("Q-5001-01", "release", ADMIN, T)  # L1 and L2 went out; L3 had not
    await desk.approve(quote_data(line("L1", "2027-02-01"), line("L9", "2027-02-01"), version=2), T)

    newer = await desk.orders.generate("Q-5001", None, T)

    assert [(o.number, o.kind, o.line_ids) for o in newer] == [
        ("Q-5001-03", "cancellation", ("L2",)),  # released in v1, gone from v2: given back at once
        ("Q-5001-04", "amendment", ("L9",)),  # new in v2; L1 is unchanged and is not ordered again
    ]
    assert [(line.change, line.quantity, line.net_total) for o in newer for line in o.lines] == [
        ("remove", -1, Decimal("-1000.00")),
        ("add", 1, Decimal("1000.00")),
    ]
    assert await desk.statuses() == {
        "Q-5001-01": "released",
        "Q-5001-02": "cancelled",
        "Q-5001-03": "scheduled",
        "Q-5001-04": "scheduled",
    }
    cancel = [e for e in desk.store.events if e.kind is Kind.ORDER_CANCEL]
    assert [e.detail["order"] for e in cancel] == ["Q-5001-02"]
    assert "superseded by version 2" in (cancel[0].comment or "")
    (contract,) = desk.store.contracts
    assert (contract.number, contract.quote_version, contract.versions) == ("C-Q-5001", 2, (1, 2))
    assert contract.total == Decimal("2000.00"), "v2's total: L1 (released) and L9"


async def test_the_reaction_to_an_approval_generates_orders_only_when_the_policy_says_auto(desk: Desk) -> None:
    (approved,) = [e for e in desk.store.events if e.kind is Kind.QUOTE_APPROVED]
    assert await desk.orders.on_approved(approved, T) == []
    auto = Orders(
        POLICY.model_copy(update={"orders": POLICY.orders.model_copy(update={"generate": "auto"})}), desk.store
    )
    assert [o.number for o in await auto.on_approved(approved, T)] == ["Q-5001-01", "Q-5001-02"]


# ------------------------------------------------------------------------------------------- releasing


async def test_the_release_sweep_releases_exactly_the_due_orders_once(desk: Desk) -> None:
    assert await desk.orders.release_due(utc(2027, 1, 15, 4, 59)) == 0
    assert await desk.orders.release_due(utc(2027, 1, 15, 5, 0)) == 1
    assert await desk.orders.release_due(utc(2027, 1, 15, 5, 0)) == 0
    assert await desk.statuses() == {"Q-5001-01": "released", "Q-5001-02": "scheduled"}
    assert await desk.orders.release_due(utc(2027, 3, 1), limit=1) == 1
    assert await desk.orders.release_due(utc(2027, 3, 1)) == 0
    assert Counter(e.detail["order"] for e in desk.store.events if e.kind is Kind.ORDER_RELEASED) == {
        "Q-5001-01": 1,
        "Q-5001-02": 1,
    }


async def test_a_release_is_an_event_of_the_approved_submission_and_queues_the_order_for_the_erp(desk: Desk) -> None:
    moment = utc(2027, 1, 15, 5, 0)
    await desk.orders.release_due(moment)

    (released,) = [e for e in desk.store.events if e.kind is Kind.ORDER_RELEASED]
    assert (released.at, released.quote_id, released.quote_version, released.submission) == (moment, "Q-5001", 1, 1)
    assert (released.actor, released.people, released.detail) == (None, (), {"order": "Q-5001-01"})
    assert [t for t, e in desk.store.outbox if e is released] == [Topic.SLACK, Topic.ERP, Topic.CRM]
    (message,) = desk.store.messages.values()
    order = await desk.orders.order("Q-5001-01")
    assert (message.topic, message.key, message.status) == (Topic.ERP, "Q-5001-01:released", "pending")
    assert message.payload == erp_message(order, "released")
    assert message.payload["released_at"] == "2027-01-15T05:00:00+00:00"


async def test_an_order_whose_date_is_today_or_past_when_generated_is_released_by_the_next_sweep() -> None:
    desk = Desk()
    early = utc(2026, 12, 1, 3, 0)  # 04:00 in Berlin: today's 06:00 release is still ahead
    await desk.approve(quote_data(line("L1", "2026-11-20"), line("L2", "2026-12-01", ship_to="Hamburg")), early)
    past, today = await desk.orders.generate("Q-5001", None, early)
    assert past.release_at == utc(2026, 11, 20, 5, 0)
    assert today.release_at == early, "due at once, not at 06:00"
    assert await desk.orders.release_due(early) == 2


# ------------------------------------------------------------------------------------------- changing


async def test_the_owner_and_admins_change_orders_before_release_each_change_audited(desk: Desk) -> None:
    assert [o.status for o in await desk.orders.change("Q-5001-01", "hold", OWNER, T)] == ["held"]
    assert await desk.orders.release_due(utc(2027, 1, 16)) == 0, "held on its day; Q-5001-02 is not due yet"
    later = utc(2027, 1, 16, 9, 0)
    (moved,) = await desk.orders.change("Q-5001-01", "reschedule", OWNER, later, new_date=DAY("2027-01-25"))
    assert (moved.status, moved.delivery_date) == ("held", DAY("2027-01-25"))
    assert [o.status for o in await desk.orders.change("Q-5001-01", "resume", ADMIN, later)] == ["scheduled"]
    kept, new = await desk.orders.change(
        "Q-5001-01", "split", OWNER, later, new_date=DAY("2027-02-01"), line_ids=["L2"]
    )
    assert (kept.line_ids, new.number, new.line_ids, new.delivery_date) == (
        ("L1",),
        "Q-5001-03",
        ("L2",),
        DAY("2027-02-01"),
    )
    assert [o.status for o in await desk.orders.change("Q-5001-02", "cancel", OWNER, later)] == ["cancelled"]

    assert await desk.orders.release_due(utc(2027, 1, 25, 4, 59)) == 0
    assert await desk.orders.release_due(utc(2027, 1, 25, 5, 0)) == 1
    assert await desk.orders.release_due(utc(2027, 2, 1, 5, 0)) == 1
    assert await desk.statuses() == {"Q-5001-01": "released", "Q-5001-02": "cancelled", "Q-5001-03": "released"}
    assert desk.audit_of("Q-5001-01") == [
        ("order_hold", OWNER),
        ("order_reschedule", OWNER),
        ("order_resume", ADMIN),
        ("order_split", OWNER),
        ("order_released", None),
    ]
    assert sorted(desk.store.messages) == ["Q-5001-01:released", "Q-5001-03:released"]
    (contract,) = desk.store.contracts
    assert [(a.id, a.delivery_date) for a in contract.assets] == [
        ("Q-5001-01/L1", DAY("2027-01-25")),
        ("Q-5001-03/L2", DAY("2027-02-01")),
    ], "built again without the cancelled order, at the new dates"


async def test_an_order_released_now_goes_to_the_erp_and_the_sweep_leaves_it(desk: Desk) -> None:
    (order,) = await desk.orders.change("Q-5001-02", "release", ADMIN, T)
    assert (order.status, order.released_at) == ("released", T)
    assert await desk.orders.release_due(utc(2027, 1, 20, 5, 0)) == 1, "Q-5001-01 only"
    assert desk.audit_of("Q-5001-02") == [("order_release", ADMIN)]
    assert desk.store.messages["Q-5001-02:released"].payload["released_at"] == T.isoformat()


@pytest.mark.parametrize("action", ["hold", "resume", "cancel", "release", "reschedule", "split"])
async def test_a_stranger_cannot_change_an_order_and_nothing_changes(desk: Desk, action: str) -> None:
    before = (dict(desk.store.orders), list(desk.store.events))
    with pytest.raises(NotAllowed, match="only the owner of Q-5001 or an admin can change its orders"):
        await desk.orders.change("Q-5001-01", action, STRANGER, T, new_date=DAY("2027-02-01"), line_ids=["L2"])
    assert (desk.store.orders, desk.store.events) == before


async def test_a_released_order_can_no_longer_be_changed(desk: Desk) -> None:
    await desk.orders.release_due(utc(2027, 1, 15, 5, 0))
    with pytest.raises(Conflict, match="Q-5001-01 is released: it can no longer be held"):
        await desk.orders.change("Q-5001-01", "hold", ADMIN, T)
    with pytest.raises(NotFound, match="there is no order Q-5001-09"):
        await desk.orders.change("Q-5001-09", "hold", ADMIN, T)


async def test_a_change_that_loses_a_race_runs_again_on_the_order_as_the_winner_left_it(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = MemoryTx.order
    raced = []

    async def read_then_someone_holds_it(tx: MemoryTx, number: str):  # another command commits in between
        found = await read(tx, number)
        if not raced:
            raced.append(number)
            await desk.orders.change(number, "hold", ADMIN, T)
        return found

    monkeypatch.setattr(MemoryTx, "order", read_then_someone_holds_it)
    (cancelled,) = await desk.orders.change("Q-5001-01", "cancel", OWNER, T)

    assert cancelled.status == "cancelled"
    assert desk.audit_of("Q-5001-01") == [("order_hold", ADMIN), ("order_cancel", OWNER)]
    assert (await desk.orders.order("Q-5001-01")).revision == 2


# ------------------------------------------------------------------------------------------- the ERP


async def test_the_erps_answer_syncs_the_order_once_with_its_reference(desk: Desk) -> None:
    await desk.orders.release_due(utc(2027, 1, 15, 5, 0))
    await desk.orders.synced("Q-5001-01", "ERP-1", T)
    await desk.orders.synced("Q-5001-01", "ERP-1", T)  # a redelivery
    order = await desk.orders.order("Q-5001-01")
    assert (order.status, order.erp_reference) == ("synced", "ERP-1")
    assert desk.audit_of("Q-5001-01") == [("order_released", None), ("order_synced", None)]
    await desk.orders.synced("Q-5001-02", "ERP-2", T)
    assert (await desk.orders.order("Q-5001-02")).status == "scheduled", "not released: nothing to sync"


async def test_a_refused_order_alerts_the_admins_and_an_admins_retry_puts_its_message_back_in_line(
    desk: Desk,
) -> None:
    await desk.orders.release_due(utc(2027, 1, 15, 5, 0))
    key = "Q-5001-01:released"
    desk.store.messages[key] = dataclasses.replace(desk.store.messages[key], status="dead")  # the worker gave up
    await desk.orders.sync_failed("Q-5001-01", "ERP refused with 422", 7, T)

    (alert,) = [e for e in desk.store.events if e.kind is Kind.ORDER_SYNC_FAILED]
    assert (alert.comment, alert.detail) == (
        "ERP refused with 422",
        {"order": "Q-5001-01", "delivery_date": "2027-01-15", "outbox": 7, "people": [ADMIN]},
    )
    assert [t for t, e in desk.store.outbox if e is alert] == [Topic.SLACK, Topic.CRM]
    assert (await desk.orders.order("Q-5001-01")).status == "sync_failed"

    with pytest.raises(NotAllowed, match="only an admin can retry an ERP delivery"):
        await desk.orders.retry_sync("Q-5001-01", OWNER, T)
    assert await desk.orders.retry_sync("Q-5001-01", ADMIN, T) is True
    assert desk.store.messages[key].status == "pending"
    assert (await desk.orders.order("Q-5001-01")).status == "released"
    assert await desk.orders.retry_sync("Q-5001-01", ADMIN, T) is False, "nothing dead to retry"
    assert desk.audit_of("Q-5001-01") == [
        ("order_released", None),
        ("order_sync_failed", None),
        ("order_sync_retry", ADMIN),
    ]


# ------------------------------------------------------------------------------------------- the account


async def test_an_account_is_entitled_to_what_its_released_orders_hold(desk: Desk) -> None:
    async def assets(day: str) -> list[str]:
        contracts, found = await desk.orders.account("A-1", DAY(day))
        assert [c.quote_id for c in contracts] == ["Q-5001"]
        return [a.id for a in found.assets]

    assert await assets("2027-02-01") == []
    await desk.orders.release_due(utc(2027, 1, 15, 5, 0))
    assert await assets("2027-01-14") == []
    assert await assets("2027-01-15") == ["Q-5001-01/L1", "Q-5001-01/L2"]


async def test_generating_when_a_newer_version_was_never_submitted_says_so(desk: Desk) -> None:
    await desk.approvals.receive_quote(parse_quote(quote_data(*TWO_ORDERS, version=2)), T)
    with pytest.raises(Conflict) as refused:
        await desk.orders.generate("Q-5001", OWNER, T)
    assert str(refused.value) == (
        "orders come from an approved quote: Q-5001 v2 has not been submitted (v1 was approved): submit v2 first"
    )
