"""The CRM side of the quote API: quotes sent to POST /api/quotes, signed as the CRM signs them.

The signature is Slack's scheme (slack-v1 §2), computed by the Slack stand-in's signer
(`sandbox.driver.slack_signature`), not by `greenlight.signing`: the product's check is tested
against a signer written apart from it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

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


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    content_type: str


@dataclass
class Crm:
    """The CRM sending quotes to the server at `url`, signed with `secret` at the time `clock()` says."""

    url: str
    session: aiohttp.ClientSession
    secret: str
    clock: Callable[[], dt.datetime]

    def now(self) -> int:
        return int(self.clock().timestamp())

    async def post(
        self,
        body: bytes | dict[str, Any],
        *,
        secret: str | None = None,
        timestamp: int | str | None = None,
        signature: str | None = None,
        omit: tuple[str, ...] = (),
    ) -> Reply:
        """POST a body signed the way the CRM signs it (or not, as the arguments say)."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        headers = crm_headers(secret or self.secret, raw, self.now() if timestamp is None else timestamp)
        if signature is not None:
            headers[SIGNATURE_HEADER] = signature
        for name in omit:
            headers.pop(name)
        async with self.session.post(self.url + "/api/quotes", data=io.BytesIO(raw), headers=headers) as response:
            return Reply(response.status, await response.json(), response.content_type)

    async def post_chunked(self, size: int) -> Reply:
        """A body of `size` spaces sent in chunks, without a Content-Length (signed as an empty body)."""

        async def chunks() -> AsyncIterator[bytes]:
            left = size
            while left > 0:
                yield b" " * min(left, 65536)
                left -= 65536

        headers = crm_headers(self.secret, b"", self.now())
        del headers["Content-Type"]
        async with self.session.post(self.url + "/api/quotes", data=chunks(), headers=headers) as response:
            return Reply(response.status, await response.json(), response.content_type)
