"""Orders in the database: generation, the release sweep, changes before release, ERP results.

The release sweep claims due rows with one atomic `UPDATE ... RETURNING` (plus `FOR UPDATE SKIP
LOCKED` on PostgreSQL) and writes, in the same transaction, the audit rows and the outbox rows
(the ERP message and the Slack announcement). Any number of processes can sweep at once: each
order is released, and handed to the ERP, once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from typing import Any

from tortoise.transactions import in_transaction

from domain import orders as plan
from domain.contracts import Contract, build_contract, entitlements
from domain.errors import Conflict, NotAllowed, NotFound
from domain.events import Event, Kind
from domain.orders import PlannedOrder
from domain.policy import Policy
from domain.quote import Quote

from .codec import order_of
from .models import ContractRow, OrderRow, OutboxRow, QuoteRow, SubmissionRow
from .tx import DbTx

log = logging.getLogger("greenlight.orders")


def _audit(kind: Kind, now: dt.datetime, order: PlannedOrder, submission: int, actor: str | None,
           comment: str | None = None, detail: dict[str, Any] | None = None) -> Event:  # fmt: skip
    return Event(kind, now, order.quote_id, order.quote_version, submission, actor=actor, comment=comment,
                 detail={"order": order.number, **(detail or {})})  # fmt: skip


class OrderDesk:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    # ---------------------------------------------------------------- reading

    async def orders_of(self, quote_id: str) -> list[PlannedOrder]:
        rows = await OrderRow.filter(quote_id=quote_id).order_by("number")
        return [order_of(r) for r in rows]

    async def order(self, number: str) -> PlannedOrder:
        row = await OrderRow.filter(number=number).first()
        if row is None:
            raise NotFound(f"there is no order {number}")
        return order_of(row)

    async def account(self, account_id: str, at: dt.date) -> tuple[list[Contract], Any]:
        contracts = [Contract.from_dict(r.data) for r in await ContractRow.filter(account_id=account_id).order_by("id")]
        quote_ids = {c.quote_id for c in contracts}
        rows = await OrderRow.filter(quote_id__in=list(quote_ids)) if quote_ids else []
        by_number = {r.number: order_of(r) for r in rows}
        return contracts, entitlements(contracts, by_number, at)

    # ---------------------------------------------------------------- generating

    async def generate(self, quote_id: str, by: str | None, now: dt.datetime) -> list[PlannedOrder]:
        """The orders of the approved quote's current version; again, the same orders (no-op)."""
        quote_row = await QuoteRow.filter(id=quote_id).first()
        if quote_row is None:
            raise NotFound(f"no quote {quote_id} has been received from the CRM")
        sub_row = await SubmissionRow.filter(quote_id=quote_id).order_by("-number").first()
        if sub_row is None or sub_row.status != "approved" or sub_row.quote_version != quote_row.version:
            state = "not submitted" if sub_row is None else sub_row.status
            raise Conflict(f"orders come from an approved quote: {quote_id} v{quote_row.version} is {state}")
        if by is not None and by != sub_row.owner and by not in self.policy.admins:
            raise NotAllowed(f"only the owner of {quote_id} or an admin can generate its orders")
        existing = await OrderRow.filter(quote_id=quote_id, quote_version=quote_row.version).order_by("number")
        if existing:
            return [order_of(r) for r in existing]
        quote = Quote(quote_row.data)
        approved_on = (sub_row.decided_at or now).astimezone(self.policy.zone).date()
        planned = plan.plan_orders(self.policy, quote, approved_on)
        planned = [dataclasses.replace(o, release_at=plan.release_due_at(o.delivery_date, o.release_time, o.zone, now))
                   for o in planned]  # fmt: skip
        earlier = await OrderRow.filter(quote_id=quote_id).exclude(quote_version=quote.version)
        if earlier:
            # A newer approved version: its orders are numbered after every number the quote has used,
            # and the earlier version's orders that are not released yet are cancelled.
            taken = [r.number for r in earlier]
            renumbered = []
            for order in planned:
                number = plan.next_number(quote_id, taken)
                taken.append(number)
                renumbered.append(dataclasses.replace(order, number=number))
            planned = renumbered
        superseded = [r for r in earlier if r.status in ("scheduled", "held")]
        contract = build_contract(quote, planned)
        summary = [{"number": o.number, "delivery_date": o.delivery_date.isoformat(), "ship_to": o.ship_to,
                    "total": plan.money(o.total), "currency": o.currency} for o in planned]  # fmt: skip
        event = Event(Kind.ORDERS_GENERATED, now, quote_id, quote.version, sub_row.number, actor=by,
                      detail={"orders": summary})  # fmt: skip
        try:
            async with in_transaction() as conn:
                await OrderRow.bulk_create(
                    [OrderRow(number=o.number, quote_id=o.quote_id, quote_version=o.quote_version,
                              account_id=o.account_id, status=o.status, release_at=o.release_at,
                              data=o.as_dict(), created_at=now) for o in planned],
                    using_db=conn,
                )  # fmt: skip
                await ContractRow.create(account_id=contract.account_id, quote_id=quote_id,
                                         quote_version=quote.version, data=contract.as_dict(), created_at=now,
                                         using_db=conn)  # fmt: skip
                cancelled = []
                for row in superseded:
                    changed = (
                        await OrderRow.filter(id=row.id, revision=row.revision, status=row.status)
                        .using_db(conn)
                        .update(status="cancelled", revision=row.revision + 1)
                    )
                    if changed:
                        why = f"replaced by the orders of version {quote.version}"
                        cancelled.append(_audit(Kind.ORDER_CANCEL, now, order_of(row), sub_row.number, by, comment=why))
                await _record(conn, [event, *cancelled])
        except Exception as error:
            if "unique" in str(error).lower() or "duplicate" in str(error).lower():
                rows = await OrderRow.filter(quote_id=quote_id, quote_version=quote.version).order_by("number")
                return [order_of(r) for r in rows]
            raise
        return await self.orders_of_version(quote_id, quote.version)

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

    async def orders_of_version(self, quote_id: str, version: int) -> list[PlannedOrder]:
        rows = await OrderRow.filter(quote_id=quote_id, quote_version=version).order_by("number")
        return [order_of(r) for r in rows]

    # ---------------------------------------------------------------- releasing

    async def release_due(self, now: dt.datetime, limit: int = 500) -> int:
        """Release every order due at `now`, in batches; returns how many this call released."""
        total = 0
        while True:
            released = await self._release_batch(now, limit)
            total += released
            if released < limit:
                return total

    async def _release_batch(self, now: dt.datetime, limit: int) -> int:
        """One transaction: claim up to `limit` due orders and write their audit and outbox rows.

        The database builds the rows from the claimed orders (one statement on PostgreSQL, three on
        SQLite): per-row work in Python cost most of the release (bench/release.py).
        """
        async with in_transaction() as conn:
            at = now.isoformat()
            if conn.capabilities.dialect == "postgres":
                rows = await conn.execute_query_dict(_RELEASE_POSTGRES, [now, limit, at])
                return int(rows[0]["released"])
            moment = str(now.astimezone(dt.UTC))
            claimed = await conn.execute_query_dict(_CLAIM_SQLITE, [moment, limit])
            if not claimed:
                return 0
            ids = json.dumps([row["id"] for row in claimed])
            await conn.execute_query(_AUDIT_SQLITE, [moment, ids])
            await conn.execute_query(_OUTBOX_SQLITE, [moment, ids, at])
            return len(claimed)

    # ---------------------------------------------------------------- changing before release

    async def change(self, number: str, action: str, by: str, now: dt.datetime, *, new_date: dt.date | None = None,
                     line_ids: list[str] | None = None) -> list[PlannedOrder]:  # fmt: skip
        """Reschedule, hold, resume, cancel, release now or split an order that is not released yet."""
        row = await OrderRow.filter(number=number).first()
        if row is None:
            raise NotFound(f"there is no order {number}")
        sub_row = await SubmissionRow.filter(quote_id=row.quote_id).order_by("-number").first()
        owner = sub_row.owner if sub_row else None
        if by != owner and by not in self.policy.admins:
            raise NotAllowed(f"only the owner of {row.quote_id} or an admin can change its orders")
        order = order_of(row)
        changed: list[PlannedOrder]
        if action == "reschedule":
            if new_date is None:
                raise Conflict("give the new delivery date")
            changed = [plan.reschedule(order, new_date)]
        elif action == "split":
            if new_date is None or not line_ids:
                raise Conflict("give the lines to move and their new delivery date")
            taken = await OrderRow.filter(quote_id=row.quote_id).values_list("number", flat=True)
            kept, moved = plan.split(order, line_ids, new_date, taken=list(taken))
            changed = [kept, moved]
        elif action in ("hold", "resume", "cancel"):
            changed = [plan.transition(order, action)]
        elif action == "release":
            changed = [plan.transition(order, "release", at=now)]
        else:
            raise Conflict(f"unknown order change {action!r}")
        first = changed[0]
        release_at = plan.release_due_at(first.delivery_date, first.release_time, first.zone, now)
        detail = {"action": action, "new_date": new_date.isoformat() if new_date else None, "lines": line_ids}
        event = _audit(Kind(f"order_{action}"), now, first, sub_row.number if sub_row else 0, by, detail=detail)
        async with in_transaction() as conn:
            updated = await OrderRow.filter(id=row.id, revision=row.revision, status=row.status).using_db(conn).update(
                status=first.status, release_at=release_at, released_at=first.released_at, data=first.as_dict(),
                revision=row.revision + 1,
            )  # fmt: skip
            if updated != 1:
                raise Conflict(f"order {number} changed meanwhile: look again")
            if action == "split":
                moved = changed[1]
                await OrderRow.create(number=moved.number, quote_id=moved.quote_id, quote_version=moved.quote_version,
                                      account_id=moved.account_id, status=moved.status,
                                      release_at=plan.release_due_at(moved.delivery_date, moved.release_time,
                                                                     moved.zone, now),
                                      data=moved.as_dict(), created_at=now, using_db=conn)  # fmt: skip
            await _record(conn, [event])
            if action in ("reschedule", "split", "cancel"):
                await _rebuild_contract(conn, row.quote_id, row.quote_version)
        return changed

    # ---------------------------------------------------------------- ERP results

    async def synced(self, number: str, reference: str | None, now: dt.datetime) -> None:
        row = await OrderRow.filter(number=number).first()
        if row is None or row.status not in ("released", "sync_failed"):
            return
        order = order_of(row)
        async with in_transaction() as conn:
            # compare-and-set: a redelivery (lease expired mid-POST) must not record a second sync
            updated = (
                await OrderRow.filter(id=row.id, revision=row.revision)
                .using_db(conn)
                .update(status="synced", erp_reference=reference, revision=row.revision + 1)
            )
            if updated != 1:
                return
            await _record(conn, [_audit(Kind.ORDER_SYNCED, now, order, 0, None, detail={"erp_reference": reference})])

    async def sync_failed(self, number: str, error: str, outbox_id: int, now: dt.datetime) -> None:
        row = await OrderRow.filter(number=number).first()
        if row is None or row.status != "released":  # only a released order can fail to sync (domain.orders)
            return
        order = order_of(row)
        async with in_transaction() as conn:
            updated = (
                await OrderRow.filter(id=row.id, revision=row.revision)
                .using_db(conn)
                .update(status="sync_failed", revision=row.revision + 1)
            )
            if updated != 1:
                return
            await _record(conn, [_audit(Kind.ORDER_SYNC_FAILED, now, order, 0, None, comment=error,
                                        detail={"outbox": outbox_id, "people": self.policy.admins})])  # fmt: skip

    async def retry_sync(self, number: str, by: str, now: dt.datetime) -> bool:
        """The admins' Retry button: the dead ERP message goes back in line."""
        if by not in self.policy.admins:
            raise NotAllowed("only an admin can retry an ERP delivery")
        row = await OrderRow.filter(number=number).first()
        if row is None:
            raise NotFound(f"there is no order {number}")
        async with in_transaction() as conn:
            requeued = (
                await OutboxRow.filter(topic="erp", key__startswith=f"{number}:", status="dead")
                .using_db(conn)
                .update(status="pending", attempts=0, next_attempt_at=now, lease_until=None, created_at=now)
            )
            if requeued:
                await OrderRow.filter(id=row.id).using_db(conn).update(status="released")
                await _record(conn, [_audit(Kind.ORDER_SYNC_RETRY, now, order_of(row), 0, by)])
        return bool(requeued)


