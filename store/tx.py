"""The database store: one tortoise transaction per service command (`domain.service.Tx`)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from prometheus_client import Counter
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from domain import amounts
from domain import approvals as lifecycle
from domain.approvals import Delegation, Directory, Replacement, Submission
from domain.contracts import Contract
from domain.events import Event, plain, to_json
from domain.orders import PlannedOrder, erp_message
from domain.quote import Quote
from domain.reactions import Topic, topics
from domain.service import Change, ConcurrentChange, Opened, Queued, Step, change_in_steps, changed_meanwhile

from . import codec, decision, sqlite, submissions
from .audit import event_of
from .codec import order_of
from .group import GroupCommit, GroupFailed, Savepoint
from .insights import Dialect
from .models import (
    ApprovalRow,
    AssignmentRow,
    AuditRow,
    ContractRow,
    DelegationRow,
    OrderRow,
    OutboxRow,
    QuoteRow,
    QuoteVersionRow,
    ReplacementRow,
    RequestKeyRow,
    SubmissionRow,
    SubmissionSnapshotRow,
)
from .outbox import not_sent
from .release import release_batch

# Registered by the HTTP surface's metrics (greenlight/api.py), like the outbox's counters: approvals
# closed by an outcome (`decision.closes`), counted by the process whose change committed it. The
# approval table's history is not counted on each scrape (`greenlight.observability`).
OUTCOMES = Counter(
    "greenlight_approval_outcomes",
    "Approvals this process closed, by outcome (approved, rejected, auto, carried, revoked), as each change commits.",
    ["status"],
    registry=None,
)


def _count_outcomes(statuses: Collection[str]) -> None:
    for status in statuses:
        OUTCOMES.labels(status=status).inc()


class DbStore:
    """Implements `domain.service.Store` over the tortoise connection set up by `db.connect`.

    It keeps the last directory it read (delegation windows not yet ended, and replacements) with
    the `directory_version` it read it at; a transaction reuses it while that version stands.

    UNSENT are the topics this deployment has no receiver for (`greenlight.app.build`: the CRM's when
    no CRM is connected): their outbox rows are not written at all, where they used to be written,
    claimed and closed unsent. Every other store (a CLI's) writes every topic's rows, and the worker
    closes what nobody receives.
    """

    def __init__(self, unsent: Collection[Topic] = ()) -> None:
        self.unsent = frozenset(unsent)
        self.directory_cache: CachedDirectory | None = None
        self.group = GroupCommit()
        """SQLite: this store's concurrent transactions commit together (`store.group`)."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[DbTx]:
        with _races_as_concurrent_changes():
            async with self._transaction() as connection:
                tx = DbTx(connection, self)
                yield tx
            _count_outcomes(tx.outcomes)  # committed

    @asynccontextmanager
    async def change(self) -> AsyncIterator[DbTx]:
        """One change to a pending submission (`domain.service.Store`). On PostgreSQL it holds no
        transaction: the read and the write are a statement each, in autocommit, the write a
        compare-and-set on the revision read that also claims the request's key (`DbTx.save`)."""
        connection = Tortoise.get_connection("default")
        with _races_as_concurrent_changes():
            if connection.capabilities.dialect != "sqlite":
                yield DbTx(connection, self, detached=True)
                return
            # SQLite: a turn of the group commit, its savepoint opened by the read's hand-off and
            # released by the write's (`DbTx.savepoint`)
            async with self.group.deferred_turn() as (shared, savepoint):
                tx = DbTx(shared, self, savepoint=savepoint)
                yield tx
            _count_outcomes(tx.outcomes)  # committed with its group

    async def change_latest(self, quote_id: str, now: dt.datetime, key: str | None, step: Step) -> list[Event]:
        """`domain.service.Store.change_latest`. On SQLite it is one job of the group commit: the key's
        claim, the read, STEP and the write in one hand-off to the driver's thread, beside the other
        clicks of its group. On PostgreSQL it is two statements sent straight through asyncpg
        (`_change_through_asyncpg`). What either cannot do alone (the directory changed since it was
        cached, a row written before issue 16, events that need the models' path) it leaves, having
        kept nothing, to `change_in_steps`."""
        client = Tortoise.get_connection("default")
        with _races_as_concurrent_changes():
            try:
                if client.capabilities.dialect == "sqlite":
                    events, outcomes = await self.group.run(partial(self._change_at_once, quote_id, now, key, step))
                else:
                    events, outcomes = await self._change_through_asyncpg(client, quote_id, now, key, step)
                _count_outcomes(outcomes)  # committed
                return events
            except _InSteps:
                pass
        return await change_in_steps(self, quote_id, now, key, step)

    async def _change_through_asyncpg(
        self, client: Any, quote_id: str, now: dt.datetime, key: str | None, step: Step
    ) -> tuple[list[Event], tuple[str, ...]]:
        """PostgreSQL: `POSTGRES_READ`, STEP, then `POSTGRES_WRITE`, each statement atomic alone in
        autocommit, sent straight through asyncpg on a connection of tortoise's pool (taken for the
        statement only: a click waiting for its turn on the event loop holds none). What it cannot do
        alone it leaves, having written nothing, to `change_in_steps`."""
        try:
            async with client.acquire_connection() as connection:
                row = await connection.fetchrow(decision.POSTGRES_READ, key, quote_id)
            if row["taken"]:
                return [], ()
            change, write = self._step_on(*_postgres_read(row), now, step)
            claim = (key, _claim_answer(now), now) if key is not None else None
            values = decision.postgres_write_values(write, claim)
            async with client.acquire_connection() as connection:
                saved = await connection.fetchval(decision.POSTGRES_WRITE, *values)
        except asyncpg.IntegrityConstraintViolationError as error:  # the key claimed meanwhile
            raise IntegrityError(error) from error
        if saved != 1:
            raise changed_meanwhile(change.submission)
        return change.events, write.outcomes

    def _change_at_once(
        self, quote_id: str, now: dt.datetime, key: str | None, step: Step, db: sqlite3.Connection
    ) -> tuple[list[Event], tuple[str, ...]]:
        """In the driver's thread, inside the job's savepoint (which rolls back whatever it raises):
        the events, and the outcomes to count once the group has committed."""
        claimed, row, version_row = decision.sqlite_read(key, _claim_answer(now), now, quote_id)(db)
        if not claimed:
            return [], ()
        version = int(version_row[0]) if version_row is not None else None
        change, write = self._step_on(row, version, now, step)
        if not decision.sqlite_write(write)(db):
            raise changed_meanwhile(change.submission)
        return change.events, write.outcomes

    def _step_on(self, row: Any, version: int | None, now: dt.datetime, step: Step) -> tuple[Change, decision.Write]:
        """What a change in one go does between its read and its write: STEP on the submission of ROW
        (None: no submission) with the cached directory, and the rows it writes. It raises `_InSteps`
        for what it cannot do alone (nothing written yet), and what STEP raises."""
        since = lifecycle.current_since(now)
        cached = self.directory_cache
        if cached is None or not cached.serves(version, since):
            raise _InSteps("the directory is to be read again")
        sub, read = _opened_row(row) if row is not None else (None, None)
        if read is not None and read.legacy:
            raise _InSteps("a row that keeps its snapshot in its state")
        change = step(Opened(sub, cached.at(since)))
        assert read is not None  # (STEP raises NotFound without a submission)
        write = decision.prepare(change.submission, read, change.expected_revision, change.events, self.unsent)
        if write is None:
            raise _InSteps("events that the models' path writes")
        return change, write

    def _transaction(self) -> AbstractAsyncContextManager[Any]:
        if Tortoise.get_connection("default").capabilities.dialect == "sqlite":
            return self.group.turn()
        return in_transaction()


def _claim_answer(now: dt.datetime) -> dict[str, Any]:
    """What a change's key is remembered with while it decides (`Tx.open_latest`)."""
    return {"claimed": now.isoformat()}


def _postgres_read(row: Any) -> tuple[Any, int | None]:
    """The submission row of a `POSTGRES_READ` answer whose key was free (None: no submission yet),
    and the `directory_version` it read."""
    version = int(row["version"]) if row["version"] is not None else None
    return (row if row["id"] is not None else None), version


class _InSteps(Exception):
    """A change the group's job left to `change_in_steps` (having kept nothing): why."""


@contextmanager
def _races_as_concurrent_changes() -> Iterator[None]:
    """A lost race (a key or row taken, a failed group, a busy database) as `ConcurrentChange`, which
    the services retry."""
    try:
        yield
    except IntegrityError as error:
        raise ConcurrentChange(f"a concurrent change won the race ({error.__class__.__name__})") from error
    except GroupFailed as error:
        raise ConcurrentChange(f"the group this change committed with failed: {error}") from error
    except OperationalError as error:
        if not _transient(error):
            raise
        raise ConcurrentChange(f"the database was busy: {error}") from error


@dataclass(frozen=True)
class CachedDirectory:
    """A directory as read at `version`, holding every window that ended on `since` or later."""

    version: int | None
    since: dt.date
    directory: Directory

    def serves(self, version: int | None, since: dt.date) -> bool:
        """Whether it is the directory of VERSION with every window that ends on SINCE or later."""
        return self.version == version and self.since <= since

    def at(self, since: dt.date) -> Directory:
        windows = [d for d in self.directory.delegations if d.end >= since]
        return Directory(windows, dict(self.directory.replacements))


def _contract_columns(contract: Contract) -> dict[str, Any]:
    """The contract's queryable terms (the renewal sweep reads them), beside its data."""
    return {"number": contract.number or None, "start_date": contract.start, "end_date": contract.end}


LOADED = ("id", "revision", "state", "as_submitted__snapshot")
"""What the general path reads of a submission: its row and, in the same statement, its snapshot."""


def _read_of(row_id: int, state: dict[str, Any], legacy: bool) -> decision.Read:
    return decision.Read(row_id, {a["rule"]: a for a in state.get("approvals", [])}, legacy)


def _opened_row(row: Any) -> tuple[Submission, decision.Read]:
    """The submission of a row the change's read returned (`decision.sqlite_read`, `POSTGRES_READ`),
    and what its write needs of it."""
    state = amounts.loads(row["state"])
    sub = codec.load_lazily(state, row["snapshot"])
    sub.revision = row["revision"]
    return sub, _read_of(row["id"], state, row["snapshot"] is None)


def _transient(error: Exception) -> bool:
    text = str(error).lower()
    return any(word in text for word in ("database is locked", "could not serialize", "deadlock detected", "busy"))


class DbTx:
    def __init__(
        self,
        connection: Any,
        store: DbStore | None = None,
        *,
        detached: bool = False,
        savepoint: Savepoint | None = None,
    ) -> None:
        self.db = connection
        self.store = store
        self.detached = detached
        """No transaction holds the statements together (`DbStore.change` on PostgreSQL): each is atomic
        alone, and a write of more than one statement opens a transaction of its own."""
        self.savepoint = savepoint
        """SQLite, `DbStore.change`: the group turn's savepoint, not yet opened. The read opens it in its
        own hand-off to the driver's thread and the write releases it in its own (two fewer)."""
        self._unsent = store.unsent if store is not None else frozenset()
        """The store's topics written no rows (`DbStore.unsent`); a transaction without a store writes all."""
        self._read: dict[tuple[str, int], decision.Read] = {}
        """What this transaction read or wrote of each submission row: what its next write needs."""
        self._claim: tuple[str, dict[str, Any], dt.datetime] | None = None
        """PostgreSQL: the key `open_latest` found free (key, answer, now), claimed by the `save` after it."""
        self.outcomes: list[str] = []
        """The approvals this transaction closed (`decision.closes`), counted by the store once it commits
        (detached: each write is counted as it commits alone)."""

    async def quote(self, quote_id: str, *, lock: bool = False) -> Quote | None:
        query = QuoteRow.filter(id=quote_id).using_db(self.db)
        if lock:
            query = query.select_for_update()
        row = await query.first()
        return Quote(row.data) if row else None

    async def save_quote(self, quote: Quote, now: dt.datetime) -> Quote | None:
        values = {
            "version": quote.version,
            "owner": quote.owner,
            "account_id": quote.account.get("id"),
            "content_hash": quote.content_hash,
            "data": quote.data,
            "received_at": now,
        }
        # The compare-and-set: a concurrent writer of a higher version makes this update wait, then
        # find nothing to change (PostgreSQL re-checks the condition on the row it waited for).
        updated = await QuoteRow.filter(id=quote.id, version__lt=quote.version).using_db(self.db).update(**values)
        if not updated:
            stored = await self.quote(quote.id, lock=True)
            if stored is not None:
                return stored
            # No row yet: two first versions racing meet on the primary key (a retried ConcurrentChange).
            await QuoteRow.create(id=quote.id, using_db=self.db, **values)
        await QuoteVersionRow.create(
            quote_id=quote.id,
            version=quote.version,
            content_hash=quote.content_hash,
            data=quote.data,
            received_at=now,
            using_db=self.db,
        )
        return None

    def _load(self, row: dict[str, Any]) -> Submission:
        """A submission of a row read with `LOADED`: a snapshot of None is one kept in the state."""
        snapshot = row["as_submitted__snapshot"]
        sub = codec.load(row["state"], snapshot)
        sub.revision = row["revision"]
        self._read[(sub.quote_id, sub.number)] = _read_of(row["id"], row["state"], snapshot is None)
        return sub

    async def open_latest(self, quote_id: str, now: dt.datetime, key: str | None) -> Opened | None:
        answer = _claim_answer(now)
        if self.db.capabilities.dialect == "sqlite":
            read = decision.sqlite_read(key, answer, now, quote_id)
            if self.savepoint is not None:
                read = self.savepoint.opening(read)
            claimed, row, version_row = await sqlite.on_sqlite(self.db, read)
            if not claimed:
                return None
            version = int(version_row[0]) if version_row is not None else None
        else:
            found = await self.db.execute_query_dict(decision.POSTGRES_READ, [key, quote_id])
            row = found[0]
            if row["taken"]:
                return None
            self._claim = (key, answer, now) if key is not None else None
            row, version = _postgres_read(row)
        sub = None
        if row is not None:
            sub, what_was_read = _opened_row(row)
            self._read[(sub.quote_id, sub.number)] = what_was_read
        return Opened(sub, await self._directory_at(version, now))

    async def save(self, sub: Submission, expected_revision: int, events: list[Event]) -> bool:
        read = self._read.get((sub.quote_id, sub.number))
        write = (
            None
            if read is None or read.legacy
            else decision.prepare(sub, read, expected_revision, events, self._unsent)
        )
        if write is None:  # the general path: through the models
            if self.savepoint is not None:
                await sqlite.on_sqlite(self.db, self.savepoint.open)  # (opened by the read, unless none ran)
            if not self.detached:
                return await self._save_through_models(sub, expected_revision, events)
            async with in_transaction() as connection:
                inner = DbTx(connection, self.store)
                inner._read, inner._claim = self._read, self._claim
                saved = await inner._save_through_models(sub, expected_revision, events)
            _count_outcomes(inner.outcomes)  # committed
            return saved
        if self.db.capabilities.dialect == "sqlite":
            work = decision.sqlite_write(write)
            if self.savepoint is not None:
                work = self.savepoint.releasing(work)
            saved = await sqlite.on_sqlite(self.db, work)
        else:
            values = decision.postgres_write_values(write, self._claim)
            saved = (await self.db.execute_query_dict(decision.POSTGRES_WRITE, values))[0]["saved"] == 1
        if saved:
            self._read[(sub.quote_id, sub.number)] = _read_of(write.submission_id, write.document, False)
            self._claim = None
            if self.detached:
                _count_outcomes(write.outcomes)  # committed alone
            else:
                self.outcomes += write.outcomes
        return saved

    async def _save_through_models(self, sub: Submission, expected_revision: int, events: list[Event]) -> bool:
        """`save` through the models, in this transaction: the compare-and-set first, so that the key is
        claimed only by a winner (a key taken meanwhile fails the transaction, which rolls back)."""
        if not await self.update_submission(sub, expected_revision):
            return False
        if self._claim is not None:
            if not await self.claim(*self._claim):
                raise IntegrityError(f"request key {self._claim[0]!r} was claimed meanwhile")
            self._claim = None
        await self.record(events)
        return True

    async def submissions(self, quote_id: str) -> list[Submission]:
        rows = await SubmissionRow.filter(quote_id=quote_id).using_db(self.db).order_by("number").values(*LOADED)
        return [self._load(row) for row in rows]

    async def latest(self, quote_id: str) -> Submission | None:
        query = SubmissionRow.filter(quote_id=quote_id).using_db(self.db).order_by("-number")
        row = await query.first().values(*LOADED)
        return self._load(row) if row else None

    async def pending(self) -> list[Submission]:
        rows = await SubmissionRow.filter(status="pending").using_db(self.db).order_by("id").values(*LOADED)
        return [self._load(row) for row in rows]

    async def add_submission(self, sub: Submission) -> None:
        row = await SubmissionRow.create(
            quote_id=sub.quote_id,
            number=sub.number,
            quote_version=sub.quote_version,
            owner=sub.owner,
            status=sub.status,
            revision=sub.revision,
            submitted_at=sub.submitted_at,
            decided_at=sub.decided_at,
            due_at=sub.due_at,
            state=(state := codec.dump(sub)),
            using_db=self.db,
        )
        await self._keep_snapshot(row.id, sub)
        self._read[(sub.quote_id, sub.number)] = _read_of(row.id, state, False)
        for approval in sub.approvals:
            await self._project(row.id, sub, approval, None)

    async def update_submission(self, sub: Submission, expected_revision: int) -> bool:
        read = self._read.get((sub.quote_id, sub.number))
        if read is None:
            query = SubmissionRow.filter(quote_id=sub.quote_id, number=sub.number).using_db(self.db)
            row = await query.get().values("id", "state", "as_submitted__submission_id")
            read = _read_of(row["id"], row["state"], row["as_submitted__submission_id"] is None)
        state = codec.dump(sub)
        values: dict[str, Any] = {
            "status": sub.status,
            "revision": sub.revision,
            "decided_at": sub.decided_at,
            "due_at": sub.due_at,
            "state": state,
        }
        changed = await SubmissionRow.filter(id=read.id, revision=expected_revision).using_db(self.db).update(**values)
        if changed != 1:
            return False
        if read.legacy:  # a row from before the snapshot table: its snapshot moves there, once
            await self._keep_snapshot(read.id, sub)
        for approval, dumped in zip(sub.approvals, state["approvals"], strict=True):
            old = read.approvals.get(approval.rule)
            if old != dumped:
                await self._project(read.id, sub, approval, old)
        self._read[(sub.quote_id, sub.number)] = _read_of(read.id, state, False)
        return True

    async def _keep_snapshot(self, submission_id: int, sub: Submission) -> None:
        """The submission's snapshot and heading, in the row written once (`SubmissionSnapshotRow`)."""
        await SubmissionSnapshotRow.create(
            submission_id=submission_id, heading=sub.heading(), snapshot=sub.snapshot, using_db=self.db
        )

    async def _project(
        self, submission_id: int, sub: Submission, approval: lifecycle.Approval, old: dict[str, Any] | None
    ) -> None:
        values = {
            "quote_id": sub.quote_id,
            "chain": approval.chain,
            "step": approval.step,
            "status": approval.status,
            "requested_at": approval.requested_at,
            "decided_at": approval.decided_at,
            "acted_by": approval.acted_by,
        }
        if decision.closes(old.get("status") if old is not None else None, approval.status):
            self.outcomes.append(approval.status)
        holders = decision.holders(approval)
        this = ApprovalRow.filter(submission_id=submission_id, rule=approval.rule).using_db(self.db)
        if old is None:
            row = await ApprovalRow.create(submission_id=submission_id, rule=approval.rule, using_db=self.db, **values)
            approval_id = row.id
        else:
            await this.update(**values)
            if old.get("status") == "requested":  # only a requested approval has holders to forget
                ids = Subquery(this.values("id"))
                await AssignmentRow.filter(approval_id__in=ids).using_db(self.db).delete()
            if holders:
                approval_id = (await this.values("id"))[0]["id"]
        if holders:
            await AssignmentRow.bulk_create(
                [AssignmentRow(approval_id=approval_id, person=p) for p in holders], using_db=self.db
            )

    async def directory(self, now: dt.datetime | None = None) -> Directory:
        """With `now`, the windows that may still be active somewhere and every replacement, from the
        store's copy while `directory_version` is unchanged; without, every window ever kept."""
        if now is None:
            return await self._read_directory(None)
        rows = await self.db.execute_query_dict('SELECT "version" FROM "directory_version" WHERE "id" = 1')
        return await self._directory_at(int(rows[0]["version"]) if rows else None, now)

    async def _directory_at(self, version: int | None, now: dt.datetime) -> Directory:
        """The directory at `now`, given the `directory_version` this transaction read."""
        since = lifecycle.current_since(now)
        cached = self.store.directory_cache if self.store is not None else None
        if cached is not None and cached.serves(version, since):
            return cached.at(since)
        # read after the version: what is read is at least as new as the version it is kept under
        directory = await self._read_directory(since)
        if self.store is not None:
            self.store.directory_cache = CachedDirectory(version, since, directory)
        return CachedDirectory(version, since, directory).at(since)

    async def _read_directory(self, since: dt.date | None) -> Directory:
        rows = DelegationRow.all() if since is None else DelegationRow.filter(end__gte=since)
        delegations = [
            Delegation(r.delegator, r.delegate, r.start, r.end, r.created_by, r.id)
            for r in await rows.using_db(self.db).order_by("id")
        ]
        replacements = {r.old: r.new for r in await ReplacementRow.all().using_db(self.db)}
        return Directory(delegations, replacements)

    async def prune_delegations(self, ended_before: dt.date) -> int:
        return await DelegationRow.filter(end__lt=ended_before).using_db(self.db).delete()

    async def add_delegation(self, delegation: Delegation) -> Delegation:
        row = await DelegationRow.create(
            delegator=delegation.delegator,
            delegate=delegation.delegate,
            start=delegation.start,
            end=delegation.end,
            created_by=delegation.created_by,
            using_db=self.db,
        )
        delegation.id = row.id
        return delegation

    async def end_delegations(self, delegator: str, today: dt.date) -> int:
        return await (
            DelegationRow.filter(delegator=delegator, end__gte=today)
            .using_db(self.db)
            .update(end=today - dt.timedelta(days=1))
        )

    async def save_replacement(self, replacement: Replacement) -> None:
        await (
            ReplacementRow.filter(old=replacement.old)
            .using_db(self.db)
            .update(created_by=replacement.created_by, created_at=replacement.created_at, moved=replacement.moved)
        )

    async def replacements_in_force(self) -> list[Replacement]:
        rows = await ReplacementRow.all().using_db(self.db).order_by("created_at", "old")
        return [Replacement(r.old, r.new, r.created_by, r.created_at, dict(r.moved or {})) for r in rows]

    async def remove_replacement(self, old: str) -> Replacement | None:
        row = await ReplacementRow.filter(old=old).using_db(self.db).select_for_update().first()
        if row is None:
            return None
        await ReplacementRow.filter(old=old).using_db(self.db).delete()
        return Replacement(row.old, row.new, row.created_by, row.created_at, dict(row.moved or {}))

    async def cancel_delegation(self, delegation_id: int, today: dt.date) -> None:
        """One window called off: gone if it has not started, ended yesterday if it is on."""
        await DelegationRow.filter(id=delegation_id, start__gte=today).using_db(self.db).delete()
        await (
            DelegationRow.filter(id=delegation_id, end__gte=today)
            .using_db(self.db)
            .update(end=today - dt.timedelta(days=1))
        )

    async def set_replacement(self, old: str, new: str) -> None:
        await ReplacementRow.filter(old=new).using_db(self.db).delete()
        updated = await ReplacementRow.filter(old=old).using_db(self.db).update(new=new)
        if not updated:
            await ReplacementRow.create(old=old, new=new, using_db=self.db)

    async def record(self, events: list[Event]) -> None:
        """The audit rows of `events`, and one outbox row for each topic their reactions need."""
        if not events:
            return
        await AuditRow.bulk_create(
            [
                AuditRow(
                    at=e.at,
                    kind=e.kind.value,
                    quote_id=e.quote_id,
                    quote_version=e.quote_version,
                    submission=e.submission,
                    rule=e.rule,
                    actor=e.actor,
                    on_behalf_of=e.on_behalf_of,
                    comment=e.comment,
                    people=list(e.people),
                    detail=plain(e.detail),
                )
                for e in events
            ],
            using_db=self.db,
        )
        unsent = self._unsent
        rows = [
            await self._message(topic, event) for event in events for topic in topics(event.kind) if topic not in unsent
        ]
        if rows:
            await OutboxRow.bulk_create(rows, using_db=self.db)

    async def _message(self, topic: Topic, event: Event) -> OutboxRow:
        key, payload = decision.message_key(topic, event), to_json(event)
        if topic is Topic.ERP:
            # The ERP gets the order as released, keyed by its number and event: the ERP's idempotency key.
            number = str(event.detail["order"])
            row = await OrderRow.filter(number=number).using_db(self.db).get()
            order = order_of(row)
            key, payload = f"{number}:{order.erp_event}", erp_message(order)
        return OutboxRow(topic=topic.value, key=key, payload=payload, next_attempt_at=event.at, created_at=event.at)

    async def audit(self, quote_id: str) -> list[Event]:
        rows = await AuditRow.filter(quote_id=quote_id).using_db(self.db).order_by("id")
        return [event_of(r) for r in rows]

    async def seen(self, key: str) -> dict[str, Any] | None:
        row = await RequestKeyRow.filter(key=key).using_db(self.db).first()
        return row.answer if row else None

    async def remember(self, key: str, answer: dict[str, Any], now: dt.datetime) -> None:
        await RequestKeyRow.create(key=key, answer=answer, created_at=now, using_db=self.db)

    async def claim(self, key: str, answer: dict[str, Any], now: dt.datetime) -> bool:
        d = Dialect(self.db.capabilities.dialect)
        marks = ", ".join(d.param() for _ in range(3))
        statement = (
            f'INSERT INTO "request_key" ("key", "answer", "created_at") VALUES ({marks}) '
            'ON CONFLICT ("key") DO NOTHING RETURNING "key"'
        )
        answer_text = json.dumps(answer, separators=(",", ":"))
        rows = await self.db.execute_query_dict(statement, [key, answer_text, d.instant(now)])
        return len(rows) == 1

    def _open_requests(self, people: list[str]) -> tuple[str, list[Any], Dialect]:
        """FROM and WHERE of the requested approvals held by one of `people` on pending submissions."""
        d = Dialect(self.db.capabilities.dialect)
        marks = ", ".join(d.param() for _ in people)
        text = f"""
            FROM assignment x JOIN approval a ON a.id = x.approval_id JOIN submission s ON s.id = a.submission_id
            WHERE x.person IN ({marks}) AND a.status = 'requested' AND s.status = 'pending'"""
        return text, list(people), d

    async def _inbox_rows(self, people: list[str], limit: int, offset: int = 0) -> list[dict[str, Any]]:
        """Pending submissions with a requested approval held by one of `people`, the longest waiting
        first (by their earliest request), `limit` of them after `offset`: one statement, bounded."""
        if not people or limit <= 0:
            return []
        where, params, d = self._open_requests(people)
        query = f"""
            SELECT s.id AS id, s.quote_id AS quote_id, s.number AS number {where}
            GROUP BY s.id, s.quote_id, s.number ORDER BY MIN(a.requested_at), MIN(a.id)
            LIMIT {d.param()} OFFSET {d.param()}"""
        return list(await self.db.execute_query_dict(query, [*params, limit, offset]))

    async def inbox(self, people: list[str], limit: int) -> list[tuple[str, int]]:
        return [(str(r["quote_id"]), int(r["number"])) for r in await self._inbox_rows(people, limit)]

    async def inbox_count(self, people: list[str]) -> int:
        if not people:
            return 0
        where, params, _ = self._open_requests(people)
        rows = await self.db.execute_query_dict(f"SELECT COUNT(DISTINCT s.id) AS n {where}", params)
        return int(rows[0]["n"])

    async def inbox_submissions(self, people: list[str], limit: int, offset: int = 0) -> list[Submission]:
        rows = await self._inbox_rows(people, limit, offset)
        return await self.submissions_at([(str(r["quote_id"]), int(r["number"])) for r in rows])

    async def submissions_at(self, refs: list[tuple[str, int]], *, snapshots: bool = False) -> list[Submission]:
        """The submissions of `refs` (quote id, number) that exist, in that order: one statement, each
        quote's heading read, and its snapshot only with SNAPSHOTS (`store.submissions`)."""
        return await submissions.read(self.db, refs, snapshots=snapshots)

    async def quotes_of(self, owner: str, limit: int) -> list[tuple[str, int]]:
        rows = (
            await SubmissionRow.filter(owner=owner)
            .using_db(self.db)
            .order_by("-submitted_at")
            .limit(limit * 3)
            .values_list("quote_id", "number")
        )
        latest: dict[str, int] = {}
        for quote_id, number in rows:
            latest[quote_id] = max(number, latest.get(quote_id, 0))
        return list(latest.items())[:limit]

    async def due(self, now: dt.datetime, limit: int) -> list[tuple[str, int]]:
        rows = (
            await SubmissionRow.filter(status="pending", due_at__lte=now)
            .using_db(self.db)
            .order_by("due_at")
            .limit(limit)
            .values_list("quote_id", "number")
        )
        return [(q, n) for q, n in rows]

    # ---------------------------------------------------------------- orders and contracts

    async def quote_version(self, quote_id: str, version: int) -> Quote | None:
        row = await QuoteVersionRow.filter(quote_id=quote_id, version=version).using_db(self.db).first()
        return Quote(row.data) if row else None

    async def orders_of(self, quote_id: str) -> list[PlannedOrder]:
        rows = await OrderRow.filter(quote_id=quote_id).using_db(self.db).order_by("number")
        return [order_of(row) for row in rows]

    async def order(self, number: str) -> PlannedOrder | None:
        row = await OrderRow.filter(number=number).using_db(self.db).first()
        return order_of(row) if row else None

    async def add_order(self, order: PlannedOrder, due_at: dt.datetime, now: dt.datetime) -> None:
        await OrderRow.create(
            number=order.number,
            quote_id=order.quote_id,
            quote_version=order.quote_version,
            account_id=order.account_id,
            status=order.status,
            release_at=due_at,
            released_at=order.released_at,
            data=order.as_dict(),
            created_at=now,
            using_db=self.db,
        )

    async def update_order(
        self, order: PlannedOrder, expected_revision: int, due_at: dt.datetime | None = None
    ) -> bool:
        values: dict[str, Any] = {
            "status": order.status,
            "released_at": order.released_at,
            "erp_reference": order.erp_reference,
            "revision": order.revision,
            "data": order.as_dict(),
        }
        if due_at is not None:
            values["release_at"] = due_at
        changed = (
            await OrderRow.filter(number=order.number, revision=expected_revision).using_db(self.db).update(**values)
        )
        return changed == 1

    async def release_due(self, now: dt.datetime, limit: int) -> int:
        return await release_batch(self.db, now, limit, crm=Topic.CRM not in self._unsent)

    async def contracts_of(self, account_id: str) -> list[Contract]:
        rows = await ContractRow.filter(account_id=account_id).using_db(self.db).order_by("id")
        return [Contract.from_dict(row.data) for row in rows]

    async def add_contract(self, contract: Contract, now: dt.datetime) -> None:
        await ContractRow.create(
            account_id=contract.account_id,
            quote_id=contract.quote_id,
            quote_version=contract.quote_version,
            data=contract.as_dict(),
            created_at=now,
            using_db=self.db,
            **_contract_columns(contract),
        )

    async def orders_due(
        self, start: dt.datetime, end: dt.datetime, limit: int, offset: int
    ) -> tuple[list[PlannedOrder], int]:
        """Orders of every quote released (or to be) in [start, end), by release instant; and how many."""
        query = OrderRow.filter(release_at__gte=start, release_at__lt=end).using_db(self.db)
        total = await query.count()
        rows = await query.order_by("release_at", "number").offset(offset).limit(limit)
        return [order_of(row) for row in rows], total

    async def renewals_due(self, through: dt.date, today: dt.date, limit: int) -> list[Contract]:
        """Contracts ending between `today` and `through` whose renewal reminder has not gone out."""
        rows = (
            await ContractRow.filter(end_date__lte=through, end_date__gte=today, renewal_sent_at__isnull=True)
            .using_db(self.db)
            .order_by("end_date", "id")
            .limit(limit)
        )
        return [Contract.from_dict(row.data) for row in rows]

    async def mark_renewal_sent(self, quote_id: str, now: dt.datetime) -> bool:
        changed = await (
            ContractRow.filter(quote_id=quote_id, renewal_sent_at__isnull=True)
            .using_db(self.db)
            .update(renewal_sent_at=now)
        )
        return changed > 0

    async def contract_of(self, quote_id: str) -> Contract | None:
        row = await ContractRow.filter(quote_id=quote_id).using_db(self.db).order_by("-id").first()
        return Contract.from_dict(row.data) if row else None

    async def update_contract(self, contract: Contract) -> None:
        """The quote's one contract, amended (orders of a newer version amend it, never add another)."""
        await (
            ContractRow.filter(quote_id=contract.quote_id)
            .using_db(self.db)
            .update(quote_version=contract.quote_version, data=contract.as_dict(), **_contract_columns(contract))
        )

    # ---------------------------------------------------------------- keyed outbox rows

    async def queued(self, topic: Topic, key_prefix: str) -> list[Queued]:
        rows = await OutboxRow.filter(topic=topic.value, key__startswith=key_prefix).using_db(self.db).order_by("key")
        return [Queued(topic, row.key, row.status, row.payload) for row in rows]

    async def requeue_dead(self, topic: Topic, key_prefix: str, now: dt.datetime) -> int:
        # Among the rows not sent (`outbox.not_sent`: through their partial indexes), not the topic's history.
        rows = await not_sent(topic.value, key_prefix, db=self.db)
        dead = [int(row["id"]) for row in rows if row["status"] == "dead"]
        if not dead:
            return 0
        return await (
            OutboxRow.filter(id__in=dead, status="dead")
            .using_db(self.db)
            .update(status="pending", attempts=0, next_attempt_at=now, lease_until=None, created_at=now)
        )
