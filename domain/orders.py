"""Orders from an approved quote (orders-v1 §1 and §2): the split, money that adds up, release instants.

Pure: no I/O and no clock; the approval date and `now` are arguments.

Splitting. Lines are grouped by the policy's `orders.order_by` fields. A line without
`delivery_date` takes the quote's `start_date`, or the approval date; a line without `ship_to`
takes `account.ship_to`. Orders are sorted by delivery date, then by the other `order_by` fields in
the order they are listed, then by where their first line sits in the quote, and numbered
`<quote id>-01`, `-02`... So the same quote version, policy and approval date always give the same
orders: generating again returns the same numbers. When `delivery_date` is not an `order_by` field,
an order's date is the earliest of its lines'; when `ship_to` is not, the order ships to its first
line's destination (each line keeps its own date and destination).

Money. Amounts are `Decimal`, never floats. A line's approved amount is its `net_total`, or
`quantity × net_price` when the CRM sent no `net_total` (a missing quantity counts as 1). The
orders of a quote add up exactly to the quote's `net_total` rounded to the cent (half up), or to
the rounded sum of the lines when the quote has none. `allocate` gets there: the difference
between that target and the exact sum of the lines is spread over the lines in proportion to
their absolute amounts (equally when all are zero), then each line is rounded to the cent by the
largest-remainder method: every share is rounded down to the cent and the cents still missing go
one each to the lines with the largest remainders, the earlier line in the quote first on a tie.
A line's `net_total` on an order is that allocated amount; `approved_net_total` keeps what the
quote said, and `net_price` is carried over as approved. Amounts are in cents whatever the currency.

Release. An order is released at `orders.release_time` local time on its delivery date in the
account's zone (`account.timezone`, else the policy's `timezone`), computed with zoneinfo and kept
in UTC. A release time that falls into a spring-forward gap (02:30 in New York on 2027-03-14)
happens at the end of the gap, the first instant whose local time is at or after the release time
(03:00 EDT, 07:00 UTC). A release time that occurs twice on a fall-back day happens at its first
occurrence (fold=0). Either way each day has exactly one release instant. An order whose delivery
date is today or past (in its zone) is due at once: `release_due_at` gives the instant to store
for the sweep, `is_order_due` the test for one order.

Changes before release (orders-v1 §2). `can(status, action)` is the whole transition table:

    scheduled    reschedule, split, hold, cancel, release
    held         reschedule, split, resume (-> scheduled), cancel, release
    released     sync (-> synced), sync_fail (-> sync_failed)
    sync_failed  retry (-> released), sync (-> synced)
    synced, cancelled: nothing

A change refused by the table raises `Conflict`; a split that makes no sense (no lines, a line that
is not on the order, every line of the order) raises `NotAllowed`. A split moves whole lines to a
new order numbered after the highest number the quote has used, in the same status as the order it
comes from; totals still add up, since lines keep their allocated amounts.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import Conflict, NotAllowed, Problem, QuoteError
from .policy import Policy
from .quote import Quote

CENT = Decimal("0.01")

SCHEDULED = "scheduled"
RELEASED = "released"
SYNCED = "synced"
HELD = "held"
CANCELLED = "cancelled"
SYNC_FAILED = "sync_failed"
STATUSES = (SCHEDULED, RELEASED, SYNCED, HELD, CANCELLED, SYNC_FAILED)
# Statuses of an order that has been released (whatever became of its ERP message).
RELEASED_STATUSES = frozenset({RELEASED, SYNCED, SYNC_FAILED})

ACTIONS = ("reschedule", "split", "hold", "resume", "cancel", "release", "sync", "sync_fail", "retry")

_TRANSITIONS: dict[tuple[str, str], str] = {
    (SCHEDULED, "reschedule"): SCHEDULED,
    (SCHEDULED, "split"): SCHEDULED,
    (SCHEDULED, "hold"): HELD,
    (SCHEDULED, "cancel"): CANCELLED,
    (SCHEDULED, "release"): RELEASED,
    (HELD, "reschedule"): HELD,
    (HELD, "split"): HELD,
    (HELD, "resume"): SCHEDULED,
    (HELD, "cancel"): CANCELLED,
    (HELD, "release"): RELEASED,
    (RELEASED, "sync"): SYNCED,
    (RELEASED, "sync_fail"): SYNC_FAILED,
    (SYNC_FAILED, "retry"): RELEASED,
    (SYNC_FAILED, "sync"): SYNCED,
}

ASSET_MODES = ("per_line", "per_unit")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


# ------------------------------------------------------------------------------------------ data


@dataclass(frozen=True)
class OrderLine:
    """A quote line on an order: quantities and prices as approved, its share of the total in cents."""

    id: str
    sku: str | None
    quantity: Decimal
    net_price: Decimal | None
    net_total: Decimal
    approved_net_total: Decimal
    recurring: bool
    term_months: Any
    asset: str
    delivery_date: dt.date
    ship_to: str | None
    # On an amendment or cancellation order (`domain.amendments`): what happened to the line since
    # what was released (add, increase, decrease, remove, reprice); quantity and amounts are then
    # the signed difference.
    change: str | None = None

    @property
    def rounding(self) -> Decimal:
        """What allocation added to (or took from) the line's approved amount."""
        return self.net_total - self.approved_net_total

    def as_dict(self, currency: str | None = None) -> dict[str, Any]:
        """The line as data; amounts as text in CURRENCY's minor unit when it is given."""
        data = {
            "id": self.id,
            "sku": self.sku,
            "quantity": number(self.quantity),
            "net_price": price(self.net_price, currency),
            "net_total": money(self.net_total, currency),
            "approved_net_total": price(self.approved_net_total, currency),
            "recurring": self.recurring,
            "term_months": self.term_months,
            "asset": self.asset,
            "delivery_date": self.delivery_date.isoformat(),
            "ship_to": self.ship_to,
        }
        if self.change is not None:
            data["change"] = self.change
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrderLine:
        """The line back from `as_dict()` (e.g. from a stored order)."""
        return cls(
            id=str(data["id"]),
            sku=data.get("sku"),
            quantity=_required(data["quantity"]),
            net_price=_decimal(data.get("net_price")),
            net_total=_required(data["net_total"]),
            approved_net_total=_required(data["approved_net_total"]),
            recurring=bool(data["recurring"]),
            term_months=data.get("term_months"),
            asset=str(data.get("asset") or "per_line"),
            delivery_date=dt.date.fromisoformat(data["delivery_date"]),
            ship_to=data.get("ship_to"),
            change=data.get("change"),
        )


