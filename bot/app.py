"""Slack listeners: each acks, parses, calls one service function and renders one view.

Decisions are committed before the ack (a crash after it loses nothing); Slack messages go out
afterwards from the outbox. Work after an ack is guarded: bolt loses the ack when a listener
raises right after it (testing-slack-offline.md, trap 1).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncApp

from domain.approvals import can_decide
from domain.errors import GreenlightError, NotAllowed, NotFound, StaleRequest

from . import commands as cmd
from . import render, views
from .deps import Deps
from .views import ids
from .views.text import name as display_name

log = logging.getLogger("greenlight.bot")


def parse_ref(value: str) -> ids.RequestRef:
    try:
        return ids.RequestRef.parse(value)
    except ValueError:
        raise StaleRequest("this button does not belong to a Greenlight request") from None


async def guarded(what: str, work: Awaitable[Any]) -> None:
    """Post-ack work: a failure is logged, never raised (bolt would lose the ack)."""
    try:
        await work
    except Exception:
        log.exception("after the ack: %s failed", what)


def in_home(body: dict[str, Any]) -> bool:
    return (body.get("view") or {}).get("type") == "home"


def register(app: AsyncApp, rt: Deps) -> None:
    policy, service = rt.policy, rt.service

    def person_of(body: dict[str, Any]) -> str:
        slack_id = (body.get("user") or {}).get("id") or body.get("user_id") or ""
        person = policy.person_for(slack_id)
        if person is None:
            raise NotAllowed("You are not in Greenlight's directory: ask an admin to add your Slack id to the policy")
        return person

    async def tell(body: dict[str, Any], respond: Any, error: Exception) -> None:
        """Say ephemerally why nothing changed: through the response_url, or (a click in App Home has
        none) in the person's DM with the app, and then refresh their Home."""
        answer = render.refusal(error)
        if body.get("response_url"):
            await guarded("refusal", respond(**answer, replace_original=False))
            return
        slack_id = (body.get("user") or {}).get("id") or ""

        async def ephemeral() -> None:
            channel = await rt.dm_channel(slack_id)
            await rt.client.chat_postEphemeral(channel=channel, user=slack_id, text=answer["text"],
                                               blocks=answer["blocks"])  # fmt: skip

        await guarded("refusal", ephemeral())
        if in_home(body):
            await guarded("views.publish", publish_home(slack_id))

    async def open_request(ref: ids.RequestRef, person: str) -> tuple[Any, Any]:
        sub = await service.latest(ref.quote_id)
        if sub is None or sub.number != ref.submission:
            raise StaleRequest(f"this request is from an earlier submission of {ref.quote_id}: it no longer applies")
        approval = sub.approval(ref.rule)
        ctx = service.context(await service.directory(), rt.clock())
        if not can_decide(ctx, sub, approval, person):
            if sub.status != "pending" or approval.status != "requested":
                who = f" by {display_name(approval.acted_by, policy.people)}" if approval.acted_by else ""
                why = f": {sub.comment}" if sub.comment else ""
                quote = "" if sub.status == "pending" else f" (the quote is {sub.status}{why})"
                raise StaleRequest(
                    f"{ref.rule} on {ref.quote_id} is already {approval.status}{who}{quote}: nothing to do"
                )
            if person == sub.owner:
                raise NotAllowed(f"You own {ref.quote_id}: you cannot approve your own quote")
            vote = next((s.vote for s in approval.seats if s.voted_by == person and s.vote), None)
            if vote is not None:
                raise StaleRequest(f"You already voted to {vote} {ref.rule} on {ref.quote_id}: the others in the "
                                   "group decide the rest")  # fmt: skip
            raise NotAllowed(f"You are not an approver of {ref.rule} on {ref.quote_id}")
        return sub, approval

    # ------------------------------------------------------------------ /deal

    @app.command("/deal")
    async def deal(ack: Any, body: dict[str, Any]) -> None:
        try:
            command = cmd.parse(body.get("text") or "")
            if isinstance(command, cmd.Help):
                await ack(**render.answer(*views.help_message(command.topic)))
                return
            # /deal account is for anyone in the workspace (slack-v1 §3), in the directory or not
            if isinstance(command, cmd.Account):
                person = policy.person_for(body.get("user_id") or "") or ""
            else:
                person = person_of(body)
            reply = await render.run_command(rt, command, person)
        except GreenlightError as error:
            await ack(**render.refusal(error))
            return
        await ack(**reply)
        rt.kick()

    # ------------------------------------------------------------------ approval buttons

    @app.action(ids.action_pattern(ids.APPROVE))
    async def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        action = body["actions"][0]
        try:
            person = person_of(body)
            ref = parse_ref(action.get("value", ""))
            key = f"slack-click:{body.get('trigger_id') or action.get('action_ts')}"
            try:
                # one transaction before the ack: decide checks everything open_request does
                events = await service.decide(ref.quote_id, ref.rule, person, "approve", rt.clock(), key=key,
                                              number=ref.submission)  # fmt: skip
            except GreenlightError:
                await open_request(ref, person)  # says it as a person reads it (who decided, your vote)
                raise
            if not events:  # the same click again (a replay, a retry): say where the request stands
                await open_request(ref, person)
        except GreenlightError as error:
            await ack()
            await tell(body, respond, error)
            return
        await ack()
        rt.kick()
        if in_home(body):
            await guarded("views.publish", publish_home(body["user"]["id"]))

    async def open_modal(body: dict[str, Any], respond: Any, build: Any) -> None:
        try:
            person = person_of(body)
            ref = parse_ref(body["actions"][0].get("value", ""))
            sub, approval = await open_request(ref, person)
            view = build(ref, sub, approval)
        except GreenlightError as error:
            await tell(body, respond, error)
            return
        await guarded("views.open", rt.client.views_open(trigger_id=body["trigger_id"], view=view))

    @app.action(ids.action_pattern(ids.REJECT))
    async def reject_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await open_modal(body, respond, lambda ref, sub, approval: views.reject_modal(ref, approval.rule))

    @app.action(ids.action_pattern(ids.REASSIGN))
    async def reassign_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await open_modal(body, respond, lambda ref, sub, approval: views.reassign_modal(ref, approval.rule))

    @app.action(ids.action_pattern(ids.DETAILS))
    async def details_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        try:
            person = person_of(body)
            ref = parse_ref(body["actions"][0].get("value", ""))
            sub = await service.submission(ref.quote_id, ref.submission)
            if sub is None:
                raise NotFound(f"{ref.quote_id} has no submission {ref.submission}")
            involved = person == sub.owner or person in policy.admins or any(
                person in [s.holder for s in a.seats] + a.escalated_to for a in sub.approvals
            )  # fmt: skip
            if not involved:
                raise NotAllowed(f"only the owner, the approvers and admins can see {ref.quote_id}")
            view = views.details_modal(sub, sub.approval(ref.rule), policy.people,
                                       descriptions={r.name: r.description for r in policy.rules},
                                       zone=policy.person_zone(person), now=rt.clock())  # fmt: skip
        except GreenlightError as error:
            await tell(body, respond, error)
            return
        await guarded("views.open", rt.client.views_open(trigger_id=body["trigger_id"], view=view))

    @app.view(ids.REJECT_MODAL)
    async def reject_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        block = ids.REJECT_REASON[0]
        try:
            reason = views.read_reject(view["state"]["values"])
            person = person_of(body)
            ref = parse_ref(view.get("private_metadata", ""))
            await open_request(ref, person)
            key = f"slack-view:{view.get('id')}"
            await service.decide(
                ref.quote_id, ref.rule, person, "reject", rt.clock(), comment=reason, key=key, number=ref.submission
            )
        except views.FormErrors as error:
            await ack(response_action="errors", errors=error.errors)
            return
        except GreenlightError as error:
            await ack(response_action="errors", errors={block: str(error)[:150]})
            return
        await ack()
        rt.kick()

    @app.view(ids.REASSIGN_MODAL)
    async def reassign_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        block = ids.REASSIGN_TO[0]
        try:
            slack_id, comment = views.read_reassign(view["state"]["values"])
            receiver = policy.person_for(slack_id)
            if receiver is None:
                raise views.FormErrors({block: "Choose someone who is in Greenlight's directory."})
            person = person_of(body)
            ref = parse_ref(view.get("private_metadata", ""))
            await open_request(ref, person)
            await service.reassign(ref.quote_id, ref.rule, person, receiver, rt.clock(), comment)
        except views.FormErrors as error:
            await ack(response_action="errors", errors=error.errors)
            return
        except GreenlightError as error:
            await ack(response_action="errors", errors={block: str(error)[:150]})
            return
        await ack()
        rt.kick()

    # ------------------------------------------------------------------ App Home

    async def publish_home(slack_id: str) -> None:
        view = await render.home(rt, policy.person_for(slack_id))
        await rt.client.views_publish(user_id=slack_id, view=view)

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await guarded("views.publish", publish_home(event["user"]))

    @app.action(ids.OOO_OPEN)
    async def ooo_button(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await guarded("views.open", rt.client.views_open(trigger_id=body["trigger_id"], view=views.ooo_modal()))

    @app.action(ids.OOO_END)
    async def ooo_off_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        try:
            person = person_of(body)
            await service.end_delegation(person, person, rt.clock())
        except GreenlightError as error:
            await ack()
            await tell(body, respond, error)
            return
        await ack()
        await guarded("views.publish", publish_home(body["user"]["id"]))

    @app.view(ids.OOO_MODAL)
    async def ooo_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            start, end, slack_id = views.read_ooo(view["state"]["values"])
            delegate = policy.person_for(slack_id)
            if delegate is None:
                raise views.FormErrors({ids.OOO_DELEGATE[0]: "Choose someone who is in Greenlight's directory."})
            person = person_of(body)
            for_person = policy.person_for(view.get("private_metadata") or "") or person
            await service.delegate(for_person, delegate, start, end, person, rt.clock())
        except views.FormErrors as error:
            await ack(response_action="errors", errors=error.errors)
            return
        except GreenlightError as error:
            await ack(response_action="errors", errors={ids.OOO_END_DATE[0]: str(error)[:150]})
            return
        await ack()
        rt.kick()
        await guarded("views.publish", publish_home(body["user"]["id"]))

    # ------------------------------------------------------------------ orders

    async def order_change(body: dict[str, Any], respond: Any, action: str, **kwargs: Any) -> None:
        try:
            person = person_of(body)
            number = kwargs.pop("number", None) or body["actions"][0].get("value", "")
            changed = await rt.desk.change(number, action, person, rt.clock(), **kwargs)
        except GreenlightError as error:
            await tell(body, respond, error)
            return
        rt.kick("slack", "erp")
        orders = await rt.desk.orders_of(changed[0].quote_id)
        from .orders_view import orders_message

        await guarded("orders refresh", respond(**render.answer(*orders_message(orders, changed[0].quote_id)),
                                                replace_original=True))  # fmt: skip

    for name in ("hold", "resume", "cancel", "release"):

        def make(action: str) -> Any:
            async def listener(ack: Any, body: dict[str, Any], respond: Any) -> None:
                await ack()
                await order_change(body, respond, action)

            return listener

        app.action(ids.action_pattern(f"orders.{name}"))(make(name))

    @app.action(ids.action_pattern("orders.reschedule"))
    async def reschedule(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        action = body["actions"][0]
        number = action.get("block_id", "").removeprefix("orders.actions.")
        try:
            new_date = dt.date.fromisoformat(action.get("selected_date") or "")
        except ValueError:
            await tell(body, respond, StaleRequest("pick a date to reschedule to"))
            return
        await order_change(body, respond, "reschedule", number=number, new_date=new_date)

    @app.action(ids.action_pattern("orders.split"))
    async def split_button(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        try:
            order = await rt.desk.order(body["actions"][0].get("value", ""))
        except GreenlightError as error:
            await tell(body, respond, error)
            return
        from .orders_view import split_modal

        await guarded("views.open", rt.client.views_open(trigger_id=body["trigger_id"], view=split_modal(order)))

    @app.view("orders.split")
    async def split_submitted(ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        lines = [o["value"] for o in (values.get("split.lines", {}).get("split.lines_select", {})
                                      .get("selected_options") or [])]  # fmt: skip
        raw = values.get("split.date", {}).get("split.date_pick", {}).get("selected_date") or ""
        if not lines:
            await ack(response_action="errors", errors={"split.lines": "Choose the lines to move."})
            return
        try:
            new_date = dt.date.fromisoformat(raw)
            await rt.desk.change(view.get("private_metadata", ""), "split", person_of(body), rt.clock(),
                                 new_date=new_date, line_ids=lines)  # fmt: skip
        except ValueError:
            await ack(response_action="errors", errors={"split.date": "Pick the new delivery date."})
            return
        except GreenlightError as error:
            await ack(response_action="errors", errors={"split.lines": str(error)[:150]})
            return
        await ack()
        rt.kick()

    @app.action("orders.generate")
    async def generate(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        try:
            await rt.desk.generate(body["actions"][0].get("value", ""), person_of(body), rt.clock())
        except GreenlightError as error:
            await tell(body, respond, error)
            return
        rt.kick("slack", "erp")

    @app.action("erp.retry")
    async def erp_retry(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        try:
            requeued = await rt.desk.retry_sync(body["actions"][0].get("value", ""), person_of(body), rt.clock())
        except GreenlightError as error:
            await tell(body, respond, error)
            return
        if requeued:
            rt.kick("erp")

    @app.action("email.retry")
    async def email_retry(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        try:
            person = person_of(body)
            if person not in policy.admins:
                raise NotAllowed("only an admin can send a failed email again")
            row_id = int(body["actions"][0].get("value") or 0)
        except (GreenlightError, ValueError) as error:
            await tell(respond, error)
            return
        if await rt.requeue(row_id, rt.clock()):
            rt.kick("email")
