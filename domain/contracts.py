"""Contracts and entitlements (orders-v1 §3), built from a quote's orders. Pure: dates are arguments.

A contract holds what the account bought through one quote, across its versions: an approved newer
version amends the same contract (docs/orders.md), it never adds a second one. Recurring lines
become subscriptions: they start on their order's delivery date and end (exclusive) `term_months`
later, the line's own term or else the quote's, counted in calendar months (Jan 31 + 1 month = Feb
28, or 29 in a leap year). A line of an amendment or cancellation order (a signed difference) is a
subscription entry that starts on its order's date and ends with the line's first subscription
(co-termination), or runs its own term for a line the contract did not have. One-time lines become
assets, one per line with its quantity; `asset: per_unit` marks lines whose units the ERP tracks one
by one, still one entry (a contract's size grows with its lines, never with quantities: at most
`MAX_CONTRACT_ITEMS` entries). Amounts are the lines' allocated amounts on their orders (see
`domain.orders`), so a contract adds up to what its orders bill.

The contract is a snapshot of the orders it was built from: after a reschedule, a split or an
amendment, build it again from the quote's live orders (same inputs, same contract).

Entitlements at a date D: subscriptions with start <= D < end whose order is released (statuses
released, synced or sync_failed: the order went out even if the ERP has not confirmed it yet), and
assets whose order was released on or before D, reading `released_at` as a date in the order's
release zone. Orders that are scheduled, held or cancelled, or unknown, give nothing. Entries of the
same line add up (an increase adds units, a cancellation takes them away); a line whose quantity
comes to zero or less is not in force.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .errors import Problem, QuoteError
from .orders import RELEASED_STATUSES, OrderLine, PlannedOrder, money, number, price
from .quote import Quote

MAX_CONTRACT_ITEMS = 10_000
"""The most entries (subscriptions and assets) one contract holds, over all its amendments."""
CONTRACT_PREFIX = "C-"


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

    def as_dict(self, currency: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_number": self.order_number,
            "line_id": self.line_id,
            "sku": self.sku,
            "quantity": number(self.quantity),
            "net_price": price(self.net_price, currency),
            "net_total": money(self.net_total, currency),
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
    per_unit: bool = False

    def as_dict(self, currency: str | None = None) -> dict[str, Any]:
        return {
            "per_unit": self.per_unit,
            "id": self.id,
            "order_number": self.order_number,
            "line_id": self.line_id,
            "sku": self.sku,
            "quantity": number(self.quantity),
            "net_price": price(self.net_price, currency),
            "net_total": money(self.net_total, currency),
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
            per_unit=bool(data.get("per_unit")),
        )


@dataclass(frozen=True)
class Contract:
    quote_id: str
    quote_version: int
    account_id: str | None
    currency: str
    subscriptions: tuple[Subscription, ...]
    assets: tuple[Asset, ...]
    number: str = ""
    terms: dict[str, Any] = field(default_factory=dict)
    versions: tuple[int, ...] = ()

    @property
    def start(self) -> dt.date | None:
        """The first day anything of the contract is delivered."""
        days = [s.start for s in self.subscriptions] + [a.delivery_date for a in self.assets]
        return min(days, default=None)

    @property
    def end(self) -> dt.date | None:
        """The day its last subscription ends (exclusive); None for a contract of assets only."""
        return max((s.end for s in self.subscriptions), default=None)

    @property
    def total(self) -> Decimal:
        subscriptions = sum((s.net_total for s in self.subscriptions), Decimal("0.00"))
        return subscriptions + sum((a.net_total for a in self.assets), Decimal("0.00"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number or contract_number(self.quote_id),
            "quote_id": self.quote_id,
            "quote_version": self.quote_version,
            "versions": list(self.versions or (self.quote_version,)),
            "account_id": self.account_id,
            "currency": self.currency,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "terms": self.terms,
            "total": money(self.total, self.currency),
            "subscriptions": [s.as_dict(self.currency) for s in self.subscriptions],
            "assets": [a.as_dict(self.currency) for a in self.assets],
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
            number=str(data.get("number") or contract_number(str(data["quote_id"]))),
            terms=dict(data.get("terms") or {}),
            versions=tuple(int(v) for v in data.get("versions") or (data["quote_version"],)),
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


def contract_number(quote_id: str) -> str:
    """A contract's number: one contract per quote, amended by its newer versions (`C-Q-1042`)."""
    return f"{CONTRACT_PREFIX}{quote_id}"


