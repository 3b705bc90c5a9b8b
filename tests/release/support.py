"""What the release tests share: a small policy, approved quotes, due orders in bulk, row readers."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from domain.orders import PlannedOrder, plan_orders
from domain.policy import Policy, load_policy
from domain.quote import parse_quote
from domain.service import Approvals
from store.models import AuditRow, OrderRow, OutboxRow
from tests.support.clock import DECEMBER_FIRST

HERE = Path(__file__).resolve().parent
ERP_SECRET = "release-tests-erp-secret"
OWNER = "rep"
ADMIN = "dana"
STRANGER = "mallory"  # in the policy's people, neither the quotes' owner nor an admin
START = DECEMBER_FIRST  # the tests' clock starts here


def policy_text(release_time: str = "06:00", timezone: str = "UTC") -> str:
    """No rules: every quote is approved the moment it is submitted."""
    return f"""
version: 1
timezone: {timezone}
admins: [{ADMIN}]
fallback_approver: {ADMIN}
people:
  {OWNER}: {{slack: U0REP, email: rep@example.com}}
  {ADMIN}: {{slack: U0DANA, email: dana@example.com}}
  {STRANGER}: {{slack: U0MAL, email: mallory@example.com}}
orders:
  release_time: "{release_time}"
"""


def make_policy(release_time: str = "06:00", timezone: str = "UTC") -> Policy:
    return load_policy(policy_text(release_time, timezone), "release test policy")


def line(line_id: str, delivery_date: str, *, recurring: bool = False, net_total: int = 1000, **more: Any) -> dict:
    data = {
        "id": line_id,
        "sku": f"SKU-{line_id}",
        "quantity": 1,
        "net_price": net_total,
        "net_total": net_total,
        "recurring": recurring,
        "delivery_date": delivery_date,
    }
    if recurring:
        data["term_months"] = 12
    data.update(more)
    return data


def quote_data(quote_id: str, *lines: dict, zone: str = "Europe/Berlin", account: str = "A-1") -> dict[str, Any]:
    return {
        "id": quote_id,
        "version": 1,
        "owner": OWNER,
        "currency": "EUR",
        "account": {"id": account, "name": "Acme GmbH", "timezone": zone, "ship_to": "Berlin HQ"},
        "start_date": "2027-01-01",
        "term_months": 12,
        "net_total": sum(line["net_total"] for line in lines),
        "lines": list(lines),
    }


async def approve(service: Approvals, data: dict[str, Any], now: dt.datetime) -> None:
    """Receive and submit a quote that needs no approval: it is approved at submit."""
    await service.receive_quote(parse_quote(data), now)
    submission, _ = await service.submit(data["id"], None, now)
    assert submission.status == "approved", f"{data['id']} is {submission.status}"


def template_order(release_at: dt.datetime) -> PlannedOrder:
    """One planned order of a one-line quote, to copy under many numbers."""
    data = quote_data("Q-T", line("L1", release_at.date().isoformat(), recurring=True))
    (order,) = plan_orders(make_policy(), parse_quote(data), release_at.date())
    return dataclasses.replace(order, release_at=release_at)


def due_numbers(count: int, prefix: str = "Q-9") -> list[str]:
    return [f"{prefix}{i:05d}-01" for i in range(count)]


async def create_due_orders(count: int, release_at: dt.datetime, prefix: str = "Q-9") -> list[str]:
    """`count` scheduled orders (one per synthetic quote) due at `release_at`, inserted in bulk."""
    template = template_order(release_at)
    rows = []
    for number in due_numbers(count, prefix):
        quote_id = number.removesuffix("-01")
        order = dataclasses.replace(template, number=number, quote_id=quote_id)
        rows.append(
            OrderRow(
                number=number,
                quote_id=quote_id,
                quote_version=1,
                account_id=order.account_id,
                status="scheduled",
                release_at=release_at,
                data=order.as_dict(),
                created_at=release_at,
            )
        )
    await OrderRow.bulk_create(rows, batch_size=1000)
    return [row.number for row in rows]


async def audit_count(kind: str) -> collections.Counter:
    """How many audit rows of `kind` each order has."""
    details = await AuditRow.filter(kind=kind).values_list("detail", flat=True)
    return collections.Counter(detail["order"] for detail in details)


async def order_audit(number: str) -> list[tuple[str, str | None]]:
    """(kind, actor) of the audit rows about one order, oldest first."""
    rows = await AuditRow.filter(kind__startswith="order_").order_by("id").values_list("kind", "actor", "detail")
    return [(kind, actor) for kind, actor, detail in rows if detail.get("order") == number]


async def erp_rows() -> list[OutboxRow]:
    return await OutboxRow.filter(topic="erp").order_by("id")


async def event_kinds() -> list[str]:
    payloads = await OutboxRow.filter(topic="slack").order_by("id").values_list("payload", flat=True)
    return [p["kind"] for p in payloads]
