"""Slack-style request signatures: `v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">`.

Used for Slack's own requests, the CRM quote API (slack-v1 §2) and the ERP webhooks. The
timestamp (Unix seconds) bounds replays: a request further than `tolerance` seconds from the
receiver's clock, in either direction, is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re

VERSION = "v0"
TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")

Moment = dt.datetime | float | int


def sign(secret: str | bytes, timestamp: int | str, body: bytes | str) -> str:
    """The signature header value for BODY sent at TIMESTAMP (Unix seconds)."""
    key = secret.encode() if isinstance(secret, str) else secret
    payload = body.encode() if isinstance(body, str) else body
    base = f"{VERSION}:{timestamp}:".encode() + payload
    return f"{VERSION}=" + hmac.new(key, base, hashlib.sha256).hexdigest()


def timestamp_problem(timestamp_header: str | None, now: Moment, tolerance: float = TOLERANCE_SECONDS) -> str | None:
    """Why a request timestamp is unacceptable (a sentence), or None when it is fresh."""
    if not timestamp_header:
        return "the request has no timestamp"
    if not _TIMESTAMP.fullmatch(timestamp_header):
        return "the request timestamp is not a whole number of seconds since 1970"
    skew = int(timestamp_header) - _seconds(now)
    if skew < -tolerance:
        return f"the request timestamp is more than {_minutes(tolerance)} old"
    if skew > tolerance:
        return f"the request timestamp is more than {_minutes(tolerance)} in the future"
    return None


def verify(
    secret: str | bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes | str,
    now: Moment,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """True when the signature is BODY's, made with SECRET, at a timestamp within TOLERANCE of NOW."""
    if timestamp_problem(timestamp_header, now, tolerance) is not None:
        return False
    if not signature_header or not signature_header.isascii():
        return False
    expected = sign(secret, str(timestamp_header), body)
    return hmac.compare_digest(expected.encode(), signature_header.encode())


def _seconds(now: Moment) -> float:
    if isinstance(now, dt.datetime):
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.timestamp()
    return float(now)


def _minutes(seconds: float) -> str:
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"
