"""The store suite on the run's database backend (GREENLIGHT_TEST_DB, see tests/support/postgres.py).

`connected` (tests/conftest.py) gives each test an empty, migrated database: a fresh SQLite file,
or on PostgreSQL a database of the run's own, emptied with `wipe()`. `fresh_database_url` is one
nobody has migrated yet.
"""

from __future__ import annotations

import pytest

from domain.policy import Policy, load_policy
from domain.service import Approvals
from store.tx import DbStore

from .support import panel_policy


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(panel_policy(), "panel policy")


@pytest.fixture
def service(policy: Policy, connected: str) -> Approvals:
    return Approvals(policy, DbStore())
