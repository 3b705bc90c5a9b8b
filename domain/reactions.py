"""What follows each event: the one map to read to answer "what happens after X?".

Every reaction belongs to one outbox topic, and each topic has its own worker (wired in
`greenlight/app.py`, swept by `scheduler/jobs.py`). When a command records an event, the store
writes one outbox row for each topic its reactions need, in the same transaction. A topic's rows
wait only on that topic's receiver: Slack refusing every call for good delays no order, no ERP
message and no email.

| topic    | delivered by                                 | to                                 |
|----------|----------------------------------------------|------------------------------------|
| `slack`  | `notifications.slack_delivery.SlackDelivery` | Slack (email for who Slack misses) |
| `orders` | `domain.order_service.Orders.react`          | the database (orders, contract)    |
| `erp`    | `notifications.erp_delivery.ErpDelivery`     | the ERP's webhook                  |
| `email`  | `notifications.email_delivery.EmailDelivery` | the SMTP server                    |
| `crm`    | `notifications.crm_delivery.CrmDelivery`     | the CRM's webhook (crm-v1 §6)      |

The `email` topic is not a reaction of its own: the Slack worker queues an email for a person
who has no Slack id, or whom Slack has not reached within the fallback time.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from .events import Kind


class Topic(StrEnum):
    SLACK = "slack"
    ORDERS = "orders"
    ERP = "erp"
    EMAIL = "email"
    CRM = "crm"


class Reaction(StrEnum):
    ASK = "ask"  # a request DM to each person now asked (`people`), or an email for who is not on Slack
    UPDATE = "update"  # every copy of the request re-rendered from the current state (buttons go, outcome shows)
    REMIND = "remind"  # a reminder in the thread of each person's request, and by email where they have one
    THREAD = "thread"  # the rep's thread: its root refreshed, a line added; the outcome by email without Slack
    ALERT = "alert"  # a DM to each admin, with a Retry button where one helps
    NOTICE = "notice"  # a DM (email without Slack) to each person concerned: delegate, person away, replaced
    GENERATE_ORDERS = "generate_orders"  # split the approved quote into orders (policy `orders.generate: auto`)
    RESUME_ORDERS = "resume_orders"  # orders held for this (rejected) version go ahead (docs/orders.md)
    SYNC_ERP = "sync_erp"  # the released order to the ERP, signed, keyed `<order number>:released`
    NOTIFY_CRM = "notify_crm"  # the quote's status document to the CRM's webhook, in order per quote (crm-v1 §6)


TOPIC: Mapping[Reaction, Topic] = MappingProxyType(
    {
        Reaction.ASK: Topic.SLACK,
        Reaction.UPDATE: Topic.SLACK,
        Reaction.REMIND: Topic.SLACK,
        Reaction.THREAD: Topic.SLACK,
        Reaction.ALERT: Topic.SLACK,
        Reaction.NOTICE: Topic.SLACK,
        Reaction.GENERATE_ORDERS: Topic.ORDERS,
        Reaction.RESUME_ORDERS: Topic.ORDERS,
        Reaction.SYNC_ERP: Topic.ERP,
        Reaction.NOTIFY_CRM: Topic.CRM,
    }
)

REACTIONS: Mapping[Kind, frozenset[Reaction]] = MappingProxyType(
    {
        Kind.QUOTE_RECEIVED: frozenset(),
        Kind.SUBMITTED: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.REQUESTED: frozenset({Reaction.ASK}),
        Kind.CARRIED: frozenset({Reaction.UPDATE, Reaction.THREAD}),
        Kind.VOTED: frozenset({Reaction.UPDATE}),
        Kind.APPROVED: frozenset({Reaction.UPDATE, Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.AUTO_APPROVED: frozenset({Reaction.UPDATE, Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.REJECTED: frozenset({Reaction.UPDATE, Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.REVOKED: frozenset({Reaction.UPDATE}),
        Kind.REASSIGNED: frozenset({Reaction.ASK, Reaction.UPDATE, Reaction.THREAD}),
        Kind.REPLACED: frozenset({Reaction.ASK, Reaction.UPDATE}),
        Kind.DELEGATE_ADDED: frozenset({Reaction.ASK, Reaction.UPDATE}),
        Kind.REMINDED: frozenset({Reaction.REMIND}),
        Kind.ESCALATED: frozenset({Reaction.ASK, Reaction.UPDATE, Reaction.THREAD}),
        Kind.QUOTE_APPROVED: frozenset({Reaction.THREAD, Reaction.GENERATE_ORDERS, Reaction.NOTIFY_CRM}),
        Kind.QUOTE_REJECTED: frozenset({Reaction.THREAD, Reaction.RESUME_ORDERS, Reaction.NOTIFY_CRM}),
        Kind.RECALLED: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.QUOTE_CHANGED: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.DELEGATION_SET: frozenset({Reaction.NOTICE}),
        Kind.DELEGATION_ENDED: frozenset({Reaction.NOTICE}),
        Kind.REPLACEMENT_SET: frozenset({Reaction.NOTICE}),
        Kind.PERSON_CHANGED: frozenset(),
        Kind.DELEGATIONS_PRUNED: frozenset(),
        Kind.REPLACEMENT_UNDONE: frozenset(),
        Kind.ORDERS_GENERATED: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.ORDER_RELEASED: frozenset({Reaction.THREAD, Reaction.SYNC_ERP, Reaction.NOTIFY_CRM}),
        Kind.ORDER_RELEASE: frozenset({Reaction.THREAD, Reaction.SYNC_ERP, Reaction.NOTIFY_CRM}),
        Kind.ORDER_RESCHEDULE: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.ORDER_HOLD: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.ORDER_RESUME: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.ORDER_CANCEL: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.ORDER_SPLIT: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.ORDER_SYNCED: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.ORDER_SYNC_FAILED: frozenset({Reaction.THREAD, Reaction.ALERT, Reaction.NOTIFY_CRM}),
        Kind.ORDER_SYNC_RETRY: frozenset({Reaction.THREAD}),
        Kind.EMAIL_FAILED: frozenset({Reaction.ALERT}),
        Kind.CONTRACT_RENEWAL_DUE: frozenset({Reaction.THREAD, Reaction.NOTIFY_CRM}),
        Kind.CRM_FAILED: frozenset({Reaction.ALERT}),
    }
)


def reactions(kind: Kind) -> frozenset[Reaction]:
    """What follows an event of this kind."""
    return REACTIONS[kind]


def topics(kind: Kind) -> tuple[Topic, ...]:
    """The outbox topics an event of this kind is queued on, in a fixed order."""
    return _TOPICS[kind]


def _topics_of(kind: Kind) -> tuple[Topic, ...]:
    wanted = {TOPIC[reaction] for reaction in REACTIONS[kind]}
    return tuple(topic for topic in Topic if topic in wanted)


_TOPICS = {kind: _topics_of(kind) for kind in REACTIONS}
"""Worked out once: every change's write asks for each of its events."""
