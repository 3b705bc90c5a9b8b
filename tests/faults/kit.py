"""What the fault tests share: a policy and quotes made for them, the clock, the backend, raw reads.

Each fault test runs the real Greenlight (the composition root `greenlight.app.build`, or the
`greenlight serve` command in a subprocess) against real stand-ins on loopback: Slack
(`sandbox.slack_api`), SMTP (aiosmtpd), the ERP (`sandbox.erp`), and a real database.

Backend: GREENLIGHT_TEST_DB=sqlite (default; a SQLite file in the test's tmp_path) or postgres (a
database of its own, `greenlight_faults_<hex>`, created on the server at GREENLIGHT_TEST_PG_URL
and dropped afterwards, so the shared `test` database is never touched).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiosmtpd.controller import Controller

BOT_TOKEN = "xoxb-greenlight-fault-tests"
SIGNING_SECRET = "fault-tests-signing-secret"
API_SECRET = "fault-tests-api-secret-0123456789"
LINK_SECRET = "fault-tests-link-secret-0123456789"
ERP_SECRET = "fault-tests-erp-secret"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/test"
MONDAY_MORNING = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")

REP = "rep"
REP_SLACK = "U0REP"
ADMIN = "dana"
ADMIN_SLACK = "U0DANA"


def slack_of(person: str) -> str:
    return f"U0{person.upper()}"


def policy_text(slack_approvers: Iterable[str] = (), email_approvers: Iterable[str] = (), *,
                generate: str = "button") -> str:  # fmt: skip
    """One rule per approver (all in step 1, so a quote asks all of them at once); every rule fires.

    Slack approvers `a01` get Slack id `U0A01`; email approvers have an address and no Slack id.
    """
    people = [f"  {REP}: {{name: Rita Rep, slack: {REP_SLACK}, email: rep@example.com}}",
              f"  {ADMIN}: {{name: Dana Desk, slack: {ADMIN_SLACK}, email: dana@example.com}}"]  # fmt: skip
    approvers, rules = [], []
    for person in slack_approvers:
        people.append(
            f"  {person}: {{name: Approver {person}, slack: {slack_of(person)}, email: {person}@example.com}}"
        )
    for person in email_approvers:
        people.append(f"  {person}: {{name: Mailer {person}, email: {person}@example.com}}")
    for person in [*slack_approvers, *email_approvers]:
        approvers.append(f"  by-{person}: {{user: {person}}}")
        rules.append(
            f"  - name: rule-{person}\n    step: 1\n    approver: by-{person}\n"
            f"    conditions:\n      - {{field: discount_percent, op: gt, value: 0, label: discount}}"
        )
    nl = "\n"
    return (
        f"version: 1\ntimezone: UTC\nadmins: [{ADMIN}]\nfallback_approver: desk\n"
        f"people:\n{nl.join(people)}\n"
        f"approvers:\n  desk: {{user: {ADMIN}}}\n{nl.join(approvers)}\n"
        f"rules:\n{nl.join(rules)}\n"
        f'orders:\n  release_time: "06:00"\n  generate: {generate}\n'
    )


def quote_data(quote_id: str, *, delivery: dt.date | None = None, lines: int = 1) -> dict[str, Any]:
    """A small valid quote owned by the rep, 5% off (every rule fires); its lines ship on `delivery`."""
    day = (delivery or dt.date(2027, 1, 1)).isoformat()
    return {
        "id": quote_id,
        "version": 1,
        "owner": REP,
        "currency": "USD",
        "account": {"id": "A-1", "name": "Acme GmbH", "timezone": "UTC", "ship_to": "Berlin HQ"},
        "start_date": day,
        "term_months": 12,
        "payment_terms": "Net 30",
        "discount_percent": 5,
        "net_total": 950 * lines,
        "list_total": 1000 * lines,
        "lines": [
            {
                "id": f"L{n}",
                "sku": f"SKU-{n}",
                "family": "Hardware",
                "quantity": 1,
                "list_price": 1000,
                "net_price": 950,
                "discount_percent": 5,
                "net_total": 950,
                "list_total": 1000,
                "recurring": False,
                "delivery_date": day,
                "ship_to": "Berlin HQ" if n % 2 else "Hamburg DC",
            }
            for n in range(1, lines + 1)
        ],
    }


class Clock:
    """The runtime's clock: stands still until a test moves it."""

    def __init__(self, now: dt.datetime = MONDAY_MORNING) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self.now += delta
        return self.now


# ---- the backend ----------------------------------------------------------------------------------


def backend() -> str:
    name = os.environ.get("GREENLIGHT_TEST_DB", "").strip().lower() or "sqlite"
    if name not in ("sqlite", "postgres"):
        raise RuntimeError(f"GREENLIGHT_TEST_DB={name!r} is not a backend: use sqlite or postgres")
    return name


def pg_server_url() -> str:
    return os.environ.get("GREENLIGHT_TEST_PG_URL", "").strip() or DEFAULT_PG_URL


def asyncpg_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def postgres_problem(url: str) -> str | None:
    try:
        connection = await asyncpg.connect(asyncpg_dsn(url), timeout=3.0)
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        return f"PostgreSQL at {url} cannot be reached ({error.__class__.__name__}: {error})"
    await connection.close()
    return None


@asynccontextmanager
async def fresh_database(tmp_path: Path) -> AsyncIterator[str]:
    """A database nobody uses yet, of the selected backend; a PostgreSQL one is dropped afterwards."""
    if backend() == "sqlite":
        yield f"sqlite://{tmp_path / 'greenlight.db'}"
        return
    server = pg_server_url()
    name = f"greenlight_faults_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(asyncpg_dsn(server), timeout=5.0)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(server, name)
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(server), timeout=30.0)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def query(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """Read (or fix up) the database behind a server under test without tortoise (SQL with $1...)."""
    if url.startswith("sqlite://"):
        import re

        path = url.removeprefix("sqlite://")
        with sqlite3.connect(path, timeout=10.0) as connection:
            connection.row_factory = sqlite3.Row
            rows = connection.execute(re.sub(r"\$(\d+)", r"?\1", sql), args).fetchall()
            return [dict(row) for row in rows]
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5.0)
    try:
        return [dict(row) for row in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


# ---- an SMTP server (aiosmtpd) that can be down -----------------------------------------------------


def free_port() -> int:
    """A port nothing listens on (the OS gave it and it was closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts (it runs on the Controller's thread)."""

    def __init__(self) -> None:
        self.arrived: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(bytes(envelope.content), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.arrived.append(parsed)
        return "250 2.0.0 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self.arrived)


@contextmanager
def smtp_server(inbox: Inbox, port: int) -> Iterator[Controller]:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


# ---- waiting --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    seconds: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "_end", time.monotonic() + self.seconds)

    @property
    def passed(self) -> bool:
        return time.monotonic() > self._end  # type: ignore[attr-defined]


async def until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 10.0,
                every: float = 0.05) -> None:  # fmt: skip
    """Poll a real condition (a database count, a stand-in's state) until it holds; fail after `timeout`."""
    deadline = Deadline(timeout)
    while not await condition():
        if deadline.passed:
            raise AssertionError(f"{what}: still not true after {timeout} s")
        await asyncio.sleep(every)


def payload_of(row: dict[str, Any]) -> dict[str, Any]:
    value = row["payload"]
    return json.loads(value) if isinstance(value, str | bytes) else value
