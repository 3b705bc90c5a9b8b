"""The hot path of a change to a pending submission (a click on Approve): prebuilt statements.

A change reads once and writes once (`DbTx.open_latest`, `DbTx.save`):

- the read checks the request's idempotency key, reads the quote's latest submission (its state
  decoded, its snapshot, joined from `submission_snapshot`, kept as text until something reads it)
  and the `directory_version`;
- the write is the submission's compare-and-set, the approvals whose state changed with their
  holders, the audit rows and the outbox rows of the events. It never writes the snapshot, which
  has a table of its own so that the submission's row stays small (SQLite rewrites a whole row).

On PostgreSQL each is one statement, run in autocommit (`DbStore.change`: no BEGIN or COMMIT, two
round trips in all). The write's parts are data-modifying CTEs that all hang on the compare-and-set:
when it changes no row, nothing is written. The key is claimed by the write, not the read: a copy of
the request that read before the claim committed fails its compare-and-set (the revision moved) and
reads again, and then finds the key taken; a key taken by a write that raced past the read fails the
statement as a whole (a unique violation), which the service retries. On SQLite the read claims the
key, as one transaction of the group holds read and write together. On SQLite each is one hand-off to the
driver's thread running a handful of statements with the sqlite3 connection tortoise opened: the
statement count matters less there than the hand-offs and the ORM's per-row work, which cost most of a
decision. Tortoise still owns the schema and its migrations; the rows written here are the rows its
models write (`DbTx.update_submission`, `DbTx.record`), column for column.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain import amounts
from domain.approvals import OPEN, Approval, Submission
from domain.events import Event, to_json
from domain.reactions import Topic, topics

from . import codec
from .crm import crm_key
from .sqlite import instant


def _json(value: Any) -> str:
    """JSON as tortoise's JSONField writes it (compact), dates and decimals as text like `events.plain`."""
    return _COMPACT.encode(value)


_COMPACT = json.JSONEncoder(separators=(",", ":"), default=str)
"""Built once: json.dumps builds an encoder per call when given arguments of its own."""


@dataclass(frozen=True)
class Read:
    """What a change read of one submission row: the compare-and-set needs the id, the write the
    state before (to rewrite only the approvals that changed)."""

    id: int
    approvals: dict[str, dict[str, Any]]
    legacy: bool
    """The row keeps its snapshot inside `state` (written before issue 16: no `submission_snapshot` row)."""


@dataclass(frozen=True)
class ApprovalChange:
    rule: str
    chain: str
    step: int
    status: str
    requested_at: dt.datetime | None
    decided_at: dt.datetime | None
    acted_by: str | None
    clear: bool
    """Its holders are forgotten first (it was requested)."""
    holders: tuple[str, ...]


@dataclass(frozen=True)
class Write:
    """One change, ready for either database."""

    submission_id: int
    expected_revision: int
    status: str
    revision: int
    decided_at: dt.datetime | None
    due_at: dt.datetime | None
    state: str
    document: dict[str, Any]
    """The state as written, decoded."""
    approvals: list[ApprovalChange]
    audit: list[tuple[Any, ...]]
    """at, kind, quote_id, quote_version, submission, rule, actor, on_behalf_of, comment, people, detail"""
    outbox: list[tuple[str, str, str, dt.datetime]]
    """topic, key, payload, at (its next attempt and creation)"""
    outcomes: tuple[str, ...] = ()
    """The statuses of the approvals this change closes (`closes`), counted once it commits."""


def closes(before: str | None, after: str) -> bool:
    """Whether an approval written with status AFTER, having been BEFORE (None: not written yet), is
    closed by this write: it leaves an open status for an outcome (approved, rejected, revoked...), or
    is written with one (auto, carried). `greenlight_approval_outcomes_total` counts these."""
    return after not in OPEN and (before is None or before in OPEN)


