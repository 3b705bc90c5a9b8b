"""An approver's request (slack-v1 §4): the DM with its buttons, its outcome, and its modals.

`approval_request` renders one request for one recipient. While the request is open for them it
shows the four buttons; once it is not (decided, revoked, carried, reassigned away, the quote
changed) the same function renders the outcome in their place, for `chat.update`.
`request_state` works out which of those it is from the submission; `decisions` lists what
others already decided. Both are pure, like every view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from domain.approvals import Approval, Submission
from domain.i18n import _, _n
from domain.quote import Quote
from domain.values import reason_words

from .. import blockkit as bk
from . import ids
from .text import (
    FIELD_LIMIT,
    TEXT_LIMIT,
    VIEW_BLOCKS,
    People,
    capped,
    clip,
    customer,
    deal_words,
    escape,
    justification_text,
    mrkdwn_lines,
    name,
    names,
    quote_label,
    sentence,
    split,
    top_text,
    when,
)

MAX_REQUEST_BLOCKS = 12
TITLE_LIMIT = 24  # a modal's title, and its submit and close buttons (Slack refuses longer)
BUTTON_LIMIT = 24
MAX_DECISIONS_SHOWN = 8
REASON_LIMIT = 2000
COMMENT_LIMIT = 1000


@dataclass(frozen=True)
class Decision:
    """Something already decided in a submission, as the other approvers see it.

    `outcome`: approved · rejected · auto · carried (an approval settled) or voted (one vote in
    a group approval that is still open; `vote` is approve or reject).
    """

    rule: str
    outcome: str
    by: str | None = None
    at: dt.datetime | None = None
    on_behalf_of: str | None = None
    comment: str | None = None
    vote: str | None = None
    carried_from: str | None = None


@dataclass(frozen=True)
class RequestState:
    """Where one copy of a request stands for its recipient.

    `kind`: open (buttons shown) · approved · auto · carried · rejected (this approval was
    decided) · voted (the recipient voted, the group has not settled) · reassigned (handed to
    `to`) · gone (no longer theirs, e.g. a delegation ended) · withdrawn (recalled, or the
    quote changed: `comment` says which) · closed (another approval rejected the quote: `rule`,
    `by`, `comment`) · waiting (its step is not open yet).
    """

    kind: str
    by: str | None = None
    at: dt.datetime | None = None
    on_behalf_of: str | None = None
    comment: str | None = None
    to: str | None = None
    vote: str | None = None
    rule: str | None = None
    carried_from: str | None = None

    @property
    def open(self) -> bool:
        return self.kind == "open"


OPEN = RequestState("open")


def request_state(
    sub: Submission, approval: Approval, recipient: str | None = None, assignees: Sequence[str] | None = None
) -> RequestState:
    """The state of `recipient`'s copy of a request.

    `assignees` is who may act on the approval now (`domain.approvals.assignees(ctx, sub,
    approval)`); without a recipient and assignees the request is open whenever it is requested.
    """
    status = approval.status
    if status == "requested" and sub.status == "pending":
        if recipient is None:
            return OPEN
        voted = [s for s in approval.seats if s.voted_by == recipient and s.vote]
        if voted:
            return RequestState("voted", by=recipient, at=voted[0].voted_at, vote=voted[0].vote)
        if assignees is not None and recipient not in assignees:
            handed = next((s.holder for s in approval.seats if s.member == recipient and s.holder != recipient), None)
            return RequestState("reassigned", to=handed) if handed else RequestState("gone")
        return OPEN
    by, at, on_behalf_of = approval.acted_by, approval.decided_at, approval.on_behalf_of
    if status in ("approved", "auto", "rejected"):
        return RequestState(status, by=by, at=at, on_behalf_of=on_behalf_of, comment=approval.comment)
    if status == "carried":
        return RequestState("carried", by=by, at=at, on_behalf_of=on_behalf_of, carried_from=approval.carried_from)
    if status == "waiting":
        return RequestState("waiting")
    if sub.status == "rejected":
        rejected = next((a for a in sub.approvals if a.status == "rejected"), None)
        return RequestState(
            "closed",
            by=rejected.acted_by if rejected else None,
            at=sub.decided_at,
            comment=sub.comment,
            rule=rejected.rule if rejected else None,
        )
    return RequestState("withdrawn", at=sub.decided_at or approval.decided_at, comment=sub.comment)


def decisions(sub: Submission, approval: Approval | None = None) -> list[Decision]:
    """What was decided in `sub` so far, oldest first: settled approvals and votes in open groups.

    `approval`'s own outcome is left out (its request shows it as its state); the votes of the
    other members of its group are kept.
    """
    out: list[Decision] = []
    for other in sub.approvals:
        if other.status in ("approved", "auto", "rejected", "carried"):
            if other is approval:
                continue
            out.append(
                Decision(
                    other.rule,
                    other.status,
                    by=other.acted_by,
                    at=other.decided_at,
                    on_behalf_of=other.on_behalf_of,
                    comment=other.comment,
                    carried_from=other.carried_from,
                )
            )
        elif other.open:
            for seat in other.seats:
                if seat.vote and seat.voted_by and not seat.auto:
                    out.append(
                        Decision(
                            other.rule,
                            "voted",
                            by=seat.voted_by,
                            at=seat.voted_at,
                            on_behalf_of=seat.on_behalf_of,
                            comment=seat.comment,
                            vote=seat.vote,
                        )
                    )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(out, key=lambda d: d.at or epoch)


# ---------------------------------------------------------------- words


def _by(by: str | None, on_behalf_of: str | None, people: People | None) -> str:
    text = name(by, people)
    return _("{who} (for {whom})", who=text, whom=name(on_behalf_of, people)) if on_behalf_of else text


def outcome_text(
    state: RequestState, people: People | None = None, zone: dt.tzinfo = dt.UTC, now: dt.datetime | None = None
) -> str:
    """The outcome in words, plain (escape it for mrkdwn): "Approved by Marco Bellini at 2:02 PM (Paris)"."""
    at = _(" at {moment}", moment=when(state.at, zone, now)) if state.at else ""
    by = _by(state.by, state.on_behalf_of, people)
    kind = state.kind
    if kind == "approved":
        text = _("Approved by {who}{at}", who=by, at=at)
        return text + (_(': "{comment}"', comment=state.comment) if state.comment else "")
    if kind == "auto":
        return _("Approved automatically{at}: {who} had already approved this submission", at=at, who=by)
    if kind == "carried":
        if state.carried_from:
            return _(
                "Carried from {origin}: {who} approved it before and nothing it depends on got worse",
                origin=state.carried_from,
                who=by,
            )
        return _("Carried: {who} approved it before and nothing it depends on got worse", who=by)
    if kind == "rejected":
        return _("Rejected by {who}{at}: {reason}", who=by, at=at, reason=state.comment or _("no reason given"))
    if kind == "voted":
        if state.vote == "approve":
            return _("You voted to approve{at}; waiting for the others in the group", at=at)
        return _("You voted to reject{at}; waiting for the others in the group", at=at)
    if kind == "reassigned":
        return _("Reassigned to {who}", who=name(state.to, people))
    if kind == "gone":
        return _("No longer yours to decide")
    if kind == "withdrawn":
        return _("Withdrawn: {why}", why=state.comment or _("the submission was recalled"))
    if kind == "closed":
        rule = _(" on {rule}", rule=state.rule) if state.rule else ""
        reason = f": {state.comment}" if state.comment else ""
        return _("Closed: the quote was rejected by {who}{rule}{reason}", who=by, rule=rule, reason=reason)
    if kind == "waiting":
        return _("Not requested yet: earlier steps of its chain come first")
    return _("Open")


_OUTCOME_MARK = {
    "approved": ":white_check_mark:",
    "auto": ":white_check_mark:",
    "carried": ":white_check_mark:",
    "rejected": ":x:",
    "voted": ":ballot_box_with_ballot:",
    "closed": ":no_entry_sign:",
}


def decision_text(
    decision: Decision, people: People | None = None, zone: dt.tzinfo = dt.UTC, now: dt.datetime | None = None
) -> str:
    """One decision in words, plain: "manager-discount: approved by Marco Bellini at 2:02 PM (Paris)"."""
    by = _by(decision.by, decision.on_behalf_of, people)
    at = _(" at {moment}", moment=when(decision.at, zone, now)) if decision.at else ""
    rule = decision.rule
    if decision.outcome == "voted" and decision.vote == "approve":
        text = _("{rule}: {who} voted to approve{at}", rule=rule, who=by, at=at)
    elif decision.outcome == "voted":
        text = _("{rule}: {who} voted to reject{at}", rule=rule, who=by, at=at)
    elif decision.outcome == "auto":
        text = _("{rule}: approved automatically ({who} had approved)", rule=rule, who=by)
    elif decision.outcome == "carried":
        origin = decision.carried_from or _("an earlier submission")
        text = _("{rule}: carried from {origin}", rule=rule, origin=origin)
    elif decision.outcome == "approved":
        text = _("{rule}: approved by {who}{at}", rule=rule, who=by, at=at)
    elif decision.outcome == "rejected":
        text = _("{rule}: rejected by {who}{at}", rule=rule, who=by, at=at)
    else:
        text = f"{rule}: {decision.outcome} {by}{at}"
    if decision.comment:
        text += _(' ("{comment}")', comment=decision.comment)
    return text


def group_text(approval: Approval, people: People | None = None) -> str:
    """Who holds an approval, worded by its mode, plain: "Marco Bellini" · "any of Dana, Dev" ·
    "both of Fiona, Carl" · "2 of 3: Lena, Leo, Luis"; once votes are in, how far it got
    ("(Lena Vogel approved; 1 more needed)")."""
    seats = approval.seats
    holders = [s.holder for s in seats]
    listed = ", ".join(name(h, people) for h in holders)
    if len(holders) <= 1:
        text = names(holders, people)
    elif approval.mode == "all" and len(holders) == 2:
        text = _("both of {people}", people=listed)
    elif approval.mode == "all":
        text = _("all {count} of {people}", count=len(holders), people=listed)
    elif approval.mode == "quorum":
        text = _("{quorum} of {count}: {people}", quorum=approval.quorum, count=len(holders), people=listed)
    else:
        text = _("any of {people}", people=listed)
    approved = [s for s in seats if s.vote == "approve" and s.voted_by]
    if approved and approval.open and len(holders) > 1:
        who = names([s.voted_by or s.holder for s in approved], people)
        if approval.mode == "quorum":
            left = max((approval.quorum or 0) - len(approved), 0)
            text += _(" ({who} approved; {left} more needed)", who=who, left=left)
        else:
            waiting = names([s.holder for s in seats if s.vote is None], people)
            text += _(" ({who} approved; waiting on {waiting})", who=who, waiting=waiting)
    if approval.escalated_to:
        text += _("; escalated to {people}", people=names(approval.escalated_to, people))
    return text


def waiting_words(approval: Approval, holding: Sequence[str], people: People | None = None) -> str:
    """Who an open approval waits on, worded by its mode, plain: "Dana or Dev" (any) · "Fiona and
    Carl (both must approve)" · "1 more of Leo or Luis" (a quorum still one short)."""
    if approval.mode == "all" and len(holding) == 2:
        return _("{people} (both must approve)", people=names(holding, people, "and"))
    if approval.mode == "all" and len(holding) > 1:
        return _("{people} (all must approve)", people=names(holding, people, "and"))
    if approval.mode == "quorum" and len(holding) > 1:
        approved = sum(1 for s in approval.seats if s.vote == "approve")
        left = max((approval.quorum or 0) - approved, 1)
        return _("{left} more of {people}", left=left, people=names(holding, people, "or"))
    return names(holding, people, "or")