# The release of a batch (see `_release_batch`). Each order gets an audit row and the outbox rows
# that `DbTx.record` would write for its `order_released` event (`domain.reactions`: one row a
# topic): the announcement (`slack`, the payload `domain.events.to_json` gives the event) and the ERP
# message (`erp`, keyed `<number>:released`, the payload `erp_message(order, "released")`).
# `submission` is the number of the quote's approved submission, 0 if none is stored. The due rows
# are claimed by one lookup in the release_at index (ARRAY(...) runs once, then the update goes by
# primary key): a seq scan and sort of the whole table per batch cost half of a batch.
_SUBMISSION = (
    "COALESCE((SELECT MAX(s.number) FROM submission s WHERE s.quote_id = o.quote_id AND s.status = 'approved'), 0)"
)
_RELEASE_POSTGRES = f"""
WITH o AS (
    UPDATE orders SET status = 'released', released_at = $1, revision = revision + 1
    WHERE id = ANY(ARRAY(SELECT id FROM orders WHERE status = 'scheduled' AND release_at <= $1
                         ORDER BY release_at LIMIT $2 FOR UPDATE SKIP LOCKED))
    RETURNING number, quote_id, quote_version, data
), released AS (
    SELECT o.*, {_SUBMISSION} AS submission FROM o
), audit_rows AS (
    INSERT INTO audit (at, kind, quote_id, quote_version, submission, people, detail)
    SELECT $1, 'order_released', quote_id, quote_version, submission, '[]', jsonb_build_object('order', number)
    FROM released ORDER BY number
), outbox_rows AS (
    INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at)
    SELECT topic, key, payload, 'pending', 0, $1, $1 FROM (
        SELECT number, 1 AS part, 'slack' AS topic, 'slack:' || replace(gen_random_uuid()::text, '-', '') AS key,
               jsonb_build_object('kind', 'order_released', 'at', $3::text, 'quote_id', quote_id,
                                  'quote_version', quote_version, 'submission', submission, 'rule', NULL,
                                  'actor', NULL, 'on_behalf_of', NULL, 'comment', NULL, 'people', '[]'::jsonb,
                                  'detail', jsonb_build_object('order', number)) AS payload
        FROM released
        UNION ALL
        SELECT number, 2, 'erp', number || ':released',
               data || jsonb_build_object('status', 'released', 'released_at', $3::text, 'event', 'released')
        FROM released
    ) AS messages ORDER BY number, part
)
SELECT COUNT(*) AS released FROM released
"""
_CLAIM_SQLITE = (
    "UPDATE orders SET status = 'released', released_at = ?1, revision = revision + 1 "
    "WHERE id IN (SELECT id FROM orders WHERE status = 'scheduled' AND release_at <= ?1 "
    "ORDER BY release_at LIMIT ?2) RETURNING id"
)
_AUDIT_SQLITE = f"""
INSERT INTO audit (at, kind, quote_id, quote_version, submission, people, detail)
SELECT ?1, 'order_released', o.quote_id, o.quote_version, {_SUBMISSION}, '[]', json_object('order', o.number)
FROM orders o WHERE o.id IN (SELECT value FROM json_each(?2)) ORDER BY o.number
"""
_OUTBOX_SQLITE = f"""
INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at)
SELECT topic, key, payload, 'pending', 0, ?1, ?1 FROM (
    SELECT o.number, 1 AS part, 'slack' AS topic, 'slack:' || lower(hex(randomblob(16))) AS key,
           json_object('kind', 'order_released', 'at', ?3, 'quote_id', o.quote_id, 'quote_version', o.quote_version,
                       'submission', {_SUBMISSION}, 'rule', NULL, 'actor', NULL, 'on_behalf_of', NULL,
                       'comment', NULL, 'people', json('[]'), 'detail', json_object('order', o.number)) AS payload
    FROM orders o WHERE o.id IN (SELECT value FROM json_each(?2))
    UNION ALL
    SELECT o.number, 2, 'erp', o.number || ':released',
           json_set(o.data, '$.status', 'released', '$.released_at', ?3, '$.event', 'released')
    FROM orders o WHERE o.id IN (SELECT value FROM json_each(?2))
) ORDER BY number, part
"""


async def _rebuild_contract(conn: Any, quote_id: str, version: int) -> None:
    quote_row = await QuoteRow.filter(id=quote_id).using_db(conn).first()
    rows = await OrderRow.filter(quote_id=quote_id, quote_version=version).using_db(conn).order_by("number")
    live = [order_of(r) for r in rows if r.status != "cancelled"]
    if quote_row is None or not live:
        return
    contract = build_contract(Quote(quote_row.data), live)
    await ContractRow.filter(quote_id=quote_id, quote_version=version).using_db(conn).update(data=contract.as_dict())


async def _record(conn: Any, events: list[Event]) -> None:
    """Audit rows and their outbox rows, in the caller's transaction (as every service command does)."""
    await DbTx(conn).record(events)
