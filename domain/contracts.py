"""Contracts and entitlements (orders-v1 §3), built from a quote's orders. Pure: dates are arguments.

A contract holds what the account bought through one quote version. Recurring lines become
subscriptions: they start on their order's delivery date and end (exclusive) `term_months` later,
the line's own term or else the quote's, counted in calendar months (Jan 31 + 1 month = Feb 28, or
29 in a leap year). One-time lines become assets: one per line, or one per unit when the line says
`asset: per_unit` (up to `MAX_UNIT_ASSETS` units; each unit's price is its share of the line's
amount in cents, the first units taking the odd cents). Amounts are the lines' allocated amounts
on their orders (see `domain.orders`), so a contract adds up to the quote's net total.

The contract is a snapshot of the orders it was built from: after a reschedule or a split, build it
again from the quote's current orders (same inputs, same contract).

Entitlements at a date D: subscriptions with start <= D < end whose order is released (statuses
released, synced or sync_failed: the order went out even if the ERP has not confirmed it yet), and
assets whose order was released on or before D, reading `released_at` as a date in the order's
release zone. Orders that are scheduled, held or cancelled, or unknown, give nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .errors import Problem, QuoteError
from .orders import RELEASED_STATUSES, OrderLine, PlannedOrder, money, number, price
from .quote import Quote

MAX_UNIT_ASSETS = 10_000


@dataclass(frozen=True)
class Subscription:
    id: str
    order_number: str
    line_id: str
    sku: str | None
    quantity: Decimal
    net_price: Decimal | None
    net_total: Decimal
    start: dt.date
    end: dt.date
    term_months: int

    def active_on(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_number": self.order_number,
            "line_id": self.line_id,
            "sku": self.sku,
            "quantity": number(self.quantity),
            "net_price": price(self.net_price),
            "net_total": money(self.net_total),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "term_months": self.term_months,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Subscription:
        return cls(
            id=str(data["id"]),
            order_number=str(data["order_number"]),
            line_id=str(data["line_id"]),
            sku=data.get("sku"),
            quantity=_amount(data["quantity"]),
            net_price=None if data.get("net_price") is None else _amount(data["net_price"]),
            net_total=_amount(data["net_total"]),
            start=dt.date.fromisoformat(data["start"]),
            end=dt.date.fromisoformat(data["end"]),
            term_months=int(data["term_months"]),
        )


@dataclass(frozen=True)
class Asset:
    id: str
    order_number: str
    line_id: str
    sku: str | None
    quantity: Decimal
    net_price: Decimal | None
    net_total: Decimal
    delivery_date: dt.date
    unit: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_number": self.order_number,
            "line_id": self.line_id,
            "sku": self.sku,
            "quantity": number(self.quantity),
            "net_price": price(self.net_price),
            "net_total": money(self.net_total),
            "delivery_date": self.delivery_date.isoformat(),
            "unit": self.unit,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Asset:
        return cls(
            id=str(data["id"]),
            order_number=str(data["order_number"]),
            line_id=str(data["line_id"]),
            sku=data.get("sku"),
            quantity=_amount(data["quantity"]),
            net_price=None if data.get("net_price") is None else _amount(data["net_price"]),
            net_total=_amount(data["net_total"]),
            delivery_date=dt.date.fromisoformat(data["delivery_date"]),
            unit=data.get("unit"),
        )


@dataclass(frozen=True)
class Contract:
    quote_id: str
    quote_version: int
    account_id: str | None
    currency: str
    subscriptions: tuple[Subscription, ...]
    assets: tuple[Asset, ...]

    @property
    def total(self) -> Decimal:
        subscriptions = sum((s.net_total for s in self.subscriptions), Decimal("0.00"))
        return subscriptions + sum((a.net_total for a in self.assets), Decimal("0.00"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "quote_id": self.quote_id,
            "quote_version": self.quote_version,
            "account_id": self.account_id,
            "currency": self.currency,
            "total": money(self.total),
            "subscriptions": [s.as_dict() for s in self.subscriptions],
            "assets": [a.as_dict() for a in self.assets],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Contract:
        """The contract back from `as_dict()` (e.g. from a stored contract)."""
        return cls(
            quote_id=str(data["quote_id"]),
            quote_version=int(data["quote_version"]),
            account_id=data.get("account_id"),
            currency=str(data["currency"]),
            subscriptions=tuple(Subscription.from_dict(s) for s in data["subscriptions"]),
            assets=tuple(Asset.from_dict(a) for a in data["assets"]),
        )


@dataclass(frozen=True)
class Entitlements:
    at: dt.date
    subscriptions: tuple[Subscription, ...]
    assets: tuple[Asset, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "subscriptions": [s.as_dict() for s in self.subscriptions],
            "assets": [a.as_dict() for a in self.assets],
        }


def _amount(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole calendar months, kept within the target month (Jan 31 + 1 = Feb 28/29)."""
    years, month = divmod(day.month - 1 + months, 12)
    year = day.year + years
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _whole_months(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if value >= 1 else None


def _term(line: OrderLine, quote_term: Any) -> Any:
    return line.term_months if line.term_months is not None else quote_term


def contract_problems(quote: Quote, orders: Sequence[PlannedOrder]) -> list[Problem]:
    problems: list[Problem] = []
    index_of = {str(line.get("id")): i for i, line in enumerate(quote.lines)}
    quote_term = quote.data.get("term_months")
    for order in orders:
        for line in order.lines:
            where = f"$.lines[{index_of.get(line.id, '?')}]"
            if line.recurring and _whole_months(_term(line, quote_term)) is None:
                if line.term_months is not None:
                    path, value = f"{where}.term_months", line.term_months
                elif quote_term is not None:
                    path, value = "$.term_months", quote_term
                else:
                    path, value = f"{where}.term_months", None
                message = "a recurring line needs term_months (on the line or the quote)"
                if value is not None:
                    message = f"term_months must be a whole number of months, 1 or more (not {value!r})"
                problems.append(Problem(path, message))
            if not line.recurring and line.asset == "per_unit" and line.quantity > MAX_UNIT_ASSETS:
                problems.append(
                    Problem(f"{where}.asset", f"asset: per_unit gives at most {MAX_UNIT_ASSETS:,} assets per line")
                )
    return list(dict.fromkeys(problems))


def build_contract(quote: Quote, orders: Sequence[PlannedOrder]) -> Contract:
    """The contract for the orders generated from `quote` (orders-v1 §3)."""
    strangers = [o.number for o in orders if (o.quote_id, o.quote_version) != (quote.id, quote.version)]
    if strangers:
        raise ValueError(f"orders {', '.join(strangers)} are not from {quote.id} v{quote.version}")
    problems = contract_problems(quote, orders)
    if problems:
        raise QuoteError(problems)
    quote_term = quote.data.get("term_months")
    subscriptions: list[Subscription] = []
    assets: list[Asset] = []
    for order in orders:
        for line in order.lines:
            if line.recurring:
                term = _whole_months(_term(line, quote_term))
                assert term is not None, "checked by contract_problems"
                subscriptions.append(_subscription(order, line, term))
            else:
                assets.extend(_assets(order, line))
    return Contract(
        quote_id=quote.id,
        quote_version=quote.version,
        account_id=None if quote.account.get("id") is None else str(quote.account["id"]),
        currency=quote.currency,
        subscriptions=tuple(subscriptions),
        assets=tuple(assets),
    )


def _subscription(order: PlannedOrder, line: OrderLine, term: int) -> Subscription:
    return Subscription(
        id=f"{order.number}/{line.id}",
        order_number=order.number,
        line_id=line.id,
        sku=line.sku,
        quantity=line.quantity,
        net_price=line.net_price,
        net_total=line.net_total,
        start=order.delivery_date,
        end=add_months(order.delivery_date, term),
        term_months=term,
    )


def _assets(order: PlannedOrder, line: OrderLine) -> list[Asset]:
    if line.asset != "per_unit":
        return [
            Asset(
                id=f"{order.number}/{line.id}",
                order_number=order.number,
                line_id=line.id,
                sku=line.sku,
                quantity=line.quantity,
                net_price=line.net_price,
                net_total=line.net_total,
                delivery_date=order.delivery_date,
            )
        ]
    units = int(line.quantity)
    base, odd = divmod(int(line.net_total * 100), units)
    return [
        Asset(
            id=f"{order.number}/{line.id}/{unit}",
            order_number=order.number,
            line_id=line.id,
            sku=line.sku,
            quantity=Decimal(1),
            net_price=line.net_price,
            net_total=(Decimal(base + (1 if unit <= odd else 0)) / 100).quantize(Decimal("0.01")),
            delivery_date=order.delivery_date,
            unit=unit,
        )
        for unit in range(1, units + 1)
    ]


def _released_on(order: PlannedOrder) -> dt.date | None:
    if order.status not in RELEASED_STATUSES or order.released_at is None:
        return None
    return order.released_at.astimezone(ZoneInfo(order.zone)).date()


def entitlements(
    contracts: Iterable[Contract], orders_by_number: Mapping[str, PlannedOrder], at: dt.date
) -> Entitlements:
    """What the account is entitled to on `at` (orders-v1 §3)."""
    subscriptions: list[Subscription] = []
    assets: list[Asset] = []
    for contract in contracts:
        for subscription in contract.subscriptions:
            order = orders_by_number.get(subscription.order_number)
            if order is not None and order.status in RELEASED_STATUSES and subscription.active_on(at):
                subscriptions.append(subscription)
        for asset in contract.assets:
            order = orders_by_number.get(asset.order_number)
            released_on = _released_on(order) if order is not None else None
            if released_on is not None and released_on <= at:
                assets.append(asset)
    return Entitlements(at=at, subscriptions=tuple(subscriptions), assets=tuple(assets))
