"""Approval requests (slack-v1 §4): Approve, Reject, Reassign and Details, and the modals behind them.

Approve decides in one transaction before its ack, so a retried click decides once; Reject and
Reassign open a modal whose submission decides. A click on a request that is stale, foreign or
not the person's to decide changes nothing and is told why, as a person reads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.models.views import View

from domain import permissions
from domain.approvals import Approval, Seat, Submission, can_decide
from domain.errors import GreenlightError, NotAllowed, NotFound, StaleRequest
from domain.i18n import _, moment
from domain.reactions import topics

from .. import views
from ..deps import Deps
from ..views import ids
from ..views.requests import status_word
from ..views.text import name as display_name
from .acting import acting
from .replies import guarded, in_home, publish_home, refusing

ModalBuilder = Callable[[ids.RequestRef, str], View]


def parse_ref(value: str) -> ids.RequestRef:
    try:
        return ids.RequestRef.parse(value)
    except ValueError:
        raise StaleRequest(_("this button does not belong to a Greenlight request")) from None


async def open_request(deps: Deps, ref: ids.RequestRef, person: str) -> tuple[Submission, Approval]:
    """The request `ref` if `person` may decide it now; otherwise the refusal that says why."""
    service, people = deps.service, deps.policy.people
    sub = await service.latest(ref.quote_id)
    if sub is None or sub.number != ref.submission:
        raise StaleRequest(
            _("this request is from an earlier submission of {quote}: it no longer applies", quote=ref.quote_id)
        )
    approval = sub.approval(ref.rule)
    if can_decide(service.context(await service.directory(deps.clock()), deps.clock()), sub, approval, person):
        return sub, approval
    if sub.status != "pending" or approval.status != "requested":
        who = _(" by {who}", who=display_name(approval.acted_by, people)) if approval.acted_by else ""
        why = f": {sub.comment}" if sub.comment else ""
        quote = (
            ""
            if sub.status == "pending"
            else _(" (the quote is {status}{why})", status=status_word(sub.status), why=why)
        )
        raise StaleRequest(
            _(
                "{rule} on {quote} is already {status}{who}{state}: nothing to do",
                rule=ref.rule,
                quote=ref.quote_id,
                status=status_word(approval.status),
                who=who,
                state=quote,
            )
        )
    if person == sub.owner:
        raise NotAllowed(_("You own {quote}: you cannot approve your own quote", quote=ref.quote_id))
    vote = next((s.vote for s in approval.seats if s.voted_by == person and s.vote), None)
    if vote is not None:
        if vote == "approve":
            said = _("You already voted to approve {rule} on {quote}", rule=ref.rule, quote=ref.quote_id)
        else:
            said = _("You already voted to reject {rule} on {quote}", rule=ref.rule, quote=ref.quote_id)
        raise StaleRequest(_("{said}: the others in the group decide the rest", said=said))
    stood_in = next((s for s in approval.seats if s.member == person and s.vote and s.voted_by != person), None)
    if stood_in is not None:
        raise StaleRequest(voted_for_you(stood_in, ref, people))
    raise NotAllowed(_("You are not an approver of {rule} on {quote}", rule=ref.rule, quote=ref.quote_id))


def voted_for_you(seat: Seat, ref: ids.RequestRef, people: Any) -> str:
    """A member whose stand-in (delegate, reassignee, replacement) already cast their vote."""
    when = _(" ({moment})", moment=moment(seat.voted_at, dt.UTC)) if seat.voted_at else ""
    who = display_name(seat.voted_by or "", people)
    if seat.vote == "approve":
        said = _("{who} already voted to approve {rule} on {quote}", who=who, rule=ref.rule, quote=ref.quote_id)
    else:
        said = _("{who} already voted to reject {rule} on {quote}", who=who, rule=ref.rule, quote=ref.quote_id)
    return _(
        "{said} on your behalf{when}: your vote is cast, and the others in the group decide the rest",
        said=said,
        when=when,
    )


def register(app: AsyncApp, deps: Deps) -> None:
    policy, service = deps.policy, deps.service

    async def clicked_request(body: dict[str, Any], context: AsyncBoltContext) -> tuple[ids.RequestRef, Approval]:
        person = acting(context)
        ref = parse_ref(body["actions"][0].get("value", ""))
        _sub, approval = await open_request(deps, ref, person)
        return ref, approval

    @app.action(ids.action_pattern(ids.APPROVE))
    @refusing(deps)
    async def approve(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        action = body["actions"][0]
        person = acting(context)
        ref = parse_ref(action.get("value", ""))
        key = f"slack-click:{body.get('trigger_id') or action.get('action_ts')}"
        try:
            # one transaction before the ack: decide checks everything open_request does
            events = await service.decide(
                ref.quote_id, ref.rule, person, "approve", deps.clock(), key=key, number=ref.submission, via="slack"
            )
        except GreenlightError:
            await open_request(deps, ref, person)  # says it as a person reads it (who decided, your vote)
            raise
        if not events:  # the same click again (a replay, a retry): say where the request stands
            await open_request(deps, ref, person)
        await ack()
        queued = {topic.value for event in events for topic in topics(event.kind)}
        if queued:  # only the sweeps with something new: the others would each read the outbox for nothing
            deps.kick(*sorted(queued))
        if in_home(body):
            await guarded("views.publish", publish_home(deps, body["user"]["id"], person))

    async def open_modal(body: dict[str, Any], context: AsyncBoltContext, build: ModalBuilder) -> None:
        """The modal behind a request's button, once the person is known to be able to decide it."""
        ref, approval = await clicked_request(body, context)
        modal = build(ref, approval.rule)
        await guarded("views.open", deps.client.views_open(trigger_id=body["trigger_id"], view=modal))

    @app.action(ids.action_pattern(ids.REJECT))
    @refusing(deps)
    async def reject_button(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        await open_modal(body, context, views.reject_modal)

    @app.action(ids.action_pattern(ids.APPROVE_COMMENT))
    @refusing(deps)
    async def approve_comment_button(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        await open_modal(body, context, views.approve_comment_modal)

    @app.action(ids.action_pattern(ids.REASSIGN))
    @refusing(deps)
    async def reassign_button(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        await open_modal(body, context, views.reassign_modal)

    @app.action(ids.action_pattern(ids.DETAILS))
    @refusing(deps)
    async def details_button(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        person = acting(context)
        ref = parse_ref(body["actions"][0].get("value", ""))
        sub = await service.submission(ref.quote_id, ref.submission)
        if sub is None:
            raise NotFound(_("{quote} has no submission {number}", quote=ref.quote_id, number=ref.submission))
        permissions.require_may_see(policy, person, sub)
        modal = views.details_modal(
            sub,
            sub.approval(ref.rule),
            policy.people,
            descriptions={r.name: r.description for r in policy.rules},
            zone=policy.person_zone(person),
            now=deps.clock(),
        )
        await guarded("views.open", deps.client.views_open(trigger_id=body["trigger_id"], view=modal))

    @app.view(ids.REJECT_MODAL)
    @refusing(deps, field=ids.REJECT_REASON[0])
    async def reject_submitted(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        view = body["view"]
        reason = views.read_reject(view["state"]["values"])
        person = acting(context)
        ref = parse_ref(view.get("private_metadata", ""))
        await open_request(deps, ref, person)
        key = f"slack-view:{view.get('id')}"
        await service.decide(
            ref.quote_id,
            ref.rule,
            person,
            "reject",
            deps.clock(),
            comment=reason,
            key=key,
            number=ref.submission,
            via="slack",
        )
        await ack()
        deps.kick()

    @app.view(ids.APPROVE_COMMENT_MODAL)
    @refusing(deps, field=ids.APPROVE_NOTE[0])
    async def approve_comment_submitted(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        view = body["view"]
        comment = views.read_approve_comment(view["state"]["values"])
        person = acting(context)
        ref = parse_ref(view.get("private_metadata", ""))
        await open_request(deps, ref, person)
        key = f"slack-view:{view.get('id')}"
        await service.decide(
            ref.quote_id, ref.rule, person, "approve", deps.clock(), comment=comment, key=key, number=ref.submission
        )
        await ack()
        deps.kick()

    @app.view(ids.REASSIGN_MODAL)
    @refusing(deps, field=ids.REASSIGN_TO[0])
    async def reassign_submitted(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        view = body["view"]
        slack_id, comment = views.read_reassign(view["state"]["values"])
        receiver = policy.person_for(slack_id)
        if receiver is None:
            raise views.FormErrors({ids.REASSIGN_TO[0]: _("Choose someone who is in Greenlight's directory.")})
        person = acting(context)
        ref = parse_ref(view.get("private_metadata", ""))
        await open_request(deps, ref, person)
        await service.reassign(ref.quote_id, ref.rule, person, receiver, deps.clock(), comment)
        await ack()
        deps.kick()
