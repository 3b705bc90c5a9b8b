"""Orders before their release (slack-v1 §3 `/deal orders`): hold, resume, cancel, release now,
reschedule and split, then the orders message shown again as it now stands; Generate orders in
the rep's thread, and the admins' Retry of an order the ERP did not take."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from domain.errors import StaleRequest
from domain.i18n import _

from .. import render, views
from ..deps import Deps
from ..orders_view import chosen_lines, lines_modal, orders_message, split_modal, split_quantities
from ..views import ids
from .acting import acting
from .replies import Listener, guarded, refusing

SIMPLE_CHANGES = ("hold", "resume", "cancel", "release")


def register(app: AsyncApp, deps: Deps) -> None:
    orders = deps.orders

    async def show_orders(respond: AsyncRespond, quote_id: str) -> None:
        message = orders_message(await orders.orders_of(quote_id), quote_id)
        await respond(**render.answer(*message), replace_original=True)

    async def change(
        respond: AsyncRespond, context: AsyncBoltContext, number: str, action: str, **details: Any
    ) -> None:
        changed = await orders.change(number, action, acting(context), deps.clock(), **details)
        deps.kick("slack", "erp")
        await guarded("orders refresh", show_orders(respond, changed[0].quote_id))

    def simple_change(action: str) -> Listener:
        async def listener(
            ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
        ) -> None:
            await ack()
            await change(respond, context, body["actions"][0].get("value", ""), action)

        listener.__name__ = listener.__qualname__ = f"order_{action}"  # bolt names listeners in its logs
        return listener

    for action in SIMPLE_CHANGES:
        app.action(ids.action_pattern(f"orders.{action}"))(refusing(deps)(simple_change(action)))

    @app.action(ids.action_pattern("orders.reschedule"))
    @refusing(deps)
    async def reschedule(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        await ack()
        picked = body["actions"][0]
        number = picked.get("block_id", "").removeprefix("orders.actions.")
        try:
            new_date = dt.date.fromisoformat(picked.get("selected_date") or "")
        except ValueError:
            raise StaleRequest(_("pick a date to reschedule to")) from None
        await change(respond, context, number, "reschedule", new_date=new_date)

    @app.action(ids.action_pattern("orders.split"))
    @refusing(deps)
    async def split_button(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        order = await orders.order(body["actions"][0].get("value", ""))
        await guarded("views.open", deps.client.views_open(trigger_id=body["trigger_id"], view=split_modal(order)))

    @app.action(ids.action_pattern("orders.page"))
    @refusing(deps)
    async def turn_page(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        quote_id, _space, page = (body["actions"][0].get("value") or "").partition(" ")
        message = orders_message(await orders.orders_of(quote_id), quote_id, int(page) if page.isdigit() else 0)
        await respond(**render.answer(*message), replace_original=True)

    @app.action(ids.action_pattern("desk.page"))
    @refusing(deps)
    async def turn_desk_page(
        ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        await ack()
        period, _space, page = (body["actions"][0].get("value") or "").partition(" ")
        first, _dots, last = period.partition("..")
        try:
            start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        except ValueError:
            raise StaleRequest(_("this page of the order desk is out of date: run /deal orders due again")) from None
        shown = await render.desk_answer(deps, acting(context), start, end, int(page) if page.isdigit() else 0)
        await respond(**shown, replace_original=True)

    @app.action(ids.action_pattern("orders.lines"))
    @refusing(deps)
    async def show_lines(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        order = await orders.order(body["actions"][0].get("value", ""))
        await guarded("views.open", deps.client.views_open(trigger_id=body["trigger_id"], view=lines_modal(order)))

    @app.action(ids.action_pattern("orders.lines_page"))
    @refusing(deps)
    async def turn_lines_page(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        number, _space, page = (body["actions"][0].get("value") or "").partition(" ")
        order = await orders.order(number)
        view = lines_modal(order, int(page) if page.isdigit() else 0)
        await guarded("views.update", deps.client.views_update(view_id=body["view"]["id"], view=view))

    @app.view("orders.split")
    @refusing(deps, field="split.lines")
    async def split_submitted(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        view = body["view"]
        values = view["state"]["values"]
        chosen = values.get("split.lines", {}).get("split.lines_select", {}).get("selected_options") or []
        picked_values = [option["value"] for option in chosen]
        typed = values.get("split.quantities", {}).get("split.quantities_text", {}).get("value") or ""
        try:
            quantities = split_quantities(typed)
        except ValueError as wrong:
            raise views.FormErrors({"split.quantities": str(wrong)}) from None
        if not picked_values and not quantities:
            raise views.FormErrors({"split.lines": _("Choose the lines to move.")})
        lines = chosen_lines(await orders.order(view.get("private_metadata", "")), picked_values)
        if lines is None:
            raise views.FormErrors({"split.lines": _("The order changed since this form opened: open Split again.")})
        picked = values.get("split.date", {}).get("split.date_pick", {}).get("selected_date") or ""
        try:
            new_date = dt.date.fromisoformat(picked)
        except ValueError:
            raise views.FormErrors({"split.date": _("Pick the new delivery date.")}) from None
        await orders.change(
            view.get("private_metadata", ""),
            "split",
            acting(context),
            deps.clock(),
            new_date=new_date,
            line_ids=lines,
            quantities=quantities or None,
        )
        await ack()
        deps.kick()

    @app.action("orders.generate")
    @refusing(deps)
    async def generate(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        await orders.generate(body["actions"][0].get("value", ""), acting(context), deps.clock())
        deps.kick("slack", "erp")

    @app.action("erp.retry")
    @refusing(deps)
    async def erp_retry(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext) -> None:
        await ack()
        number = body["actions"][0].get("value", "")
        if await orders.retry_sync(number, acting(context), deps.clock()):
            deps.kick("erp")
            said = f"Order {number} is back in line for the ERP: this alert changes once the ERP takes it."
        else:
            said = f"Nothing to retry: order {number} is not waiting on the ERP any more."
        await guarded("retry answer", respond(text=said, replace_original=False, response_type="ephemeral"))
