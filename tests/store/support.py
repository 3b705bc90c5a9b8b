"""What the store tests share: a small policy with a 50-member `any` group, row readers.

Quotes are `tests.support.quotes.one_line_quote`: every rule of the panel policy holds for it.
"""

from __future__ import annotations

from typing import Any

from store.models import AuditRow, OutboxRow, QuoteRow, QuoteVersionRow, SubmissionRow
from tests.support.clock import DECEMBER_FIRST

NOW = DECEMBER_FIRST

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
