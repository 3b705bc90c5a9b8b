"""What the CRM reads of a quote (crm-v1 §5) and which events it hears of (§6), as pure functions.

`status_document` is the one JSON form of a quote's state that the API answers and the webhooks
carry. `CRM_EVENTS` says which recorded event becomes which webhook type; the `crm` outbox topic
(`domain.reactions`) carries exactly these. `with_people_resolved` applies crm-v1 §2 to a quote
before it is stored: a person field holds a directory key from then on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .approvals import Approval, Submission
from .errors import QuoteError
from .events import Event, Kind
from .orders import PlannedOrder, money
from .people import with_people_resolved
from .policy import Policy
from .quote import Quote
from .service import Store

CRM_EVENTS: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.SUBMITTED: "quote.submitted",
        Kind.APPROVED: "approval.decided",
        Kind.AUTO_APPROVED: "approval.decided",
        Kind.REJECTED: "approval.decided",
        Kind.QUOTE_APPROVED: "quote.approved",
        Kind.QUOTE_REJECTED: "quote.rejected",
        Kind.RECALLED: "quote.recalled",
        Kind.QUOTE_CHANGED: "quote.recalled",
        Kind.ORDERS_GENERATED: "orders.generated",
        Kind.ORDER_RELEASED: "order.changed",
        Kind.ORDER_RELEASE: "order.changed",
        Kind.ORDER_RESCHEDULE: "order.changed",
        Kind.ORDER_HOLD: "order.changed",
        Kind.ORDER_RESUME: "order.changed",
        Kind.ORDER_CANCEL: "order.changed",
        Kind.ORDER_SPLIT: "order.changed",
        Kind.ORDER_SYNCED: "order.changed",
        Kind.ORDER_SYNC_FAILED: "order.changed",
        Kind.CONTRACT_RENEWAL_DUE: "contract.renewal_due",
    }
)
"""Each event the CRM hears of, and the webhook `type` it is sent as (crm-v1 §6)."""

WEBHOOK_TYPES = tuple(dict.fromkeys(CRM_EVENTS.values()))


def policy_version(policy: Policy) -> str:
    """A short fingerprint of the policy's content: it changes whenever the rules that decide change."""
    text = policy.model_dump_json(exclude_none=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def resolve_quote_people(policy: Policy, quote: Quote) -> Quote:
    """The quote with every person field as a directory key (crm-v1 §2); QuoteError naming each field
    whose value matches nobody or several people."""
    paths = [a.field for a in policy.approvers.values() if a.field]
    data, problems = with_people_resolved(policy.people, quote.data, paths)
    if problems:
        raise QuoteError(problems)
    return quote if data is quote.data else Quote(data)


def _instant(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


def _approval(approval: Approval) -> dict[str, Any]:
    approvers = list(dict.fromkeys([seat.member for seat in approval.seats] + approval.escalated_to))
    return {
        "rule": approval.rule,
        "chain": approval.chain,
        "step": approval.step,
        "status": approval.status,
        "approvers": approvers,
        "acted_by": approval.acted_by,
        "on_behalf_of": approval.on_behalf_of,
        "decided_at": _instant(approval.decided_at),
        "comment": approval.comment,
    }


def _order(order: PlannedOrder) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status,
        "release_at": order.local_release_at.isoformat(),
        "total": money(order.total, order.currency),
        "erp_reference": order.erp_reference,
    }


def quote_status(quote: Quote, sub: Submission | None) -> str:
    """draft | pending | approved | rejected | recalled: the stored version's state. A version never
    submitted is a draft, even when an earlier version was decided."""
    if sub is None:
        return "draft"
    if sub.status != "pending" and sub.quote_version != quote.version and sub.status != "recalled":
        return "draft"
    return sub.status


def status_document(
    quote: Quote, sub: Submission | None, orders: list[PlannedOrder], policy_version: str
) -> dict[str, Any]:
    """The quote's state as the CRM reads it (crm-v1 §5): times with their offset, money as text."""
    return {
        "quote": quote.id,
        "version": quote.version,
        "status": quote_status(quote, sub),
        "submission": sub.number if sub is not None else None,
        "submitted_at": _instant(sub.submitted_at) if sub is not None else None,
        "decided_at": _instant(sub.decided_at) if sub is not None else None,
        # The decision's comment once there is one; before, the rep's (or the CRM's) justification.
        "comment": (sub.comment or sub.justification) if sub is not None else None,
        "approvals": [_approval(a) for a in sub.approvals] if sub is not None else [],
        "orders": [_order(o) for o in orders],
        "policy_version": policy_version,
    }


def webhook_body(
    event_id: str, kind: str, created_at: dt.datetime, document: dict[str, Any], contract: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON a webhook carries (crm-v1 §6); `contract.renewal_due` also says which contract ends when."""
    body = {"id": event_id, "type": kind, "created_at": _instant(created_at), "quote": document}
    if contract is not None:
        body["contract"] = contract
    return body


class CrmDesk:
    """The CRM's reads, and the failure its webhook worker records (crm-v1 §5, §6), over one store."""

    def __init__(self, policy: Policy, store: Store) -> None:
        self.policy = policy
        self.store = store
        self.policy_version = policy_version(policy)

    async def status(self, quote_id: str) -> dict[str, Any] | None:
        """The quote's status document, or None when no such quote was received."""
        async with self.store.transaction() as tx:
            quote = await tx.quote(quote_id)
            if quote is None:
                return None
            sub = await tx.latest(quote_id)
            orders = await tx.orders_of(quote_id)
        return status_document(quote, sub, orders, self.policy_version)

    async def failed(self, quote_id: str, reason: str, outbox_id: int, now: dt.datetime) -> None:
        """A webhook the CRM refused for good: the admins are alerted, with a Retry button."""
        async with self.store.transaction() as tx:
            quote = await tx.quote(quote_id)
            sub = await tx.latest(quote_id)
            event = Event(
                Kind.CRM_FAILED,
                now,
                quote_id,
                quote.version if quote is not None else 0,
                sub.number if sub is not None else 0,
                comment=reason,
                detail={"outbox": outbox_id, "people": list(self.policy.admins)},
            )
            await tx.record([event])
