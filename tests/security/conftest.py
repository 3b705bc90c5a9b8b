"""The real Greenlight, wired as `greenlight.app.serve` wires it, on loopback, for hostile-input tests.

Everything is on: Slack (the stand-in), email (a local SMTP server that wants the configured
password), the link pages, the CRM quote API and ERP sync (its webhook target never answers: no
order is released in these tests). Every secret is long and distinctive, so that a log line or a
page can be searched for it.

Each attack is checked twice: by the answer (a status, an ephemeral sentence, a page) and by
`app.snapshot()`, every row of every table, which must be the same before and after. Time is
the runtime's `Clock`, moved by tests; Slack signatures are checked by bolt against real time.
The harness is tests.support: `App` adds the attacker's moves to its `Running`.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tortoise import Tortoise

from domain.approvals import Submission
from domain.errors import QuoteError
from domain.policy import Policy
from domain.quote import Quote, parse_quote
from greenlight.settings import Settings
from notifications import links
from notifications.pages import AccessLogger
from sandbox.slack_api import SlackStandIn
from store.models import AuditRow
from tests.support.clock import MONDAY_MORNING, Clock
from tests.support.crm import crm_headers
from tests.support.loopback import bound_socket
from tests.support.pages import LinkPages, Page, approval_link, cookie_session
from tests.support.quotes import EXAMPLE_POLICY, example_policy
from tests.support.slack import Running, add_policy_people, serving
from tests.support.smtp import Inbox, Passwords, smtp_server

BOT_TOKEN = "xoxb-security-suite-bot-token-7d41c2e9"
SIGNING_SECRET = "security-suite-slack-signing-secret-93ab"
LINK_SECRET = "security-suite-link-secret-5e0f2a9c41d7"
API_SECRET = "security-suite-api-secret-b7c3d1e8f2a6"
ERP_SECRET = "security-suite-erp-secret-1f9e4d6c0a"
SMTP_USER = "greenlight-mailer"
SMTP_PASSWORD = "security-suite-smtp-password-6a2b8e"

REF = "Q-1042#1/manager-discount"  # Marco decides it (Ava's manager); Ava owns Q-1042


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
            {
                "id": "L1",
                "sku": "SW-PLAT-E",
                "family": "Software",
                "quantity": 1,
                "list_price": 10000,
                "net_price": 9500,
                "discount_percent": 5,
                "net_total": 9500,
                "list_total": 10000,
                "recurring": True,
                "term_months": 12,
                "delivery_date": "2027-01-01",
                "ship_to": "Dock 4",
            },
        ],
    }
    data.update(changes)
    return data


@dataclass
class App(Running):
    inbox: Inbox
    http: aiohttp.ClientSession

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

    async def submit(self, data: dict[str, Any], owner: str = "ava") -> Submission:
        quote_id = await self.receive(data)
        await self.deal(owner, f"submit {quote_id}")
        await self.settle("slack", "email")
        sub = await self.runtime.service.latest(quote_id)
        assert sub is not None
        return sub

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
        stamp = int(self.clock().timestamp()) if timestamp is None else timestamp
        sent = {**crm_headers(secret, raw, stamp), **(headers or {})}
        async with self.http.post(f"{self.url}/api/quotes", data=raw, headers=sent) as response:
            return response.status, await response.json()

    # -- email links

    def link(
        self,
        sub: Submission,
        person: str,
        rule: str,
        verdict: links.Verdict = "approve",
        now: dt.datetime | None = None,
        secret: str = LINK_SECRET,
    ) -> str:
        """A link as an email would carry it, for `person` to decide `rule` of `sub`."""
        return approval_link(self.url, secret, sub, person, rule, verdict, now or self.clock())

    async def get(self, url: str) -> Page:
        return await LinkPages(self.url, self.http).get(url)

    async def post(self, url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Page:
        return await LinkPages(self.url, self.http).post(url, form, headers)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return example_policy()


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_MORNING)


def environment(tmp_path: Path, slack: SlackStandIn, smtp_port: int, public_url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "GREENLIGHT_DATABASE_URL": f"sqlite://{tmp_path}/greenlight.db",
        "GREENLIGHT_POLICY": str(EXAMPLE_POLICY),
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
    policy: Policy,
    migrated_db: Path,
    before_start: list[Callable[[Settings], None]],
) -> AsyncIterator[App]:
    shutil.copyfile(migrated_db, tmp_path / "greenlight.db")
    async with contextlib.AsyncExitStack() as stack:
        inbox = Inbox()
        smtp = stack.enter_context(
            smtp_server(inbox, authenticator=Passwords(SMTP_USER, SMTP_PASSWORD), auth_require_tls=False)
        )
        slack = await stack.enter_async_context(SlackStandIn(bot_token=BOT_TOKEN))
        add_policy_people(slack, policy)
        # the port is taken before the settings are read: links in emails carry the public URL
        sock, url = bound_socket()
        stack.enter_context(sock)
        settings = Settings.from_env(environ=environment(tmp_path, slack, smtp.port, url), env_file=None)
        for hook in before_start:
            hook(settings)
        http = await stack.enter_async_context(cookie_session())
        # What `serve(runtime, ...)` does, minus its wait: tortoise keeps the database in a contextvar,
        # so the runtime starts in this task for the tests to read the store.
        yield await stack.enter_async_context(
            serving(
                App,
                settings,
                slack,
                clock,
                policy=policy,
                sock=sock,
                access_log_class=AccessLogger,
                inbox=inbox,
                http=http,
            )
        )
