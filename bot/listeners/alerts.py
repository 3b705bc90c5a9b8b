"""The admins' alerts: Retry on an email that could not be delivered, or on a CRM webhook.

(Retry on an order the ERP did not take lives with the orders, in `orders`.)
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from domain import permissions
from domain.errors import StaleRequest
from domain.i18n import _

from ..deps import Deps
from .acting import acting
from .replies import refusing


def outbox_row(value: str) -> int:
    """The outbox row a Retry button names."""
    if not (value.isascii() and value.isdigit() and len(value) <= 18):  # an outbox id is a BIGINT
        raise StaleRequest(_("this Retry button does not name a failed Greenlight email"))
    return int(value)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.action("email.retry")
    @refusing(deps)
    async def email_retry(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        permissions.require_admin(deps.policy, acting(context), "send a failed email again")
        if await deps.requeue(outbox_row(body["actions"][0].get("value") or ""), deps.clock()):
            deps.kick("email")

    @app.action("crm.retry")
    @refusing(deps)
    async def crm_retry(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        permissions.require_admin(deps.policy, acting(context), "send failed CRM webhooks again")
        quote_id = str(body["actions"][0].get("value") or "")
        if deps.requeue_crm is not None and await deps.requeue_crm(quote_id, deps.clock()):
            deps.kick("crm")
