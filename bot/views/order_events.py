"""What the rep's thread says about an order or contract event: the order's number and its date, in
words (never "order reschedule by Ava")."""

from __future__ import annotations

from domain.events import Event, Kind


def _day(value: object) -> str:
    return str(value) if value else ""


def order_event_text(event: Event, by: str | None) -> str | None:
    """A sentence for an order or contract event, or None for any other kind."""
    detail = event.detail
    number = str(detail.get("order") or "")
    when = _day(detail.get("delivery_date"))
    due = f" (due {when})" if when else ""
    who = f" by {by}" if by else ""
    why = f': "{event.comment}"' if event.comment else ""
    kind = event.kind
    if kind is Kind.ORDER_RELEASED:
        return f"Order {number} was released on its date and sent to the ERP"
    if kind is Kind.ORDER_RELEASE:
        return f"Order {number}{due} was released now{who} and sent to the ERP"
    if kind is Kind.ORDER_RESCHEDULE:
        return f"Order {number} was moved from {when or 'its date'} to {_day(detail.get('new_date'))}{who}"
    if kind is Kind.ORDER_SPLIT:
        lines = ", ".join(str(x) for x in detail.get("lines") or [])
        return f"Order {number}{due}: {lines or 'some lines'} moved to {_day(detail.get('new_date'))}{who}"
    if kind is Kind.ORDER_HOLD:
        return f"Order {number}{due} was put on hold{who}{why}"
    if kind is Kind.ORDER_RESUME:
        return f"Order {number}{due} was resumed{who}{why}"
    if kind is Kind.ORDER_CANCEL:
        return f"Order {number}{due} was cancelled{who}{why}"
    if kind is Kind.ORDER_SYNCED:
        reference = detail.get("erp_reference")
        return f"The ERP received order {number}" + (f" (reference {reference})" if reference else "")
    if kind is Kind.ORDER_SYNC_FAILED:
        return f"The ERP did not take order {number}{why}"
    if kind is Kind.ORDER_SYNC_RETRY:
        return f"Order {number} was sent to the ERP again{who}"
    if kind is Kind.CONTRACT_RENEWAL_DUE:
        end = _day(detail.get("end"))
        return f"Contract {detail.get('contract')} ends on {end}: time to prepare its renewal"
    return None
