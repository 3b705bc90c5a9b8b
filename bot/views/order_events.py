"""What the rep's thread says about an order or contract event: the order's number and its date, in
words (never "order reschedule by Ava")."""

from __future__ import annotations

from domain.events import Event, Kind
from domain.i18n import _


def _day(value: object) -> str:
    return str(value) if value else ""


def order_event_text(event: Event, by: str | None) -> str | None:
    """A sentence for an order or contract event, or None for any other kind."""
    detail = event.detail
    number = str(detail.get("order") or "")
    when = _day(detail.get("delivery_date"))
    due = _(" (due {day})", day=when) if when else ""
    who = _(" by {who}", who=by) if by else ""
    why = _(': "{comment}"', comment=event.comment) if event.comment else ""
    new_date = _day(detail.get("new_date"))
    kind = event.kind
    if kind is Kind.ORDER_RELEASED:
        return _("Order {order} was released on its date and sent to the ERP", order=number)
    if kind is Kind.ORDER_RELEASE:
        return _("Order {order}{due} was released now{who} and sent to the ERP", order=number, due=due, who=who)
    if kind is Kind.ORDER_RESCHEDULE:
        return _(
            "Order {order} was moved from {old} to {new}{who}",
            order=number,
            old=when or _("its date"),
            new=new_date,
            who=who,
        )
    if kind is Kind.ORDER_SPLIT:
        lines = ", ".join(str(x) for x in detail.get("lines") or [])
        return _(
            "Order {order}{due}: {lines} moved to {new}{who}",
            order=number,
            due=due,
            lines=lines or _("some lines"),
            new=new_date,
            who=who,
        )
    if kind is Kind.ORDER_HOLD:
        return _("Order {order}{due} was put on hold{who}{why}", order=number, due=due, who=who, why=why)
    if kind is Kind.ORDER_RESUME:
        return _("Order {order}{due} was resumed{who}{why}", order=number, due=due, who=who, why=why)
    if kind is Kind.ORDER_CANCEL:
        return _("Order {order}{due} was cancelled{who}{why}", order=number, due=due, who=who, why=why)
    if kind is Kind.ORDER_SYNCED:
        reference = detail.get("erp_reference")
        if reference:
            return _("The ERP received order {order} (reference {reference})", order=number, reference=reference)
        return _("The ERP received order {order}", order=number)
    if kind is Kind.ORDER_SYNC_FAILED:
        return _("The ERP did not take order {order}{why}", order=number, why=why)
    if kind is Kind.ORDER_SYNC_RETRY:
        return _("Order {order} was sent to the ERP again{who}", order=number, who=who)
    if kind is Kind.CONTRACT_RENEWAL_DUE:
        end = _day(detail.get("end"))
        return _(
            "Contract {contract} ends on {end}: time to prepare its renewal", contract=detail.get("contract"), end=end
        )
    return None
