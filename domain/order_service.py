"""The orders service (orders-v1): generation, changes before release, the release sweep, ERP results.

Like the approvals service (`domain.service`), each command is one short transaction over a
`Store`: it loads what it needs, decides with the pure functions of `domain.orders` and
`domain.contracts`, saves each order with a compare-and-set on its revision and records its
events with `tx.record`, which queues what follows them (`domain.reactions`: the announcement in
the rep's thread, the ERP message of a released order). A command that loses a race
(`ConcurrentChange`) runs again on fresh state. The in-memory store and the database store
implement the same transaction, so scenarios drive orders on either.

Who may act is `domain.permissions`: the quote's owner or an admin generates and changes orders,
only an admin retries an ERP delivery, and Greenlight itself (`by=None`) generates them on approval.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from . import orders as plan
from . import permissions
from .amendments import plan_amendments
from .contracts import Contract, Entitlements, build_contract, contract_problems, contract_status, entitlements
from .errors import Conflict, NotAllowed, NotFound, Problem, QuoteError
from .events import Event, Kind
from .orders import PlannedOrder
from .policy import Policy
from .quote import Quote
from .reactions import Topic
from .service import RETRIES, ConcurrentChange, Queued, Store, Tx

log = logging.getLogger("greenlight.orders")

T = TypeVar("T")

CHANGES = ("reschedule", "split", "hold", "resume", "cancel", "release")
# Changes after which the contract is built again from the quote version's live orders.
_RESHAPING = ("reschedule", "split", "cancel")
RELEASE_BATCH = 500
DESK_PAGE = 12  # orders on one page of the order desk (two Slack blocks each)


def _event(kind: Kind, now: dt.datetime, order: PlannedOrder, submission: int, **fields: Any) -> Event:
    """An event about one order: its detail names the order first."""
    detail = {"order": order.number, "delivery_date": order.delivery_date.isoformat(), **fields.pop("detail", {})}
    return Event(kind, now, order.quote_id, order.quote_version, submission, detail=detail, **fields)


def _not_orderable(quote_id: str, version: int, sub: Any) -> str:
    if sub is None:
        return f"orders come from an approved quote: {quote_id} v{version} has not been submitted"
    if sub.quote_version != version:
        return (
            f"orders come from an approved quote: {quote_id} v{version} has not been submitted "
            f"(v{sub.quote_version} was {sub.status}): submit v{version} first"
        )
    return f"orders come from an approved quote: {quote_id} v{version} is {sub.status}"


async def hold_for_version(tx: Tx, quote_id: str, version: int, now: dt.datetime) -> list[Event]:
    """A newer version arrived: the scheduled orders of earlier versions wait for its decision.

    Called by the approvals service in the transaction that stores the version; each order held
    is announced in the rep's thread. Approved, its orders supersede them; rejected, they resume.
    """
    events = []
    for order in await tx.orders_of(quote_id):
        if order.quote_version >= version or order.status != plan.SCHEDULED:
            continue
        held = dataclasses.replace(plan.transition(order, "hold"), held_for=version, revision=order.revision + 1)
        if not await tx.update_order(held, order.revision):
            raise ConcurrentChange(f"order {order.number} changed meanwhile: look again")
        why = (
            f"version {version} of {quote_id} arrived: order {order.number} waits for its decision "
            "(superseded if it is approved, resumed if it is rejected)"
        )
        events.append(_event(Kind.ORDER_HOLD, now, order, 0, actor="crm", comment=why))
    return events


def orderable_problems(policy: Policy, quote: Quote, today: dt.date) -> list[Problem]:
    """Why an approved `quote` could not become orders and a contract; checked at submit, so the rep
    hears it as a sentence before anyone approves (the same checks run again at generation). A quote
    without lines is not refused: approvals alone are a use of Greenlight too."""
    if not quote.lines:
        return []  # a quote without lines is approved for itself: it has no orders to check
    try:
        orders = plan.plan_orders(policy, quote, today)
    except QuoteError as refused:
        return list(refused.problems)
    except Conflict as refused:  # a date whose release instant cannot be represented
        return [Problem("$.lines", str(refused))]
    return contract_problems(quote, orders)


def _due_at(order: PlannedOrder, now: dt.datetime) -> dt.datetime:
    return plan.release_due_at(order.delivery_date, order.release_time, order.zone, now)


class Orders:
    def __init__(self, policy: Policy, store: Store) -> None:
        self.policy = policy
        self.store = store

    async def _retried(self, command: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(RETRIES):
            try:
                return await command()
            except ConcurrentChange:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _save(self, tx: Tx, order: PlannedOrder, due_at: dt.datetime | None = None) -> PlannedOrder:
        """Store `order` over the revision it was read at; the saved order has the next revision."""
        saved = dataclasses.replace(order, revision=order.revision + 1)
        if not await tx.update_order(saved, order.revision, due_at):
            raise ConcurrentChange(f"order {order.number} changed meanwhile: look again")
        return saved

    # ---------------------------------------------------------------- reading

    async def orders_of(self, quote_id: str) -> list[PlannedOrder]:
        async with self.store.transaction() as tx:
            return await tx.orders_of(quote_id)

    async def orders_of_version(self, quote_id: str, version: int) -> list[PlannedOrder]:
        return [o for o in await self.orders_of(quote_id) if o.quote_version == version]

    async def order(self, number: str) -> PlannedOrder:
        async with self.store.transaction() as tx:
            order = await tx.order(number)
        if order is None:
            raise NotFound(f"there is no order {number}")
        return order

    async def account(self, account_id: str, at: dt.date, by: str | None = None) -> tuple[list[Contract], Entitlements]:
        """The account's contracts, and what they entitle it to on `at` (orders-v1 §3). With `by` (a
        person asking), only an admin, the order desk or the owner of one of its quotes may read it."""
        contracts, found, _ = await self.account_with_status(account_id, at, by)
        return contracts, found

    async def account_with_status(
        self, account_id: str, at: dt.date, by: str | None = None
    ) -> tuple[list[Contract], Entitlements, dict[str, str]]:
        """As `account`, with each contract's status on `at` by contract number."""
        async with self.store.transaction() as tx:
            contracts = await tx.contracts_of(account_id)
            by_number: dict[str, PlannedOrder] = {}
            owners: set[str] = set()
            for quote_id in dict.fromkeys(c.quote_id for c in contracts):
                by_number.update((o.number, o) for o in await tx.orders_of(quote_id))
                sub = await tx.latest(quote_id)
                if sub is not None:
                    owners.add(sub.owner)
        if by is not None:
            permissions.require_account_reader(self.policy, by, owners, account_id)
        statuses = {c.number: contract_status(c, by_number, at) for c in contracts}
        return contracts, entitlements(contracts, by_number, at), statuses

    async def erp_messages(self, quote_id: str) -> list[Queued]:
        """The ERP messages queued for the quote's orders, by order number."""
        async with self.store.transaction() as tx:
            found: list[Queued] = []
            for order in await tx.orders_of(quote_id):
                found.extend(await tx.queued(Topic.ERP, f"{order.number}:"))
            return found

    # ---------------------------------------------------------------- generating

    async def generate(self, quote_id: str, by: str | None, now: dt.datetime) -> list[PlannedOrder]:
        """The orders of the approved quote's current version; again, the same orders (no-op)."""
        return await self._retried(lambda: self._generate(quote_id, by, now))

    async def _generate(self, quote_id: str, by: str | None, now: dt.datetime) -> list[PlannedOrder]:
        async with self.store.transaction() as tx:
            quote = await tx.quote(quote_id)
            if quote is None:
                raise NotFound(f"no quote {quote_id} has been received from the CRM")
            sub = await tx.latest(quote_id)
            if sub is None or sub.status != "approved" or sub.quote_version != quote.version:
                raise Conflict(_not_orderable(quote_id, quote.version, sub))
            permissions.require_order_manager(self.policy, by, sub.owner, quote_id, "generate")
            known = await tx.orders_of(quote_id)
            existing = [o for o in known if o.quote_version == quote.version]
            contract = await tx.contract_of(quote_id)
            if existing or (contract is not None and quote.version in contract.versions):
                return existing
            approved_on = (sub.decided_at or now).astimezone(self.policy.zone).date()
            earlier = [o for o in known if o.quote_version != quote.version]
            full = plan.plan_orders(self.policy, quote, approved_on)
            # A newer approved version: only what changed against what was released is ordered
            # (`domain.amendments`); the earlier versions' orders not released yet are superseded.
            planned = [
                dataclasses.replace(o, release_at=_due_at(o, now)) for o in plan_amendments(full, earlier, approved_on)
            ]
            live = [o for o in earlier if o.status in plan.RELEASED_STATUSES] + planned
            contract = build_contract(quote, live, await self._terms(tx, quote_id, live))
            summary = [
                {
                    "number": o.number,
                    "kind": o.kind,
                    "delivery_date": o.delivery_date.isoformat(),
                    "ship_to": o.ship_to,
                    "total": plan.money(o.total, o.currency),
                    "currency": o.currency,
                }
                for o in planned
            ]
            events = [
                Event(
                    Kind.ORDERS_GENERATED,
                    now,
                    quote_id,
                    quote.version,
                    sub.number,
                    actor=by,
                    detail={"orders": summary},
                )
            ]
            for order in planned:
                await tx.add_order(order, order.release_at, now)
            if await tx.contract_of(quote_id) is None:
                await tx.add_contract(contract, now)
            else:
                await tx.update_contract(contract)
            why = f"superseded by version {quote.version}: its orders hold only what changed"
            for order in earlier:
                if order.status in (plan.SCHEDULED, plan.HELD):
                    await self._save(tx, dataclasses.replace(plan.transition(order, "cancel"), held_for=None))
                    events.append(_event(Kind.ORDER_CANCEL, now, order, sub.number, actor=by, comment=why))
            await tx.record(events)
            return planned

    async def _terms(self, tx: Tx, quote_id: str, orders: list[PlannedOrder]) -> dict[int, Any]:
        """The quote-level `term_months` of each version the orders come from."""
        terms: dict[int, Any] = {}
        for version in sorted({o.quote_version for o in orders}):
            quote = await tx.quote_version(quote_id, version)
            if quote is not None:
                terms[version] = quote.data.get("term_months")
        return terms

    async def react(self, event: Event, now: dt.datetime) -> list[PlannedOrder]:
        """What the `orders` topic does with an event (`domain.reactions`): generate on approval, put
        back in line the orders held for a version that was rejected."""
        if event.kind is Kind.QUOTE_REJECTED:
            return await self.on_rejected(event, now)
        return await self.on_approved(event, now)

    async def on_rejected(self, event: Event, now: dt.datetime) -> list[PlannedOrder]:
        """Orders held because this (now rejected) version arrived go ahead as before."""
        return await self._retried(lambda: self._resume_held(event.quote_id, event.quote_version, now))

    async def _resume_held(self, quote_id: str, version: int, now: dt.datetime) -> list[PlannedOrder]:
        async with self.store.transaction() as tx:
            resumed = []
            events = []
            why = f"version {version} was rejected: this order goes ahead as approved before"
            for order in await tx.orders_of(quote_id):
                if order.status != plan.HELD or order.held_for != version:
                    continue
                back = dataclasses.replace(plan.transition(order, "resume"), held_for=None)
                saved = await self._save(tx, back, _due_at(back, now))
                resumed.append(saved)
                events.append(_event(Kind.ORDER_RESUME, now, order, 0, comment=why))
            await tx.record(events)
            return resumed

    async def on_approved(self, event: Event, now: dt.datetime) -> list[PlannedOrder]:
        """The `generate_orders` reaction to `quote_approved` (`domain.reactions`): with the policy's
        `orders.generate: auto`, the orders of the approved version; none when a later change moved
        the quote on (a newer version arrived, or it was recalled) before this ran."""
        if self.policy.orders.generate != "auto":
            return []
        try:
            return await self.generate(event.quote_id, None, now)
        except Conflict as moved_on:
            log.info("no orders generated for %s: %s", event.quote_id, moved_on)
            return []

    # ---------------------------------------------------------------- changing before release

    async def change(
        self,
        number: str,
        action: str,
        by: str,
        now: dt.datetime,
        *,
        new_date: dt.date | None = None,
        line_ids: list[str] | None = None,
        quantities: dict[str, Decimal] | None = None,
    ) -> list[PlannedOrder]:
        """Reschedule, hold, resume, cancel, release now or split an order that is not released yet.

        Returns the changed order; for a split, the order with the lines that stay and the new one
        (`quantities` moves part of a line: {line id: units}).
        """
        return await self._retried(lambda: self._change(number, action, by, now, new_date, line_ids, quantities))

    async def _change(
        self,
        number: str,
        action: str,
        by: str,
        now: dt.datetime,
        new_date: dt.date | None,
        line_ids: list[str] | None,
        quantities: dict[str, Decimal] | None = None,
    ) -> list[PlannedOrder]:
        async with self.store.transaction() as tx:
            order = await tx.order(number)
            if order is None:
                raise NotFound(f"there is no order {number}")
            sub = await tx.latest(order.quote_id)
            permissions.require_order_manager(self.policy, by, sub.owner if sub else None, order.quote_id, "change")
            siblings = await tx.orders_of(order.quote_id)
            changed = self._changed(order, action, now, new_date, line_ids, siblings, quantities)
            first = await self._save(tx, changed[0], _due_at(changed[0], now))
            saved = [first]
            if action == "split":
                moved = dataclasses.replace(changed[1], revision=0)
                await tx.add_order(moved, _due_at(moved, now), now)
                saved.append(moved)
            detail: dict[str, Any] = {
                "action": action,
                "new_date": new_date.isoformat() if new_date else None,
                "lines": line_ids,
            }
            if quantities:
                detail["quantities"] = {k: plan.number(v) for k, v in quantities.items()}
            await tx.record(
                [_event(Kind(f"order_{action}"), now, first, sub.number if sub else 0, actor=by, detail=detail)]
            )
            if action in _RESHAPING:
                current = {o.number: o for o in siblings} | {o.number: o for o in saved}
                await self._rebuild_contract(tx, order, list(current.values()))
            return saved

    @staticmethod
    def _changed(
        order: PlannedOrder,
        action: str,
        now: dt.datetime,
        new_date: dt.date | None,
        line_ids: list[str] | None,
        siblings: list[PlannedOrder],
        quantities: dict[str, Decimal] | None = None,
    ) -> list[PlannedOrder]:
        changed = Orders._applied(order, action, now, new_date, line_ids, siblings, quantities)
        if new_date is not None and action in ("reschedule", "split"):
            today = now.astimezone(ZoneInfo(order.zone)).date()
            if new_date < today:
                raise NotAllowed(
                    f"{new_date.isoformat()} is in the past: order {order.number} was not moved "
                    f"(pick {today.isoformat()} or later; Release now sends it today)"
                )
        return changed

    @staticmethod
    def _applied(
        order: PlannedOrder,
        action: str,
        now: dt.datetime,
        new_date: dt.date | None,
        line_ids: list[str] | None,
        siblings: list[PlannedOrder],
        quantities: dict[str, Decimal] | None = None,
    ) -> list[PlannedOrder]:
        if action == "reschedule":
            if new_date is None:
                raise Conflict("give the new delivery date")
            return [plan.reschedule(order, new_date)]
        if action == "split":
            if new_date is None or not (line_ids or quantities):
                raise Conflict("give the lines to move and their new delivery date")
            taken = [o.number for o in siblings]
            kept, moved = plan.split(order, line_ids or [], new_date, taken=taken, quantities=quantities)
            return [kept, moved]
        if action in ("hold", "resume", "cancel"):
            return [plan.transition(order, action)]
        if action == "release":
            return [plan.transition(order, "release", at=now)]
        raise Conflict(f"unknown order change {action!r}")

    async def _rebuild_contract(self, tx: Tx, order: PlannedOrder, orders: list[PlannedOrder]) -> None:
        """The quote's contract, built again from its live orders: the released ones of every version,
        and the not cancelled ones of the version the contract stands at."""
        contract = await tx.contract_of(order.quote_id)
        version = contract.quote_version if contract is not None else order.quote_version
        quote = await tx.quote_version(order.quote_id, version)
        live = sorted(
            (
                o
                for o in orders
                if o.status != plan.CANCELLED and (o.quote_version == version or o.status in plan.RELEASED_STATUSES)
            ),
            key=lambda o: o.number,
        )
        if quote is None or not live:
            return
        await tx.update_contract(build_contract(quote, live, await self._terms(tx, order.quote_id, live)))

    # ---------------------------------------------------------------- releasing

    async def release_due(self, now: dt.datetime, limit: int = RELEASE_BATCH) -> int:
        """Release every order due at `now`, `limit` to a transaction; returns how many this call released."""
        total = 0
        while True:
            released = await self._retried(lambda: self._release_batch(now, limit))
            total += released
            if released < limit:
                return total

    async def _release_batch(self, now: dt.datetime, limit: int) -> int:
        async with self.store.transaction() as tx:
            return await tx.release_due(now, limit)

    # ---------------------------------------------------------------- the order desk

    def this_week(self, now: dt.datetime) -> tuple[dt.date, dt.date]:
        """Monday to Sunday of the week of `now`, in the policy's zone."""
        today = now.astimezone(self.policy.zone).date()
        monday = today - dt.timedelta(days=today.weekday())
        return monday, monday + dt.timedelta(days=6)

    async def due_between(
        self, by: str | None, first: dt.date, last: dt.date, page: int = 0, per_page: int = DESK_PAGE
    ) -> tuple[list[PlannedOrder], int]:
        """The order desk's view: orders of every quote whose release falls on `first`..`last` (days in
        the policy's zone, inclusive), by release instant, one page; and how many in all."""
        permissions.require_order_desk(self.policy, by)
        zone = self.policy.zone
        start = dt.datetime.combine(first, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        async with self.store.transaction() as tx:
            return await tx.orders_due(start, end, per_page, max(page, 0) * per_page)

    # ---------------------------------------------------------------- renewals

    async def remind_renewals(self, now: dt.datetime, limit: int = 200) -> int:
        """Contracts ending within `orders.renewal_notice_days`: one `contract_renewal_due` event each,
        once (its owner hears it in the quote's thread; the CRM through its webhooks). How many."""
        return await self._retried(lambda: self._remind_renewals(now, limit))

    async def _remind_renewals(self, now: dt.datetime, limit: int) -> int:
        today = now.astimezone(self.policy.zone).date()
        through = today + dt.timedelta(days=self.policy.orders.renewal_notice_days)
        async with self.store.transaction() as tx:
            events = []
            for contract in await tx.renewals_due(through, today, limit):
                if not await tx.mark_renewal_sent(contract.quote_id, now):
                    continue
                sub = await tx.latest(contract.quote_id)
                end = contract.end or today
                detail = {
                    "contract": contract.number,
                    "account": contract.account_id,
                    "end": end.isoformat(),
                    "days_left": (end - today).days,
                    "terms": contract.terms,
                }
                owner = sub.owner if sub is not None else None
                events.append(
                    Event(
                        Kind.CONTRACT_RENEWAL_DUE,
                        now,
                        contract.quote_id,
                        contract.quote_version,
                        sub.number if sub is not None else 0,
                        people=(owner,) if owner else (),
                        detail=detail,
                    )
                )
            await tx.record(events)
            return len(events)

    # ---------------------------------------------------------------- ERP results

    async def synced(self, number: str, reference: str | None, now: dt.datetime) -> None:
        """The ERP took the order: `synced`, with its reference. A repeat (a redelivery) changes nothing."""
        await self._retried(lambda: self._synced(number, reference, now))

    async def _synced(self, number: str, reference: str | None, now: dt.datetime) -> None:
        async with self.store.transaction() as tx:
            order = await tx.order(number)
            if order is None or not plan.can(order.status, "sync"):
                return
            synced = dataclasses.replace(plan.transition(order, "sync"), erp_reference=reference)
            await self._save(tx, synced)
            await tx.record([_event(Kind.ORDER_SYNCED, now, order, 0, detail={"erp_reference": reference})])

    async def sync_failed(self, number: str, error: str, outbox_id: int, now: dt.datetime) -> None:
        """The ERP refused the order for good: `sync_failed`, and the admins are alerted."""
        await self._retried(lambda: self._sync_failed(number, error, outbox_id, now))

    async def _sync_failed(self, number: str, error: str, outbox_id: int, now: dt.datetime) -> None:
        async with self.store.transaction() as tx:
            order = await tx.order(number)
            if order is None or not plan.can(order.status, "sync_fail"):
                return
            await self._save(tx, plan.transition(order, "sync_fail"))
            detail = {"outbox": outbox_id, "people": self.policy.admins}
            await tx.record([_event(Kind.ORDER_SYNC_FAILED, now, order, 0, comment=error, detail=detail)])

    async def retry_sync(self, number: str, by: str, now: dt.datetime) -> bool:
        """The admins' Retry button: the dead ERP message goes back in line; False when none was dead."""
        permissions.require_admin(self.policy, by, "retry an ERP delivery")
        return await self._retried(lambda: self._retry_sync(number, by, now))

    async def _retry_sync(self, number: str, by: str, now: dt.datetime) -> bool:
        async with self.store.transaction() as tx:
            order = await tx.order(number)
            if order is None:
                raise NotFound(f"there is no order {number}")
            if not await tx.requeue_dead(Topic.ERP, f"{number}:", now):
                return False
            if plan.can(order.status, "retry"):
                await self._save(tx, plan.transition(order, "retry"))
            await tx.record([_event(Kind.ORDER_SYNC_RETRY, now, order, 0, actor=by)])
            return True
