"""Serving HTTP to clients that may be slow or hostile: read time-outs and a connection cap.

aiohttp waits for a request's headers and body as long as the client likes, so a few hundred
clients that connect and then send nothing (or a byte a second) hold a file descriptor each until
the process runs out and real requests fail with "Too many open files". `serve` therefore runs its
application through `guarded_site`:

- headers: a connection that has not sent a whole request head within HEADER_TIMEOUT of
  connecting is closed; an idle keep-alive connection is closed after KEEPALIVE_TIMEOUT;
- body: a request whose body has not fully arrived BODY_TIMEOUT after its head is cut off;
- cap: at most `max_connections` at once. A new connection beyond it takes the place of the
  oldest one that has not started a request (a slow or idle client), so a real request still
  gets in; when every connection is busy, the newcomer gets 503 with Retry-After and is closed.

Each of these is logged as one warning line with counts, at most once per LOG_EVERY, never one
line per connection.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_runner import BaseSite

log = logging.getLogger("greenlight.serving")

HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0
KEEPALIVE_TIMEOUT = 15.0
MAX_CONNECTIONS = 256
"""The cap, lowered to half the process's open-file limit when that is smaller (the database, Slack,
SMTP and the ERP need descriptors too)."""
LOG_EVERY = 60.0
ACCEPT_BACKLOG = 32

BUSY_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: 52\r\n\r\nGreenlight has too many connections: try again soon.\n"
)


class Guard:
    """What the guards did, for the rate-limited log line."""

    def __init__(
        self,
        *,
        header_timeout: float = HEADER_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
        max_connections: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_connections = max_connections if max_connections is not None else default_cap()
        self.clock = clock
        self.started: set[Any] = set()
        """Connections that have sent a whole request head (pruned to the open ones as connections come)."""
        self.counts = {"slow headers": 0, "slow body": 0, "evicted at the cap": 0, "refused at the cap": 0}
        self._logged_at: float | None = None
        self._reported = dict(self.counts)

    def count(self, what: str) -> None:
        self.counts[what] += 1
        now = self.clock()
        if self._logged_at is not None and now - self._logged_at < LOG_EVERY:
            return
        self._logged_at = now
        news = {key: value - self._reported[key] for key, value in self.counts.items()}
        self._reported = dict(self.counts)
        told = ", ".join(f"{n} {what}" for what, n in news.items() if n)
        log.warning(
            "slow or too many HTTP clients: connections closed (%s) since the last report; limits: headers within "
            "%g s, body within %g s, at most %d connections (this line repeats at most once a minute)",
            told,
            self.header_timeout,
            self.body_timeout,
            self.max_connections,
        )

    def middleware(self) -> Any:
        """Marks the connection as having started a request, and cuts off a body that does not arrive."""

        @web.middleware
        async def read_deadline(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            self.started.add(request.protocol)
            if not request.body_exists:
                return await handler(request)
            expired = False

            def expire() -> None:
                nonlocal expired
                if not request.content.is_eof() and request.transport is not None:
                    expired = True
                    self.count("slow body")
                    request.transport.close()

            timer = asyncio.get_running_loop().call_later(self.body_timeout, expire)
            try:
                return await handler(request)
            except Exception:
                if expired:  # the reading failed because the connection was cut: nobody to answer
                    return web.Response(status=408)
                raise
            finally:
                timer.cancel()

        return read_deadline

    def factory(self, server: web.Server) -> Callable[[], asyncio.Protocol]:
        """The protocol factory for the listening socket: aiohttp's, within the cap and the header time-out."""
        loop = asyncio.get_running_loop()

        def make() -> asyncio.Protocol:
            connections = server.connections
            self.started.intersection_update(connections)
            if len(connections) >= self.max_connections:
                idle = next((c for c in connections if c not in self.started and _open(c)), None)
                if idle is None:
                    self.count("refused at the cap")
                    return _Busy()
                self.count("evicted at the cap")
                idle.force_close()
                if idle.transport is not None:
                    idle.transport.close()
            handler = server()
            loop.call_later(self.header_timeout, self._head_due, handler)
            return handler

        return make

    def _head_due(self, handler: RequestHandler) -> None:
        if handler in self.started or not _open(handler):
            return
        self.count("slow headers")
        handler.force_close()
        if handler.transport is not None:
            handler.transport.close()


def _open(handler: RequestHandler) -> bool:
    return handler.transport is not None and not handler.transport.is_closing()


def default_cap() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(8, min(MAX_CONNECTIONS, soft // 2))


class _Busy(asyncio.Protocol):
    """Answers 503 and hangs up at once, holding the descriptor for no longer than that."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(BUSY_ANSWER)
        transport.close()


class GuardedSite(web.TCPSite):
    """A TCP site whose connections go through `Guard.factory`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: Guard, **kwargs: Any) -> None:
        super().__init__(runner, host, port, **kwargs)
        self.guard = guard

    async def start(self) -> None:
        await BaseSite.start(self)
        server = self._runner.server
        assert isinstance(server, web.Server)
        # asyncio accepts up to `backlog` connections in one go before any protocol is made, so the
        # backlog is part of the descriptor budget: kept small next to the cap.
        backlog = min(self._backlog, ACCEPT_BACKLOG)
        self._server = await asyncio.get_running_loop().create_server(
            self.guard.factory(server), self._host, self._port, backlog=backlog
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


def guarded_runner(app: web.Application, guard: Guard, **kwargs: Any) -> web.AppRunner:
    """An AppRunner for APP with the guard's middleware first and the keep-alive time-out."""
    app.middlewares.insert(0, guard.middleware())
    return web.AppRunner(app, keepalive_timeout=KEEPALIVE_TIMEOUT, **kwargs)
