"""The real Greenlight, wired as `greenlight.app.serve` wires it, on loopback, for hostile-input tests.

Everything is on: Slack (the stand-in), email (a local SMTP server that wants the configured
password), the link pages, the CRM quote API and ERP sync (its webhook target never answers: no
order is released in these tests). Every secret is long and distinctive, so that a log line or a
page can be searched for it.

Each attack is checked twice: by the answer (a status, an ephemeral sentence, a page) and by
`app.snapshot()`, every row of every table, which must be the same before and after. Time is
the runtime's `Clock`, moved by tests; Slack signatures are checked by bolt against real time.
(The approach follows tests/slack/conftest.py, copied, not imported.)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import datetime as dt
import email
import email.policy
import json
import re
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from tortoise import Tortoise

from domain.approvals import Submission
from domain.errors import QuoteError
from domain.policy import Policy, read_policy
from domain.quote import Quote, parse_quote
from greenlight import signing
from greenlight.api import SIGNATURE_HEADER, TIMESTAMP_HEADER
from greenlight.app import Runtime, build
from greenlight.settings import Settings
from notifications import links
from notifications.pages import AccessLogger
from sandbox.driver import DriverResponse, SlackDriver
from sandbox.slack_api import Call, Message, SlackStandIn
from store import db
from store.models import AuditRow, OutboxRow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

BOT_TOKEN = "xoxb-security-suite-bot-token-7d41c2e9"
SIGNING_SECRET = "security-suite-slack-signing-secret-93ab"
LINK_SECRET = "security-suite-link-secret-5e0f2a9c41d7"
API_SECRET = "security-suite-api-secret-b7c3d1e8f2a6"
ERP_SECRET = "security-suite-erp-secret-1f9e4d6c0a"
SMTP_USER = "greenlight-mailer"
SMTP_PASSWORD = "security-suite-smtp-password-6a2b8e"

MONDAY_MORNING = dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)  # 09:00 in New York
STRANGER = "U09STRANGER"  # in the workspace, not in Greenlight's policy
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")

REF = "Q-1042#1/manager-discount"  # Marco decides it (Ava's manager); Ava owns Q-1042


class Clock:
    """The runtime's clock: stands still until a test moves it."""

    def __init__(self, now: dt.datetime = MONDAY_MORNING) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# ---- quotes ----------------------------------------------------------------------------------------


def example_quote(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "quotes" / name).read_text())
    return data


def backdated_quote(quote_id: str = "Q-7001", **changes: Any) -> dict[str, Any]:
    """A small quote whose only approval is `backdated-start`: Farah (email only) or Felix (Slack)."""
    data: dict[str, Any] = {
        "id": quote_id,
        "version": 1,
        "owner": "ava",
        "currency": "USD",
        "account": {"id": "A-9001", "name": "Harbour Cold Storage", "segment": "Enterprise", "ship_to": "Dock 4"},
        "close_date": "2026-12-18",
        "start_date": "2026-10-01",
        "term_months": 12,
        "payment_terms": "Net 30",
        "discount_percent": 5,
        "net_total": 9500,
        "list_total": 10000,
        "lines": [
            {"id": "L1", "sku": "SW-PLAT-E", "family": "Software", "quantity": 1, "list_price": 10000,
             "net_price": 9500, "discount_percent": 5, "net_total": 9500, "list_total": 10000,
             "recurring": True, "term_months": 12, "delivery_date": "2027-01-01", "ship_to": "Dock 4"},
        ],
    }  # fmt: skip
    data.update(changes)
    return data


# ---- a local SMTP server that wants a password -------------------------------------------------------


class Inbox:
    """aiosmtpd handler (on the server's thread) that hands each message to the test's loop."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.messages: list[EmailMessage] = []
        self._arrived = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(bytes(envelope.content), policy=email.policy.default)
        self.loop.call_soon_threadsafe(self._keep, parsed)
        return "250 2.0.0 Message accepted for delivery"

    def _keep(self, message: Any) -> None:
        self.messages.append(message)
        self._arrived.set()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return list(self.messages)


class _LoopbackController(Controller):
    """aiosmtpd's Controller on 127.0.0.1; with port 0 it learns the port the OS gave it."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def _password_check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text part, HTML part) of a message Greenlight sent."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def email_links(message: EmailMessage) -> dict[str, str]:
    """{"approve": url, "reject": url} of a request email's text part."""
    text, _ = parts(message)
    found = re.findall(r"^(Approve|Reject)[^\n]*:\r?\n(\S+)\r?$", text, flags=re.MULTILINE)
    return {label.lower(): url for label, url in found}


# ---- the app ----------------------------------------------------------------------------------------


