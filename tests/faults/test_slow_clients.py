"""Slow clients cannot starve `greenlight serve` (issue 12 item 11): a real request still succeeds while
hundreds of sockets dribble headers, a head or body that does not arrive in time is cut off, and the
server says so in one log line, not one per connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from greenlight.serving import Guard, GuardedSite, guarded_runner
from tests.support.postgres import fresh_database

from .conftest import slack_stand_in
from .kit import API_SECRET, BOT_TOKEN, SIGNING_SECRET, policy_text
from .serve import Server

SLOW_SOCKETS = 300
OPEN_FILES = 256  # the server may hold this many descriptors: its cap becomes 128
HEAD = b"POST /api/quotes HTTP/1.1\r\nHost: greenlight\r\n"  # never finished


async def slow_socket(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(HEAD)
    await writer.drain()
    return reader, writer


async def test_a_real_request_succeeds_while_hundreds_of_slow_sockets_hold_on(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(["a01"]))
    async with (
        slack_stand_in(["a01"]) as slack,
        fresh_database(tmp_path / "greenlight.db", "greenlight_faults") as database_url,
    ):
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "GREENLIGHT_DATABASE_URL": database_url,
            "GREENLIGHT_POLICY": str(policy),
            "GREENLIGHT_API_SECRET": API_SECRET,
        }
        server = await Server.start(env, tmp_path, "slow", open_files=OPEN_FILES)
        sockets: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        try:
            host, port = server.url.removeprefix("http://").rsplit(":", 1)
            for _ in range(SLOW_SOCKETS):
                sockets.append(await slow_socket(host, int(port)))

            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
                for _ in range(3):
                    async with session.get(f"{server.url}/healthz") as answer:
                        assert (answer.status, await answer.json()) == (200, {"ok": True})

            # Every slow socket is closed by the server: evicted at the cap or cut at the header time-out.
            async def closed(reader: asyncio.StreamReader) -> None:
                await asyncio.wait_for(reader.read(), timeout=30)

            await asyncio.gather(*(closed(reader) for reader, _ in sockets))
        finally:
            for _, writer in sockets:
                writer.close()
            assert await server.stop() == 0
        log = server.log.read_text()
        assert "Too many open files" not in log
        reports = [line for line in log.splitlines() if "slow or too many HTTP clients" in line]
        assert len(reports) == 1, reports
        assert "evicted at the cap" in reports[0] and "at most 128 connections" in reports[0]


@asynccontextmanager
async def guarded(guard: Guard) -> AsyncIterator[str]:
    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_post("/echo", echo)
    runner = guarded_runner(app, guard)
    await runner.setup()
    site = GuardedSite(runner, "127.0.0.1", 0, guard)
    await site.start()
    try:
        yield f"127.0.0.1:{site.port}"
    finally:
        await runner.cleanup()


async def test_a_head_that_does_not_arrive_in_time_is_cut_off(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "greenlight.serving")
    guard = Guard(header_timeout=0.3, max_connections=10)
    async with guarded(guard) as address:
        host, port = address.split(":")
        reader, writer = await slow_socket(host, int(port))
        assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed without an answer
        writer.close()
    assert guard.counts["slow headers"] == 1
    assert [r.message for r in caplog.records if "slow headers" in r.message]


async def test_a_body_that_does_not_arrive_in_time_is_cut_off_and_a_whole_one_is_served() -> None:
    guard = Guard(body_timeout=0.3, max_connections=10)
    async with guarded(guard) as address:
        host, port = address.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), timeout=10) == b""
        writer.close()
        async with aiohttp.ClientSession() as session, session.post(f"http://{address}/echo", data=b"x" * 100) as ok:
            assert (ok.status, await ok.read()) == (200, b"x" * 100)
    assert guard.counts["slow body"] == 1


async def test_at_the_cap_with_every_connection_busy_a_newcomer_gets_503() -> None:
    release, both_in = asyncio.Event(), asyncio.Event()
    arrived: list[web.Request] = []

    async def hold(request: web.Request) -> web.Response:
        arrived.append(request)
        if len(arrived) == 2:
            both_in.set()
        await release.wait()
        return web.Response(text="done")

    guard = Guard(max_connections=2)
    app = web.Application()
    app.router.add_get("/hold", hold)
    runner = guarded_runner(app, guard)
    await runner.setup()
    site = GuardedSite(runner, "127.0.0.1", 0, guard)
    await site.start()
    try:
        url = f"http://127.0.0.1:{site.port}"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            busy = [asyncio.create_task(session.get(f"{url}/hold")) for _ in range(2)]
            await asyncio.wait_for(both_in.wait(), timeout=10)  # both requests are in the handler
            assert len(guard.started) == 2
            async with session.get(f"{url}/hold") as refused:
                assert refused.status == 503
                assert refused.headers["Retry-After"] == "1"
            release.set()
            for task in busy:
                async with await task as answer:
                    assert answer.status == 200
    finally:
        await runner.cleanup()
    assert guard.counts["refused at the cap"] == 1
