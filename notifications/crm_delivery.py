"""The CRM worker: outbox rows of topic `crm` become signed webhooks (crm-v1 §6).

Each row is one event of one quote. The body is `{"id", "type", "created_at", "quote"}` where
`quote` is the status document as the quote stands when the webhook is sent; the headers are the
ERP's (`Idempotency-Key: <event id>`, `Greenlight-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
"<t>.<body>">`), re-signed on every attempt. A row waits while an earlier row of the same quote is
unsent, so the CRM hears one quote's events in the order they happened, however often it fails.
Retries and the 24 h give-up are the ERP's; a row given up is a dead letter, and the admins get
an alert with a Retry button that puts the quote's dead rows back in line.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from domain.crm import CRM_EVENTS, CrmDesk, webhook_body
from domain.events import Event, Kind, from_json, plain
from store import crm as rows
from store.outbox import Claimed

from . import erp
from .worker import Permanent, Retry, backoff

WAIT_BEHIND_DEAD = dt.timedelta(minutes=5)
WAIT_BEHIND_BUSY = dt.timedelta(seconds=2)


@dataclass(frozen=True)
class Attempt:
    """One POST to the CRM: `delivered`, `retry` (after `retry_after` seconds if given) or `failed`."""

    kind: str
    status: int | None = None
    retry_after: float | None = None
    detail: str = ""


async def post(
    session: aiohttp.ClientSession, url: str, secret: str, key: str, body: bytes, now: dt.datetime, timeout: float = 10
) -> Attempt:
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        "Greenlight-Signature": erp.signature(secret, int(now.timestamp()), body),
    }
    try:
        async with session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            text = await r.text()
            if 200 <= r.status < 300:
                return Attempt("delivered", r.status)
            if r.status in erp.RETRYABLE or r.status >= 500:
                after = r.headers.get("Retry-After")
                seconds = float(after) if after and after.strip().isdigit() else None
                return Attempt("retry", r.status, seconds, f"CRM answered {r.status}")
            return Attempt("failed", r.status, detail=f"CRM refused with {r.status}: {text[:300]}")
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return Attempt("retry", detail=f"CRM unreachable: {error.__class__.__name__}")


def encode(body: dict[str, object]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


WriteBack = Callable[[Event, dict[str, Any]], Awaitable[None]]


@dataclass
class CrmDelivery:
    """The webhook to `url` (None: no webhook) and, with `write_back`, the CRM record updated too
    (the Salesforce connector's), both in order per quote."""

    url: str | None
    secret: str
    desk: CrmDesk
    clock: Callable[[], dt.datetime]
    give_up_after: dt.timedelta = erp.GIVE_UP_AFTER
    write_back: WriteBack | None = None

    def __post_init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        # Rows this worker delivered: its batch marks them sent only at the batch's end, and the next
        # row of the same quote must not wait behind one that already reached the CRM.
        self._delivered: collections.deque[int] = collections.deque(maxlen=1024)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, row: Claimed) -> None:
        event = from_json(row.payload)
        now = self.clock()
        earlier = await rows.waiting_behind(event.quote_id, row.id, self._delivered)
        if earlier is not None:
            if earlier.status == "dead":
                raise Retry(now + WAIT_BEHIND_DEAD, f"waits behind outbox row {earlier.id}, a dead letter")
            at = earlier.next_attempt_at
            at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            raise Retry(max(at, now + WAIT_BEHIND_BUSY), f"waits behind outbox row {earlier.id} of the same quote")
        document = await self.desk.status(event.quote_id)
        if document is None:
            raise Permanent(f"quote {event.quote_id} is not stored")
        kind = CRM_EVENTS.get(event.kind, str(event.detail.get("type") or event.kind.value))
        if self.write_back is not None:
            try:
                await self.write_back(event, document)
            except Permanent as refused:
                await self.desk.failed(event.quote_id, f"{kind}: {refused}", row.id, self.clock())
                raise
        if self.url is None:
            self._delivered.append(row.id)
            return
        event_id = rows.event_id(row.key)
        contract = plain(event.detail) if event.kind is Kind.CONTRACT_RENEWAL_DUE else None
        body = encode(webhook_body(event_id, kind, event.at, document, contract))
        if self._session is None:
            # trust_env: the standard proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) apply, as for the ERP
            self._session = aiohttp.ClientSession(trust_env=True)
        attempt = await post(self._session, self.url, self.secret, event_id, body, now)
        if attempt.kind == "delivered":
            self._delivered.append(row.id)
            return
        if attempt.kind == "retry" and now - row.created_at < self.give_up_after:
            wait = dt.timedelta(seconds=attempt.retry_after) if attempt.retry_after else backoff(row.attempts)
            raise Retry(now + wait, attempt.detail)
        reason = attempt.detail if attempt.kind == "failed" else f"gave up after 24 h: {attempt.detail}"
        await self.desk.failed(event.quote_id, f"{kind} {event_id}: {reason}", row.id, self.clock())
        raise Permanent(reason)
