"""Real local stand-ins for the email tests: an aiosmtpd server, the link page on loopback, a store.

No fakes of aiosmtplib or aiohttp: mail goes through a real SMTP conversation with an aiosmtpd
`Controller` on 127.0.0.1, and pages are fetched over HTTP from an aiohttp site on 127.0.0.1.
Tests wait for what they expect (a message arriving), never for time to pass.

(This folder has no `__init__.py` on purpose: as a package it would be named `email` and shadow
the standard library's `email` for pytest; its modules have unique names instead, like tests/unit.)
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import email
import email.policy
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from domain.approvals import Submission
from domain.memory import MemoryStore
from domain.policy import Policy, load_policy
from domain.quote import parse_quote
from domain.service import Approvals
from notifications import links
from notifications.email import MailSettings
from notifications.pages import AccessLogger, add_routes
from notifications.smtp import SmtpSettings

SECRET = "link-signing-secret-0123456789abcdef"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
CUSTOMER = 'Acme <script>alert("x")</script> & Söhne GmbH'

POLICY = """
version: 1
timezone: Europe/Berlin
admins: [dana]
fallback_approver: desk
people:
  ava: {name: Ava Brooks, slack: U0AVA, email: ava@example.com, manager: marco}
  marco: {name: Marco Bellini, email: marco@example.com}
  fiona: {name: Fiona Gallagher, email: fiona@example.com, timezone: Europe/Dublin}
  carl: {name: Carl Jensen, slack: U0CARL}  # Slack only
  dana: {name: Dana Whitfield, slack: U0DANA, email: dana@example.com}
  nora: {name: Nora Quist, email: nora@example.com}
approvers:
  desk: {user: dana}
  manager: {field: owner.manager}
  finance: {group: [fiona, carl], mode: all}
rules:
  - name: manager-discount
    description: Discount above the rep's 10% authority
    chain: commercial
    step: 1
    approver: manager
    conditions:
      - {field: discount_percent, op: gt, value: 10, label: quote discount}
  - name: payment-terms
    description: Payment terms beyond Net 45
    chain: finance
    step: 1
    approver: finance
    conditions:
      - {field: payment_terms, op: not_in, value: [Net 30, Net 45], label: payment terms}