def reasons_of(approval: Approval) -> list[str]:
    """The reasons in words, with the actual values ("quote discount 36% > 10%"), in the reader's
    language; plain."""
    return [reason_words(r) if isinstance(r, dict) else str(r) for r in approval.reasons]


def _summary(quote: Quote, owner: str, people: People | None, heading: str | None) -> str:
    """The first block: customer, quote, amount, discount and the rep (mrkdwn)."""
    if heading:
        first = "*" + _("{heading}: {customer}", heading=escape(heading), customer=escape(customer(quote))) + "*"
    else:
        first = f"*{escape(customer(quote))}*"
    words = deal_words(quote)
    deal = f"*{escape(words)}*" if words else _("no total")
    rep = _("from {who}", who=escape(name(owner, people)))
    second = f"{escape(quote_label(quote))} · {deal} · {rep}"
    return clip(f"{first}\n{second}", TEXT_LIMIT)


def _why(approval: Approval, description: str | None) -> str:
    """The second block: the rule and its reasons with values (mrkdwn)."""
    why = _("Why:")
    head = f"*{why}* `{escape(approval.rule)}`" + (f" · {escape(description)}" if description else "")
    lines = [head, *(f"• {escape(reason)}" for reason in reasons_of(approval))]
    if len(lines) == 1:
        lines.append("• " + _("this rule applies to every quote"))
    return mrkdwn_lines(lines)


