"""A quote intake served on loopback: the real aiohttp app, a real Approvals over MemoryStore.

The CRM's side (`tests.support.crm.Crm`) signs and posts quotes; `Intake` adds what this suite reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from domain.memory import MemoryStore
from greenlight.api import Metrics
from tests.support.clock import DECEMBER_FIRST
from tests.support.crm import Crm

API_SECRET = "crm-shared-secret-0123456789abcdef"
NOW = DECEMBER_FIRST


def quote(version: int = 1, **changes: Any) -> dict[str, Any]:
    """A quote owned by ava, discounted enough to need approval under the example policy."""
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


@dataclass
class Intake(Crm):
    """The CRM's client of one running app, and what the app keeps."""

    metrics: Metrics
    store: MemoryStore

    async def get(self, path: str) -> aiohttp.ClientResponse:
        response = await self.session.get(self.url + path)
        await response.read()
        return response