def holders(approval: Approval) -> list[str]:
    """Who holds a place in a requested approval (the assignment rows), in seat order."""
    found: list[str] = []
    if approval.status == "requested":
        for person in [s.holder for s in approval.seats if s.vote is None] + approval.escalated_to:
            if person not in found:
                found.append(person)
    return found


def time_ordered_id() -> str:
    """A UUID version 7 (RFC 9562) as 32 hex digits: the Unix time in milliseconds, then 74 random
    bits. Keys made of it are written at the end of the outbox's unique index, where a random
    UUID 4 lands on any page of it: on SQLite, a group of clicks then dirties (and writes to the
    log, and syncs) a few index pages instead of one per row, a cost that grew with the table."""
    rand = int.from_bytes(os.urandom(10))
    rest = 7 << 76 | (rand >> 68) << 64 | 0b10 << 62 | rand & _RAND_B  # version, rand_a, variant, rand_b
    return f"{millis_hex()}{rest:020x}"


def millis_hex() -> str:
    """The first 12 hex digits of a UUID version 7: the wall clock's Unix time in milliseconds (the
    bulk release builds the rest of its keys' ids in SQL)."""
    return f"{time.time_ns() // 1_000_000:012x}"


_RAND_B = (1 << 62) - 1


def message_key(topic: Topic, event: Event) -> str:
    """A new outbox row's key (the ERP's is the order's own, set where the order is read)."""
    if topic is Topic.CRM:
        # Keyed by quote, so that the CRM worker delivers one quote's events in order (crm-v1 §6).
        return crm_key(event.quote_id, time_ordered_id())
    return f"{topic}:{time_ordered_id()}"


def prepare(
    sub: Submission, read: Read, expected_revision: int, events: list[Event], unsent: frozenset[Topic] = frozenset()
) -> Write | None:
    """The change as rows, or None when it needs the general path (an approval the row does not
    have yet, a message that needs another row read such as the ERP's order). No outbox row is
    written for the UNSENT topics (`DbStore.unsent`)."""
    if any(topic is Topic.ERP for event in events for topic in topics(event.kind)):
        return None
    state = codec.dump(sub)
    changes: list[ApprovalChange] = []
    for approval, dumped in zip(sub.approvals, state["approvals"], strict=True):
        old = read.approvals.get(approval.rule)
        if old is None:
            return None
        if old == dumped:
            continue
        changes.append(
            ApprovalChange(
                approval.rule,
                approval.chain,
                approval.step,
                approval.status,
                approval.requested_at,
                approval.decided_at,
                approval.acted_by,
                old.get("status") == "requested",
                tuple(holders(approval)),
            )
        )
    audit = [
        (
            e.at,
            e.kind.value,
            e.quote_id,
            e.quote_version,
            e.submission,
            e.rule,
            e.actor,
            e.on_behalf_of,
            e.comment,
            _json(list(e.people)),
            _json(e.detail),
        )
        for e in events
    ]
    outbox: list[tuple[str, str, str, dt.datetime]] = []
    for event in events:
        payload = None
        for topic in topics(event.kind):
            if topic in unsent:
                continue
            payload = payload or _json(to_json(event))
            outbox.append((topic.value, message_key(topic, event), payload, event.at))
    return Write(
        read.id,
        expected_revision,
        sub.status,
        sub.revision,
        sub.decided_at,
        sub.due_at,
        amounts.dumps(state),
        state,
        changes,
        audit,
        outbox,
        tuple(c.status for c in changes if closes(read.approvals[c.rule].get("status"), c.status)),
    )


# ---------------------------------------------------------------- SQLite


SQLITE_CLAIM = (
    'INSERT INTO "request_key" ("key", "answer", "created_at") VALUES (?, ?, ?) ON CONFLICT ("key") DO NOTHING '
    'RETURNING "key"'
)
SQLITE_LATEST = (
    'SELECT s."id", s."revision", s."state", k."snapshot" FROM "submission" s '
    'LEFT JOIN "submission_snapshot" k ON k."submission_id" = s."id" '
    'WHERE s."quote_id" = ? ORDER BY s."number" DESC LIMIT 1'
)
SQLITE_VERSION = 'SELECT "version" FROM "directory_version" WHERE "id" = 1'


