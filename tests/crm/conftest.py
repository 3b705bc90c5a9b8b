"""The CRM's side of Greenlight, black-box: the real runtime served on loopback, a CRM client that
sends bearer keys or HMAC signatures, and a CRM receiver that checks webhook signatures itself.

Greenlight is built as `greenlight serve` builds it (`greenlight.app.build`), on the run's database
backend, with the Slack stand-in and a clock that moves only when a test moves it
(`tests.faults.conftest`).
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from sandbox.crm_receiver import CrmReceiver
from store.models import AuditRow, OutboxRow, QuoteRow, SubmissionRow
from tests.faults.conftest import Greenlight, slack_stand_in
from tests.faults.conftest import clock as clock
from tests.faults.conftest import greenlight as greenlight
from tests.faults.kit import REP, policy_text, quote_data
from tests.support.clock import Clock
from tests.support.crm import crm_headers

CRM_KEY = "crm-key-salesforce-0123456789abcdef0123"
SCRIPT_KEY = "crm-key-script-abcdef0123456789abcdef01"
HOOK_SECRET = "crm-webhook-secret-0123456789abcdef"
APPROVERS = ["a01", "a02"]
REP_CRM_ID = "005RITA0000001"


def crm_policy(approvers: list[str] = APPROVERS, generate: str = "button") -> str:
    """The fault suite's policy, the rep with a CRM user id, and two people sharing one email."""
    text = policy_text(approvers, generate=generate)
    text = text.replace("email: rep@example.com}", f"email: rep@example.com, crm_id: {REP_CRM_ID}}}", 1)
    twins = "  twin1: {email: twins@example.com}\n  twin2: {email: twins@example.com}\n"
    return text.replace("approvers:\n", twins + "approvers:\n", 1)


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class CrmClient:
    """A CRM calling Greenlight's API: with a bearer key, or signing with the shared secret."""

    url: str
    session: aiohttp.ClientSession
    clock: Clock

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        key: str | None = CRM_KEY,
        hmac_secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        sent: dict[str, str] = {"Content-Type": "application/json"}
        if hmac_secret is not None:
            sent = crm_headers(hmac_secret, raw, int(self.clock().timestamp()))
        elif key is not None:
            sent["Authorization"] = f"Bearer {key}"
        sent.update(headers or {})
        async with self.session.request(method, self.url + path, data=io.BytesIO(raw), headers=sent) as response:
            text = await response.text()
            return Answer(response.status, json.loads(text) if text else None)

    async def send(self, quote: dict[str, Any], **options: Any) -> Answer:
        return await self.call("POST", "/api/quotes", quote, **options)

    async def status(self, quote_id: str, **options: Any) -> Answer:
        return await self.call("GET", f"/api/quotes/{quote_id}", **options)

    async def submit(self, quote_id: str, version: Any = 1, **options: Any) -> Answer:
        body = options.pop("body", {"version": version})
        return await self.call("POST", f"/api/quotes/{quote_id}/submit", body, **options)

    async def recall(self, quote_id: str, body: Any = None, **options: Any) -> Answer:
        return await self.call("POST", f"/api/quotes/{quote_id}/recall", body or {}, **options)

    async def preview(self, quote: Any, **options: Any) -> Answer:
        return await self.call("POST", "/api/preview", quote, **options)


@dataclass
class Crm:
    gl: Greenlight
    client: CrmClient
    receiver: CrmReceiver

    async def deliver(self) -> None:
        """Run the CRM worker (and Slack's, for the decisions) on what is due now."""
        await self.gl.settle("slack", "crm")

    async def later(self, **delta: float) -> None:
        self.gl.clock.advance(**delta)
        await self.deliver()


Open = Callable[..., AbstractAsyncContextManager[Crm]]


@pytest.fixture
def crm(greenlight: Any, clock: Clock) -> Open:
    """`async with crm() as c:` Greenlight with bearer keys, HMAC and CRM webhooks to a receiver."""

    @asynccontextmanager
    async def start(policy: str | None = None, **environment: str) -> AsyncIterator[Crm]:
        receiver = CrmReceiver(secret=HOOK_SECRET, clock=clock.timestamp)
        async with receiver, slack_stand_in(APPROVERS) as slack, aiohttp.ClientSession() as session:
            settings = {
                "GREENLIGHT_API_KEYS": f"salesforce={CRM_KEY},script={SCRIPT_KEY}",
                "GREENLIGHT_CRM_WEBHOOK_URL": receiver.url,
                "GREENLIGHT_CRM_WEBHOOK_SECRET": HOOK_SECRET,
                **environment,
            }
            async with greenlight(policy or crm_policy(), slack, **settings) as gl:
                yield Crm(gl, CrmClient(gl.url, session, clock), receiver)

    return start


async def changes() -> tuple[int, int, int, int]:
    """What a refused request must leave alone: quotes, submissions, audit rows, outbox rows."""
    return (
        await QuoteRow.all().count(),
        await SubmissionRow.all().count(),
        await AuditRow.all().count(),
        await OutboxRow.all().count(),
    )


def quote(quote_id: str = "Q-C01", version: int = 1, **changes: Any) -> dict[str, Any]:
    data = quote_data(quote_id)
    data.update({"version": version, "owner": REP, **changes})
    return data
