"""Servers on 127.0.0.1: free ports, an aiohttp app served on one, the proxy variables to clear.

slack_sdk ignores NO_PROXY and aiohttp honours the proxy variables with `trust_env`: a loopback
call would go to the proxy, so tests/conftest.py clears PROXY_VARIABLES for every test.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")


def free_port() -> int:
    """A port nothing listens on (the OS gave it and it was closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bound_socket() -> tuple[socket.socket, str]:
    """A socket bound to a free port, and its URL: the address is known before the server starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def served(
    app: web.Application, *, sock: socket.socket | None = None, shutdown_timeout: float = 1.0, **runner: Any
) -> AsyncIterator[str]:
    """Serve `app` over HTTP on 127.0.0.1 (a free port, or `sock`); yields its URL, `http://127.0.0.1:<port>`."""
    app_runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout, **runner)
    await app_runner.setup()
    try:
        if sock is None:
            await web.TCPSite(app_runner, "127.0.0.1", 0).start()
        else:
            await web.SockSite(app_runner, sock).start()
        host, port = app_runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await app_runner.cleanup()