def contract_terms(quote: Quote) -> dict[str, Any]:
    """The commercial terms a contract keeps from the quote's latest approved version."""
    keys = ("term_months", "payment_terms", "billing_frequency", "po_number", "renewal")
    return {key: quote.data[key] for key in keys if quote.data.get(key) is not None}


def _line_term(line: OrderLine, quote_term: Any) -> Any:
    return line.term_months if line.term_months is not None else quote_term


def contract_problems(
    quote: Quote, orders: Sequence[PlannedOrder], quote_terms: Mapping[int, Any] | None = None
) -> list[Problem]:
    problems: list[Problem] = []
    index_of = {str(line.get("id")): i for i, line in enumerate(quote.lines)}
    entries = 0
    for order in orders:
        quote_term = (quote_terms or {}).get(order.quote_version, quote.data.get("term_months"))
        for line in order.lines:
            entries += 1
            where = f"$.lines[{index_of.get(line.id, '?')}]"
            if line.recurring and _whole_months(_line_term(line, quote_term)) is None:
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
    if entries > MAX_CONTRACT_ITEMS:
        problems.append(
            Problem(
                "$.lines",
                f"a contract holds at most {MAX_CONTRACT_ITEMS:,} entries over all its versions; "
                f"these orders would make {entries:,}",
            )
        )
    return list(dict.fromkeys(problems))


def build_contract(
    quote: Quote, orders: Sequence[PlannedOrder], quote_terms: Mapping[int, Any] | None = None
) -> Contract:
    """The contract for the live orders of `quote` (orders-v1 §3), the latest approved version.

    `orders` may come from earlier versions of the quote too (what they released, and the amendments
    that followed); `quote_terms` gives the quote-level `term_months` of each earlier version.
    """
    strangers = [o.number for o in orders if o.quote_id != quote.id or o.quote_version > quote.version]
    if strangers:
        raise ValueError(f"orders {', '.join(strangers)} are not from {quote.id} up to v{quote.version}")
    problems = contract_problems(quote, orders, quote_terms)
    if problems:
        raise QuoteError(problems)
    subscriptions: list[Subscription] = []
    assets: list[Asset] = []
    first_end: dict[str, dt.date] = {}
    for order in sorted(orders, key=lambda o: (o.kind != "order", o.quote_version, o.number)):
        quote_term = (quote_terms or {}).get(order.quote_version, quote.data.get("term_months"))
        for line in order.lines:
            if line.recurring:
                term = _whole_months(_line_term(line, quote_term))
                assert term is not None, "checked by contract_problems"
                entry = _subscription(order, line, term, first_end.get(line.id))
                first_end.setdefault(line.id, entry.end)
                subscriptions.append(entry)
            else:
                assets.append(_asset(order, line))
    versions = sorted({o.quote_version for o in orders} | {quote.version})
    return Contract(
        quote_id=quote.id,
        quote_version=quote.version,
        account_id=None if quote.account.get("id") is None else str(quote.account["id"]),
        currency=quote.currency,
        subscriptions=tuple(subscriptions),
        assets=tuple(assets),
        number=contract_number(quote.id),
        terms=contract_terms(quote),
        versions=tuple(versions),
    )