def sqlite_read(
    key: str | None, answer: dict[str, Any], now: dt.datetime, quote_id: str
) -> Callable[[sqlite3.Connection], tuple[bool, Any, Any]]:
    def read(db: sqlite3.Connection) -> tuple[bool, Any, Any]:
        if key is not None and not db.execute(SQLITE_CLAIM, (key, _json(answer), instant(now))).fetchall():
            return False, None, None
        row = db.execute(SQLITE_LATEST, (quote_id,)).fetchone()
        version = db.execute(SQLITE_VERSION).fetchone()
        return True, row, version

    return read


SQLITE_SUBMISSION = (
    'UPDATE "submission" SET "status" = ?, "revision" = ?, "decided_at" = ?, "due_at" = ?, "state" = ? '
    'WHERE "id" = ? AND "revision" = ?'
)
SQLITE_APPROVAL = (
    'UPDATE "approval" SET "chain" = ?, "step" = ?, "status" = ?, "requested_at" = ?, "decided_at" = ?, '
    '"acted_by" = ? WHERE "submission_id" = ? AND "rule" = ? RETURNING "id"'
)
SQLITE_FORGET = 'DELETE FROM "assignment" WHERE "approval_id" = ?'
SQLITE_ASSIGN = 'INSERT INTO "assignment" ("approval_id", "person") VALUES (?, ?)'
SQLITE_AUDIT = (
    'INSERT INTO "audit" ("at", "kind", "quote_id", "quote_version", "submission", "rule", "actor", '
    '"on_behalf_of", "comment", "people", "detail") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'
)
SQLITE_OUTBOX = (
    'INSERT INTO "outbox" ("topic", "key", "payload", "status", "attempts", "next_attempt_at", "created_at") '
    "VALUES (?, ?, ?, 'pending', 0, ?, ?)"
)


def sqlite_write(w: Write) -> Callable[[sqlite3.Connection], bool]:
    def write(db: sqlite3.Connection) -> bool:
        changed = db.execute(
            SQLITE_SUBMISSION,
            (
                w.status,
                w.revision,
                instant(w.decided_at),
                instant(w.due_at),
                w.state,
                w.submission_id,
                w.expected_revision,
            ),
        ).rowcount
        if changed != 1:
            return False
        for a in w.approvals:
            found = db.execute(
                SQLITE_APPROVAL,
                (
                    a.chain,
                    a.step,
                    a.status,
                    instant(a.requested_at),
                    instant(a.decided_at),
                    a.acted_by,
                    w.submission_id,
                    a.rule,
                ),
            ).fetchone()
            if found is None:
                raise sqlite3.IntegrityError(f"submission {w.submission_id} has no approval row for {a.rule!r}")
            if a.clear:
                db.execute(SQLITE_FORGET, (found[0],))
            if a.holders:
                db.executemany(SQLITE_ASSIGN, [(found[0], person) for person in a.holders])
        if w.audit:
            db.executemany(SQLITE_AUDIT, [(instant(row[0]), *row[1:]) for row in w.audit])
        if w.outbox:
            db.executemany(SQLITE_OUTBOX, [(t, k, p, instant(at), instant(at)) for t, k, p, at in w.outbox])
        return True

    return write


# ---------------------------------------------------------------- PostgreSQL

POSTGRES_READ = """
SELECT EXISTS (SELECT 1 FROM request_key WHERE key = $1::text) AS taken,
       (SELECT version FROM directory_version WHERE id = 1) AS version,
       s.id, s.revision, s.state::text AS state, s.snapshot::text AS snapshot
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT s.id, s.revision, s.state, k.snapshot FROM submission s
    LEFT JOIN submission_snapshot k ON k.submission_id = s.id
    WHERE s.quote_id = $2 ORDER BY s.number DESC LIMIT 1
) AS s ON true
"""

