"""The quote intake served on a real loopback port, with a real Approvals over MemoryStore."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from domain.memory import MemoryStore
from domain.service import Approvals
from greenlight.api import METRICS, create_app
from greenlight.settings import Settings

from .support import API_SECRET, FakeClock, Intake, load_test_policy

Serve = Callable[..., Awaitable[Intake]]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # aiohttp honours these with trust_env; loopback calls must never go to a proxy.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def policy() -> Any:
    return load_test_policy()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def service(policy: Any, store: MemoryStore) -> Approvals:
    return Approvals(policy, store)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def serve(service: Approvals, store: MemoryStore, clock: FakeClock) -> AsyncIterator[Serve]:
    """Start the app with the given settings and health check; stopped when the test ends."""
    runners: list[web.AppRunner] = []
    async with aiohttp.ClientSession() as session:

        async def start(
            settings: Settings | None = None, health: Callable[[], Awaitable[bool]] | None = None
        ) -> Intake:
            async def healthy() -> bool:
                return True

            app = create_app(
                service=service,
                settings=settings if settings is not None else Settings(api_secret=API_SECRET),
                health=health or healthy,
                clock=clock,
            )
            runner = web.AppRunner(app, shutdown_timeout=1.0)
            await runner.setup()
            runners.append(runner)
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            host, port = runner.addresses[0][:2]
            return Intake(f"http://{host}:{port}", session, clock, app[METRICS], store)

        try:
            yield start
        finally:
            for runner in runners:
                await runner.cleanup()


@pytest.fixture
async def intake(serve: Serve) -> Intake:
    return await serve()
