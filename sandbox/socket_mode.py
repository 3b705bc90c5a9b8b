"""A local stand-in for Slack's Socket Mode, beside the Web API stand-in (`sandbox.slack_api`).

`SocketModeStandIn(slack)` adds `apps.connections.open` (app-level token `xapp-...`) to a running
`SlackStandIn` and serves the WebSocket it hands out: `hello` on connect, envelopes
(`slash_commands`, `interactive`, `events_api`) that the app must acknowledge with their
`envelope_id`, `disconnect` (`refresh_requested`, as Slack sends every few hours) and a dropped
socket (as a network fault). Like Slack, an envelope not acknowledged when its connection goes
away is sent again on the next connection, with `retry_attempt` counted up.

`SocketDriver` is `sandbox.driver.SlackDriver` over the socket: the same slash commands and
clicks, delivered as envelopes; its answer is the acknowledgement (status 200 with the ack's
payload as body) or status 0 when no acknowledgement came in time.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from .driver import DriverResponse, Signing, SlackDriver
from .slack_api import JSON, SlackStandIn

APP_TOKEN = "xapp-1-A0GREEN01-1-greenlight-test"


@dataclass
class Envelope:
    envelope_id: str
    type: str
    payload: JSON
    retry_attempt: int = 0
    acked: asyncio.Future[JSON] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def message(self) -> JSON:
        return {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.type != "events_api",
            "retry_attempt": self.retry_attempt,
            "retry_reason": "timeout" if self.retry_attempt else "",
        }


class SocketModeStandIn:
    """Slack's Socket Mode on loopback. Use ``async with SocketModeStandIn(slack) as socket:``."""

    def __init__(self, slack: SlackStandIn, *, app_token: str = APP_TOKEN, host: str = "127.0.0.1") -> None:
        self.slack = slack
        self.app_token = app_token
        self._host = host
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._tickets: set[str] = set()
        self._current: web.WebSocketResponse | None = None
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._unacked: dict[str, Envelope] = {}
        self.opened = 0
        """How many times the app asked for a connection (apps.connections.open)."""
        self.connections = 0
        """How many WebSockets the app opened."""
        self.acks: list[JSON] = []

    # -- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, 0).start()
        host, port = self._runner.addresses[0][:2]
        self._url = f"ws://{host}:{port}/link"
        self.slack.add_app_method("apps.connections.open", self.app_token, self._open)

    async def stop(self) -> None:
        if self._current is not None:
            await self._current.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- what a test does

    @property
    def connected(self) -> bool:
        return self._current is not None and not self._current.closed

    async def wait_connected(self, connections: int = 1, timeout: float = 10.0) -> None:
        """Until the app holds a live connection and has opened at least `connections` in all."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.connected and self.connections >= connections)

    async def send(self, type: str, payload: JSON, timeout: float = 3.0) -> JSON | None:
        """Deliver an envelope (waiting for a connection if there is none); its ack's payload, or None."""
        envelope = Envelope(f"env-{next(self._ids)}-{secrets.token_hex(4)}", type, payload)
        self._unacked[envelope.envelope_id] = envelope
        await self._deliver(envelope)
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(envelope.acked)
        except TimeoutError:
            return None

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's `disconnect` message: the app must open a new connection (the old one closes soon after)."""
        current = self._current
        if current is not None and not current.closed:
            await current.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}})

    async def drop(self) -> None:
        """Cut the current connection without a word (a network fault)."""
        current = self._current
        if current is not None:
            self._current = None
            transport = current._req.transport if current._req is not None else None
            if transport is not None:
                transport.abort()

    # -- Slack's side

    def _open(self, args: JSON) -> JSON:
        self.opened += 1
        ticket = secrets.token_hex(8)
        self._tickets.add(ticket)
        return {"url": f"{self._url}?ticket={ticket}"}

    async def _deliver(self, envelope: Envelope) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.connected)
            assert self._current is not None
            await self._current.send_json(envelope.message())

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = dict(parse_qsl(request.query_string)).get("ticket", "")
        if ticket not in self._tickets:
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        previous = self._current
        async with self._changed:
            self._current = socket
            self.connections += 1
            self._changed.notify_all()
        info = {"app_id": self.slack.app_id}
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": info, "debug_info": {}})
        if previous is not None and not previous.closed:
            await previous.close()  # Slack closes the refreshed connection once the new one is up
        await self._resend_unacked(socket)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self._acked(json.loads(message.data))
        async with self._changed:
            if self._current is socket:
                self._current = None
            self._changed.notify_all()
        return socket

    async def _resend_unacked(self, socket: web.WebSocketResponse) -> None:
        for envelope in list(self._unacked.values()):
            if not envelope.acked.done():
                envelope.retry_attempt += 1
                await socket.send_json(envelope.message())

    def _acked(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        envelope = self._unacked.pop(str(data.get("envelope_id")), None)
        if envelope is None:
            return
        self.acks.append(data)
        if not envelope.acked.done():
            envelope.acked.set_result(data.get("payload") or {})


class SocketDriver(SlackDriver):
    """Slash commands and clicks like `SlackDriver`'s, delivered as Socket Mode envelopes."""

    def __init__(self, socket: SocketModeStandIn) -> None:
        super().__init__("socket-mode", signing_secret="", stand_in=socket.slack)
        self.socket = socket

    async def _post(
        self,
        body: bytes,
        content_type: str,
        signing: Signing,
        response_url: str | None,
        trigger_id: str | None,
        extra_headers: Any = None,
    ) -> DriverResponse:
        fields = dict(parse_qsl(body.decode()))
        if "payload" in fields:
            kind, payload = "interactive", json.loads(fields["payload"])
        elif "command" in fields:
            kind, payload = "slash_commands", fields
        else:
            kind, payload = "events_api", json.loads(body)
        ack = await self.socket.send(kind, payload)
        if ack is None:
            return DriverResponse(0, {}, "", response_url, trigger_id)
        headers = {"Content-Type": "application/json"} if ack else {}
        return DriverResponse(200, headers, json.dumps(ack) if ack else "", response_url, trigger_id)
