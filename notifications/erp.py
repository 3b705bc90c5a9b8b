"""ERP webhooks (orders-v1 §4): signed, idempotent POSTs, classified for retry or dead letter."""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

RETRYABLE = {408, 425, 429}
GIVE_UP_AFTER = dt.timedelta(hours=24)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: int = 300) -> bool:
    """What an ERP does with the header: check the HMAC and that the timestamp is fresh."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


@dataclass(frozen=True)
class Outcome:
    """`delivered` (with the ERP's reference), `retry` (at `retry_after` seconds if given) or `failed`."""

    kind: str
    status: int | None = None
    reference: str | None = None
    retry_after: float | None = None
    detail: str = ""


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header: a number of seconds, or an HTTP date (RFC 9110)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


async def post(
    session: aiohttp.ClientSession,
    url: str,
    secret: str,
    key: str,
    payload: dict[str, Any],
    now: dt.datetime,
    timeout: float = 10.0,
) -> Outcome:
    """Send one order event; the exact bytes sent are signed, with a fresh timestamp each attempt."""
    body = body_of(payload)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        "Greenlight-Signature": signature(secret, int(now.timestamp()), body),
    }
    try:
        async with session.post(url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            text = await r.text()
            if 200 <= r.status < 300:
                reference = None
                try:
                    answer = json.loads(text) if text else {}
                    reference = answer.get("erp_reference") if isinstance(answer, dict) else None
                except ValueError:
                    pass
                return Outcome("delivered", r.status, str(reference) if reference is not None else None)
            if r.status in RETRYABLE or r.status >= 500:
                seconds = retry_after(r.headers.get("Retry-After"), now)
                return Outcome("retry", r.status, retry_after=seconds, detail=f"ERP answered {r.status}")
            return Outcome("failed", r.status, detail=f"ERP refused with {r.status}: {text[:300]}")
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return Outcome("retry", None, detail=f"ERP unreachable: {error.__class__.__name__}")
