"""The CRM's outbox rows (topic `crm`), read and put back in line by quote (crm-v1 §6).

Each row's key is `crm:<quote id>:<event id>`, so one quote's rows are found by key. The CRM
worker sends a row only when every earlier row of its quote has been sent (`waiting_behind`): a
later event never reaches the CRM before an earlier one, whatever the receiver does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from .models import CrmWatermarkRow, OutboxRow
from .outbox import not_sent

TOPIC = "crm"


def crm_key(quote_id: str, event_id: str) -> str:
    return f"{TOPIC}:{quote_id}:{event_id}"


def event_id(key: str) -> str:
    """The event id a CRM row's key ends with (the webhook's `id` and `Idempotency-Key`)."""
    return key.rsplit(":", 1)[-1]


async def _of_quote_not_sent(quote_id: str, before: int | None = None) -> list[dict[str, Any]]:
    """The quote's CRM rows not sent yet (with an id under BEFORE), oldest first, read among the
    rows still in play only (`outbox.not_sent`)."""
    prefix = crm_key(quote_id, "")
    rows = await not_sent(TOPIC, prefix, before)
    # A quote id may hold colons: `crm:A:` is also the start of quote `A:B`'s keys, whose tail has one more colon.
    return [row for row in rows if ":" not in row["key"][len(prefix) :]]


@dataclass(frozen=True)
class Earlier:
    """The first row of the same quote not yet sent, that a row must wait behind."""

    id: int
    status: str
    next_attempt_at: dt.datetime


async def waiting_behind(quote_id: str, row_id: int, delivered: Collection[int] = ()) -> Earlier | None:
    """The quote's earliest CRM row before `row_id` not sent yet; rows in `delivered` count as sent
    (their worker delivered them and marks them with its batch)."""
    for row in await _of_quote_not_sent(quote_id, before=row_id):
        if int(row["id"]) not in delivered:
            return Earlier(int(row["id"]), str(row["status"]), row["next_attempt_at"])
    return None


async def requeue_quote(quote_id: str, now: dt.datetime) -> int:
    """Put the quote's dead CRM rows back in line, and the rows waiting behind them, due now. Returns
    how many were dead."""
    mine = await _of_quote_not_sent(quote_id)
    dead = [int(row["id"]) for row in mine if row["status"] == "dead"]
    if not dead:
        return 0
    await OutboxRow.filter(id__in=dead, status="dead").update(
        status="pending", attempts=0, next_attempt_at=now, lease_until=None, created_at=now
    )
    waiting = [int(row["id"]) for row in mine if row["status"] == "pending"]
    if waiting:
        await OutboxRow.filter(id__in=waiting, status="pending").update(next_attempt_at=now, created_at=now)
    return len(dead)


@dataclass(frozen=True)
class Sent:
    """A CRM webhook as the outbox holds it (the sandbox's CRM tab lists these)."""

    id: int
    key: str
    kind: str
    quote_id: str
    status: str
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None


async def recent(limit: int = 100) -> list[Sent]:
    rows = await OutboxRow.filter(topic=TOPIC).order_by("-id").limit(limit)
    return [
        Sent(
            row.id,
            row.key,
            str(row.payload.get("kind", "")),
            str(row.payload.get("quote_id", "")),
            row.status,
            row.attempts,
            row.created_at,
            row.sent_at,
            row.last_error,
        )
        for row in rows
    ]


async def watermark(name: str) -> str | None:
    """Where connector `name` has read up to (its CRM's own modification stamp), or None at first."""
    row = await CrmWatermarkRow.filter(name=name).first()
    return row.value if row else None


async def set_watermark(name: str, value: str, now: dt.datetime) -> None:
    updated = await CrmWatermarkRow.filter(name=name).update(value=value, updated_at=now)
    if not updated:
        try:
            async with in_transaction():  # a savepoint: a concurrent first write must not spoil the caller's
                await CrmWatermarkRow.create(name=name, value=value, updated_at=now)
        except IntegrityError:
            await CrmWatermarkRow.filter(name=name).update(value=value, updated_at=now)
