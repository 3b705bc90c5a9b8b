"""Real local stand-ins for the email tests: the link page on loopback over a store, SMTP settings, TLS.

No fakes of aiosmtplib or aiohttp: mail goes through a real SMTP conversation with an aiosmtpd
server on 127.0.0.1 (tests.support.smtp), and pages are fetched over HTTP from an aiohttp site on
127.0.0.1 (tests.support.pages). Tests wait for what they expect (a message arriving), never for
time to pass.

(This folder has no `__init__.py` on purpose: as a package it would be named `email` and shadow
the standard library's `email` for pytest; its modules have unique names instead, like tests/unit.)
"""

from __future__ import annotations

import datetime as dt
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
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
from tests.support.clock import DECEMBER_FIRST, Clock
from tests.support.loopback import bound_socket, served
from tests.support.memory import snapshot
from tests.support.pages import LinkPages, approval_link, cookie_session

SECRET = "link-signing-secret-0123456789abcdef"
NOW = DECEMBER_FIRST
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
        desk = cls(rules, store, Approvals(rules, store), Clock(NOW))
        await desk.service.receive_quote(parse_quote(quote(**changes)), desk.clock())
        await desk.service.submit("Q-1042", "ava", desk.clock())
        return desk

    async def sub(self) -> Submission:
        latest = await self.service.latest("Q-1042")
        assert latest is not None
        return latest

    def snapshot(self) -> tuple[Any, ...]:
        """Everything the store holds, to show that something changed nothing."""
        return snapshot(self.store)


def mail_settings(public_url: str = "http://127.0.0.1:3000") -> MailSettings:
    return MailSettings(
        mail_from="Greenlight <greenlight@kestrel.example>", public_url=public_url.rstrip("/"), secret=SECRET
    )


# ---- SMTP ----------------------------------------------------------------------------------------


def smtp_settings(
    port: int, *, tls: bool = False, user: str | None = None, password: str | None = None
) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1", port=port, tls=tls, user=user, password=SecretStr(password) if password else None
    )


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
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)


# ---- the link page over HTTP ---------------------------------------------------------------------


@asynccontextmanager
async def serve_pages(desk: Desk, secret: str = SECRET) -> AsyncIterator[LinkPages]:
    """The link page on 127.0.0.1 (a free port), its public URL being its own address."""
    sock, url = bound_socket()
    app = web.Application()
    add_routes(app, service=desk.service, secret=secret, clock=desk.clock, public_url=url)
    with sock:
        async with served(app, sock=sock, access_log_class=AccessLogger), cookie_session() as session:
            yield LinkPages(url, session)


def link_for(
    site: LinkPages,
    sub: Submission,
    person: str,
    rule: str = "manager-discount",
    verdict: links.Verdict = "approve",
    now: dt.datetime = NOW,
    secret: str = SECRET,
) -> str:
    """A link as an email would carry it, for PERSON to decide RULE of SUB (issued at NOW by default)."""
    return approval_link(site.url, secret, sub, person, rule, verdict, now)
