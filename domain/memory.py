"""An in-memory store: the scenario runner's default, and the reference the database matches.

Every read hands out a copy and every write stores one, so a command that fails half-way
changes nothing, exactly as a rolled-back transaction would. Writes are applied at commit, in the
order they were made; reads see what was committed before the transaction. Orders and contracts
are frozen dataclasses, so they are stored and handed out as they are.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from .approvals import Delegation, Directory, Replacement, Submission, current_since
from .contracts import Contract
from .events import Event, Kind
from .orders import SCHEDULED, PlannedOrder, erp_message, transition
from .quote import Quote
from .reactions import Topic, topics
from .service import Opened, Queued, Step, change_in_steps


class MemoryStore:
    def __init__(self) -> None:
        self.quotes: dict[str, Quote] = {}
        self.subs: dict[str, list[Submission]] = {}
        self.delegations: list[Delegation] = []
        self.replacements: dict[str, str] = {}
        self.replacement_records: dict[str, Replacement] = {}
        self.events: list[Event] = []
        self.keys: dict[str, dict[str, Any]] = {}
        self.outbox: list[tuple[Topic, Event]] = []
        """What the database store would queue: each event once for each topic of its reactions."""
        self.messages: dict[str, Queued] = {}
        """The outbox rows that have a key of their own (the ERP's `<order number>:released`), by key."""
        self.versions: dict[tuple[str, int], Quote] = {}
        self.orders: dict[str, PlannedOrder] = {}
        self.due: dict[str, dt.datetime] = {}
        """When the release sweep is to release each order (`Tx.add_order`)."""
        self.contracts: list[Contract] = []
        self.renewals_sent: dict[str, dt.datetime] = {}

    def queue_erp(self, event: Event) -> None:
        """The ERP message of a released order, built from the order as this transaction left it."""
        number = str(event.detail["order"])
        order = self.orders[number]
        key = f"{number}:{order.erp_event}"
        self.messages[key] = Queued(Topic.ERP, key, "pending", erp_message(order))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTx]:
        tx = MemoryTx(self)
        yield tx
        tx.commit()

    change = transaction
    """One change to a pending submission is a transaction like any other here."""

    async def change_latest(self, quote_id: str, now: dt.datetime, key: str | None, step: Step) -> list[Event]:
        return await change_in_steps(self, quote_id, now, key, step)


