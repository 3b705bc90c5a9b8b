"""Orders and entitlements in Slack: `/deal orders` with its buttons, `/deal account`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import ConfirmObject, MarkdownTextObject

from domain.i18n import _, _n, money, number
from domain.orders import OrderLine, PlannedOrder

from .views.text import escape

MAX_ORDERS_SHOWN = 12  # orders on one page of `/deal orders` (2 blocks each: well within 50 blocks)
LINES_SHOWN = 8  # lines named in an order's summary; the rest are counted and one tap away
LINES_PER_SECTION = 40  # lines in one section of the lines modal (Slack: 3,000 characters a text)
LINES_PER_PAGE = 200  # lines on one page of the lines modal
MAX_OPTIONS = 100  # Slack's limit on a select's options
CHANGEABLE = {"scheduled", "held"}
_ID = 40  # characters of a line id shown
_RANGE = "\u2192"  # the separator of a group option's value: first and last line id of the group


def _quantity(line: OrderLine) -> str:
    sign = "+" if line.change and line.quantity > 0 else ""
    return f"{sign}{line.quantity.normalize():f}"


def _short(text: str, size: int = _ID) -> str:
    return text if len(text) <= size else text[: size - 1] + "\u2026"


def _line(order: PlannedOrder) -> str:
    shown = ", ".join(f"{escape(_short(line.id))}×{_quantity(line)}" for line in order.lines[:LINES_SHOWN])
    more = len(order.lines) - LINES_SHOWN
    if more > 0:
        shown += _n(
            " and {count} more line ({total} in all: tap *Lines*)",
            " and {count} more lines ({total} in all: tap *Lines*)",
            more,
            total=number(len(order.lines)),
        )
    status = order_status(order.status)
    kind = "" if order.kind == "order" else f" · {order.kind}"
    held = _(" (waits for v{version})", version=order.held_for) if order.held_for else ""
    where = escape(_short(order.ship_to or "-", 80))
    text = (
        f"*{escape(order.number)}*{kind} · {order.delivery_date.isoformat()} · {where} · "
        f"{escape(money(order.total, order.currency))} · _{status}_{held}\n{shown}"
    )
    return text[:2900]


def order_status(status: str) -> str:
    """An order's status as the reader says it."""
    words = {
        "scheduled": _("scheduled"),
        "held": _("held"),
        "released": _("released"),
        "cancelled": _("cancelled"),
        "synced": _("synced"),
        "sync_failed": _("sync failed"),
    }
    return words.get(status, status.replace("_", " "))


def _confirm(title: str, text: str, yes: str) -> ConfirmObject:
    return ConfirmObject(title=title[:100], text=text[:300], confirm=yes[:30], deny=_("Keep it")[:30])


def order_buttons(order: PlannedOrder, index: int) -> ActionsBlock:
    value = order.number
    elements: list[Any] = [
        DatePickerElement(
            action_id=f"orders.reschedule:{index}",
            initial_date=order.delivery_date.isoformat(),
            placeholder=_("Reschedule"),
        ),
    ]
    if order.status == "held":
        elements.append(ButtonElement(text=_("Resume"), action_id=f"orders.resume:{index}", value=value))
    else:
        elements.append(ButtonElement(text=_("Hold"), action_id=f"orders.hold:{index}", value=value))
    when = order.delivery_date.isoformat()
    elements += [
        ButtonElement(
            text=_("Release now"),
            action_id=f"orders.release:{index}",
            value=value,
            style="primary",
            confirm=_confirm(
                _("Release now?"),
                _(
                    "Order {order} (due {day}) goes to the ERP at once. A released order cannot be changed.",
                    order=order.number,
                    day=when,
                ),
                _("Release now"),
            ),
        ),
        ButtonElement(text=_("Split"), action_id=f"orders.split:{index}", value=value),
        ButtonElement(
            text=_("Cancel"),
            action_id=f"orders.cancel:{index}",
            value=value,
            style="danger",
            confirm=_confirm(
                _("Cancel this order?"),
                _(
                    "Order {order} (due {day}) will never be released. This cannot be undone.",
                    order=order.number,
                    day=when,
                ),
                _("Cancel the order"),
            ),
        ),
    ]
    if len(order.lines) > LINES_SHOWN:
        elements.append(ButtonElement(text=_("Lines"), action_id=f"orders.lines:{index}", value=value))
    return ActionsBlock(block_id=f"orders.actions.{value}", elements=elements)


