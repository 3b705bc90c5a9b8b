"""A forward HTTP proxy on loopback, as a corporate proxy is seen from inside: it takes absolute-form
requests (`POST http://host:port/path HTTP/1.1`), forwards each to its target and records what it saw.

It speaks plain HTTP only (no CONNECT tunnels): enough to prove a client sends `http://` traffic
through `HTTP_PROXY`. A request that is not absolute-form (a client that ignored the proxy settings
and took the proxy for the server) is answered 400 and recorded as `direct`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from .loopback import served

# Hop-by-hop headers (RFC 9110 §7.6.1) and what aiohttp sets again itself: never forwarded.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


@dataclass
class Seen:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class ForwardProxy:
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    direct: list[str] = field(default_factory=list)

    def to(self, target: str, method: str = "POST") -> list[Seen]:
        """The requests forwarded to URLs starting with TARGET."""
        return [s for s in self.seen if s.method == method and s.url.startswith(target)]

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        target = request.raw_path
        if not target.startswith("http://"):
            self.direct.append(target)
            return web.Response(status=400, text="this is a proxy: send an absolute-form request")
        body = await request.read()
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP)
        async with (
            aiohttp.ClientSession(trust_env=False, auto_decompress=False) as session,
            session.request(request.method, target, headers=headers, data=body, allow_redirects=False) as answer,
        ):
            content = await answer.read()
            kept = CIMultiDict((k, v) for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP)
        self.seen.append(Seen(request.method, target, dict(request.headers), body, answer.status))
        return web.Response(status=answer.status, body=content, headers=kept)


@asynccontextmanager
async def forward_proxy() -> AsyncIterator[ForwardProxy]:
    """`async with forward_proxy() as proxy:` a proxy at `proxy.url` (http://127.0.0.1:<port>)."""
    proxy = ForwardProxy()
    app = web.Application()
    app.router.add_route("*", "/{anything:.*}", proxy._forward)
    async with served(app) as url:
        proxy.url = url
        yield proxy