ORDER, AMENDMENT, CANCELLATION = "order", "amendment", "cancellation"
KINDS = (ORDER, AMENDMENT, CANCELLATION)
# What the ERP is told when an order of each kind is released (orders-v1 §4, docs/orders.md).
ERP_EVENTS = {ORDER: "released", AMENDMENT: "amended", CANCELLATION: "cancelled"}


@dataclass(frozen=True)
class PlannedOrder:
    """One order of a quote. `release_at` is in UTC; `zone` is where its release time is read."""

    number: str
    quote_id: str
    quote_version: int
    account_id: str | None
    ship_to: str | None
    delivery_date: dt.date
    lines: tuple[OrderLine, ...]
    total: Decimal
    currency: str
    zone: str
    release_time: str
    release_at: dt.datetime
    status: str = SCHEDULED
    released_at: dt.datetime | None = field(default=None)
    # Kept by the store, not part of the order's data (`as_dict`): what the ERP answered, and the
    # revision a change compares-and-sets on.
    erp_reference: str | None = None
    revision: int = field(default=0, compare=False)
    # An amendment or a cancellation of what earlier versions released (`domain.amendments`).
    kind: str = ORDER
    # Held by Greenlight because this version of the quote arrived; resumed if it is rejected.
    held_for: int | None = None
    # Who buys and on what terms, for the ERP (customer, bill_to, payment_terms, po_number, contract).
    billing: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def erp_event(self) -> str:
        return ERP_EVENTS.get(self.kind, "released")

    @property
    def line_ids(self) -> tuple[str, ...]:
        return tuple(line.id for line in self.lines)

    @property
    def local_release_at(self) -> dt.datetime:
        """The release instant with the local offset of the release zone."""
        return self.release_at.astimezone(ZoneInfo(self.zone))

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "quote_id": self.quote_id,
            "quote_version": self.quote_version,
            "account_id": self.account_id,
            "ship_to": self.ship_to,
            "delivery_date": self.delivery_date.isoformat(),
            "release_at": self.local_release_at.isoformat(),
            "zone": self.zone,
            "release_time": self.release_time,
            "status": self.status,
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "currency": self.currency,
            "total": money(self.total, self.currency),
            "lines": [line.as_dict(self.currency) for line in self.lines],
        } | self._extras()

    def _extras(self) -> dict[str, Any]:
        extras: dict[str, Any] = {}
        if self.kind != ORDER:
            extras["kind"] = self.kind
        if self.held_for is not None:
            extras["held_for"] = self.held_for
        if self.billing:
            extras["billing"] = self.billing
        return extras

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlannedOrder:
        """The order back from `as_dict()` (e.g. from a stored order); instants come back in UTC."""
        released_at = data.get("released_at")
        return cls(
            number=str(data["number"]),
            quote_id=str(data["quote_id"]),
            quote_version=int(data["quote_version"]),
            account_id=data.get("account_id"),
            ship_to=data.get("ship_to"),
            delivery_date=dt.date.fromisoformat(data["delivery_date"]),
            lines=tuple(OrderLine.from_dict(line) for line in data["lines"]),
            total=_required(data["total"]),
            currency=str(data["currency"]),
            zone=str(data["zone"]),
            release_time=str(data["release_time"]),
            release_at=_instant(data["release_at"]),
            status=str(data.get("status") or SCHEDULED),
            released_at=_instant(released_at) if released_at else None,
            kind=str(data.get("kind") or ORDER),
            held_for=data.get("held_for"),
            billing=data.get("billing"),
        )


