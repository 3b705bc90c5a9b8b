"""`greenlight orders plan`: how an approved quote splits into orders, without any store (orders-v1 §1).

JSON output is exactly `{"orders": [{"number", "delivery_date", "ship_to", "release_at", "lines":
[{"id", "quantity", "net_total"}], "total"}]}`. Amounts are strings in the currency's minor unit
("11520.00", yen "4256") so that no JSON reader turns money into floats; quantities are JSON
numbers. `release_at` is an ISO timestamp with the local offset of the release zone
(2027-01-11T06:00:00-08:00).

The text table is in the reader's language (see `greenlight.cli`): amounts as they write them, each
release instant in the policy's zone, named.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from domain import i18n
from domain.contracts import build_contract
from domain.errors import InvalidInput, QuoteError
from domain.i18n import _, _n
from domain.orders import PlannedOrder, money, number, plan_orders
from domain.policy import Policy, read_policy
from domain.quote import Quote, load_quote_text
from domain.sourcemap import read_text


def _approved_on(text: str | None, zone: Any) -> dt.date:
    if not text:
        return dt.datetime.now(dt.UTC).astimezone(zone).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("--approved-on {text!r} is not a date such as 2026-12-10", text=text)) from None


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


def _quantity(value: Decimal) -> str:
    whole = number(value)
    return i18n.number(whole, 0) if isinstance(whole, int) else str(value)


def plan_text(quote: Quote, orders: Sequence[PlannedOrder], policy: Policy | None = None) -> str:
    """The orders as a table for a terminal, in the current language; release instants in the
    policy's zone (else each order's release zone), named."""
    total = sum((o.total for o in orders), Decimal("0.00"))
    zone = i18n.zone_label(ZoneInfo(orders[0].zone)) if orders else ""
    head = _(
        "{quote} v{version} · {customer} · {orders} · {amount} · released at {time} {zone} time",
        quote=quote.id,
        version=quote.version,
        customer=quote.customer or _("no customer"),
        orders=_n("{count} order", "{count} orders", len(orders)),
        amount=i18n.money(total, quote.currency),
        time=orders[0].release_time if orders else "?",
        zone=zone,
    )
    rows = [(_("order"), _("delivery"), _("ship to"), _("release"), _("lines"), _("total"))]
    for order in orders:
        shown = policy.zone if policy is not None else ZoneInfo(order.zone)
        rows.append(
            (
                order.number,
                i18n.date(order.delivery_date),
                order.ship_to or _("(none)"),
                i18n.moment(order.release_at, shown),
                " ".join(f"{line.id}×{_quantity(line.quantity)}" for line in order.lines),
                i18n.money(order.total, order.currency),
            )
        )
    rows.append(("", "", "", "", _("total"), i18n.money(total, quote.currency)))
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
        print(plan_text(quote, orders, policy))
    return 0


def add_commands(commands: Any) -> None:
    orders = commands.add_parser("orders", help=_("orders from approved quotes"))
    actions = orders.add_subparsers(dest="orders_command", metavar="ACTION", required=True)
    plan = actions.add_parser(
        "plan",
        help=_("show how a quote splits into orders and when each is released"),
        description=_(
            "Split a quote into orders as if it were approved (orders-v1 §1), without any store. "
            'With --format json, amounts are strings in the currency\'s minor unit ("11520.00", yen "4256") '
            "and release_at is an ISO timestamp with the local offset of the release zone. Also checks that "
            "the quote's contract can be built (terms of recurring lines, per-unit assets)."
        ),
    )
    plan.add_argument("--policy", required=True, metavar="FILE", help=_("the policy YAML file (orders: section)"))
    plan.add_argument("--quote", required=True, metavar="FILE", help=_("the quote JSON file"))
    plan.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help=_("json: amounts as strings in the currency's minor unit"),
    )
    plan.add_argument(
        "--approved-on",
        metavar="DATE",
        help="approval date, used for lines with no delivery date on a quote with no start_date "
        "(default: today in the policy's zone)",
    )
    plan.set_defaults(run=cmd_orders_plan)
