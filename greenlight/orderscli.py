"""`greenlight orders plan`: how an approved quote splits into orders, without any store (orders-v1 §1).

JSON output is exactly `{"orders": [{"number", "delivery_date", "ship_to", "release_at", "lines":
[{"id", "quantity", "net_total"}], "total"}]}`. Amounts are strings with two decimals ("11520.00")
so that no JSON reader turns money into floats; quantities are JSON numbers. `release_at` is an ISO
timestamp with the local offset of the release zone (2027-01-11T06:00:00-08:00).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from domain.contracts import build_contract
from domain.errors import InvalidInput, QuoteError
from domain.orders import PlannedOrder, money, number, plan_orders
from domain.policy import read_policy
from domain.quote import Quote, load_quote_text
from domain.sourcemap import read_text


def _approved_on(text: str | None, zone: Any) -> dt.date:
    if not text:
        return dt.datetime.now(dt.UTC).astimezone(zone).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--approved-on {text!r} is not a date such as 2026-12-10") from None


def plan_document(orders: Sequence[PlannedOrder]) -> dict[str, Any]:
    return {
        "orders": [
            {
                "number": order.number,
                "delivery_date": order.delivery_date.isoformat(),
                "ship_to": order.ship_to,
                "release_at": order.local_release_at.isoformat(),
                "lines": [
                    {
                        "id": line.id,
                        "quantity": number(line.quantity),
                        "net_total": money(line.net_total, order.currency),
                    }
                    for line in order.lines
                ],
                "total": money(order.total, order.currency),
            }
            for order in orders
        ]
    }


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _quantity(value: Decimal) -> str:
    whole = number(value)
    return f"{whole:,}" if isinstance(whole, int) else str(value)


def plan_text(quote: Quote, orders: Sequence[PlannedOrder]) -> str:
    total = sum((o.total for o in orders), Decimal("0.00"))
    zone = orders[0].zone if orders else ""
    head = (
        f"{quote.id} v{quote.version} · {quote.customer or 'no customer'} · "
        f"{len(orders)} order{'s' if len(orders) != 1 else ''} · {quote.currency} {_amount(total)} · "
        f"released at {orders[0].release_time if orders else '?'} {zone} time"
    )
    rows = [("order", "delivery", "ship to", "release", "lines", "total")]
    for order in orders:
        local = order.local_release_at
        rows.append(
            (
                order.number,
                order.delivery_date.isoformat(),
                order.ship_to or "(none)",
                f"{local:%Y-%m-%d %H:%M} {local.tzname()}",
                " ".join(f"{line.id}×{_quantity(line.quantity)}" for line in order.lines),
                _amount(order.total),
            )
        )
    rows.append(("", "", "", "", "total", _amount(total)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = [head, ""]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        out.append("  ".join([*cells, row[-1].rjust(widths[-1])]).rstrip())
    return "\n".join(out)


def cmd_orders_plan(args: argparse.Namespace) -> int:
    policy = read_policy(args.policy)
    quote = load_quote_text(read_text(args.quote, "quote file"), args.quote)
    approved_on = _approved_on(args.approved_on, policy.zone)
    try:
        orders = plan_orders(policy, quote, approved_on)
        build_contract(quote, orders)
    except QuoteError as error:
        raise QuoteError(error.problems, args.quote) from None
    if args.format == "json":
        print(json.dumps(plan_document(orders), indent=2, ensure_ascii=False))
    else:
        print(plan_text(quote, orders))
    return 0


def add_commands(commands: Any) -> None:
    orders = commands.add_parser("orders", help="orders from approved quotes")
    actions = orders.add_subparsers(dest="orders_command", metavar="ACTION", required=True)
    plan = actions.add_parser(
        "plan",
        help="show how a quote splits into orders and when each is released",
        description=(
            "Split a quote into orders as if it were approved (orders-v1 §1), without any store. "
            'With --format json, amounts are strings with two decimals ("11520.00") and release_at '
            "is an ISO timestamp with the local offset of the release zone. Also checks that the "
            "quote's contract can be built (terms of recurring lines, per-unit assets)."
        ),
    )
    plan.add_argument("--policy", required=True, metavar="FILE", help="the policy YAML file (orders: section)")
    plan.add_argument("--quote", required=True, metavar="FILE", help="the quote JSON file")
    plan.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: amounts as strings with two decimals"
    )
    plan.add_argument(
        "--approved-on",
        metavar="DATE",
        help="approval date, used for lines with no delivery date on a quote with no start_date "
        "(default: today in the policy's zone)",
    )
    plan.set_defaults(run=cmd_orders_plan)