def erp_message(order: PlannedOrder, event: str | None = None, reference: str | None = None) -> dict[str, Any]:
    """What the ERP receives for an order event (orders-v1 §4): the order, and what happened to it
    (`released`, `amended` or `cancelled` by its kind unless told)."""
    body = order.as_dict()
    body["event"] = event or order.erp_event
    body["type"] = f"order.{body['event']}"
    if reference:
        body["erp_reference"] = reference
    return body


def money(amount: Decimal, currency: str | None = None) -> str:
    """An amount as plain text for machines (the ERP, the CRM, JSON), never a float nor a localized
    string: in CURRENCY's minor unit when it is given (EUR "1234567.50", JPY "4256", KWD "12.345");
    without it, two decimals ("11520.00"), or more when it has them (KWD "12.345")."""
    if currency is not None:
        return str(amount.quantize(minor_unit(currency), ROUND_HALF_UP))
    if amount.as_tuple().exponent in (-3, -4):  # allocated in the minor unit of KWD, BHD, CLF...
        return str(amount)
    return str(amount.quantize(CENT, ROUND_HALF_UP))


def price(amount: Decimal | None, currency: str | None = None) -> str | None:
    """A price as text: like `money`, or every decimal it has when it has more ("33.333")."""
    if amount is None:
        return None
    unit = minor_unit(currency) if currency is not None else CENT
    return money(amount, currency) if amount == amount.quantize(unit, ROUND_HALF_UP) else str(amount)


def _required(value: Any) -> Decimal:
    amount = _decimal(value)
    if amount is None:
        raise ValueError(f"{value!r} is not an amount")
    return amount


def _instant(text: str) -> dt.datetime:
    return _aware(dt.datetime.fromisoformat(text), "a stored instant").astimezone(dt.UTC)


def number(value: Decimal) -> int | float:
    """A quantity for JSON: a whole number when it is one."""
    return int(value) if value == value.to_integral_value() else float(value)