"""


def policy() -> Policy:
    return load_policy(POLICY, "email test policy")


def quote(version: int = 3, **changes: Any) -> dict[str, Any]:
    """Q-1042, owned by Ava (managed by Marco): 30% off and Net 90, so both rules fire."""
    data: dict[str, Any] = {
        "id": "Q-1042",
        "version": version,
        "owner": "ava",
        "currency": "EUR",
        "account": {"id": "A-77", "name": CUSTOMER},
        "payment_terms": "Net 90",
        "discount_percent": 30,
        "net_total": 70000,
        "list_total": 100000,
        "term_months": 24,
    }
    data.update(changes)
    return data


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Desk:
    """The approvals service over a MemoryStore, with a submitted Q-1042."""

    policy: Policy
    store: MemoryStore
    service: Approvals
    clock: Clock

    @classmethod
    async def submitted(cls, **changes: Any) -> Desk:
        rules = policy()
        store = MemoryStore()
        desk = cls(rules, store, Approvals(rules, store), Clock())
        await desk.service.receive_quote(parse_quote(quote(**changes)), desk.clock())
        await desk.service.submit("Q-1042", "ava", desk.clock())
        return desk

    async def sub(self) -> Submission:
        latest = await self.service.latest("Q-1042")
        assert latest is not None
        return latest

    def snapshot(self) -> tuple[Any, ...]:
        """Everything the store holds, to show that something changed nothing."""
        return (
            {key: value.data for key, value in self.store.quotes.items()},
            copy.deepcopy(self.store.subs),
            len(self.store.events),
            copy.deepcopy(self.store.keys),
            copy.deepcopy(self.store.delegations),
        )


def mail_settings(public_url: str = "http://127.0.0.1:3000") -> MailSettings:
    return MailSettings(
        mail_from="Greenlight <greenlight@kestrel.example>", public_url=public_url.rstrip("/"), secret=SECRET
    )


# ---- SMTP ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrived:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and can be told to refuse.

    It runs on the Controller's own thread and loop; arrivals are signalled to the test's loop.
    """

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.arrived: list[Arrived] = []
        self.refuse_rcpt: dict[str, str] = {}  # address -> reply, e.g. "550 5.1.1 no such user"
        self.data_reply: str | None = None  # e.g. "451 4.3.0 try later"
        self.data_attempts = 0
        self._changed = asyncio.Event()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        refusal = self.refuse_rcpt.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_attempts += 1
        if self.data_reply is not None:
            self.loop.call_soon_threadsafe(self._changed.set)
            return self.data_reply
        self.arrived.append(Arrived(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
        self.loop.call_soon_threadsafe(self._changed.set)
        return "250 2.0.0 Message accepted for delivery"

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Arrived]:
        """Wait until COUNT messages have arrived (they are signalled from the server's thread)."""
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                if len(self.arrived) >= count:
                    return list(self.arrived)
                await self._changed.wait()


class LoopbackController(Controller):
    """aiosmtpd's Controller on 127.0.0.1; with port 0 it learns the free port the OS gave it."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp_server(handler: Inbox, port: int = 0, **smtp_options: Any) -> Iterator[LoopbackController]:
    controller = LoopbackController(handler, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def smtp_settings(
    port: int, *, tls: bool = False, user: str | None = None, password: str | None = None
) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1", port=port, tls=tls, user=user, password=SecretStr(password) if password else None
    )


def free_port() -> int:
    """A port nothing listens on (the OS gave it and it was closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def self_signed(folder: Path) -> Certificate | None:
    """A certificate for 127.0.0.1 made by the openssl command (None when it is not installed)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


class Passwords:
    """An aiosmtpd authenticator that knows one user."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False)


# ---- the link page over HTTP ---------------------------------------------------------------------


@dataclass
class Site:
    url: str
    session: aiohttp.ClientSession


@asynccontextmanager
async def serve_pages(desk: Desk, secret: str = SECRET) -> AsyncIterator[Site]:
    """The link page on 127.0.0.1 (a free port), its public URL being its own address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = web.Application()
    add_routes(app, service=desk.service, secret=secret, clock=desk.clock, public_url=url)
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log_class=AccessLogger)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), trust_env=False) as session:
            yield Site(url, session)
    finally:
        await runner.cleanup()
        sock.close()


@dataclass
class Page:
    status: int
    text: str
    headers: Any

    @property
    def csrf(self) -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.text)
        assert match is not None, "the page has no form"
        return match.group(1)


async def get(site: Site, url: str) -> Page:
    async with site.session.get(url, allow_redirects=False) as response:
        return Page(response.status, await response.text(), response.headers)


async def post(site: Site, url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Page:
    async with site.session.post(url, data=form, headers=headers or {}, allow_redirects=False) as response:
        return Page(response.status, await response.text(), response.headers)


def links_in(message: EmailMessage) -> dict[str, str]:
    """The Approve and Reject links of a request's text part."""
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    found = re.findall(r"^(Approve|Reject)[^\n]*:\r?\n(\S+)\r?$", text, flags=re.MULTILINE)
    return {label.lower(): url for label, url in found}


def link_for(
    site: Site,
    sub: Submission,
    person: str,
    rule: str = "manager-discount",
    verdict: links.Verdict = "approve",
    now: dt.datetime = NOW,
    secret: str = SECRET,
) -> str:
    """A link as an email would carry it, for PERSON to decide RULE of SUB."""
    ref = links.approval_ref(sub.quote_id, sub.number, rule)
    key = links.submission_key(sub.number, sub.quote_version, sub.content_hash)
    return f"{site.url}/a/{links.issue(secret, ref, person, key, verdict, now)}"