def request_buttons(ref: ids.RequestRef, index: int | None = None) -> list[dict[str, Any]]:
    """Approve (primary, one tap), Approve with comment, Reject (danger), Reassign, Details; ids
    numbered in App Home."""

    def action(action_id: str) -> str:
        return action_id if index is None else ids.numbered(action_id, index)

    value = ref.value
    return [
        bk.button(_("Approve"), action(ids.APPROVE), value, style="primary"),
        bk.button(_("Approve with comment"), action(ids.APPROVE_COMMENT), value),
        bk.button(_("Reject"), action(ids.REJECT), value, style="danger"),
        bk.button(_("Reassign"), action(ids.REASSIGN), value),
        bk.button(_("Details"), action(ids.DETAILS), value),
    ]


def push_text(approval: Approval, quote: Quote, for_whom: str = "", lead: str = "") -> str:
    """The notification sentence (escaped): "Approval needed: Acme GmbH, Q-1042 v3, USD 152,000 at
    18.5% discount: manager-discount"; `for_whom` names whom the reader stands in for, `lead`
    comes first (an escalation)."""
    parts = [customer(quote), quote_label(quote)]
    words = deal_words(quote)
    if words:
        parts.append(words)
    needed = _("Approval needed for {whom}", whom=for_whom) if for_whom else _("Approval needed")
    return escape(lead + _("{needed}: {quote}: {rule}", needed=needed, quote=", ".join(parts), rule=approval.rule))


