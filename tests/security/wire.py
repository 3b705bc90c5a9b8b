"""A wire tap between Slack and Greenlight: records each signed request as sent, to replay or edit it.

`Tap` is a loopback HTTP server that forwards every request to the app unchanged (or holds it back)
and keeps its raw body and headers; `send(...)` posts raw bytes with any headers, as an attacker holding a captured
request would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

import aiohttp
from aiohttp import web

from tests.support.loopback import served

SKIPPED = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True)
class Captured:
    body: bytes
    headers: dict[str, str]

    def with_headers(self, **changes: str) -> Captured:
        headers = {**self.headers}
        for name, value in changes.items():
            header = name.replace("_", "-")
            headers = {k: v for k, v in headers.items() if k.lower() != header.lower()}
            headers[header] = value
        return Captured(self.body, headers)

    def payload_field(self) -> str:
        """The `payload=` form field of a click or a submission."""
        return parse_qs(self.body.decode())["payload"][0]

    def with_payload(self, payload: str) -> Captured:
        return Captured(urlencode({"payload": payload}).encode(), self.headers)


@dataclass
class Answer:
    status: int
    body: str
    content_type: str = "text/plain"


class Tap:
    def __init__(self, target: str, session: aiohttp.ClientSession, forward: bool) -> None:
        self.target = target
        self.session = session
        self.forward = forward
        self.captured: list[Captured] = []

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in SKIPPED}
        self.captured.append(Captured(body, headers))
        if not self.forward:
            return web.Response(status=200)
        answer = await send(self.session, self.target, self.captured[-1])
        return web.Response(status=answer.status, text=answer.body, content_type=answer.content_type)

    async def replay(self, captured: Captured) -> Answer:
        return await send(self.session, self.target, captured)


async def send(session: aiohttp.ClientSession, url: str, captured: Captured) -> Answer:
    async with session.post(url, data=captured.body, headers=captured.headers) as response:
        return Answer(response.status, await response.text(), response.content_type)


@asynccontextmanager
async def tap(target: str, session: aiohttp.ClientSession, forward: bool = True) -> AsyncIterator[tuple[Tap, str]]:
    """A `Tap` in front of TARGET and the URL to send to instead; `forward=False` only keeps requests."""
    wire = Tap(target, session, forward)
    app = web.Application()
    app.router.add_post("/slack/events", wire._forward)
    async with served(app, shutdown_timeout=0.5) as url:
        yield wire, f"{url}/slack/events"


def header(headers: Mapping[str, str], name: str) -> str:
    return next(value for key, value in headers.items() if key.lower() == name.lower())
