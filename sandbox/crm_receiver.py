"""A local CRM that receives Greenlight's webhooks (crm-v1 §6), for the tests and the sandbox's CRM tab.

It checks each signature with its own code, as a CRM's developer would write it from the contract
(`Greenlight-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, fresh within 5 minutes),
keeps the first delivery of each `Idempotency-Key` and counts repeats, and can be told to fail
(`fail_next(503, times=3)`, `refuse(422)`) to show retries, ordering and dead letters.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

TOLERANCE = 300


def signature_ok(secret: str, header: str, body: bytes, now: float) -> bool:
    """The receiver's check, written from the contract alone."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            fields.setdefault(name, []).append(value)
    stamps = fields.get("t") or []
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    if abs(now - int(stamps[0])) > TOLERANCE:
        return False
    signed = stamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1") or [])


@dataclass
class Webhook:
    key: str
    body: dict[str, Any]
    at: float

    @property
    def type(self) -> str:
        return str(self.body.get("type"))

    @property
    def quote(self) -> dict[str, Any]:
        return dict(self.body.get("quote") or {})


@dataclass
class CrmReceiver:
    secret: str
    host: str = "127.0.0.1"
    port: int = 0
    received: list[Webhook] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)
    forged: int = 0
    script: list[int] = field(default_factory=list)
    always: int | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self._listeners: list[Callable[[str], None]] = []
        self.url = ""

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener("crm")` after every delivery attempt (the sandbox's page refreshes)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def as_json(self) -> list[dict[str, Any]]:
        """The webhooks received, newest first, as the sandbox's CRM tab lists them."""
        return [
            {
                "key": w.key,
                "type": w.type,
                "quote": w.quote.get("quote"),
                "version": w.quote.get("version"),
                "status": w.quote.get("status"),
                "comment": w.quote.get("comment"),
                "created_at": w.body.get("created_at"),
                "attempts": self.attempts.get(w.key, 1),
            }
            for w in reversed(self.received)
        ]

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_post("/greenlight", self._hook)
        app.router.add_get("/greenlight", self._list)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/greenlight"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def fail_next(self, status: int, times: int = 1) -> None:
        self.script.extend([status] * times)

    def alternate(self, status: int, times: int) -> None:
        """The next `times` pairs of attempts: one answered `status`, the next let through."""
        self.script.extend([status, 200] * times)

    def refuse(self, status: int | None) -> None:
        """Answer `status` to everything until called with None."""
        self.always = status

    def types(self, quote_id: str | None = None) -> list[str]:
        return [w.type for w in self.received if quote_id is None or w.quote.get("quote") == quote_id]

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.received) >= count), timeout)

    async def _hook(self, request: web.Request) -> web.Response:
        try:
            return await self._answer(request)
        finally:
            for listener in list(self._listeners):
                listener("crm")

    async def _answer(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers.get("Idempotency-Key", "")
        self.attempts[key] += 1
        if not signature_ok(self.secret, request.headers.get("Greenlight-Signature", ""), body, self.clock()):
            self.forged += 1
            return web.json_response({"error": "bad signature"}, status=401)
        if self.always is not None:
            return web.json_response({"error": "refused"}, status=self.always)
        scripted = self.script.pop(0) if self.script else 200
        if scripted != 200:  # a 200 in the script is an attempt let through
            return web.json_response({"error": "scripted failure"}, status=scripted)
        first = key not in self.accepted
        self.accepted[key] += 1
        if first:
            async with self._changed:
                self.received.append(Webhook(key, json.loads(body), self.clock()))
                self._changed.notify_all()
        return web.json_response({"ok": True, "duplicate": not first})

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response([{"key": w.key, "body": w.body} for w in self.received])