def _subscription(order: PlannedOrder, line: OrderLine, term: int, coterminous: dt.date | None) -> Subscription:
    end = add_months(order.delivery_date, term)
    if coterminous is not None and coterminous > order.delivery_date:
        end = coterminous
    return Subscription(
        id=f"{order.number}/{line.id}",
        order_number=order.number,
        line_id=line.id,
        sku=line.sku,
        quantity=line.quantity,
        net_price=line.net_price,
        net_total=line.net_total,
        start=order.delivery_date,
        end=end,
        term_months=term,
    )


def _asset(order: PlannedOrder, line: OrderLine) -> Asset:
    return Asset(
        id=f"{order.number}/{line.id}",
        order_number=order.number,
        line_id=line.id,
        sku=line.sku,
        quantity=line.quantity,
        net_price=line.net_price,
        net_total=line.net_total,
        delivery_date=order.delivery_date,
        per_unit=line.asset == "per_unit",
    )


def _released_on(order: PlannedOrder) -> dt.date | None:
    if order.status not in RELEASED_STATUSES or order.released_at is None:
        return None
    return order.released_at.astimezone(ZoneInfo(order.zone)).date()


def _merged_subscriptions(entries: list[Subscription]) -> Subscription | None:
    quantity = sum((e.quantity for e in entries), Decimal(0))
    if quantity <= 0:
        return None
    if len(entries) == 1:
        return entries[0]
    first = entries[0]
    return replace(
        first,
        quantity=quantity,
        net_total=sum((e.net_total for e in entries), Decimal("0.00")),
        start=min(e.start for e in entries),
        end=max(e.end for e in entries),
        order_number=entries[-1].order_number,
    )


def _merged_assets(entries: list[Asset]) -> Asset | None:
    quantity = sum((e.quantity for e in entries), Decimal(0))
    if quantity <= 0:
        return None
    if len(entries) == 1:
        return entries[0]
    return replace(
        entries[0],
        quantity=quantity,
        net_total=sum((e.net_total for e in entries), Decimal("0.00")),
        order_number=entries[-1].order_number,
    )


def entitlements(
    contracts: Iterable[Contract], orders_by_number: Mapping[str, PlannedOrder], at: dt.date
) -> Entitlements:
    """What the account is entitled to on `at` (orders-v1 §3): one entry per line of each contract."""
    subscriptions: list[Subscription] = []
    assets: list[Asset] = []
    for contract in contracts:
        active: dict[str, list[Subscription]] = {}
        for subscription in contract.subscriptions:
            order = orders_by_number.get(subscription.order_number)
            if order is not None and order.status in RELEASED_STATUSES and subscription.active_on(at):
                active.setdefault(subscription.line_id, []).append(subscription)
        owned: dict[str, list[Asset]] = {}
        for asset in contract.assets:
            order = orders_by_number.get(asset.order_number)
            released_on = _released_on(order) if order is not None else None
            if released_on is not None and released_on <= at:
                owned.setdefault(asset.line_id, []).append(asset)
        subscriptions.extend(m for m in map(_merged_subscriptions, active.values()) if m is not None)
        assets.extend(m for m in map(_merged_assets, owned.values()) if m is not None)
    return Entitlements(at=at, subscriptions=tuple(subscriptions), assets=tuple(assets))


def contract_status(contract: Contract, orders_by_number: Mapping[str, PlannedOrder], at: dt.date) -> str:
    """`draft` until something is released, `active`, `expired` from its end, `cancelled` when nothing is left."""
    numbers = {e.order_number for e in contract.subscriptions} | {a.order_number for a in contract.assets}
    orders = [orders_by_number[n] for n in numbers if n in orders_by_number]
    if orders and all(o.status == "cancelled" for o in orders):
        return "cancelled"
    if not any(o.status in RELEASED_STATUSES for o in orders):
        return "draft"
    if contract.end is not None and at >= contract.end:
        return "expired"
    return "active"


def renewal_due_on(contract: Contract, notice_days: int) -> dt.date | None:
    """The day the owner is reminded of the renewal: `notice_days` before the end; None without an end."""
    if contract.end is None:
        return None
    return contract.end - dt.timedelta(days=notice_days)
