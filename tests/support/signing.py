"""Quotes signed as the CRM signs them for POST /api/quotes: Slack's scheme (slack-v1 §2).

The signature is the Slack stand-in's (`sandbox.driver.slack_signature`), not `greenlight.signing`:
the product's check is tested against a signer written apart from it.
"""

from __future__ import annotations

import time

from sandbox.driver import slack_signature

TIMESTAMP_HEADER = "X-Greenlight-Request-Timestamp"
SIGNATURE_HEADER = "X-Greenlight-Signature"


def crm_headers(secret: str, body: bytes, timestamp: int | str | None = None) -> dict[str, str]:
    """The headers of a quote the CRM sends at `timestamp` (Unix seconds; now when None)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: slack_signature(secret, stamp, body),
    }
