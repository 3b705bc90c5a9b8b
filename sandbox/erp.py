"""A local ERP stand-in: verifies Greenlight's signatures, counts deliveries by Idempotency-Key.

Used by the tests and the demo. It can be told to answer errors (`fail_next(503, times=5)`,
`refuse(422)`) to show retries and dead letters.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

from notifications.erp import verify


@dataclass
class Received:
    key: str
    payload: dict[str, Any]
    signed: bool
    at: float


@dataclass
class ErpStandIn:
    secret: str
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    attempts: Counter = field(default_factory=Counter)
    accepted: Counter = field(default_factory=Counter)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    always: int | None = None
    clock: Callable[[], float] = time.time  # what "fresh" means for a signature's timestamp
    delay: float = 0.0  # seconds the ERP takes over each POST (a slow ERP), before it answers

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self.url = ""

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_post("/orders", self._orders)
        app.router.add_get("/orders", self._list)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/orders"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def fail_next(self, status: int, times: int = 1, retry_after: int | str | None = None) -> None:
        """Answer the next `times` POSTs with `status`; `retry_after` in seconds or as an HTTP date."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.script.extend([(status, headers)] * times)

    def refuse(self, status: int | None) -> None:
        """Answer `status` to everything until called with None."""
        self.always = status

    def delivered(self) -> Counter:
        """How many times each Idempotency-Key was accepted (a duplicate delivery shows as 2)."""
        return Counter(self.accepted)

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.received) >= count), timeout)

    async def _orders(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers.get("Idempotency-Key", "")
        self.attempts[key] += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if not verify(self.secret, request.headers.get("Greenlight-Signature", ""), body, self.clock()):
            return web.json_response({"error": "bad signature"}, status=401)
        if self.always is not None:
            return web.json_response({"error": "refused"}, status=self.always)
        if self.script:
            status, headers = self.script.pop(0)
            return web.json_response({"error": "scripted failure"}, status=status, headers=headers)
        first = key not in self.accepted
        self.accepted[key] += 1
        if first:
            async with self._changed:
                self.received.append(Received(key, json.loads(body), True, self.clock()))
                self._changed.notify_all()
        reference = "ERP-" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()
        return web.json_response({"erp_reference": reference, "duplicate": not first})

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response([{"key": r.key, "payload": r.payload} for r in self.received])