def orders_message(orders: list[PlannedOrder], quote_id: str, page: int = 0) -> tuple[str, list[Any]]:
    """The quote's orders, `MAX_ORDERS_SHOWN` to a page, each summarised within Slack's limits."""
    if not orders:
        text = _("{quote} has no orders yet: they are generated once the quote is approved.", quote=quote_id)
        return text, [SectionBlock(block_id="orders.none", text=MarkdownTextObject(text=escape(text)))]
    pages = max(1, -(-len(orders) // MAX_ORDERS_SHOWN))
    page = min(max(page, 0), pages - 1)
    text = _n("{quote}: {count} order", "{quote}: {count} orders", len(orders), quote=quote_id)
    if pages > 1:
        text += _(" (page {page} of {pages})", page=page + 1, pages=pages)
    blocks: list[Any] = [HeaderBlock(block_id="orders.header", text=text[:150])]
    first = page * MAX_ORDERS_SHOWN
    for index, order in enumerate(orders[first : first + MAX_ORDERS_SHOWN], start=first):
        blocks.append(SectionBlock(block_id=f"orders.order.{order.number}", text=MarkdownTextObject(text=_line(order))))
        if order.status in CHANGEABLE or len(order.lines) > LINES_SHOWN:
            blocks.append(order_buttons(order, index) if order.status in CHANGEABLE else _lines_only(order, index))
    if pages > 1:
        turns: list[Any] = []
        if page > 0:
            turns.append(ButtonElement(text=_("Previous"), action_id="orders.page:0", value=f"{quote_id} {page - 1}"))
        if page < pages - 1:
            turns.append(ButtonElement(text=_("Next"), action_id="orders.page:1", value=f"{quote_id} {page + 1}"))
        blocks.append(ActionsBlock(block_id="orders.pages", elements=turns))
    return text, blocks


def desk_message(
    orders: list[PlannedOrder], total: int, first: dt.date, last: dt.date, page: int, per_page: int
) -> tuple[str, list[Any]]:
    """The order desk: orders across quotes due `first`..`last`, one page, each with its actions."""
    if not total:
        text = _("No order is due from {start} to {end}.", start=first.isoformat(), end=last.isoformat())
        return text, [SectionBlock(block_id="desk.none", text=MarkdownTextObject(text=escape(text)))]
    pages = max(1, -(-total // per_page))
    text = _("Orders due {start} to {end}: {count}", start=first.isoformat(), end=last.isoformat(), count=total)
    text += _(" (page {page} of {pages})", page=page + 1, pages=pages) if pages > 1 else ""
    blocks: list[Any] = [HeaderBlock(block_id="desk.header", text=text[:150])]
    for index, order in enumerate(orders[:MAX_ORDERS_SHOWN], start=page * per_page):
        summary = f"{escape(order.quote_id)} · {_line(order)}"
        blocks.append(
            SectionBlock(block_id=f"orders.order.{order.number}", text=MarkdownTextObject(text=summary[:2900]))
        )
        if order.status in CHANGEABLE:
            blocks.append(order_buttons(order, index))
        elif len(order.lines) > LINES_SHOWN:
            blocks.append(_lines_only(order, index))
    turns: list[Any] = []
    if page > 0:
        turns.append(ButtonElement(text=_("Previous"), action_id="desk.page:0", value=f"{first}..{last} {page - 1}"))
    if page < pages - 1:
        turns.append(ButtonElement(text=_("Next"), action_id="desk.page:1", value=f"{first}..{last} {page + 1}"))
    if turns:
        blocks.append(ActionsBlock(block_id="desk.pages", elements=turns))
    return text, blocks


def desk_home_blocks(orders: list[PlannedOrder], total: int, first: dt.date, last: dt.date) -> list[Any]:
    """The order desk's section of App Home: this week's orders, the first few, and where the rest are."""
    blocks: list[Any] = [
        DividerBlock(block_id="home.desk.divider"),
        HeaderBlock(block_id="home.desk.header", text=_("Order desk: {count} due this week", count=total)[:150]),
    ]
    if not orders:
        blocks.append(
            SectionBlock(block_id="home.desk.none", text=MarkdownTextObject(text=_("No order is due this week.")))
        )
        return blocks
    rows = [
        f"• *{escape(o.number)}* · {o.delivery_date.isoformat()} · {escape(money(o.total, o.currency))} · "
        f"_{order_status(o.status)}_"
        for o in orders
    ]
    blocks.append(SectionBlock(block_id="home.desk.orders", text=MarkdownTextObject(text="\n".join(rows)[:2900])))
    more = _(
        "`/deal orders due` shows all {count} with their actions ({start} to {end}).",
        count=total,
        start=first.isoformat(),
        end=last.isoformat(),
    )
    blocks.append(ContextBlock(block_id="home.desk.more", elements=[MarkdownTextObject(text=more)]))
    return blocks


def _lines_only(order: PlannedOrder, index: int) -> ActionsBlock:
    button = ButtonElement(text=_("Lines"), action_id=f"orders.lines:{index}", value=order.number)
    return ActionsBlock(block_id=f"orders.actions.{order.number}", elements=[button])


def lines_modal(order: PlannedOrder, page: int = 0) -> dict[str, Any]:
    """Every line of an order, `LINES_PER_PAGE` to a page with Previous and Next."""
    pages = max(1, -(-len(order.lines) // LINES_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    lines = order.lines[page * LINES_PER_PAGE : (page + 1) * LINES_PER_PAGE]
    head = f"*{escape(order.number)}* · {len(order.lines):,} lines · page {page + 1} of {pages}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    for start in range(0, len(lines), LINES_PER_SECTION):
        rows = [
            f"{escape(_short(line.id))} · {escape(_short(line.sku or '-'))} ×{_quantity(line)} · "
            f"{escape(money(line.net_total, order.currency))}"
            for line in lines[start : start + LINES_PER_SECTION]
        ]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(rows)[:2990]}})
    turns = []
    if page > 0:
        turns.append(_button("Previous", "orders.lines_page:0", f"{order.number} {page - 1}"))
    if page < pages - 1:
        turns.append(_button("Next", "orders.lines_page:1", f"{order.number} {page + 1}"))
    if turns:
        blocks.append({"type": "actions", "block_id": "orders.lines.pages", "elements": turns})
    return {
        "type": "modal",
        "callback_id": "orders.lines",
        "private_metadata": order.number,
        "title": {"type": "plain_text", "text": "Order lines"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def _button(text: str, action_id: str, value: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}


def split_options(order: PlannedOrder) -> list[dict[str, Any]]:
    """One option per line, or, past Slack's 100 options, one per group of consecutive lines."""
    size = max(1, -(-len(order.lines) // MAX_OPTIONS))
    options = []
    for start in range(0, len(order.lines), size):
        group = order.lines[start : start + size]
        if size == 1:
            label, value = f"{group[0].id} ({group[0].sku or 'line'})", group[0].id
        else:
            first, last = group[0].id, group[-1].id
            label = f"{_short(first, 30)} to {_short(last, 30)} ({len(group)} lines)"
            value = f"{first}{_RANGE}{last}"
            if len(value) > 150:
                value = f"#{start}{_RANGE}{start + len(group) - 1}"
        options.append({"text": {"type": "plain_text", "text": label[:75]}, "value": value})
    return options


def split_quantities(text: str) -> dict[str, Decimal]:
    """`L3=40, L5=2` read as units to move per line; ValueError says what is wrong."""
    found: dict[str, Decimal] = {}
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        line_id, equals, amount = part.partition("=")
        try:
            units = Decimal(amount.strip())
        except InvalidOperation:
            units = Decimal("NaN")
        if not equals or not line_id.strip() or not units.is_finite():
            raise ValueError(f"`{part[:40]}` is not a line and its units: write it as L3=40")
        found[line_id.strip()] = units
    return found


def chosen_lines(order: PlannedOrder, values: list[str]) -> list[str] | None:
    """The line ids the split modal's chosen options stand for; None when the order no longer has them."""
    ids = [line.id for line in order.lines]
    chosen: list[str] = []
    for value in values:
        if _RANGE not in value:
            chosen.append(value)
            continue
        first, last = value.split(_RANGE, 1)
        if first.startswith("#") and last.isdigit():
            start, end = int(first[1:]), int(last)
        elif first in ids and last in ids:
            start, end = ids.index(first), ids.index(last)
        else:
            return None
        if not 0 <= start <= end < len(ids):
            return None
        chosen.extend(ids[start : end + 1])
    return list(dict.fromkeys(chosen))


def split_modal(order: PlannedOrder) -> dict[str, Any]:
    options = split_options(order)
    grouped = len(options) < len(order.lines)
    label = "Lines to move" if not grouped else f"Lines to move ({len(order.lines):,} lines, grouped)"
    return {
        "type": "modal",
        "callback_id": "orders.split",
        "private_metadata": order.number,
        "title": {"type": "plain_text", "text": "Split order"},
        "submit": {"type": "plain_text", "text": "Split"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "split.lines",
                "label": {"type": "plain_text", "text": label},
                "element": {"type": "multi_static_select", "action_id": "split.lines_select", "options": options},
            },
            {
                "type": "input",
                "block_id": "split.quantities",
                "optional": True,
                "label": {"type": "plain_text", "text": "Part of a line (optional)"},
                "hint": {"type": "plain_text", "text": "Units to move, e.g. L3=40: the rest stays on this order."},
                "element": {"type": "plain_text_input", "action_id": "split.quantities_text", "max_length": 2000},
            },
            {
                "type": "input",
                "block_id": "split.date",
                "label": {"type": "plain_text", "text": "New delivery date"},
                "element": {
                    "type": "datepicker",
                    "action_id": "split.date_pick",
                    "initial_date": order.delivery_date.isoformat(),
                },
            },
        ],
    }


def account_message(
    account_id: str, at: dt.date, contracts: list[Any], found: Any, statuses: dict[str, str] | None = None
) -> tuple[str, list[Any]]:
    subs, assets = list(found.subscriptions), list(found.assets)
    text = f"{account_id} on {at.isoformat()}: {len(subs)} subscription(s), {len(assets)} asset(s) in force"
    if not contracts:
        text = f"{account_id} has no contract with Greenlight yet."
    blocks: list[Any] = [SectionBlock(block_id="account.head", text=MarkdownTextObject(text=f"*{escape(text)}*"))]
    terms = []
    for contract in contracts[:10]:
        status = (statuses or {}).get(contract.number, "")
        span = f"{contract.start or '?'} to {contract.end}" if contract.end else f"from {contract.start or '?'}"
        versions = ", ".join(f"v{v}" for v in contract.versions)
        renew = f" · renews by {contract.end}" if contract.end and status == "active" else ""
        terms.append(
            f"• *{escape(contract.number)}* · {escape(status or '-')} · {span} · "
            f"{escape(money(contract.total, contract.currency))} · {escape(contract.quote_id)} {versions}{renew}"
        )
    if len(contracts) > 10:
        terms.append(f"and {len(contracts) - 10} more contracts")
    if terms:
        blocks.append(SectionBlock(block_id="account.contracts", text=MarkdownTextObject(text="\n".join(terms)[:2900])))
    rows = [
        f"• {escape(_short(s.sku or s.line_id))} ×{s.quantity.normalize():f} from {s.start} to {s.end} "
        f"(order {escape(s.order_number)})"
        for s in subs[:20]
    ]
    rows += [
        f"• asset {escape(_short(a.sku or a.line_id))} ×{a.quantity.normalize():f}"
        f"{' (units tracked one by one)' if a.per_unit else ''} (order {escape(a.order_number)})"
        for a in assets[:20]
    ]
    left = len(subs) + len(assets) - len(rows)
    if left > 0:
        rows.append(f"and {left} more")
    if rows:
        blocks.append(SectionBlock(block_id="account.items", text=MarkdownTextObject(text="\n".join(rows)[:2900])))
    return text, blocks