# ----------------------------------------------------------------------------------------- money


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


# ISO 4217 currencies whose minor unit is not the cent (exponent 2): amounts are allocated and
# rounded in the currency's own minor unit (no fractions of a yen, mils of a dinar kept).
_ZERO_DIGITS = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE_DIGITS = "BHD IQD JOD KWD LYD OMR TND"
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_ZERO_DIGITS.split(), 0),
    **dict.fromkeys(_THREE_DIGITS.split(), 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def minor_units(currency: str | None) -> int:
    """Digits after the decimal point of the currency's minor unit (ISO 4217): JPY 0, EUR 2, KWD 3."""
    return MINOR_UNITS.get((currency or "").upper(), 2)


def minor_unit(currency: str | None) -> Decimal:
    """The currency's minor unit as an amount: JPY 1, EUR 0.01, KWD 0.001."""
    return Decimal(1).scaleb(-minor_units(currency))


def allocate(amounts: Sequence[Decimal], target: Decimal, digits: int = 2) -> list[Decimal]:
    """Amounts rounded to the minor unit (`digits`: 2 for cents) adding up exactly to `target` (rounded).

    The difference between the target and the exact sum is spread in proportion to the absolute
    amounts (equally when all are zero); the shares are rounded down to the minor unit and the
    missing units go one each to the largest remainders, the earlier amount first on a tie.
    """
    unit = Decimal(1).scaleb(-digits)
    per = 10**digits
    goal = int(target.quantize(unit, ROUND_HALF_UP) * per)
    if not amounts:
        if goal:
            raise ValueError(f"cannot allocate {target} over no amounts")
        return []
    exact = [Fraction(amount) * per for amount in amounts]
    difference = goal - sum(exact)
    weights = [abs(x) for x in exact]
    if not any(weights):
        weights = [Fraction(1)] * len(exact)
    scale = sum(weights)
    shares = [x + difference * w / scale for x, w in zip(exact, weights, strict=True)]
    cents = [math.floor(share) for share in shares]
    missing = goal - sum(cents)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - cents[i]), i))
    for index in by_remainder[:missing]:
        cents[index] += 1
    shown = CENT if digits <= 2 else unit
    return [(Decimal(c) / per).quantize(shown) for c in cents]


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return amount if amount.is_finite() else None


# -------------------------------------------------------------------------------------- checking


def _where(*path: str | int) -> str:
    text = "$"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _zone_name(name: Any) -> str | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def order_problems(quote: Quote) -> list[Problem]:
    """What stops a valid quote from being split into orders, each located by JSON path."""
    problems: list[Problem] = []
    account = quote.account
    if account.get("timezone") is not None and _zone_name(account.get("timezone")) is None:
        problems.append(
            Problem(
                _where("account", "timezone"),
                f"{account.get('timezone')!r} is not a time zone name (e.g. Europe/Berlin)",
            )
        )
    if account.get("ship_to") is not None and not isinstance(account.get("ship_to"), str):
        problems.append(Problem(_where("account", "ship_to"), "ship_to must be text"))
    if quote.data.get("net_total") is not None and _decimal(quote.data.get("net_total")) is None:
        problems.append(Problem(_where("net_total"), "net_total must be a finite number"))
    if not quote.lines:
        problems.append(Problem(_where("lines"), "the quote has no lines to order"))
    for index, line in enumerate(quote.lines):
        problems.extend(_line_problems(index, line))
    if not problems:
        problems.extend(_total_problems(quote))
    return problems


def total_tolerance(quote: Quote) -> Decimal:
    """How far a quote's `net_total` may be from the sum of its lines: one minor unit of its currency
    per line (the CRM rounds each line), so a cent per line in EUR, a yen per line in JPY."""
    return Decimal(1).scaleb(-minor_units(quote.currency)) * max(1, len(quote.lines))


