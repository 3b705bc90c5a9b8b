"""What the store tests share: a small policy with a 50-member `any` group, quotes, row readers."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from store.models import AuditRow, OutboxRow, QuoteRow, QuoteVersionRow, SubmissionRow

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)

PANEL = tuple(f"p{i:02d}" for i in range(1, 51))
PANEL_RULE = "panel-review"  # a `group ... mode: any` approval of the 50 panel members
DESK_RULE = "desk-review"  # decided by dana alone; keeps the submission pending after the panel decides


def panel_policy(*, with_desk: bool = True) -> str:
    """A policy whose every quote needs the panel (any one of 50 people), and the desk if `with_desk`."""
    people = "\n".join(f"  {p}: {{slack: U0{p.upper()}, email: {p}@example.com}}" for p in PANEL)
    desk_rule = f"  - name: {DESK_RULE}\n    step: 1\n    approver: desk\n" if with_desk else ""
    return f"""
version: 1
timezone: UTC
admins: [dana]
fallback_approver: desk
people:
  rep: {{slack: U0REP, email: rep@example.com}}
  dana: {{slack: U0DANA, email: dana@example.com}}
{people}
approvers:
  desk: {{user: dana}}
  panel: {{group: [{", ".join(PANEL)}], mode: any}}
rules:
  - name: {PANEL_RULE}
    step: 1
    approver: panel
{desk_rule}"""


def quote_data(quote_id: str, version: int = 1, **changes: Any) -> dict[str, Any]:
    """A small valid quote owned by `rep` (every rule of the panel policy holds for it)."""
    data: dict[str, Any] = {
        "id": quote_id,
        "version": version,
        "owner": "rep",
        "currency": "USD",
        "account": {"id": "A-1", "name": "Acme GmbH", "timezone": "Europe/Berlin", "ship_to": "Berlin HQ"},
        "start_date": "2027-01-01",
        "term_months": 12,
        "payment_terms": "Net 30",
        "discount_percent": 5,
        "net_total": 9500,
        "list_total": 10000,
        "lines": [
            {
                "id": "L1",
                "sku": "SW-PLAT",
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
                "ship_to": "Berlin HQ",
            }
        ],
    }
    data.update(changes)
    return data


def sqlite_url(path: Path) -> str:
    return f"sqlite://{path}"


def with_database(url: str, name: str) -> str:
    """The same PostgreSQL server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def asyncpg_dsn(url: str) -> str:
    """A Greenlight postgres:// URL as asyncpg wants it."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The CRM's signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>` (slack-v1 §2)."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


async def outbox_payloads(quote_id: str | None = None) -> list[dict[str, Any]]:
    """The event payloads in the outbox, oldest first (of one quote when `quote_id` is given)."""
    rows = await OutboxRow.filter(topic="slack").order_by("id").values_list("payload", flat=True)
    return [p for p in rows if quote_id is None or p["quote_id"] == quote_id]


async def queued_reactions(quote_id: str) -> list[tuple[str, str]]:
    """(topic, event kind) of every event row in the outbox of one quote, oldest first."""
    rows = await OutboxRow.all().order_by("id").values_list("topic", "payload")
    return [(topic, p["kind"]) for topic, p in rows if "kind" in p and p.get("quote_id") == quote_id]


async def audit_kinds(quote_id: str) -> list[str]:
    return list(await AuditRow.filter(quote_id=quote_id).order_by("id").values_list("kind", flat=True))


async def quote_tables() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every row of the quote and quote_version tables, to show that a refusal changed nothing."""
    quotes = await QuoteRow.all().order_by("id").values("id", "version", "owner", "content_hash", "data")
    versions = await QuoteVersionRow.all().order_by("id").values("id", "quote_id", "version", "content_hash", "data")
    return quotes, versions


async def submission_revision(quote_id: str) -> int:
    return await SubmissionRow.get(quote_id=quote_id, number=1).values_list("revision", flat=True)
