"""A quote intake served on loopback: the real aiohttp app, a real Approvals over MemoryStore."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from domain.memory import MemoryStore
from domain.policy import Policy, load_policy, read_policy
from greenlight import signing
from greenlight.api import Metrics

API_SECRET = "crm-shared-secret-0123456789abcdef"
EXAMPLE_POLICY = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

INLINE_POLICY = """
version: 1
timezone: UTC
admins: [dana]
fallback_approver: desk
people:
  ava: {slack: U0AVA, email: ava@example.com, manager: marco}
  marco: {slack: U0MARCO, email: marco@example.com}
  dana: {slack: U0DANA, email: dana@example.com}
approvers:
  desk: {user: dana}
  manager: {field: owner.manager}
rules:
  - name: manager-discount
    step: 1
    approver: manager
    conditions:
      - {field: discount_percent, op: gt, value: 10}
"""


def load_test_policy() -> Policy:
    if EXAMPLE_POLICY.exists():
        return read_policy(EXAMPLE_POLICY)
    return load_policy(INLINE_POLICY, "inline policy")


def quote(version: int = 1, **changes: Any) -> dict[str, Any]:
    """A quote owned by ava, discounted enough to need approval under either test policy."""
    data: dict[str, Any] = {
        "id": "Q-7001",
        "version": version,
        "owner": "ava",
        "currency": "USD",
        "account": {"id": "A-1", "name": "Acme GmbH", "timezone": "Europe/Berlin", "ship_to": "Berlin HQ"},
        "start_date": "2027-01-01",
        "term_months": 12,
        "payment_terms": "Net 30",
        "discount_percent": 30,
        "net_total": 7000,
        "list_total": 10000,
        "lines": [
            {
                "id": "L1",
                "sku": "HW-100",
                "family": "Hardware",
                "quantity": 10,
                "list_price": 1000,
                "net_price": 700,
                "discount_percent": 30,
                "net_total": 7000,
                "list_total": 10000,
                "recurring": False,
                "delivery_date": "2027-01-15",
                "ship_to": "Berlin HQ",
            }
        ],
    }
    data.update(changes)
    return data


class FakeClock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    @property
    def timestamp(self) -> int:
        return int(self.now.timestamp())


def snapshot(store: MemoryStore) -> tuple[Any, ...]:
    """Everything the store holds, to show that a refusal changed nothing."""
    return (
        {key: value.data for key, value in store.quotes.items()},
        copy.deepcopy(store.subs),
        len(store.events),
    )


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    content_type: str


@dataclass
class Intake:
    """A client of one running app."""

    url: str
    session: aiohttp.ClientSession
    clock: FakeClock
    metrics: Metrics
    store: MemoryStore
    headers_sent: list[dict[str, str]] = field(default_factory=list)

    async def post(
        self,
        body: bytes | dict[str, Any],
        *,
        secret: str = API_SECRET,
        timestamp: int | str | None = None,
        signature: str | None = None,
        omit: tuple[str, ...] = (),
    ) -> Reply:
        """POST a body signed the way the CRM signs it (or not, as the arguments say)."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        stamp = str(self.clock.timestamp if timestamp is None else timestamp)
        headers = {
            "Content-Type": "application/json",
            "X-Greenlight-Request-Timestamp": stamp,
            "X-Greenlight-Signature": signature if signature is not None else signing.sign(secret, stamp, raw),
        }
        for name in omit:
            headers.pop(name)
        async with self.session.post(self.url + "/api/quotes", data=io.BytesIO(raw), headers=headers) as response:
            return Reply(response.status, await response.json(), response.content_type)

    async def get(self, path: str) -> aiohttp.ClientResponse:
        response = await self.session.get(self.url + path)
        await response.read()
        return response