def _total_problems(quote: Quote) -> list[Problem]:
    target = _decimal(quote.data.get("net_total"))
    if target is None:
        return []
    unit = Decimal(1).scaleb(-minor_units(quote.currency))
    lines = sum((_approved_amount(line) for line in quote.lines), Decimal(0)).quantize(unit, ROUND_HALF_UP)
    gap = target - lines
    tolerance = total_tolerance(quote)
    if abs(gap) <= tolerance:
        return []
    return [
        Problem(
            _where("net_total"),
            f"net_total {target:,} is {abs(gap):,} {'above' if gap > 0 else 'below'} the sum of the lines "
            f"({lines:,}); at most {tolerance:,} is allowed for rounding ({quote.currency} minor unit per line)",
        )
    ]


def _line_problems(index: int, line: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []

    def add(key: str, message: str) -> None:
        problems.append(Problem(_where("lines", index, key), message))

    for key in ("quantity", "net_price", "net_total"):
        if line.get(key) is not None and _decimal(line.get(key)) is None:
            add(key, f"{key} must be a finite number")
    quantity = _decimal(line.get("quantity"))
    if quantity is not None and quantity <= 0:
        add("quantity", f"quantity must be more than 0 to be ordered (not {line.get('quantity')!r})")
    if line.get("net_total") is None and line.get("net_price") is None:
        add("net_total", "a line needs net_total (or net_price) to be ordered")
    if line.get("ship_to") is not None and not isinstance(line.get("ship_to"), str):
        add("ship_to", "ship_to must be text")
    mode = line.get("asset")
    if mode is not None and mode not in ASSET_MODES:
        add("asset", f"asset must be {' or '.join(ASSET_MODES)}, not {mode!r}")
    if mode == "per_unit" and not line.get("recurring"):
        quantity = _decimal(line.get("quantity", 1))
        if quantity is None or quantity < 1 or quantity != quantity.to_integral_value():
            add("asset", "asset: per_unit needs a whole quantity of at least 1")
    return problems


# ------------------------------------------------------------------------------------- splitting


def order_number(quote_id: str, sequence: int) -> str:
    return f"{quote_id}-{sequence:02d}"


def next_number(quote_id: str, taken: Iterable[str]) -> str:
    """The number after the highest one the quote has used (cancelled orders keep theirs)."""
    prefix = f"{quote_id}-"
    used = [int(n[len(prefix) :]) for n in taken if n.startswith(prefix) and n[len(prefix) :].isdigit()]
    return order_number(quote_id, max(used, default=0) + 1)


def _release_zone(policy: Policy, quote: Quote) -> str:
    return _zone_name(quote.account.get("timezone")) or policy.timezone


def _default_date(quote: Quote, approved_on: dt.date) -> dt.date:
    start = quote.data.get("start_date")
    return dt.date.fromisoformat(start[:10]) if isinstance(start, str) else approved_on


def _order_line(line: dict[str, Any], net_total: Decimal, approved: Decimal, day: dt.date, ship_to: Any) -> OrderLine:
    quantity = _decimal(line.get("quantity"))
    return OrderLine(
        id=str(line["id"]),
        sku=None if line.get("sku") is None else str(line["sku"]),
        quantity=Decimal(1) if quantity is None else quantity,
        net_price=_decimal(line.get("net_price")),
        net_total=net_total,
        approved_net_total=approved,
        recurring=bool(line.get("recurring")),
        term_months=line.get("term_months"),
        asset=str(line.get("asset") or "per_line"),
        delivery_date=day,
        ship_to=ship_to,
    )


def _approved_amount(line: dict[str, Any]) -> Decimal:
    total = _decimal(line.get("net_total"))
    if total is not None:
        return total
    quantity = _decimal(line.get("quantity"))
    price = _decimal(line.get("net_price")) or Decimal(0)
    return price * (Decimal(1) if quantity is None else quantity)


def _field(line: dict[str, Any], name: str) -> Any:
    value: Any = line
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _hashable(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    """A total order over the values a field can hold; missing values last."""
    if value is None:
        return (9, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        amount = _decimal(value)
        return (2, amount) if amount is not None else (3, str(value))
    if isinstance(value, dt.date):
        return (0, value.isoformat())
    return (3, str(value))


def plan_orders(policy: Policy, quote: Quote, approved_on: dt.date) -> list[PlannedOrder]:
    """The orders of a quote approved on `approved_on` (orders-v1 §1), numbered and released per §2.

    The caller makes sure the quote is approved (never pending, rejected or recalled) and passes
    the day it was approved, so that generating again gives the same orders. Raises QuoteError
    with located problems when the quote cannot be split.
    """
    problems = order_problems(quote)
    if problems:
        raise QuoteError(problems)
    fields = list(dict.fromkeys(policy.orders.order_by))
    default_day = _default_date(quote, approved_on)
    default_ship_to = quote.account.get("ship_to")
    approved = [_approved_amount(line) for line in quote.lines]
    target = _decimal(quote.data.get("net_total"))
    allocated = allocate(approved, sum(approved, Decimal(0)) if target is None else target, minor_units(quote.currency))

    groups: dict[tuple[Any, ...], list[OrderLine]] = {}
    for line, amount, exact in zip(quote.lines, allocated, approved, strict=True):
        raw_date = line.get("delivery_date")
        day = dt.date.fromisoformat(raw_date[:10]) if isinstance(raw_date, str) else default_day
        ship_to = line.get("ship_to") if line.get("ship_to") is not None else default_ship_to
        resolved = {"delivery_date": day, "ship_to": ship_to}
        key = tuple(_hashable(resolved[f] if f in resolved else _field(line, f)) for f in fields)
        groups.setdefault(key, []).append(_order_line(line, amount, exact, day, ship_to))

    def placement(item: tuple[int, tuple[tuple[Any, ...], list[OrderLine]]]) -> tuple[Any, ...]:
        first, (key, lines) = item
        others = [_sort_key(v) for f, v in zip(fields, key, strict=True) if f != "delivery_date"]
        return (min(line.delivery_date for line in lines), *others, first)

    zone = _release_zone(policy, quote)
    release_time = policy.orders.release_time
    header = billing(quote)
    orders = []
    ranked = sorted(enumerate(groups.items()), key=placement)
    for sequence, (_, (_, lines)) in enumerate(ranked, start=1):
        day = min(line.delivery_date for line in lines)
        orders.append(
            PlannedOrder(
                number=order_number(quote.id, sequence),
                quote_id=quote.id,
                quote_version=quote.version,
                account_id=None if quote.account.get("id") is None else str(quote.account["id"]),
                ship_to=lines[0].ship_to,
                delivery_date=day,
                lines=tuple(lines),
                total=sum((line.net_total for line in lines), Decimal("0.00")),
                currency=quote.currency,
                zone=zone,
                release_time=release_time,
                release_at=release_at(day, release_time, zone),
                billing=header,
            )
        )
    return orders


def billing(quote: Quote) -> dict[str, Any]:
    """Who buys and on what terms, as the ERP receives it with every order (docs/orders.md): the
    customer, bill-to and ship-to, payment terms, the PO number when the quote has one, the contract."""
    account = quote.account
    found = {
        "customer": {"account_id": account.get("id"), "name": account.get("name")},
        "bill_to": quote.data.get("bill_to") or account.get("bill_to") or account.get("name"),
        "ship_to": account.get("ship_to"),
        "payment_terms": quote.data.get("payment_terms"),
        "po_number": quote.data.get("po_number"),
        "contract": f"C-{quote.id}",  # domain.contracts.contract_number
    }
    return {key: value for key, value in found.items() if value is not None}


# --------------------------------------------------------------------------------------- release


def _zone(zone: ZoneInfo | str) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def _time_of_day(release_time: str | dt.time) -> dt.time:
    if isinstance(release_time, dt.time):
        return release_time
    match = _TIME.match(release_time)
    if not match:
        raise ValueError(f"{release_time!r} is not a time of day like 06:00")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _aware(moment: dt.datetime, name: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), got {moment!r}")
    return moment


def release_at(order_date: dt.date, release_time: str | dt.time, zone: ZoneInfo | str) -> dt.datetime:
    """The UTC instant of `release_time` local time on `order_date` in `zone`.

    A local time skipped by a spring-forward gap resolves to the end of the gap; a local time that
    occurs twice on a fall-back day resolves to its first occurrence.
    """
    tz = _zone(zone)
    wall = dt.datetime.combine(order_date, _time_of_day(release_time))
    try:
        instant = wall.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == wall:
            return instant
        return _end_of_gap(wall, tz)
    except (OverflowError, ValueError):
        # 0001-01-01 06:00 in Tokyo is still year 0 in UTC, which Python cannot represent.
        raise Conflict(
            f"the delivery date {order_date.isoformat()} is out of range: an order is released at "
            f"{_time_of_day(release_time):%H:%M} in {tz.key} on its date, which must lie between "
            "0001-01-02 and 9999-12-30"
        ) from None


def _end_of_gap(wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The first instant whose local time in `tz` is at or after `wall`, which lies in a gap."""
    # In a gap fold=1 reads the wall time with the later offset (an instant before the jump),
    # fold=0 with the earlier one (an instant after it); local time only grows in between.
    before = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    after = int(wall.replace(tzinfo=tz, fold=0).timestamp())
    if before > after:
        before, after = after, before
    while after - before > 1:
        middle = (before + after) // 2
        if dt.datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return dt.datetime.fromtimestamp(after, dt.UTC)


def is_due(release_at: dt.datetime, now: dt.datetime) -> bool:
    return _aware(release_at, "release_at") <= _aware(now, "now")


def release_due_at(
    order_date: dt.date, release_time: str | dt.time, zone: ZoneInfo | str, now: dt.datetime
) -> dt.datetime:
    """The instant to store for the release sweep: `now` when the date is today or past and its
    release time is still ahead (released at once), else `release_at`."""
    planned = release_at(order_date, release_time, zone)
    now = _aware(now, "now").astimezone(dt.UTC)
    if order_date <= now.astimezone(_zone(zone)).date() and planned > now:
        return now
    return planned


def is_order_due(order: PlannedOrder, now: dt.datetime) -> bool:
    """A scheduled order is due at its release instant, or at once when its date is today or past."""
    if order.status != SCHEDULED:
        return False
    today = _aware(now, "now").astimezone(ZoneInfo(order.zone)).date()
    return is_due(order.release_at, now) or order.delivery_date <= today


# ------------------------------------------------------------------------------- status changes


def can(status: str, action: str) -> bool:
    """Whether an order in `status` allows `action` (see the table at the top of this module)."""
    if status not in STATUSES:
        raise ValueError(f"unknown order status {status!r}")
    if action not in ACTIONS:
        raise ValueError(f"unknown order action {action!r}")
    return (status, action) in _TRANSITIONS


def next_status(status: str, action: str) -> str:
    if not can(status, action):
        raise Conflict(f"an order that is {status.replace('_', ' ')} cannot be {_past(action)}")
    return _TRANSITIONS[(status, action)]


def _past(action: str) -> str:
    return {
        "reschedule": "rescheduled",
        "split": "split",
        "hold": "held",
        "resume": "resumed",
        "cancel": "cancelled",
        "release": "released",
        "sync": "marked synced",
        "sync_fail": "marked as failed to sync",
        "retry": "retried",
    }[action]


def _check(order: PlannedOrder, action: str) -> str:
    try:
        return next_status(order.status, action)
    except Conflict:
        raise Conflict(
            f"order {order.number} is {order.status.replace('_', ' ')}: it can no longer be {_past(action)}"
            if order.status in RELEASED_STATUSES | {CANCELLED}
            else f"order {order.number} is {order.status.replace('_', ' ')}: it cannot be {_past(action)}"
        ) from None


def transition(order: PlannedOrder, action: str, at: dt.datetime | None = None) -> PlannedOrder:
    """The order after hold, resume, cancel, release, sync, sync_fail or retry.

    `release` records `at` (required, aware) as `released_at`. Reschedule and split have their own
    functions.
    """
    if action in ("reschedule", "split"):
        raise ValueError(f"use {action}() for {action}")
    status = _check(order, action)
    if action == "release":
        if at is None:
            raise ValueError("release needs the instant it happens (at=)")
        return replace(order, status=status, released_at=_aware(at, "at").astimezone(dt.UTC))
    if action == "resume":
        return replace(order, status=status, held_for=None)
    return replace(order, status=status)


def reschedule(order: PlannedOrder, new_date: dt.date) -> PlannedOrder:
    """The order moved to `new_date`, its lines with it; its release instant follows."""
    _check(order, "reschedule")
    return _moved(order, order.lines, new_date)


def _moved(
    order: PlannedOrder, lines: Sequence[OrderLine], new_date: dt.date, number: str | None = None
) -> PlannedOrder:
    moved = tuple(replace(line, delivery_date=new_date) for line in lines)
    return replace(
        order,
        number=number or order.number,
        delivery_date=new_date,
        lines=moved,
        total=sum((line.net_total for line in moved), Decimal("0.00")),
        release_at=release_at(new_date, order.release_time, order.zone),
    )


def split(
    order: PlannedOrder,
    line_ids: Iterable[str],
    new_date: dt.date,
    *,
    taken: Iterable[str],
    quantities: dict[str, Decimal] | None = None,
) -> tuple[PlannedOrder, PlannedOrder]:
    """Move some lines of `order` to a new order on `new_date`: whole lines, or with `quantities`
    part of a line (60 seats now, 40 later: the line is on both orders, its amount shared to the
    minor unit in proportion to the units).

    `taken` is every order number the quote has used; the new order takes the next one. Returns the
    order with the lines that stay and the new order, whose totals add up to the old total.
    """
    _check(order, "split")
    parts = dict(quantities or {})
    wanted = list(dict.fromkeys([*line_ids, *parts]))
    if not wanted:
        raise NotAllowed(f"name the lines to move off order {order.number}")
    strangers = [line_id for line_id in wanted if line_id not in order.line_ids]
    if strangers:
        raise NotAllowed(f"{', '.join(strangers)} {'is' if len(strangers) == 1 else 'are'} not on order {order.number}")
    by_id = {line.id: line for line in order.lines}
    for line_id, quantity in parts.items():
        whole = by_id[line_id].quantity
        if not 0 < quantity < whole:
            raise NotAllowed(
                f"move between 0 and {whole.normalize():f} units of {line_id} (not {quantity.normalize():f}), "
                "or choose the whole line"
            )
    if len(wanted) == len(order.lines) and not parts:
        raise NotAllowed(f"moving every line of order {order.number} is a reschedule, not a split")
    staying: list[OrderLine] = []
    moving: list[OrderLine] = []
    for line in order.lines:
        if line.id not in wanted:
            staying.append(line)
        elif line.id in parts:
            stay, move = _shared(line, parts[line.id], order.currency)
            staying.append(stay)
            moving.append(move)
        else:
            moving.append(line)
    number = next_number(order.quote_id, [*taken, order.number])
    kept = replace(order, lines=tuple(staying), total=sum((line.net_total for line in staying), Decimal("0.00")))
    return kept, _moved(order, moving, new_date, number)


def _shared(line: OrderLine, moved: Decimal, currency: str) -> tuple[OrderLine, OrderLine]:
    """A line cut in two by units: what stays and what moves, amounts shared to the minor unit."""
    kept = line.quantity - moved
    digits = minor_units(currency)
    stay_total, move_total = allocate([line.net_total * kept, line.net_total * moved], line.net_total, digits)
    stay_approved = line.approved_net_total * kept / line.quantity
    return (
        replace(line, quantity=kept, net_total=stay_total, approved_net_total=stay_approved),
        replace(line, quantity=moved, net_total=move_total, approved_net_total=line.approved_net_total - stay_approved),
    )
