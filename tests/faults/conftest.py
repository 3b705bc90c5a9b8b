"""Fixtures of the fault suite: the Slack stand-in, and Greenlight built in this process.

`greenlight(...)` starts the real runtime (`greenlight.app.build`) on the selected backend, with
a clock that stands still until the test moves it, serving its HTTP surface on loopback; tests
run the sweeps themselves (`gl.settle(name)`) after moving the clock (`gl.later(name, hours=1)`),
so "hours" and "a day" of an outage pass in milliseconds.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domain.approvals import Submission
from domain.quote import parse_quote
from greenlight.settings import Settings
from sandbox.driver import DriverResponse
from sandbox.slack_api import SlackStandIn
from tests.support.clock import MONDAY_MORNING, Clock
from tests.support.postgres import fresh_database, sqlite_url
from tests.support.slack import Running, serving

from .kit import (
    ADMIN,
    ADMIN_SLACK,
    API_SECRET,
    BOT_TOKEN,
    REP,
    REP_SLACK,
    SIGNING_SECRET,
    quote_data,
    slack_of,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Restarting the PostgreSQL server disturbs whatever else uses it: that test goes last."""
    last = [item for item in items if item.get_closest_marker("restarts_postgres")]
    if last:
        items[:] = [item for item in items if item not in last] + last


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "restarts_postgres: restarts the local PostgreSQL server (runs last)")


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


@asynccontextmanager
async def slack_stand_in(people: Iterable[str] = ()) -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(bot_token=BOT_TOKEN) as stand_in:
        stand_in.add_user(REP_SLACK, REP, "rep@example.com")
        stand_in.add_user(ADMIN_SLACK, ADMIN, "dana@example.com")
        for person in people:
            stand_in.add_user(slack_of(person), person, f"{person}@example.com")
        yield stand_in


def request_ref(quote_id: str, person: str, submission: int = 1) -> str:
    return f"{quote_id}#{submission}/rule-{person}"


@dataclass
class Greenlight(Running):
    """Greenlight running in this process, and the database it uses."""

    database_url: str

    async def receive(self, quote_id: str, **options: Any) -> None:
        await self.runtime.service.receive_quote(parse_quote(quote_data(quote_id, **options)), self.clock())

    async def submit(self, quote_id: str, **options: Any) -> Submission:
        """The CRM sends the quote, the rep types `/deal submit` (acked with a 200)."""
        await self.receive(quote_id, **options)
        answer = await self.driver.command(REP_SLACK, "/deal", f"submit {quote_id}")
        assert answer.status == 200, answer.body
        sub = await self.runtime.service.latest(quote_id)
        assert sub is not None and sub.status == "pending", f"{quote_id} was not submitted: {answer.body}"
        return sub

    async def click_approve(self, person: str, ref: str) -> DriverResponse:
        """`person` taps Approve on request `ref` (the button's value), in their DM."""
        return await self.driver.click(
            slack_of(person), "approval.approve", value=ref, channel_id=self.slack.dm_channel(slack_of(person))
        )


Start = Callable[..., AbstractAsyncContextManager[Greenlight]]


@pytest.fixture
def greenlight(tmp_path: Path, clock: Clock, backend: str, request: pytest.FixtureRequest) -> Start:
    """`async with greenlight(policy_text, slack, **environment) as gl:` starts Greenlight in this process.

    On SQLite its database is a copy of the run's migrated template (`migrated_db`): migrating a
    new file costs about two seconds of fsyncs, and Greenlight's start finds nothing to do on it."""
    template: Path | None = request.getfixturevalue("migrated_db") if backend == "sqlite" else None

    @asynccontextmanager
    async def start(
        policy: str, slack: SlackStandIn, database_url: str | None = None, **environment: str
    ) -> AsyncIterator[Greenlight]:
        policy_file = tmp_path / "policy.yaml"
        policy_file.write_text(policy)
        async with _database(tmp_path, database_url, template) as url:
            settings = Settings.from_env(
                environ={
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "SLACK_API_URL": slack.api_url,
                    "GREENLIGHT_DATABASE_URL": url,
                    "GREENLIGHT_POLICY": str(policy_file),
                    "GREENLIGHT_API_SECRET": API_SECRET,
                    **environment,
                },
                env_file=None,
            )
            async with serving(Greenlight, settings, slack, clock, database_url=url) as running:
                yield running

    return start


@asynccontextmanager
async def _database(tmp_path: Path, given: str | None, template: Path | None) -> AsyncIterator[str]:
    """The database a test gave, a copy of the migrated SQLite template, or a fresh PostgreSQL one."""
    if given is not None:
        yield given
        return
    if template is not None:
        path = tmp_path / "greenlight.db"
        if not path.exists():  # a second start in the same test finds the first one's data, as before
            shutil.copyfile(template, path)
        yield sqlite_url(path)
        return
    async with fresh_database(tmp_path / "greenlight.db", "greenlight_faults") as url:
        yield url
