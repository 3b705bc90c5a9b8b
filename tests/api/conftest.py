"""The quote intake served on a real loopback port, with a real Approvals over MemoryStore."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from domain.memory import MemoryStore
from domain.policy import Policy
from domain.service import Approvals
from greenlight.api import METRICS, create_app
from greenlight.settings import Settings
from tests.support.clock import Clock
from tests.support.loopback import served
from tests.support.quotes import example_policy

from .support import API_SECRET, NOW, Intake

Serve = Callable[..., Awaitable[Intake]]


@pytest.fixture(scope="session")
def policy() -> Policy:
    return example_policy()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def service(policy: Policy, store: MemoryStore) -> Approvals:
    return Approvals(policy, store)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def serve(service: Approvals, store: MemoryStore, clock: Clock) -> AsyncIterator[Serve]:
    """Start the app with the given settings and health check; stopped when the test ends."""
    async with contextlib.AsyncExitStack() as servers, aiohttp.ClientSession() as session:

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
            url = await servers.enter_async_context(served(app))
            return Intake(url, session, API_SECRET, clock, app[METRICS], store)

        yield start


@pytest.fixture
async def intake(serve: Serve) -> Intake:
    return await serve()