def _span(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48:
        return _("{count} days", count=hours // 24)
    if hours >= 1:
        return _("{count} h", count=hours)
    return _("{count} min", count=max(int(delta.total_seconds() // 60), 1))


def escalation_text(approval: Approval, people: People | None, now: dt.datetime | None) -> str | None:
    """Why an escalated request reached its reader, plain: "Vera Lindqvist has not answered for 24 h"."""
    if not approval.escalated or approval.requested_at is None or now is None:
        return None
    silent = [s.holder for s in approval.seats if s.vote is None]
    if not silent:
        return None
    span = _span(now - approval.requested_at)
    if len(silent) == 1:
        return _("{people} has not answered for {span}", people=names(silent, people), span=span)
    return _("{people} have not answered for {span}", people=names(silent, people), span=span)


def _escalated() -> str:
    return _("Escalated:")


def approval_request(
    sub: Submission,
    approval: Approval,
    quote: Quote | None,
    people: People | None,
    decided: Sequence[Decision],
    state: RequestState = OPEN,
    *,
    description: str | None = None,
    zone: dt.tzinfo = dt.UTC,
    now: dt.datetime | None = None,
    acting_for: Sequence[str] = (),
) -> tuple[str, list[bk.Block]]:
    """The approver's DM for one approval: (top-level text, blocks as dicts), at most 12 blocks.

    `quote` is the quote as submitted (None: the submission's snapshot); `people` the policy's
    people (for names); `decided` what others already decided (`decisions(sub, approval)`);
    `state` this copy's state (`request_state(...)`): buttons only while it is open.
    `description` is the rule's description; times are shown in `zone`, relative to `now`.
    `acting_for` names whom the reader stands in for (a delegate): said in the header.
    """
    quote = quote if quote is not None else Quote(sub.snapshot)
    ref = ids.RequestRef.of(sub, approval)
    for_whom = names(acting_for, people) if acting_for else ""
    heading = None
    if state.open:
        heading = _("Approval needed for {whom}", whom=for_whom) if for_whom else _("Approval needed")
    escalated = escalation_text(approval, people, now) if state.open else None
    blocks: list[bk.Block] = []
    if escalated:
        blocks.append(
            bk.section("request.escalated", clip(f":rotating_light: *{_escalated()}* {escape(escalated)}.", TEXT_LIMIT))
        )
    blocks.append(bk.section("request.summary", _summary(quote, sub.owner, people, heading)))
    if sub.justification:
        blocks.append(bk.section("request.justification", justification_text(sub.justification, sub.owner, people)))
    blocks.append(bk.section("request.why", _why(approval, description)))
    if state.open:
        blocks.append(bk.actions("request.actions", request_buttons(ref)))
        text = push_text(approval, quote, for_whom, _("Escalated: {why}. ", why=escalated) if escalated else "")
    else:
        outcome = outcome_text(state, people, zone, now)
        mark = _OUTCOME_MARK.get(state.kind, ":heavy_minus_sign:")
        blocks.append(bk.section("request.outcome", clip(f"{mark} *{escape(outcome)}*", TEXT_LIMIT)))
        about = _(
            "{rule} on {customer}, {quote}", rule=approval.rule, customer=customer(quote), quote=quote_label(quote)
        )
        text = escape(sentence(f"{outcome} ({about})"))
    shown, hidden = split(list(decided), MAX_DECISIONS_SHOWN)
    if shown:
        lines = [escape(decision_text(d, people, zone, now)) for d in shown]
        if hidden:
            lines.append("_" + _n("and {count} more", "and {count} more", hidden) + "_")
        heading = "*" + _("Already decided") + "*"
        blocks.append(bk.context("request.decided", mrkdwn_lines([heading, *lines], FIELD_LIMIT)))
    blocks.append(bk.context("request.meta", _meta(approval, people, zone, now)))
    return top_text(text), blocks[:MAX_REQUEST_BLOCKS]


def _meta(approval: Approval, people: People | None, zone: dt.tzinfo, now: dt.datetime | None) -> str:
    parts = [
        escape(_("{chain} chain, step {step}", chain=approval.chain, step=approval.step)),
        escape(group_text(approval, people)),
    ]
    if approval.requested_at:
        parts.append(escape(_("requested {moment}", moment=when(approval.requested_at, zone, now))))
    if approval.explicit:
        parts.append(_("needs its own decision (an approval elsewhere does not count)"))
    if approval.fallback:
        reason = f": {approval.fallback_reason}" if approval.fallback_reason else ""
        parts.append(escape(_("fallback approver") + reason))
    return clip(" · ".join(parts), FIELD_LIMIT)


# ---------------------------------------------------------------- modals


def status_word(status: str) -> str:
    """A submission's status as the reader says it (pending, approved, rejected, withdrawn...)."""
    words = {
        "pending": _("pending"),
        "approved": _("approved"),
        "rejected": _("rejected"),
        "withdrawn": _("withdrawn"),
        "recalled": _("recalled"),
        "superseded": _("superseded"),
    }
    return words.get(status, status)


def _ref_text(ref: ids.RequestRef | str) -> str:
    return ref.value if isinstance(ref, ids.RequestRef) else str(ref)


def _about(rule: str, quote: Quote | None, ref: str) -> str:
    code = "`" + escape(rule) + "`"
    if quote is None:
        return _("{rule} on {quote}", rule=code, quote=escape(ref.split("#", 1)[0]))
    words = deal_words(quote)
    deal = f" · {escape(words)}" if words else ""
    who = "*" + escape(customer(quote)) + "*"
    about = _("{rule} on {quote}", rule=code, quote=who)
    return f"{about} · {escape(quote_label(quote))}{deal}"


def reject_modal(ref: ids.RequestRef | str, rule: str, quote: Quote | None = None) -> View:
    """Asks for the (required) reason; `private_metadata` carries the request ref."""
    value = _ref_text(ref)
    block, action = ids.REJECT_REASON
    return View(
        type="modal",
        callback_id=ids.REJECT_MODAL,
        title=clip(_("Reject"), TITLE_LIMIT),
        submit=clip(_("Reject"), BUTTON_LIMIT),
        close=clip(_("Cancel"), BUTTON_LIMIT),
        private_metadata=value,
        blocks=[
            SectionBlock(
                block_id="reject.about", text=MarkdownTextObject(text=clip(_about(rule, quote, value), TEXT_LIMIT))
            ),
            InputBlock(
                block_id=block,
                label=_("Reason"),
                hint=_("The rep sees it: say what would make the deal acceptable."),
                element=PlainTextInputElement(
                    action_id=action, multiline=True, min_length=1, max_length=REASON_LIMIT, focus_on_load=True
                ),
            ),
        ],
    )


def approve_comment_modal(ref: ids.RequestRef | str, rule: str, quote: Quote | None = None) -> View:
    """Approve with a comment (required: one-tap Approve is there for no comment); the ref rides
    in `private_metadata`."""
    value = _ref_text(ref)
    block, action = ids.APPROVE_NOTE
    return View(
        type="modal",
        callback_id=ids.APPROVE_COMMENT_MODAL,
        title=clip(_("Approve"), TITLE_LIMIT),
        submit=clip(_("Approve"), BUTTON_LIMIT),
        close=clip(_("Cancel"), BUTTON_LIMIT),
        private_metadata=value,
        blocks=[
            SectionBlock(
                block_id="approve.about", text=MarkdownTextObject(text=clip(_about(rule, quote, value), TEXT_LIMIT))
            ),
            InputBlock(
                block_id=block,
                label=_("Comment"),
                hint=_("The rep and the other approvers see it with your approval."),
                element=PlainTextInputElement(
                    action_id=action, multiline=True, min_length=1, max_length=COMMENT_LIMIT, focus_on_load=True
                ),
            ),
        ],
    )


def reassign_modal(ref: ids.RequestRef | str, rule: str, quote: Quote | None = None) -> View:
    """Asks for a person (required) and a comment (optional); `private_metadata` carries the ref."""
    value = _ref_text(ref)
    to_block, to_action = ids.REASSIGN_TO
    comment_block, comment_action = ids.REASSIGN_COMMENT
    return View(
        type="modal",
        callback_id=ids.REASSIGN_MODAL,
        title=clip(_("Reassign"), TITLE_LIMIT),
        submit=clip(_("Reassign"), BUTTON_LIMIT),
        close=clip(_("Cancel"), BUTTON_LIMIT),
        private_metadata=value,
        blocks=[
            SectionBlock(
                block_id="reassign.about", text=MarkdownTextObject(text=clip(_about(rule, quote, value), TEXT_LIMIT))
            ),
            InputBlock(
                block_id=to_block,
                label=_("Hand it to"),
                element=UserSelectElement(action_id=to_action, placeholder=_("Choose a person")),
            ),
            InputBlock(
                block_id=comment_block,
                label=_("Comment"),
                optional=True,
                hint=_("They see it with the request."),
                element=PlainTextInputElement(action_id=comment_action, multiline=True, max_length=COMMENT_LIMIT),
            ),
        ],
    )


def _status_line(approval: Approval, people: People | None, zone: dt.tzinfo, now: dt.datetime | None) -> str:
    status = approval.status
    by = _by(approval.acted_by, approval.on_behalf_of, people)
    at = _(" at {moment}", moment=when(approval.decided_at, zone, now)) if approval.decided_at else ""
    if status == "requested":
        since = _(" since {moment}", moment=when(approval.requested_at, zone, now)) if approval.requested_at else ""
        return _("waiting on {people}{since}", people=group_text(approval, people), since=since)
    if status == "waiting":
        return _("not requested yet ({people})", people=group_text(approval, people))
    if status == "approved":
        return _("approved by {who}{at}", who=by, at=at)
    if status == "auto":
        return _("approved automatically ({who} had approved){at}", who=by, at=at)
    if status == "carried":
        return _("carried from {origin}", origin=approval.carried_from or _("an earlier submission"))
    if status == "rejected":
        return _("rejected by {who}{at}: {reason}", who=by, at=at, reason=approval.comment or _("no reason given"))
    return f"{status}{at}"


def approval_lines(
    approval: Approval,
    people: People | None,
    zone: dt.tzinfo,
    now: dt.datetime | None,
    description: str | None = None,
) -> list[str]:
    """An approval as mrkdwn lines: step, rule, status, and its reasons."""
    step = _("Step {step}", step=approval.step)
    head = f"{step} · `{escape(approval.rule)}` · {escape(_status_line(approval, people, zone, now))}"
    lines = [head]
    if description:
        lines.append(f"    _{escape(description)}_")
    lines.extend(f"    • {escape(reason)}" for reason in reasons_of(approval))
    return lines


def details_modal(
    sub: Submission,
    approval: Approval,
    people: People | None = None,
    *,
    descriptions: Mapping[str, str | None] | None = None,
    zone: dt.tzinfo = dt.UTC,
    now: dt.datetime | None = None,
) -> View:
    """Every reason and the whole approval chain of the submission, this request's chain first.

    `descriptions` maps rule names to their descriptions (from the policy).
    """
    quote = Quote(sub.snapshot)
    descriptions = descriptions or {}
    blocks: list[Block] = [
        SectionBlock(
            block_id="details.summary", text=MarkdownTextObject(text=_summary(quote, sub.owner, people, None))
        ),
        ContextBlock(
            block_id="details.submission",
            elements=[
                MarkdownTextObject(
                    text=escape(
                        _(
                            "Submission {ref} · {status} · submitted {moment}",
                            ref=sub.ref,
                            status=status_word(sub.status),
                            moment=when(sub.submitted_at, zone, now),
                        )
                    )
                )
            ],
        ),
    ]
    chains: dict[str, list[Approval]] = {}
    for item in sub.approvals:
        chains.setdefault(item.chain, []).append(item)
    order = [approval.chain, *(c for c in chains if c != approval.chain)]
    for index, chain in enumerate(order):
        members = sorted(chains.get(chain, []), key=lambda a: a.step)
        title = "*" + escape(_("{chain} chain", chain=chain)) + "*"
        lines = [title + (_(" (this request)") if chain == approval.chain else "")]
        for member in members:
            lines.extend(approval_lines(member, people, zone, now, descriptions.get(member.rule)))
        blocks.append(
            SectionBlock(block_id=f"details.chain.{index}", text=MarkdownTextObject(text=mrkdwn_lines(lines)))
        )
    return View(
        type="modal",
        callback_id=ids.DETAILS_MODAL,
        title=clip(_("Approval details"), TITLE_LIMIT),
        close=clip(_("Close"), BUTTON_LIMIT),
        private_metadata=ids.RequestRef.of(sub, approval).value,
        blocks=capped(blocks, VIEW_BLOCKS, "details"),
    )


__all__ = [
    "OPEN",
    "Decision",
    "RequestState",
    "approval_lines",
    "approval_request",
    "approve_comment_modal",
    "decision_text",
    "decisions",
    "details_modal",
    "group_text",
    "outcome_text",
    "push_text",
    "reasons_of",
    "reassign_modal",
    "reject_modal",
    "request_buttons",
    "request_state",
    "waiting_words",
]
