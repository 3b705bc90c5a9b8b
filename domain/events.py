"""What happened: every event kind Greenlight records, the `Event` itself, and its one JSON form.

Events are past tense. Each one becomes an audit row, and the outbox rows of its reactions
(`domain.reactions`), in the transaction of the command that caused it. `to_json` and `from_json`
are the only translation between an `Event` and the JSON stored in the outbox and shown by the
CLI; the release sweep's SQL writes the same shape (tested against `to_json`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Every kind of event. The values are stored in the audit trail: never rename one."""

    # a quote arrives, is submitted, and its approvals move
    QUOTE_RECEIVED = "quote_received"
    SUBMITTED = "submitted"
    REQUESTED = "requested"
    CARRIED = "carried"
    VOTED = "voted"
    APPROVED = "approved"
    AUTO_APPROVED = "auto_approved"
    REJECTED = "rejected"
    REVOKED = "revoked"
    REASSIGNED = "reassigned"
    REPLACED = "replaced"
    DELEGATE_ADDED = "delegate_added"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    # the submission as a whole
    QUOTE_APPROVED = "quote_approved"
    QUOTE_REJECTED = "quote_rejected"
    RECALLED = "recalled"
    QUOTE_CHANGED = "quote_changed"
    # people away
    DELEGATION_SET = "delegation_set"
    DELEGATION_ENDED = "delegation_ended"
    PERSON_CHANGED = "person_changed"  # an admin added or changed a person from chat
    REPLACEMENT_SET = "replacement_set"  # an admin replaced an approver everywhere (the people are told)
    DELEGATIONS_PRUNED = "delegations_pruned"
    REPLACEMENT_UNDONE = "replacement_undone"
    # orders
    ORDERS_GENERATED = "orders_generated"
    ORDER_RELEASED = "order_released"  # by the release sweep, on its date
    ORDER_RELEASE = "order_release"  # by a person: Release now
    ORDER_RESCHEDULE = "order_reschedule"
    ORDER_HOLD = "order_hold"
    ORDER_RESUME = "order_resume"
    ORDER_CANCEL = "order_cancel"
    ORDER_SPLIT = "order_split"
    ORDER_SYNCED = "order_synced"
    ORDER_SYNC_FAILED = "order_sync_failed"
    ORDER_SYNC_RETRY = "order_sync_retry"
    # contracts (docs/orders.md): the end of a contract is near, its owner (and the CRM) told
    CONTRACT_RENEWAL_DUE = "contract_renewal_due"
    # delivery trouble the admins must hear of
    EMAIL_FAILED = "email_failed"
    CRM_FAILED = "crm_failed"  # a webhook the CRM refused for good, or for 24 h (crm-v1 §6)


@dataclass(frozen=True)
class Event:
    """Something that happened: the audit trail is made of these, and so are notifications."""

    kind: Kind
    at: dt.datetime
    quote_id: str
    quote_version: int
    submission: int
    rule: str | None = None
    actor: str | None = None
    on_behalf_of: str | None = None
    comment: str | None = None
    people: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A kind given as text is checked here, so a misspelt kind fails where it is made.
        if not isinstance(self.kind, Kind):
            object.__setattr__(self, "kind", Kind(self.kind))


def plain(value: Any) -> Any:
    """`value` as JSON would give it back (dates and decimals as text)."""
    return json.loads(_AS_TEXT.encode(value))


_AS_TEXT = json.JSONEncoder(default=str)
"""What `json.dumps(value, default=str)` uses, built once (json.dumps builds one per call when given
an argument of its own)."""


def to_json(event: Event) -> dict[str, Any]:
    """The event as a JSON object (the outbox payload, the CLI's audit rows)."""
    return {
        "kind": event.kind.value,
        "at": event.at.isoformat(),
        "quote_id": event.quote_id,
        "quote_version": event.quote_version,
        "submission": event.submission,
        "rule": event.rule,
        "actor": event.actor,
        "on_behalf_of": event.on_behalf_of,
        "comment": event.comment,
        "people": list(event.people),
        "detail": plain(event.detail),
    }


def from_json(payload: dict[str, Any]) -> Event:
    """The event `to_json` gave; raises ValueError for an unknown kind."""
    return Event(
        kind=Kind(payload["kind"]),
        at=dt.datetime.fromisoformat(payload["at"]),
        quote_id=payload["quote_id"],
        quote_version=payload["quote_version"],
        submission=payload["submission"],
        rule=payload.get("rule"),
        actor=payload.get("actor"),
        on_behalf_of=payload.get("on_behalf_of"),
        comment=payload.get("comment"),
        people=tuple(payload.get("people") or ()),
        detail=payload.get("detail") or {},
    )
