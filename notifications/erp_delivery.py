"""The ERP worker: outbox rows of topic `erp` become signed webhooks (orders-v1 §4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from domain.order_service import Orders
from store.outbox import Claimed

from . import erp
from .worker import Permanent, Retry, backoff


@dataclass
class ErpDelivery:
    url: str
    secret: str
    orders: Orders
    clock: Callable[[], dt.datetime]
    give_up_after: dt.timedelta = erp.GIVE_UP_AFTER

    def __post_init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def deliver(self, row: Claimed) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=False)
        now = self.clock()
        outcome = await erp.post(self._session, self.url, self.secret, row.key, row.payload, now)
        number = str(row.payload.get("number"))
        if outcome.kind == "delivered":
            await self.orders.synced(number, outcome.reference, self.clock())
            return
        if outcome.kind == "retry" and now - row.created_at < self.give_up_after:
            wait = (
                dt.timedelta(seconds=outcome.retry_after) if outcome.retry_after is not None else backoff(row.attempts)
            )
            raise Retry(now + wait, outcome.detail)
        reason = outcome.detail if outcome.kind == "failed" else f"gave up after 24 h: {outcome.detail}"
        await self.orders.sync_failed(number, reason, row.id, self.clock())
        raise Permanent(reason)
