"""The release suite on the run's database backend (GREENLIGHT_TEST_DB, see tests/support/postgres.py).

`connected` (tests/conftest.py) gives each test an empty, migrated database: a fresh SQLite file,
or on PostgreSQL the run's own database, emptied. Tests that need several processes on one
database ask for `postgres_database` and skip on SQLite: several processes mean PostgreSQL
(reliability.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.order_service import Orders
from domain.policy import Policy
from domain.service import Approvals
from sandbox.erp import ErpStandIn
from store.tx import DbStore
from tests.support.clock import Clock

from .support import ERP_SECRET, START, make_policy


@pytest.fixture
def policy() -> Policy:
    return make_policy()


@pytest.fixture
def service(policy: Policy, connected: str) -> Approvals:
    return Approvals(policy, DbStore())


@pytest.fixture
def desk(policy: Policy, connected: str) -> Orders:
    return Orders(policy, DbStore())


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
async def erp(clock: Clock) -> AsyncIterator[ErpStandIn]:
    """The ERP stand-in on loopback; it judges a signature's freshness by the tests' clock."""
    async with ErpStandIn(ERP_SECRET, clock=clock.timestamp) as standin:
        yield standin
