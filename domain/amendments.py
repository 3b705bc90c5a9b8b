"""Amendments as deltas: the orders of a newer approved version hold only what changed (docs/orders.md).

Pure: no I/O and no clock. What was released (orders in `RELEASED_STATUSES`, of any earlier version
and of any kind) is what the customer has; the newer version says what they should have. Per line
id, the difference becomes a line of a new order:

    add        a line no released order had                   the new line as it is
    increase   more units than released                       + the extra units and amount
    decrease   fewer units than released                      - the units and amount given back
    remove     a released line the new version no longer has  - everything released of it
    reprice    the same units at another amount               + or - the amount only

Additions, increases and reprices go on `amendment` orders, decreases and removals on
`cancellation` orders; the ERP receives each as its own event (`amended`, `cancelled`). A line that
did not change makes no order, so nothing released is ordered twice. Orders of earlier versions that
were never released are superseded (cancelled) when the newer version's orders are generated, so
their lines come back here as additions. When nothing of the quote was released yet, the newer
version's orders are plain orders, as if it were the first.

Delta lines keep the new version's delivery date and destination; a removal is due on the day the
newer version was approved. Delta orders are grouped by kind, delivery date and destination, sorted
by date (amendments before cancellations on one day), and numbered after every number the quote has
used. Amounts are signed differences of allocated amounts, so the released orders and the delta
orders add up to the newer version's total, to the cent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from .orders import (
    AMENDMENT,
    CANCELLATION,
    RELEASED_STATUSES,
    OrderLine,
    PlannedOrder,
    next_number,
    release_at,
)

ADD, INCREASE, DECREASE, REMOVE, REPRICE = "add", "increase", "decrease", "remove", "reprice"
CHANGES = (ADD, INCREASE, DECREASE, REMOVE, REPRICE)


@dataclass
class _Delivered:
    quantity: Decimal
    amount: Decimal
    approved: Decimal
    last: OrderLine


def delivered(orders: Iterable[PlannedOrder]) -> dict[str, _Delivered]:
    """Per line id, what the released orders gave the customer (signed sums), in order of appearance."""
    found: dict[str, _Delivered] = {}
    released = [o for o in orders if o.status in RELEASED_STATUSES]
    for order in sorted(released, key=lambda o: (o.quote_version, o.number)):
        for line in order.lines:
            got = found.get(line.id)
            if got is None:
                found[line.id] = _Delivered(line.quantity, line.net_total, line.approved_net_total, line)
            else:
                got.quantity += line.quantity
                got.amount += line.net_total
                got.approved += line.approved_net_total
                got.last = line
    return found


def delta_lines(target: Sequence[OrderLine], released: dict[str, _Delivered], removed_on: dt.date) -> list[OrderLine]:
    """The changes between what was released and `target` (the newer version's lines), as signed lines."""
    lines: list[OrderLine] = []
    wanted = {line.id for line in target}
    for line in target:
        got = released.get(line.id)
        if got is None:
            lines.append(replace(line, change=ADD))
            continue
        quantity, amount = line.quantity - got.quantity, line.net_total - got.amount
        if quantity == 0 and amount == 0:
            continue
        change = INCREASE if quantity > 0 else DECREASE if quantity < 0 else REPRICE
        lines.append(
            replace(
                line,
                quantity=quantity,
                net_total=amount,
                approved_net_total=line.approved_net_total - got.approved,
                change=change,
            )
        )
    for line_id, got in released.items():
        if line_id in wanted or (got.quantity == 0 and got.amount == 0):
            continue
        lines.append(
            replace(
                got.last,
                quantity=-got.quantity,
                net_total=-got.amount,
                approved_net_total=-got.approved,
                delivery_date=removed_on,
                change=REMOVE,
            )
        )
    return lines


def kind_of(line: OrderLine) -> str:
    return CANCELLATION if line.change in (DECREASE, REMOVE) else AMENDMENT


def plan_amendments(
    planned: Sequence[PlannedOrder], earlier: Sequence[PlannedOrder], approved_on: dt.date
) -> list[PlannedOrder]:
    """The orders of a newer approved version, given its full plan (`plan_orders`) and every order the
    quote already has. Numbers follow every number the quote has used."""
    taken = [o.number for o in earlier]
    if not planned:
        return []
    template = planned[0]
    released = delivered(earlier)
    if not released:
        return _renumbered(planned, taken)
    lines = delta_lines([line for order in planned for line in order.lines], released, approved_on)
    groups: dict[tuple[str, dt.date, str | None], list[OrderLine]] = {}
    for line in lines:
        groups.setdefault((kind_of(line), line.delivery_date, line.ship_to), []).append(line)
    ranked = sorted(groups.items(), key=lambda item: (item[0][1], item[0][0] != AMENDMENT))
    orders: list[PlannedOrder] = []
    for (kind, day, ship_to), group in ranked:
        number = next_number(template.quote_id, taken)
        taken.append(number)
        orders.append(
            replace(
                template,
                number=number,
                kind=kind,
                ship_to=ship_to,
                delivery_date=day,
                lines=tuple(group),
                total=sum((line.net_total for line in group), Decimal("0.00")),
                release_at=release_at(day, template.release_time, template.zone),
                status=template.status,
                released_at=None,
                held_for=None,
            )
        )
    return orders


def _renumbered(planned: Sequence[PlannedOrder], taken: list[str]) -> list[PlannedOrder]:
    if not taken:
        return list(planned)
    renumbered = []
    for order in planned:
        number = next_number(order.quote_id, taken)
        taken.append(number)
        renumbered.append(dataclasses.replace(order, number=number))
    return renumbered
