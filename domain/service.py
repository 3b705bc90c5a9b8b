"""The approvals service: each command is one short transaction over a store.

The domain functions decide; the service loads the aggregate, calls them with `now`, and saves
the result with a compare-and-set on the submission's revision, recording the events (audit
trail and outbox) in the same transaction. The in-memory store (`domain.memory`) and the
database store implement the same `Store` protocol, so scenarios run identically on both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol

from . import approvals as lifecycle
from . import out_of_office, permissions
from .approvals import Context, Delegation, Directory, Replacement, Submission
from .contracts import Contract
from .errors import Conflict, NotFound, QuoteError, StaleRequest, StaleVersion
from .events import Event, Kind
from .orders import PlannedOrder
from .policy import Policy
from .quote import Quote
from .reactions import Topic
from .rules import Evaluator


class Tx(Protocol):
    """What one transaction of a store offers the services (`DbTx`, and `MemoryTx` its twin).

    `add_order` and `update_order` take `due_at`, the instant the release sweep is to release the
    order (its release instant, or the moment it was generated or changed when its date is today or
    past); `update_order` and `update_submission` are compare-and-sets on the revision.
    `release_due` releases up to `limit` scheduled orders due at `now` and records their
    `order_released` events, exactly as `record` would (the database does it in one statement).
    `quote(..., lock=True)` holds the quote's row until the transaction ends, so that intake and
    submission of one quote run one after the other (PostgreSQL; SQLite runs one writer at a time).
    `claim` remembers `key` with `answer` unless it is already remembered (committed, or claimed by a
    transaction still running, which it waits for) and says whether it did.
    `open_latest` is what a change to a pending quote reads first, in as few statements as the store
    can: it returns None when `key` was already claimed (None: no key), else the quote's latest
    submission and the directory at `now`. The key is claimed (the answer kept is `{"claimed": now}`)
    either there or by the `save` that follows, together with its compare-and-set: a copy of the
    request that read before the claim then fails its compare-and-set, and finds the key taken when
    it reads again. `save` is `update_submission` then `record` (the store may write both in one
    statement), and says whether the compare-and-set held; when it did not, nothing was written.
    `inbox_submissions` and `submissions_at` read for lists: a store may leave out the snapshots
    (reading one then raises LookupError) unless `submissions_at` is asked for them;
    `Submission.heading()` has what a list shows.
    `save_quote` is a compare-and-set on the version: it stores QUOTE only over a lower stored
    version (or none) and returns None, else it changes nothing and returns the quote that is stored.
    """

    async def quote(self, quote_id: str, *, lock: bool = False) -> Quote | None: ...
    async def save_quote(self, quote: Quote, now: dt.datetime) -> Quote | None: ...
    async def submissions(self, quote_id: str) -> list[Submission]: ...
    async def latest(self, quote_id: str) -> Submission | None: ...
    async def pending(self) -> list[Submission]: ...
    async def add_submission(self, sub: Submission) -> None: ...
    async def update_submission(self, sub: Submission, expected_revision: int) -> bool: ...
    async def directory(self, now: dt.datetime | None = None) -> Directory: ...
    async def prune_delegations(self, ended_before: dt.date) -> int: ...
    async def add_delegation(self, delegation: Delegation) -> Delegation: ...
    async def end_delegations(self, delegator: str, today: dt.date) -> int: ...
    async def cancel_delegation(self, delegation_id: int, today: dt.date) -> None: ...
    async def set_replacement(self, old: str, new: str) -> None: ...
    async def save_replacement(self, replacement: Replacement) -> None: ...
    async def replacements_in_force(self) -> list[Replacement]: ...
    async def remove_replacement(self, old: str) -> Replacement | None: ...
    async def record(self, events: list[Event]) -> None: ...
    async def audit(self, quote_id: str) -> list[Event]: ...
    async def seen(self, key: str) -> dict[str, Any] | None: ...
    async def inbox(self, people: list[str], limit: int) -> list[tuple[str, int]]: ...
    async def due(self, now: dt.datetime, limit: int) -> list[tuple[str, int]]: ...
    async def inbox_count(self, people: list[str]) -> int: ...
    async def inbox_submissions(self, people: list[str], limit: int, offset: int = 0) -> list[Submission]: ...
    async def submissions_at(self, refs: list[tuple[str, int]], *, snapshots: bool = False) -> list[Submission]: ...
    async def quotes_of(self, owner: str, limit: int) -> list[tuple[str, int]]: ...
    async def remember(self, key: str, answer: dict[str, Any], now: dt.datetime) -> None: ...
    async def claim(self, key: str, answer: dict[str, Any], now: dt.datetime) -> bool: ...
    async def open_latest(self, quote_id: str, now: dt.datetime, key: str | None) -> Opened | None: ...
    async def save(self, sub: Submission, expected_revision: int, events: list[Event]) -> bool: ...

    # quote versions, orders and contracts (`domain.order_service`)
    async def quote_version(self, quote_id: str, version: int) -> Quote | None: ...
    async def orders_of(self, quote_id: str) -> list[PlannedOrder]: ...
    async def order(self, number: str) -> PlannedOrder | None: ...
    async def add_order(self, order: PlannedOrder, due_at: dt.datetime, now: dt.datetime) -> None: ...
    async def update_order(
        self, order: PlannedOrder, expected_revision: int, due_at: dt.datetime | None = None
    ) -> bool: ...
    async def release_due(self, now: dt.datetime, limit: int) -> int: ...
    async def contracts_of(self, account_id: str) -> list[Contract]: ...
    async def contract_of(self, quote_id: str) -> Contract | None: ...
    async def renewals_due(self, through: dt.date, today: dt.date, limit: int) -> list[Contract]: ...
    async def orders_due(
        self, start: dt.datetime, end: dt.datetime, limit: int, offset: int
    ) -> tuple[list[PlannedOrder], int]: ...
    async def mark_renewal_sent(self, quote_id: str, now: dt.datetime) -> bool: ...
    async def add_contract(self, contract: Contract, now: dt.datetime) -> None: ...
    async def update_contract(self, contract: Contract) -> None: ...
    # outbox rows a command acts on after they were queued (an ERP message put back in line)
    async def queued(self, topic: Topic, key_prefix: str) -> list[Queued]: ...
    async def requeue_dead(self, topic: Topic, key_prefix: str, now: dt.datetime) -> int: ...


@dataclass(frozen=True)
class Queued:
    """An outbox row addressed by its key (the ERP's `<order number>:released`), as a read shows it."""

    topic: Topic
    key: str
    status: str  # pending | sending | sent | dead
    payload: dict[str, Any]


_DECISIONS = (Kind.VOTED, Kind.APPROVED, Kind.REJECTED)


def _via(event: Event, person: str, via: str) -> Event:
    """The event with the channel of a person's own decision in its detail (others unchanged)."""
    if event.kind not in _DECISIONS or event.actor != person or event.detail.get("auto"):
        return event
    return replace(event, detail={**event.detail, "via": via})


class ConcurrentChange(StaleRequest):
    """Someone else changed the same thing first; the command is retried on fresh state."""


def _context(policy: Policy, evaluator: Evaluator, directory: Directory, now: dt.datetime) -> Context:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return Context(policy, evaluator, directory, now)


def _moved_on(sub: Submission, policy: Policy) -> int:
    """SUB made ready to be saved: its next due time set, its revision moved on; the revision it had."""
    sub.due_at = lifecycle.next_due(sub, policy)
    sub.revision += 1
    return sub.revision - 1


def changed_meanwhile(sub: Submission) -> ConcurrentChange:
    """The compare-and-set on SUB's revision failed."""
    return ConcurrentChange(f"{sub.ref} changed while this was being decided: look again and retry")


RETRIES = 20
DELEGATIONS_KEPT = dt.timedelta(days=90)
"""How long an ended delegation window stays readable before the prune job deletes it."""


@dataclass(frozen=True)
class Opened:
    """What `Tx.open_latest` read: the quote's latest submission (None: never submitted) and the directory."""

    submission: Submission | None
    directory: Directory


@dataclass(frozen=True)
class Change:
    """What a `Step` decided: SUB as it is to be saved (its revision already moved on from
    `expected_revision`), and the events to record with it."""

    submission: Submission
    expected_revision: int
    events: list[Event]


Step = Callable[[Opened], Change]
"""The pure part of a change to a pending submission: from what was read to what is to be saved. It
may raise (a refusal), and then nothing is kept; it must not touch anything but what it is given,
since a store may run it outside the event loop (`Store.change_latest`)."""


class Store(Protocol):
    """`transaction` is one transaction for any command. `change` is for one change to a pending
    submission and nothing else: `open_latest`, then at most one `save`. The store may run it without
    holding a transaction open between the two (PostgreSQL: two statements, each atomic, the second a
    compare-and-set on what the first read), so it must not be used for more.

    `change_latest` is that change whole: the quote's latest submission opened (its `key` claimed),
    STEP run on it, and what STEP returns saved with a compare-and-set. It returns the events, [] when
    the key was claimed before; it raises what STEP raises (nothing kept), and `ConcurrentChange` when
    the compare-and-set failed (nothing kept: the caller runs it again). `change_in_steps` does it
    with `change`; a store may do it in fewer hand-offs (SQLite: read, STEP and write in one)."""

    def transaction(self) -> AbstractAsyncContextManager[Tx]: ...
    def change(self) -> AbstractAsyncContextManager[Tx]: ...
    async def change_latest(self, quote_id: str, now: dt.datetime, key: str | None, step: Step) -> list[Event]: ...


async def change_in_steps(store: Store, quote_id: str, now: dt.datetime, key: str | None, step: Step) -> list[Event]:
    """`Store.change_latest` through `Store.change`: read, STEP, save."""
    async with store.change() as tx:
        opened = await tx.open_latest(quote_id, now, key)
        if opened is None:
            return []
        change = step(opened)
        if not await tx.save(change.submission, change.expected_revision, change.events):
            raise changed_meanwhile(change.submission)
        return change.events


@dataclass(frozen=True)
class Received:
    """What became of a quote sent by the CRM."""

    quote: Quote
    status: str  # stored | unchanged | recalled (a pending submission was withdrawn)
    events: tuple[Event, ...] = ()


class Approvals:
    def __init__(self, policy: Policy, store: Store) -> None:
        self.policy = policy
        self.evaluator = Evaluator(policy)
        self.store = store
        self.policy_version: int | None = None
        """The shared version of `policy` (greenlight.live_policy), recorded on every submission."""

    def use_policy(self, policy: Policy, version: int | None) -> None:
        """Evaluate from now on with `policy`; open submissions keep the approvals they already asked for."""
        self.policy, self.evaluator, self.policy_version = policy, Evaluator(policy), version

    def context(self, directory: Directory, now: dt.datetime) -> Context:
        return _context(self.policy, self.evaluator, directory, now)

    async def _latest(self, tx: Tx, quote_id: str) -> Submission | None:
        return await tx.latest(quote_id)

    async def _save(self, tx: Tx, sub: Submission, events: list[Event]) -> None:
        expected = _moved_on(sub, self.policy)
        if not await tx.save(sub, expected, events):
            sub.revision = expected
            raise changed_meanwhile(sub)

    async def receive_quote(self, quote: Quote, now: dt.datetime, actor: str = "crm") -> Received:
        """Store a quote from the CRM; a newer version of a pending quote recalls it (§3.7).
        `actor` is who sent it, as the audit trail names it (`crm`, or `crm:<key name>`)."""
        for attempt in range(RETRIES):
            try:
                return await self._receive_quote(quote, now, actor)
            except ConcurrentChange:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _receive_quote(self, quote: Quote, now: dt.datetime, actor: str = "crm") -> Received:
        async with self.store.transaction() as tx:
            stored = await tx.save_quote(quote, now)
            if stored is not None:
                if quote.version == stored.version and quote.content_hash == stored.content_hash:
                    return Received(stored, "unchanged")
                raise StaleVersion(quote.id, quote.version, stored.version)
            received = Event(
                Kind.QUOTE_RECEIVED,
                now,
                quote.id,
                quote.version,
                0,
                actor=actor,
                detail={"content_hash": quote.content_hash},
            )
            await tx.record([received])
            from .order_service import hold_for_version  # the orders service builds on this module

            # Orders of earlier versions not released yet wait for this version's decision.
            await tx.record(await hold_for_version(tx, quote.id, quote.version, now))
            latest = await self._latest(tx, quote.id)
            if latest is not None and latest.status == "pending":
                ctx = self.context(await tx.directory(now), now)
                events = lifecycle.recall(ctx, latest, by="crm", quote_changed=True)
                await self._save(tx, latest, events)
                return Received(quote, "recalled", tuple(events))
            return Received(quote, "stored")

    async def submit(
        self,
        quote_id: str,
        by: str | None,
        now: dt.datetime,
        justification: str | None = None,
        *,
        version: int | None = None,
        actor: str | None = None,
    ) -> tuple[Submission, list[Event]]:
        """Submit the stored quote with the rep's `justification` (a CRM's submit `comment` is one);
        with `version`, only if that is the stored version (else Conflict). `actor` (e.g.
        `crm:<key name>`) submits on behalf of the owner and is the audit's actor."""
        for attempt in range(RETRIES):
            try:
                return await self._submit(quote_id, by, now, justification, version, actor)
            except ConcurrentChange:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _submit(
        self,
        quote_id: str,
        by: str | None,
        now: dt.datetime,
        justification: str | None = None,
        version: int | None = None,
        actor: str | None = None,
    ) -> tuple[Submission, list[Event]]:
        async with self.store.transaction() as tx:
            quote = await tx.quote(quote_id, lock=True)
            if quote is None:
                raise NotFound(f"no quote {quote_id} has been received from the CRM")
            if version is not None and version != quote.version:
                raise Conflict(f"{quote_id} version {version} is not the latest: version {quote.version} is stored")
            owner = lifecycle.owner_key(self.policy, quote)
            if actor is not None:
                by = owner
            permissions.require_owner(by, owner, "submit", quote_id)
            subs = await tx.submissions(quote_id)
            previous = subs[-1] if subs else None
            if previous is not None and previous.status == "pending":
                raise Conflict(f"{quote_id} is already pending approval ({previous.ref}): recall it first")
            if previous is not None and previous.status == "approved" and previous.content_hash == quote.content_hash:
                raise Conflict(f"{quote_id} version {quote.version} is already approved")
            from .order_service import orderable_problems  # the orders service builds on this module

            problems = orderable_problems(self.policy, quote, now.astimezone(self.policy.zone).date())
            if problems:
                raise QuoteError(problems, f"{quote_id} v{quote.version} could not become orders")
            ctx = self.context(await tx.directory(now), now)
            sub, events = lifecycle.submit(ctx, quote, len(subs) + 1, previous, justification)
            if actor is not None:
                events = [_on_behalf(e, actor, owner, None) if e.kind is Kind.SUBMITTED else e for e in events]
            sub.policy_version = self.policy_version
            if self.policy_version is not None:
                for event in events:
                    if event.kind is Kind.SUBMITTED:
                        event.detail["policy_version"] = self.policy_version
            sub.due_at = lifecycle.next_due(sub, self.policy)
            await tx.add_submission(sub)
            await tx.record(events)
            return sub, events

    async def _on_pending(
        self,
        quote_id: str,
        now: dt.datetime,
        action: Callable[[Context, Submission], list[Event]],
        key: str | None = None,
        number: int | None = None,
    ) -> list[Event]:
        policy, evaluator = self.policy, self.evaluator

        def step(opened: Opened) -> Change:
            # pure: the store may run it in its database's thread (`Store.change_latest`)
            sub = opened.submission
            if sub is None:
                raise NotFound(f"{quote_id} has not been submitted")
            if number is not None and sub.number != number:
                raise StaleRequest(
                    f"this request is from an earlier submission of {quote_id} ({quote_id}#{number}); "
                    f"{sub.ref} replaced it: nothing was changed"
                )
            events = action(_context(policy, evaluator, opened.directory, now), sub)
            return Change(sub, _moved_on(sub, policy), events)

        for attempt in range(RETRIES):
            try:
                # A concurrent copy with the same key decides once: the other finds the key taken
                # (claimed first, or its compare-and-set fails and it reads again).
                return await self.store.change_latest(quote_id, now, key, step)
            except ConcurrentChange:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def decide(
        self,
        quote_id: str,
        rule: str,
        person: str,
        verdict: str,
        now: dt.datetime,
        comment: str | None = None,
        key: str | None = None,
        number: int | None = None,
        via: str | None = None,
    ) -> list[Event]:
        """Approve or reject; with `key`, a repeat of the same request is a no-op (returns no events).

        With `number`, the decision applies only if that submission is still the quote's latest.
        `via` (`slack`, `email`) is kept in the audit of the person's own decision (insights count it).
        """

        def action(ctx: Context, sub: Submission) -> list[Event]:
            events = lifecycle.decide(ctx, sub, rule, person, verdict, comment)
            return events if via is None else [_via(event, person, via) for event in events]

        return await self._on_pending(quote_id, now, action, key, number)

    async def recall(
        self, quote_id: str, by: str, now: dt.datetime, *, comment: str | None = None, actor: str | None = None
    ) -> list[Event]:
        """The owner recalls; `actor` (e.g. `crm:<key name>`) recalls on the owner's behalf."""

        def recall(ctx: Context, sub: Submission) -> list[Event]:
            events = lifecycle.recall(ctx, sub, sub.owner if actor is not None else by)
            if comment is not None:
                sub.comment = comment
            if comment is None and actor is None:
                return events
            return [_on_behalf(e, actor, sub.owner, comment) if e.kind is Kind.RECALLED else e for e in events]

        return await self._on_pending(quote_id, now, recall)

    async def reassign(
        self, quote_id: str, rule: str, giver: str, receiver: str, now: dt.datetime, comment: str | None = None
    ) -> list[Event]:
        return await self._on_pending(
            quote_id, now, lambda ctx, sub: lifecycle.reassign(ctx, sub, rule, giver, receiver, comment)
        )

    async def replace(self, old: str, new: str, by: str, now: dt.datetime) -> list[Event]:
        """Admin replacement (§3.10): from now on NEW stands wherever OLD was, open requests too."""
        permissions.require_admin(self.policy, by, "replace an approver")
        for person in (old, new):
            if person not in self.policy.people:
                raise NotFound(f"{person!r} is not in the policy's people")
        if old == new:
            raise Conflict("replacing someone with themselves changes nothing")
        async with self.store.transaction() as tx:
            await tx.set_replacement(old, new)
            directory = await tx.directory(now)
            ctx = self.context(directory, now)
            events: list[Event] = []
            replacement = Replacement(old, new, by, now)
            for sub in await tx.pending():
                found = lifecycle.replace(ctx, sub, old, new, by)
                if found:
                    await self._save(tx, sub, found)
                    events.extend(found)
                    replacement.moved[sub.ref] = {
                        e.rule: list(e.detail.get("members", [])) for e in found if e.kind is Kind.REPLACED and e.rule
                    }
            await tx.save_replacement(replacement)
            # Audited (and the people told) even when it moved nothing; `seats` is what an undo gives back.
            told = Event(
                Kind.REPLACEMENT_SET,
                now,
                "",
                0,
                0,
                actor=by,
                people=(old, new),
                detail={"old": old, "new": new, "moved": replacement.count(), "seats": replacement.moved},
            )
            await tx.record([told])
            return events

    async def replacements(self) -> list[Replacement]:
        """Every replacement in force, oldest first, with who made it, when, and the seats it moved."""
        async with self.store.transaction() as tx:
            return await tx.replacements_in_force()

    async def undo_replacement(self, old: str, by: str, now: dt.datetime) -> tuple[Replacement, list[Event]]:
        """End the replacement of OLD: OLD stands again where they stood, and gets back exactly the seats
        the replacement took from them that its NEW still holds undecided; nobody else's seat moves."""
        permissions.require_admin(self.policy, by, "undo a replacement")
        async with self.store.transaction() as tx:
            replacement = await tx.remove_replacement(old)
            if replacement is None:
                raise NotFound(f"{old} is not replaced: `/deal replacements` lists the replacements in force")
            ctx = self.context(await tx.directory(now), now)
            events: list[Event] = []
            for ref, moved in replacement.moved.items():
                quote_id, number = ref.rsplit("#", 1)
                sub = await tx.latest(quote_id)
                if sub is None or sub.number != int(number):
                    continue
                found = lifecycle.undo_replace(ctx, sub, replacement.old, replacement.new, moved, by)
                if found:
                    await self._save(tx, sub, found)
                    events.extend(found)
            detail = {"old": replacement.old, "new": replacement.new, "restored": len(events)}
            await tx.record([Event(Kind.REPLACEMENT_UNDONE, now, "", 0, 0, actor=by, people=(old,), detail=detail)])
            return replacement, events

    async def delegate(
        self,
        delegator: str,
        delegate: str,
        start: dt.date,
        end: dt.date,
        by: str,
        now: dt.datetime,
        replacing: int | None = None,
    ) -> tuple[Delegation, list[Event]]:
        """Set an out-of-office window (`replacing` one of the delegator's open windows, by id);
        open requests gain the delegate once it is active. Past, overlong and overlapping windows
        are refused with a sentence (`domain.out_of_office`)."""
        for person in (delegator, delegate):
            if person not in self.policy.people:
                raise NotFound(f"{person!r} is not in the policy's people")
        if delegator == delegate:
            raise Conflict("A person cannot be their own delegate: choose someone else to decide for them.")
        if end < start:
            raise Conflict(f"the delegation ends ({end}) before it starts ({start})")
        permissions.require_self_or_admin(self.policy, by, delegator, "set a delegation for someone else")
        today = now.astimezone(self.policy.person_zone(delegator)).date()
        names = {k: p.name or k for k, p in self.policy.people.items()}
        async with self.store.transaction() as tx:
            directory = await tx.directory(now)
            out_of_office.check_window(
                self.policy, directory.delegations, delegator, start, end, today, replacing, names, own=by == delegator
            )
            events: list[Event] = []
            if replacing is not None:
                old = next(d for d in directory.delegations if d.id == replacing)
                await tx.cancel_delegation(replacing, today)
                if old.delegate != delegate:
                    events.append(self._window_event(Kind.DELEGATION_ENDED, old, by, now))
            delegation = await tx.add_delegation(Delegation(delegator, delegate, start, end, created_by=by))
            events.append(self._window_event(Kind.DELEGATION_SET, delegation, by, now))
            await tx.record(events)
        return delegation, await self.tick(now)

    @staticmethod
    def _window_event(kind: Kind, window: Delegation, by: str, now: dt.datetime) -> Event:
        return Event(
            kind,
            now,
            "",
            0,
            0,
            actor=by,
            on_behalf_of=window.delegator,
            people=(window.delegate,),
            detail={"start": str(window.start), "end": str(window.end), "window": window.id},
        )

    async def windows(self, delegator: str, now: dt.datetime) -> list[Delegation]:
        """`delegator`'s out-of-office windows that are on now or to come, earliest first."""
        today = now.astimezone(self.policy.person_zone(delegator)).date()
        return out_of_office.open_windows((await self.directory(now)).delegations, delegator, today)

    async def cancel_window(self, delegator: str, window_id: int, by: str, now: dt.datetime) -> Delegation:
        """Call off one open window of `delegator` (its delegate is told)."""
        permissions.require_self_or_admin(self.policy, by, delegator, "cancel someone else's out-of-office")
        today = now.astimezone(self.policy.person_zone(delegator)).date()
        async with self.store.transaction() as tx:
            found = out_of_office.open_windows((await tx.directory(now)).delegations, delegator, today)
            window = next((w for w in found if w.id == window_id), None)
            if window is None:
                raise NotFound(f"There is no window #{window_id} of yours to cancel: `/deal ooo` lists them.")
            await tx.cancel_delegation(window_id, today)
            await tx.record([self._window_event(Kind.DELEGATION_ENDED, window, by, now)])
            return window

    async def end_delegation(self, delegator: str, by: str, now: dt.datetime) -> int:
        permissions.require_self_or_admin(self.policy, by, delegator, "end someone else's delegation")
        today = now.astimezone(self.policy.person_zone(delegator)).date()
        async with self.store.transaction() as tx:
            ending = out_of_office.open_windows((await tx.directory(now)).delegations, delegator, today)
            count = await tx.end_delegations(delegator, today)
            events = [self._window_event(Kind.DELEGATION_ENDED, w, by, now) for w in ending]
            await tx.record(events or [Event(Kind.DELEGATION_ENDED, now, "", 0, 0, actor=by, on_behalf_of=delegator)])
            return count

    async def tick(self, now: dt.datetime, limit: int = 1000) -> list[Event]:
        """Time-driven work (reminders, escalations, delegates whose window opened), one short
        transaction per submission: only those due now and those of people away now are looked at."""
        async with self.store.transaction() as tx:
            directory = await tx.directory(now)
            away = sorted({d.delegator for d in directory.delegations if d.active(self.policy, now)})
            refs = list(dict.fromkeys([*await tx.due(now, limit), *await tx.inbox(away, limit)]))
        events: list[Event] = []
        for quote_id, number in refs:
            for attempt in range(RETRIES):
                try:
                    events.extend(await self._tick_one(quote_id, number, now))
                    break
                except ConcurrentChange:
                    if attempt == RETRIES - 1:
                        raise
        return events

    async def _tick_one(self, quote_id: str, number: int, now: dt.datetime) -> list[Event]:
        async with self.store.transaction() as tx:
            sub = await self._latest(tx, quote_id)
            if sub is None or sub.number != number or sub.status != "pending":
                return []
            found = lifecycle.tick(self.context(await tx.directory(now), now), sub)
            if found:
                await self._save(tx, sub, found)
            return found

    async def audit(self, quote_id: str) -> list[Event]:
        async with self.store.transaction() as tx:
            return await tx.audit(quote_id)

    async def submission(self, quote_id: str, number: int) -> Submission | None:
        """Submission NUMBER of the quote, read alone (not every submission the quote had)."""
        async with self.store.transaction() as tx:
            found = await tx.submissions_at([(quote_id, number)], snapshots=True)
        return found[0] if found else None

    async def stored_quote(self, quote_id: str) -> Quote | None:
        async with self.store.transaction() as tx:
            return await tx.quote(quote_id)

    async def waiting_on(
        self, person: str, now: dt.datetime, limit: int = 50, offset: int = 0
    ) -> tuple[list[tuple[Submission, str]], int]:
        """Requested approvals `person` can act on now (their own, and those they stand in for): those
        of up to `limit` submissions after the first `offset`, oldest first, and how many submissions
        hold such requests in all."""
        async with self.store.transaction() as tx:
            directory = await tx.directory(now)
            ctx = self.context(directory, now)
            principals = [person] + [
                d.delegator
                for d in directory.delegations
                if person in directory.stand_ins(self.policy, d.delegator, now, owner="")
            ]
            people = sorted(set(principals))
            out: list[tuple[Submission, str]] = []
            subs = await tx.inbox_submissions(people, limit + 1, offset)
            for sub in subs[:limit]:
                out.extend((sub, a.rule) for a in sub.approvals if lifecycle.can_decide(ctx, sub, a, person))
            total = await tx.inbox_count(people) if len(subs) > limit or offset else len(subs)
            return out, total

    async def quotes_of(self, owner: str, limit: int = 20) -> list[Submission]:
        """The latest submission of each of `owner`'s quotes, the most recently submitted first (`limit`)."""
        async with self.store.transaction() as tx:
            return await tx.submissions_at(await tx.quotes_of(owner, limit))

    async def latest(self, quote_id: str) -> Submission | None:
        async with self.store.transaction() as tx:
            return await self._latest(tx, quote_id)

    async def directory(self, now: dt.datetime | None = None) -> Directory:
        """Delegations and replacements; with `now`, only the delegation windows that have not ended
        (a day's margin for every zone): what deciding, resolving and App Home need."""
        async with self.store.transaction() as tx:
            return await tx.directory(now)

    async def prune_delegations(self, now: dt.datetime, keep: dt.timedelta = DELEGATIONS_KEPT) -> int:
        """Delete delegation windows that ended more than `keep` ago (their `delegation_set` and
        `delegation_ended` audit rows stay), recording how many went; run on a schedule."""
        ended_before = (now.astimezone(dt.UTC) - keep).date()
        async with self.store.transaction() as tx:
            count = await tx.prune_delegations(ended_before)
            if count:
                detail = {"ended_before": ended_before.isoformat(), "count": count}
                await tx.record([Event(Kind.DELEGATIONS_PRUNED, now, "", 0, 0, actor="greenlight", detail=detail)])
            return count

    async def preview(self, quote: Quote, now: dt.datetime) -> list[lifecycle.Planned]:
        async with self.store.transaction() as tx:
            previous = await self._latest(tx, quote.id)
            ctx = self.context(await tx.directory(now), now)
        return lifecycle.plan(ctx, quote, previous)


def _on_behalf(event: Event, actor: str | None, owner: str, comment: str | None) -> Event:
    """The event as done by `actor` for `owner` (a CRM acting for the rep), with `comment` if given."""
    changes: dict[str, Any] = {}
    if actor is not None:
        changes.update(actor=actor, on_behalf_of=owner)
    if comment is not None:
        changes["comment"] = comment
    return dataclasses.replace(event, **changes)
