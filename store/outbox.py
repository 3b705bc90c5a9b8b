"""Claiming outbox rows on a lease, exactly as reliability.md describes.

Rows are written by the service in the same transaction as the change that causes them. A worker
claims a batch with one atomic `UPDATE ... RETURNING` (with `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several processes never claim the same row), sends outside any transaction, then
marks each row sent, retried later or dead, but only while it still holds the lease.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from tortoise import Tortoise

from . import light
from .sqlite import instant

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"


@dataclass(frozen=True)
class Claimed:
    id: int
    topic: str
    key: str
    payload: dict[str, Any]
    attempts: int
    created_at: dt.datetime
    # The worker whose lease on this row ran out before it finished (a reclaim), if any.
    reclaimed_from: str | None = None


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value))


class Outbox:
    def __init__(self, connection_name: str = "default") -> None:
        self.connection_name = connection_name

    @property
    def db(self) -> Any:
        return Tortoise.get_connection(self.connection_name)

    def _sql(self, text: str) -> str:
        return in_dialect(self.db, text)

    def _value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and self.db.capabilities.dialect != "postgres":
            return instant(value)
        return value

    async def _run(self, sql: str, *values: Any, bookkeeping: bool = False) -> list[dict[str, Any]]:
        """BOOKKEEPING: a claim, a lease, a mark; on SQLite committed without an fsync of its own
        (`store.light`: a power cut can only make a row be delivered again). New rows keep theirs."""
        params = [self._value(v) for v in values]
        if bookkeeping and (light_db := light.available(self.connection_name)) is not None:
            return await light.write(light_db, self._sql(sql), params)
        # execute_query_dict: tortoise's execute_query drops RETURNING rows of an UPDATE on PostgreSQL
        rows = await self.db.execute_query_dict(self._sql(sql), params)
        return [dict(row) for row in rows]

    async def claim(
        self, topic: str, now: dt.datetime, owner: str, lease: dt.timedelta, limit: int = 50
    ) -> list[Claimed]:
        """Lease up to `limit` due rows of `topic`: pending ones, and those whose lease ran out (a
        reclaim: `Claimed.reclaimed_from` names the worker that held it)."""
        due = (
            "topic = $3 AND status IN ('pending', 'sending') AND next_attempt_at <= $4 "
            "AND (lease_until IS NULL OR lease_until < $4)"
        )
        values = (now + lease, owner, topic, now, limit)
        if self.db.capabilities.dialect == "postgres":
            rows = await self._run(
                f"WITH picked AS (SELECT id, status AS was, lease_owner AS was_owner FROM outbox WHERE {due} "
                "ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED) "
                "UPDATE outbox SET status = 'sending', lease_until = $1, lease_owner = $2, attempts = attempts + 1 "
                "FROM picked WHERE outbox.id = picked.id "
                "RETURNING outbox.id, outbox.topic, outbox.key, outbox.payload, outbox.attempts, outbox.created_at, "
                "picked.was, picked.was_owner",
                *values,
            )
        else:
            # One process on SQLite: what is about to be taken over is read just before, in the same turn.
            expired = await self._run(
                # (the IN names the open rows' index, idx_outbox_open: only its rows are read)
                "SELECT id, lease_owner FROM outbox WHERE topic = $1 AND status IN ('pending', 'sending') "
                "AND status = 'sending' AND next_attempt_at <= $2 AND lease_until < $2",
                topic,
                now,
            )
            owners = {row["id"]: row["lease_owner"] for row in expired}
            rows = await self._run(
                "UPDATE outbox SET status = 'sending', lease_until = $1, lease_owner = $2, attempts = attempts + 1 "
                f"WHERE id IN (SELECT id FROM outbox WHERE {due} ORDER BY id LIMIT $5) "
                "RETURNING id, topic, key, payload, attempts, created_at",
                *values,
                bookkeeping=True,
            )
            for row in rows:
                row["was"] = "sending" if row["id"] in owners else "pending"
                row["was_owner"] = owners.get(row["id"])
        out = []
        for row in sorted(rows, key=lambda r: r["id"]):
            payload = row["payload"]
            if isinstance(payload, str | bytes):
                payload = json.loads(payload)
            reclaimed = (row["was_owner"] or "?") if row["was"] == "sending" else None
            out.append(
                Claimed(
                    row["id"],
                    row["topic"],
                    row["key"],
                    payload,
                    row["attempts"],
                    _moment(row["created_at"]),
                    reclaimed,
                )
            )
        return out

    async def extend(self, row_ids: list[int], owner: str, until: dt.datetime) -> int:
        """Keep the lease on rows this worker still holds until `until`; returns how many it still held."""
        if not row_ids:
            return 0
        rows = await self._run(
            "UPDATE outbox SET lease_until = $1 WHERE id IN (SELECT value FROM json_each($2)) "
            "AND lease_owner = $3 AND status = 'sending' RETURNING id"
            if self.db.capabilities.dialect != "postgres"
            else "UPDATE outbox SET lease_until = $1 WHERE id = ANY($2::bigint[]) "
            "AND lease_owner = $3 AND status = 'sending' RETURNING id",
            until,
            json.dumps(row_ids) if self.db.capabilities.dialect != "postgres" else row_ids,
            owner,
            bookkeeping=True,
        )
        return len(rows)

    async def done(self, row_id: int, owner: str, now: dt.datetime) -> bool:
        rows = await self._run(
            "UPDATE outbox SET status = 'sent', sent_at = $1, lease_until = NULL "
            "WHERE id = $2 AND lease_owner = $3 AND status = 'sending' RETURNING id",
            now,
            row_id,
            owner,
            bookkeeping=True,
        )
        return bool(rows)

    async def done_many(self, row_ids: list[int], owner: str, now: dt.datetime) -> int:
        """Mark a batch of rows sent in one statement (one write for the batch, so delivery does not
        queue once per row behind other transactions); returns how many this worker still held."""
        if not row_ids:
            return 0
        postgres = self.db.capabilities.dialect == "postgres"
        rows = await self._run(
            "UPDATE outbox SET status = 'sent', sent_at = $1, lease_until = NULL "
            + ("WHERE id = ANY($2::bigint[]) " if postgres else "WHERE id IN (SELECT value FROM json_each($2)) ")
            + "AND lease_owner = $3 AND status = 'sending' RETURNING id",
            now,
            row_ids if postgres else json.dumps(row_ids),
            owner,
            bookkeeping=True,
        )
        return len(rows)

    async def retry(self, row_id: int, owner: str, at: dt.datetime, error: str) -> bool:
        rows = await self._run(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $1, lease_until = NULL, last_error = $2 "
            "WHERE id = $3 AND lease_owner = $4 AND status = 'sending' RETURNING id",
            at,
            error[:2000],
            row_id,
            owner,
            bookkeeping=True,
        )
        return bool(rows)

    async def dead(self, row_id: int, owner: str, error: str) -> bool:
        rows = await self._run(
            "UPDATE outbox SET status = 'dead', lease_until = NULL, last_error = $1 "
            "WHERE id = $2 AND lease_owner = $3 AND status = 'sending' RETURNING id",
            error[:2000],
            row_id,
            owner,
            bookkeeping=True,
        )
        return bool(rows)

    async def add(self, topic: str, key: str, payload: dict[str, Any], now: dt.datetime) -> bool:
        """Queue a row unless one with the same key exists (then nothing happens)."""
        rows = await self._run(
            "INSERT INTO outbox (topic, key, payload, status, attempts, next_attempt_at, created_at) "
            "VALUES ($1, $2, $3, 'pending', 0, $4, $4) ON CONFLICT (key) DO NOTHING RETURNING id",
            topic,
            key,
            json.dumps(payload, separators=(",", ":"), default=str),
            now,
        )
        return bool(rows)

    async def requeue(self, row_id: int, now: dt.datetime) -> bool:
        """Put a dead row back in line (the admins' Retry button)."""
        rows = await self._run(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, lease_until = NULL "
            "WHERE id = $2 AND status = 'dead' RETURNING id",
            now,
            row_id,
        )
        return bool(rows)

    async def counts(self) -> dict[tuple[str, str], int]:
        rows = await self._run("SELECT topic, status, COUNT(*) AS n FROM outbox GROUP BY topic, status")
        return {(r["topic"], r["status"]): r["n"] for r in rows}


def in_dialect(db: Any, text: str) -> str:
    """TEXT, written with PostgreSQL's $1 placeholders, for DB: SQLite reads the same numbers as ?1."""
    return text if db.capabilities.dialect == "postgres" else re.sub(r"\$(\d+)", r"?\1", text)


async def not_sent(topic: str, key_prefix: str, before: int | None = None, *, db: Any = None) -> list[dict[str, Any]]:
    """The rows of TOPIC whose key starts with KEY_PREFIX (and whose id is under BEFORE) not sent
    yet, oldest first: id, key, status, next_attempt_at. Through DB (a transaction's connection;
    tortoise's default connection when None).

    Read through the two partial indexes that hold only such rows, by topic and id, so that
    the rows ever sent are not read, however many: the waiting ones (`idx_outbox_open`,
    migration 0013), those that failed or died (`idx_outbox_dead`, 0017). Each statement
    repeats its index's condition with the values in the text: SQLite uses a partial index only
    for the condition it was made with (not for `status IN (?, ?)`). The key is compared by its
    first characters: `LIKE` would need escaping, and a key's prefix is no use to an index
    anyway (on SQLite, nor on PostgreSQL under a collation other than C)."""
    db = db if db is not None else Tortoise.get_connection("default")
    found: list[dict[str, Any]] = []
    for statuses in ("'pending', 'sending'", "'failed', 'dead'"):
        statement = (
            f"SELECT id, key, status, next_attempt_at FROM outbox WHERE topic = $1 AND status IN ({statuses}) "
            "AND substr(key, 1, $2) = $3" + (" AND id < $4" if before is not None else "")
        )
        values = [topic, len(key_prefix), key_prefix, *([before] if before is not None else [])]
        found += [dict(row) for row in await db.execute_query_dict(in_dialect(db, statement), values)]
    for row in found:
        row["next_attempt_at"] = _moment(row["next_attempt_at"])
    return sorted(found, key=lambda row: int(row["id"]))
