"""Small policies, quotes and orders for the order tests, written inline so a test shows what it is about."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from domain.orders import PlannedOrder, plan_orders
from domain.policy import Policy, load_policy
from domain.quote import Quote, parse_quote

APPROVED_ON = dt.date(2026, 12, 10)


def policy(
    order_by: list[str] | None = None, release_time: str = "06:00", timezone: str = "America/New_York"
) -> Policy:
    orders = f'  release_time: "{release_time}"\n'
    if order_by is not None:
        orders += f"  order_by: {json.dumps(order_by)}\n"
    return load_policy(
        f"version: 1\ntimezone: {timezone}\nfallback_approver: dana\npeople:\n  dana: {{}}\norders:\n{orders}"
    )


_PRODUCT = object()


def line(
    line_id: str, quantity: Any = 1, net_price: Any = 100, net_total: Any = _PRODUCT, **fields: Any
) -> dict[str, Any]:
    """A one-time line, one unit at 100 unless told otherwise; net_total is quantity x net_price unless given.

    A field given as None is left out of the line.
    """
    if net_total is _PRODUCT:
        net_total = quantity * net_price if quantity is not None and net_price is not None else None
    data: dict[str, Any] = {
        "id": line_id,
        "sku": f"SKU-{line_id}",
        "quantity": quantity,
        "net_price": net_price,
        "net_total": net_total,
        "recurring": False,
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def quote(*lines: dict[str, Any], **top: Any) -> Quote:
    data: dict[str, Any] = {
        "id": "Q-1042",
        "version": 3,
        "owner": "rita",
        "currency": "EUR",
        "account": {"id": "A-77", "name": "Acme GmbH", "timezone": "Europe/Berlin", "ship_to": "Berlin HQ"},
        "start_date": "2027-01-01",
        "term_months": 36,
    }
    data.update(top)
    data["lines"] = list(lines)
    return parse_quote({k: v for k, v in data.items() if v is not None})


def plan(q: Quote, p: Policy | None = None, approved_on: dt.date = APPROVED_ON) -> list[PlannedOrder]:
    return plan_orders(p or policy(), q, approved_on)


def numbers(orders: list[PlannedOrder]) -> list[str]:
    return [o.number for o in orders]


def line_ids(orders: list[PlannedOrder]) -> list[tuple[str, ...]]:
    return [o.line_ids for o in orders]


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)