class MemoryTx:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.writes: list[Callable[[], None]] = []
        self.replacements: dict[str, str] = {}

    def commit(self) -> None:
        for write in self.writes:
            write()

    async def quote(self, quote_id: str, *, lock: bool = False) -> Quote | None:
        return self.store.quotes.get(quote_id)

    async def save_quote(self, quote: Quote, now: dt.datetime) -> Quote | None:
        stored = self.store.quotes.get(quote.id)
        if stored is not None and stored.version >= quote.version:
            return stored
        self.writes.append(lambda: self.store.quotes.__setitem__(quote.id, quote))
        self.writes.append(lambda: self.store.versions.__setitem__((quote.id, quote.version), quote))
        return None

    async def quote_version(self, quote_id: str, version: int) -> Quote | None:
        return self.store.versions.get((quote_id, version))

    async def submissions(self, quote_id: str) -> list[Submission]:
        return copy.deepcopy(self.store.subs.get(quote_id, []))

    async def pending(self) -> list[Submission]:
        return [copy.deepcopy(subs[-1]) for subs in self.store.subs.values() if subs and subs[-1].status == "pending"]

    async def add_submission(self, sub: Submission) -> None:
        frozen = copy.deepcopy(sub)
        self.writes.append(lambda: self.store.subs.setdefault(sub.quote_id, []).append(frozen))

    async def update_submission(self, sub: Submission, expected_revision: int) -> bool:
        subs = self.store.subs.get(sub.quote_id, [])
        index = sub.number - 1
        if index >= len(subs) or subs[index].revision != expected_revision:
            return False
        frozen = copy.deepcopy(sub)
        self.writes.append(lambda: subs.__setitem__(index, frozen))
        return True

    async def directory(self, now: dt.datetime | None = None) -> Directory:
        replacements = {k: v for k, v in self.store.replacements.items() if k not in self.replacements}
        for old, new in self.replacements.items():
            replacements.pop(new, None)
            replacements[old] = new
        delegations = self.store.delegations
        if now is not None:
            since = current_since(now)
            delegations = [d for d in delegations if d.end >= since]
        return Directory(copy.deepcopy(delegations), replacements)

    async def prune_delegations(self, ended_before: dt.date) -> int:
        gone = [d.id for d in self.store.delegations if d.end < ended_before]

        def apply() -> None:
            self.store.delegations[:] = [d for d in self.store.delegations if d.id not in gone]

        self.writes.append(apply)
        return len(gone)

    async def add_delegation(self, delegation: Delegation) -> Delegation:
        delegation.id = max((d.id for d in self.store.delegations), default=0) + 1
        self.writes.append(lambda: self.store.delegations.append(delegation))
        return delegation

    async def end_delegations(self, delegator: str, today: dt.date) -> int:
        ended = [d for d in self.store.delegations if d.delegator == delegator and d.end >= today]

        def apply() -> None:
            for d in ended:
                d.end = today - dt.timedelta(days=1)

        self.writes.append(apply)
        return len(ended)

    async def save_replacement(self, replacement: Replacement) -> None:
        self.writes.append(lambda: self.store.replacement_records.__setitem__(replacement.old, replacement))

    async def replacements_in_force(self) -> list[Replacement]:
        return [copy.deepcopy(r) for r in self.store.replacement_records.values() if r.old in self.store.replacements]

    async def remove_replacement(self, old: str) -> Replacement | None:
        if old not in self.store.replacements:
            return None
        found = copy.deepcopy(self.store.replacement_records.get(old)) or Replacement(old, self.store.replacements[old])

        def apply() -> None:
            self.store.replacements.pop(old, None)
            self.store.replacement_records.pop(old, None)

        self.writes.append(apply)
        return found

    async def cancel_delegation(self, delegation_id: int, today: dt.date) -> None:
        def apply() -> None:
            for d in list(self.store.delegations):
                if d.id != delegation_id:
                    continue
                if d.start >= today:
                    self.store.delegations.remove(d)
                elif d.end >= today:
                    d.end = today - dt.timedelta(days=1)

        self.writes.append(apply)

    async def set_replacement(self, old: str, new: str) -> None:
        self.replacements[old] = new

        def apply() -> None:
            self.store.replacements.pop(new, None)
            self.store.replacements[old] = new

        self.writes.append(apply)

    async def record(self, events: list[Event]) -> None:
        queued = [(topic, event) for event in events for topic in topics(event.kind)]
        self.writes.append(lambda: self.store.events.extend(events))
        self.writes.append(lambda: self.store.outbox.extend(queued))
        for topic, event in queued:
            if topic is Topic.ERP:
                self.writes.append(functools.partial(self.store.queue_erp, event))

    async def audit(self, quote_id: str) -> list[Event]:
        return [e for e in self.store.events if e.quote_id == quote_id]

    async def seen(self, key: str) -> dict[str, Any] | None:
        return self.store.keys.get(key)

    async def remember(self, key: str, answer: dict[str, Any], now: dt.datetime) -> None:
        self.writes.append(lambda: self.store.keys.__setitem__(key, answer))

    async def claim(self, key: str, answer: dict[str, Any], now: dt.datetime) -> bool:
        if key in self.store.keys:
            return False
        await self.remember(key, answer, now)
        return True

    async def open_latest(self, quote_id: str, now: dt.datetime, key: str | None) -> Opened | None:
        if key is not None and not await self.claim(key, {"claimed": now.isoformat()}, now):
            return None
        return Opened(await self.latest(quote_id), await self.directory(now))

    async def save(self, sub: Submission, expected_revision: int, events: list[Event]) -> bool:
        if not await self.update_submission(sub, expected_revision):
            return False
        await self.record(events)
        return True

    async def inbox(self, people: list[str], limit: int) -> list[tuple[str, int]]:
        out = []
        for subs in self.store.subs.values():
            sub = subs[-1] if subs else None
            if sub is None or sub.status != "pending":
                continue
            for approval in sub.approvals:
                holders = {s.holder for s in approval.seats if s.vote is None} | set(approval.escalated_to)
                if approval.status == "requested" and holders & set(people):
                    out.append((sub.quote_id, sub.number))
                    break
        return out[:limit]

    async def quotes_of(self, owner: str, limit: int) -> list[tuple[str, int]]:
        found = [
            (subs[-1].submitted_at, subs[-1].quote_id, subs[-1].number)
            for subs in self.store.subs.values()
            if subs and subs[-1].owner == owner
        ]
        return [(q, n) for _, q, n in sorted(found, reverse=True)[:limit]]

    async def inbox_count(self, people: list[str]) -> int:
        return len(await self.inbox(people, len(self.store.subs)))

    async def inbox_submissions(self, people: list[str], limit: int, offset: int = 0) -> list[Submission]:
        refs = (await self.inbox(people, offset + limit))[offset:]
        return await self.submissions_at(refs)

    async def submissions_at(self, refs: list[tuple[str, int]], *, snapshots: bool = False) -> list[Submission]:
        subs = self.store.subs
        return [copy.deepcopy(subs[q][n - 1]) for q, n in refs if 0 < n <= len(subs.get(q, []))]

    async def due(self, now: dt.datetime, limit: int) -> list[tuple[str, int]]:
        found = [
            (subs[-1].due_at, subs[-1].quote_id, subs[-1].number)
            for subs in self.store.subs.values()
            if subs and subs[-1].status == "pending" and subs[-1].due_at is not None and subs[-1].due_at <= now
        ]
        return [(q, n) for _, q, n in sorted(found)[:limit]]

    async def latest(self, quote_id: str) -> Submission | None:
        subs = self.store.subs.get(quote_id)
        return copy.deepcopy(subs[-1]) if subs else None

    # ---------------------------------------------------------------- orders and contracts

    async def orders_of(self, quote_id: str) -> list[PlannedOrder]:
        return sorted((o for o in self.store.orders.values() if o.quote_id == quote_id), key=lambda o: o.number)

    async def order(self, number: str) -> PlannedOrder | None:
        return self.store.orders.get(number)

    async def add_order(self, order: PlannedOrder, due_at: dt.datetime, now: dt.datetime) -> None:
        stored = replace(order, revision=0)

        def apply() -> None:
            self.store.orders[order.number] = stored
            self.store.due[order.number] = due_at

        self.writes.append(apply)

    async def update_order(
        self, order: PlannedOrder, expected_revision: int, due_at: dt.datetime | None = None
    ) -> bool:
        stored = self.store.orders.get(order.number)
        if stored is None or stored.revision != expected_revision:
            return False

        def apply() -> None:
            self.store.orders[order.number] = order
            if due_at is not None:
                self.store.due[order.number] = due_at

        self.writes.append(apply)
        return True

    async def release_due(self, now: dt.datetime, limit: int) -> int:
        due = sorted(
            (self.store.due[o.number], o.number)
            for o in self.store.orders.values()
            if o.status == SCHEDULED and self.store.due[o.number] <= now
        )
        released = [self.store.orders[number] for _, number in due[:limit]]
        for order in released:
            await self.update_order(
                replace(transition(order, "release", at=now), revision=order.revision + 1), order.revision
            )
        events = [
            Event(
                Kind.ORDER_RELEASED,
                now,
                o.quote_id,
                o.quote_version,
                self._approved_submission(o.quote_id),
                detail={"order": o.number},
            )
            for o in sorted(released, key=lambda o: o.number)
        ]
        await self.record(events)
        return len(released)

    def _approved_submission(self, quote_id: str) -> int:
        return max((s.number for s in self.store.subs.get(quote_id, []) if s.status == "approved"), default=0)

    async def contracts_of(self, account_id: str) -> list[Contract]:
        return [c for c in self.store.contracts if c.account_id == account_id]

    async def add_contract(self, contract: Contract, now: dt.datetime) -> None:
        self.writes.append(lambda: self.store.contracts.append(contract))

    async def orders_due(
        self, start: dt.datetime, end: dt.datetime, limit: int, offset: int
    ) -> tuple[list[PlannedOrder], int]:
        found = sorted(
            (self.store.due[o.number], o.number)
            for o in self.store.orders.values()
            if start <= self.store.due[o.number] < end
        )
        page = [self.store.orders[number] for _, number in found[offset : offset + limit]]
        return page, len(found)

    async def renewals_due(self, through: dt.date, today: dt.date, limit: int) -> list[Contract]:
        due = [
            c
            for c in self.store.contracts
            if c.end is not None and today <= c.end <= through and c.quote_id not in self.store.renewals_sent
        ]
        return sorted(due, key=lambda c: (c.end or today, c.quote_id))[:limit]

    async def mark_renewal_sent(self, quote_id: str, now: dt.datetime) -> bool:
        if quote_id in self.store.renewals_sent:
            return False

        def apply() -> None:
            self.store.renewals_sent.setdefault(quote_id, now)

        self.writes.append(apply)
        return True

    async def contract_of(self, quote_id: str) -> Contract | None:
        found = [c for c in self.store.contracts if c.quote_id == quote_id]
        return found[-1] if found else None

    async def update_contract(self, contract: Contract) -> None:
        def apply() -> None:
            for index, stored in enumerate(self.store.contracts):
                if stored.quote_id == contract.quote_id:
                    self.store.contracts[index] = contract

        self.writes.append(apply)

    # ---------------------------------------------------------------- keyed outbox rows

    async def queued(self, topic: Topic, key_prefix: str) -> list[Queued]:
        return [m for key, m in sorted(self.store.messages.items()) if m.topic is topic and key.startswith(key_prefix)]

    async def requeue_dead(self, topic: Topic, key_prefix: str, now: dt.datetime) -> int:
        dead = [m for m in await self.queued(topic, key_prefix) if m.status == "dead"]

        def apply() -> None:
            for message in dead:
                self.store.messages[message.key] = replace(message, status="pending")

        self.writes.append(apply)
        return len(dead)