def values_in(node: Any) -> list[str]:
    """Every button value in a Block Kit structure."""
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("value"), str) and isinstance(node.get("action_id"), str):
            found.append(node["value"])
        for item in node.values():
            found.extend(values_in(item))
    elif isinstance(node, list):
        for item in node:
            found.extend(values_in(item))
    return found


def blocks_of(call: Call) -> list[dict[str, Any]]:
    raw = call.args.get("blocks") or []
    return json.loads(raw) if isinstance(raw, str) else raw


@dataclass
class Page:
    status: int
    text: str
    headers: Any

    @property
    def csrf(self) -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.text)
        assert match is not None, f"the page has no form: {self.text[:500]}"
        return match.group(1)


@dataclass
class App:
    runtime: Runtime
    slack: SlackStandIn
    driver: SlackDriver
    url: str
    clock: Clock
    inbox: Inbox
    http: aiohttp.ClientSession

    @property
    def policy(self) -> Policy:
        return self.runtime.policy

    def slack_id(self, person: str) -> str:
        slack = self.policy.people[person].slack
        assert slack, f"{person} has no Slack id in the example policy"
        return slack

    # -- the store

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table, once the sweeps have done what is due (to compare before/after)."""
        await self.settle("slack", "email", "approvals")
        tables: dict[str, list[dict[str, Any]]] = {}
        for name, model in sorted(Tortoise.apps["greenlight"].items()):
            pk = model._meta.pk_attr
            tables[name] = [dict(row) for row in await model.all().order_by(pk).values()]
        return tables

    async def audit(self, quote_id: str = "Q-1042") -> list[tuple[str, str | None, str | None]]:
        return [(row.kind, row.rule, row.actor) for row in await AuditRow.filter(quote_id=quote_id).order_by("id")]

    async def outbox(self, topic: str) -> list[OutboxRow]:
        return await OutboxRow.filter(topic=topic).order_by("id")

    async def approval_status(self, quote_id: str, rule: str) -> str:
        sub = await self.runtime.service.latest(quote_id)
        assert sub is not None
        return sub.approval(rule).status

    # -- Slack

    async def receive(self, data: dict[str, Any]) -> str:
        try:
            quote = parse_quote(copy.deepcopy(data))
        except QuoteError as refusal:
            # Intake refuses control characters; store such a quote anyway (as a database written
            # before that check would hold it) so that every screen is shown to be safe on its own.
            if not all("control characters" in p.message for p in refusal.problems):
                raise
            quote = Quote(copy.deepcopy(data))
        await self.runtime.service.receive_quote(quote, self.clock())
        return quote.id

    async def deal(self, person: str, text: str) -> DriverResponse:
        answer = await self.driver.command(self.slack_id(person), "/deal", text)
        assert answer.status == 200, answer.body
        return answer

    async def submit(self, data: dict[str, Any], owner: str = "ava") -> Submission:
        quote_id = await self.receive(data)
        await self.deal(owner, f"submit {quote_id}")
        await self.settle("slack", "email")
        sub = await self.runtime.service.latest(quote_id)
        assert sub is not None
        return sub

    async def settle(self, *names: str) -> None:
        for name in names or ("slack",):
            await self.runtime.sweeps.run_now(name)

    def request_message(self, person: str, ref: str) -> Message:
        """`person`'s copy of request `ref` (Q-1042#1/manager-discount) as it shows now."""
        channel = self.slack.dm_channel(self.slack_id(person))
        posts = [
            call
            for call in self.slack.calls("chat.postMessage")
            if call.ok and ref in values_in(blocks_of(call)) and call.response and call.response["channel"] == channel
        ]
        assert len(posts) == 1, f"{person} got {len(posts)} copies of {ref}"
        assert posts[0].response is not None
        return self.slack.message(posts[0].response["channel"], posts[0].response["ts"])

    def answered(self) -> int:
        """How many answers went through response_urls so far (for `refusal(..., since=...)`)."""
        return len([call for call in self.slack.calls("response_url") if call.ok])

    async def refusal(self, user_id: str, since: int = 0) -> str:
        """The ephemeral answer `user_id` got through a response_url after `since` answers (waits for it)."""
        await self.slack.wait_for("response_url", lambda c: c.ok, count=since + 1)
        texts = [e.text for e in self.slack.ephemerals(user_id) if e.via == "response_url"]
        assert texts, self.slack.ephemerals()
        return texts[-1]

    # -- the CRM API

    async def post_quote(
        self,
        body: bytes | str,
        *,
        timestamp: int | str | None = None,
        secret: str = API_SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        raw = body.encode() if isinstance(body, str) else body
        stamp = str(int(self.clock().timestamp()) if timestamp is None else timestamp)
        sent = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signing.sign(secret, stamp, raw),
            **(headers or {}),
        }
        async with self.http.post(f"{self.url}/api/quotes", data=raw, headers=sent) as response:
            return response.status, await response.json()

    # -- email links

    def link(self, sub: Submission, person: str, rule: str, verdict: links.Verdict = "approve",
             now: dt.datetime | None = None, secret: str = LINK_SECRET) -> str:  # fmt: skip
        """A link as an email would carry it, for `person` to decide `rule` of `sub`."""
        ref = links.approval_ref(sub.quote_id, sub.number, rule)
        key = links.submission_key(sub.number, sub.quote_version, sub.content_hash)
        token = links.issue(secret, ref, person, key, verdict, now or self.clock())
        return f"{self.url}/a/{token}"

    async def get(self, url: str) -> Page:
        async with self.http.get(url, allow_redirects=False) as response:
            return Page(response.status, await response.text(), response.headers)

    async def post(self, url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Page:
        async with self.http.post(url, data=form, headers=headers or {}, allow_redirects=False) as response:
            return Page(response.status, await response.text(), response.headers)


@pytest.fixture(scope="session")
def example_policy() -> Policy:
    return read_policy(EXAMPLES / "policy.yaml")


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every migration applied, copied for each test (migrating takes most of a start)."""
    path = tmp_path_factory.mktemp("template") / "greenlight.db"

    async def migrate() -> None:
        await db.migrate(f"sqlite://{path}")
        await db.close()

    # its own thread: its own event loop and a clean context for tortoise's global state
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, migrate()).result()
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock()


def environment(tmp_path: Path, slack: SlackStandIn, smtp_port: int, public_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "GREENLIGHT_DATABASE_URL": f"sqlite://{tmp_path}/greenlight.db",
        "GREENLIGHT_POLICY": str(EXAMPLES / "policy.yaml"),
        "GREENLIGHT_PUBLIC_URL": public_url,
        "GREENLIGHT_SMTP_URL": f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:{smtp_port}",
        "GREENLIGHT_MAIL_FROM": "Greenlight <greenlight@kestrel-systems.example>",
        "GREENLIGHT_SECRET": LINK_SECRET,
        "GREENLIGHT_API_SECRET": API_SECRET,
        "GREENLIGHT_ERP_URL": "http://127.0.0.1:9/erp/greenlight",
        "GREENLIGHT_ERP_SECRET": ERP_SECRET,
    }


@pytest.fixture
def before_start() -> list[Callable[[Settings], None]]:
    """Hooks run with the settings before the app starts (e.g. to configure logging)."""
    return []


@pytest.fixture
async def app(
    tmp_path: Path,
    clock: Clock,
    example_policy: Policy,
    migrated_database: Path,
    before_start: list[Callable[[Settings], None]],
) -> AsyncIterator[App]:
    shutil.copyfile(migrated_database, tmp_path / "greenlight.db")
    async with contextlib.AsyncExitStack() as stack:
        inbox = Inbox()
        controller = _LoopbackController(
            inbox, hostname="127.0.0.1", port=0, authenticator=_password_check, auth_require_tls=False
        )
        await asyncio.to_thread(controller.start)
        stack.push_async_callback(asyncio.to_thread, controller.stop)
        slack = await stack.enter_async_context(SlackStandIn(bot_token=BOT_TOKEN))
        for key, person in example_policy.people.items():
            if person.slack:
                slack.add_user(person.slack, key, person.email, tz=person.timezone or example_policy.timezone)
        slack.add_user(STRANGER, "stranger", "stranger@elsewhere.example")
        # the port is taken before the settings are read: links in emails carry the public URL
        sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = Settings.from_env(environ=environment(tmp_path, slack, controller.port, url), env_file=None)
        for hook in before_start:
            hook(settings)
        runtime = build(
            settings,
            policy=example_policy,
            clock=clock,
            sweep_every=dt.timedelta(hours=1),
            tick_every=dt.timedelta(hours=1),
            release_every=dt.timedelta(hours=1),
        )
        # What `serve(runtime, ...)` does, minus its wait: tortoise keeps the database in a contextvar,
        # so the runtime starts in this task for the tests to read the store.
        await runtime.start()
        stack.push_async_callback(runtime.stop)
        runner = web.AppRunner(runtime.web, shutdown_timeout=1.0, access_log_class=AccessLogger)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.SockSite(runner, sock).start()
        driver = await stack.enter_async_context(
            SlackDriver(f"{url}/slack/events", signing_secret=SIGNING_SECRET, stand_in=slack)
        )
        http = await stack.enter_async_context(
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), trust_env=False)
        )
        yield App(runtime, slack, driver, url, clock, inbox, http)
