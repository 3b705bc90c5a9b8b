"""Orders and entitlements in Slack: `/deal orders` with its buttons, `/deal account`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject

from domain.orders import PlannedOrder

from .views.text import escape

MAX_ORDERS_SHOWN = 12
CHANGEABLE = {"scheduled", "held"}


def _line(order: PlannedOrder) -> str:
    lines = ", ".join(f"{escape(line.id)}×{line.quantity.normalize():f}" for line in order.lines)
    status = order.status.replace("_", " ")
    return (
        f"*{escape(order.number)}* · {order.delivery_date.isoformat()} · {escape(order.ship_to or '-')} · "
        f"{escape(order.currency)} {order.total:,.2f} · _{status}_\n{lines}"
    )


def order_buttons(order: PlannedOrder, index: int) -> ActionsBlock:
    value = order.number
    elements: list[Any] = [
        DatePickerElement(
            action_id=f"orders.reschedule:{index}",
            initial_date=order.delivery_date.isoformat(),
            placeholder="Reschedule",
        ),
    ]
    if order.status == "held":
        elements.append(ButtonElement(text="Resume", action_id=f"orders.resume:{index}", value=value))
    else:
        elements.append(ButtonElement(text="Hold", action_id=f"orders.hold:{index}", value=value))
    elements += [
        ButtonElement(text="Release now", action_id=f"orders.release:{index}", value=value, style="primary"),
        ButtonElement(text="Split", action_id=f"orders.split:{index}", value=value),
        ButtonElement(text="Cancel", action_id=f"orders.cancel:{index}", value=value, style="danger"),
    ]
    return ActionsBlock(block_id=f"orders.actions.{value}", elements=elements)


def orders_message(orders: list[PlannedOrder], quote_id: str) -> tuple[str, list[Any]]:
    if not orders:
        text = f"{quote_id} has no orders yet: they are generated once the quote is approved."
        return text, [SectionBlock(block_id="orders.none", text=MarkdownTextObject(text=escape(text)))]
    text = f"{quote_id}: {len(orders)} order{'s' if len(orders) != 1 else ''}"
    blocks: list[Any] = [HeaderBlock(block_id="orders.header", text=text[:150])]
    for index, order in enumerate(orders[:MAX_ORDERS_SHOWN]):
        blocks.append(SectionBlock(block_id=f"orders.order.{order.number}", text=MarkdownTextObject(text=_line(order))))
        if order.status in CHANGEABLE:
            blocks.append(order_buttons(order, index))
    if len(orders) > MAX_ORDERS_SHOWN:
        more = len(orders) - MAX_ORDERS_SHOWN
        blocks.append(ContextBlock(block_id="orders.more", elements=[MarkdownTextObject(text=f"and {more} more")]))
    return text, blocks


def split_modal(order: PlannedOrder) -> dict[str, Any]:
    options = [
        {"text": {"type": "plain_text", "text": f"{line.id} ({line.sku or 'line'})"[:75]}, "value": line.id}
        for line in order.lines
    ]
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
                "label": {"type": "plain_text", "text": "Lines to move"},
                "element": {"type": "multi_static_select", "action_id": "split.lines_select", "options": options},
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


def account_message(account_id: str, at: dt.date, contracts: list[Any], found: Any) -> tuple[str, list[Any]]:
    subs, assets = list(found.subscriptions), list(found.assets)
    text = f"{account_id} on {at.isoformat()}: {len(subs)} subscription(s), {len(assets)} asset(s) in force"
    if not contracts:
        text = f"{account_id} has no contract with Greenlight yet."
    blocks: list[Any] = [SectionBlock(block_id="account.head", text=MarkdownTextObject(text=f"*{escape(text)}*"))]
    rows = [
        f"• {escape(s.sku or s.line_id)} ×{s.quantity.normalize():f} from {s.start} to {s.end} "
        f"(order {escape(s.order_number)})"
        for s in subs[:20]
    ]
    rows += [
        f"• asset {escape(a.sku or a.line_id)}{f' #{a.unit}' if a.unit else ''} (order {escape(a.order_number)})"
        for a in assets[:20]
    ]
    if rows:
        blocks.append(SectionBlock(block_id="account.items", text=MarkdownTextObject(text="\n".join(rows)[:2900])))
    return text, blocks