POSTGRES_WRITE = """
WITH s AS (
    UPDATE submission SET status = $1, revision = $2, decided_at = $3, due_at = $4, state = $5::text::jsonb
    WHERE id = $6 AND revision = $7 RETURNING id
), changed AS (
    SELECT a.id, v.* FROM s JOIN approval a ON a.submission_id = s.id
    JOIN unnest($8::text[], $9::text[], $10::int[], $11::text[], $12::timestamptz[], $13::timestamptz[],
                $14::text[], $15::bool[])
         AS v(rule, chain, step, status, requested_at, decided_at, acted_by, clear) ON a.rule = v.rule
), approvals AS (
    UPDATE approval a SET chain = c.chain, step = c.step, status = c.status, requested_at = c.requested_at,
                          decided_at = c.decided_at, acted_by = c.acted_by
    FROM changed c WHERE a.id = c.id
), forgotten AS (
    DELETE FROM assignment WHERE approval_id IN (SELECT id FROM changed WHERE clear)
), assigned AS (
    INSERT INTO assignment (approval_id, person)
    SELECT c.id, h.person FROM changed c JOIN unnest($16::text[], $17::text[]) WITH ORDINALITY AS h(rule, person, n)
    ON c.rule = h.rule ORDER BY h.n
), audited AS (
    INSERT INTO audit (at, kind, quote_id, quote_version, submission, rule, actor, on_behalf_of, comment,
                       people, detail)
    SELECT e.at, e.kind, e.quote_id, e.quote_version, e.submission, e.rule, e.actor, e.on_behalf_of, e.comment,
           e.people::jsonb, e.detail::jsonb
    FROM s, unnest($18::timestamptz[], $19::text[], $20::text[], $21::bigint[], $22::int[], $23::text[], $24::text[],
                   $25::text[], $26::text[], $27::text[], $28::text[])
         WITH ORDINALITY AS e(at, kind, quote_id, quote_version, submission, rule, actor, on_behalf_of, comment,
                              people, detail, n)
    ORDER BY e.n
), queued AS (
    INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at)
    SELECT m.topic, m.key, m.payload::jsonb, 'pending', 0, m.at, m.at
    FROM s, unnest($29::text[], $30::text[], $31::text[], $32::timestamptz[])
         WITH ORDINALITY AS m(topic, key, payload, at, n)
    ORDER BY m.n
), claimed AS (
    INSERT INTO request_key (key, answer, created_at)
    SELECT $33::text, $34::text::jsonb, $35::timestamptz FROM s WHERE $33::text IS NOT NULL
)
SELECT COUNT(*) AS saved FROM s
"""


def postgres_write_values(w: Write, claim: tuple[str, dict[str, Any], dt.datetime] | None = None) -> list[Any]:
    """The parameters of `POSTGRES_WRITE`; CLAIM is the request's key (key, answer, now), claimed by the
    write when its compare-and-set holds (a key taken meanwhile fails the whole statement)."""
    a = w.approvals
    held = [(c.rule, person) for c in a for person in c.holders]
    columns = list(zip(*w.audit, strict=True)) if w.audit else [()] * 11
    messages = list(zip(*w.outbox, strict=True)) if w.outbox else [()] * 4
    return [
        w.status,
        w.revision,
        w.decided_at,
        w.due_at,
        w.state,
        w.submission_id,
        w.expected_revision,
        [c.rule for c in a],
        [c.chain for c in a],
        [c.step for c in a],
        [c.status for c in a],
        [c.requested_at for c in a],
        [c.decided_at for c in a],
        [c.acted_by for c in a],
        [c.clear for c in a],
        [rule for rule, _ in held],
        [person for _, person in held],
        *(list(column) for column in columns),
        *(list(column) for column in messages),
        *((claim[0], _json(claim[1]), claim[2]) if claim else (None, None, None)),
    ]
