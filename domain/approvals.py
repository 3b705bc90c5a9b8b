"""The approval lifecycle (policy-v1 §3): submissions, approvals, votes, and what happens next.

Everything here is pure: functions take the state, the policy context and `now`, change the
`Submission` aggregate they are given and return the events that happened. A store persists the
aggregate (with a compare-and-set on `revision`) and turns events into audit rows and outbound
messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import permissions
from .errors import Conflict, GreenlightError, NotAllowed, NotFound, StaleRequest
from .events import Event, Kind
from .i18n import _
from .policy import Approver, Policy, Rule
from .quote import Quote
from .rules import Evaluator, Outcome, Reason, lookup

OPEN = ("waiting", "requested")
SETTLED = ("approved", "carried", "auto")


@dataclass
class Delegation:
    """While active, `delegate` may act for `delegator` (dates inclusive, delegator's zone)."""

    delegator: str
    delegate: str
    start: dt.date
    end: dt.date
    created_by: str = ""
    id: int = 0

    def active(self, policy: Policy, now: dt.datetime) -> bool:
        today = now.astimezone(policy.person_zone(self.delegator)).date()
        return self.start <= today <= self.end


@dataclass
class Directory:
    """Who stands for whom right now: delegations and admin replacements."""

    delegations: list[Delegation] = field(default_factory=list)
    replacements: dict[str, str] = field(default_factory=dict)

    def replaced(self, person: str) -> str:
        seen = {person}
        while person in self.replacements:
            person = self.replacements[person]
            if person in seen:
                break
            seen.add(person)
        return person

    def delegate_of(self, policy: Policy, person: str, now: dt.datetime) -> str | None:
        active = [d for d in self.delegations if d.delegator == person and d.active(policy, now)]
        return max(active, key=lambda d: d.id).delegate if active else None

    def stand_ins(self, policy: Policy, person: str, now: dt.datetime, owner: str) -> list[str]:
        """The active delegates of `person`, following delegates who are away too.

        Stops at a cycle; the quote owner is skipped (their own delegate is still followed).
        """
        out: list[str] = []
        seen = {person}
        current = person
        while (nxt := self.delegate_of(policy, current, now)) is not None:
            nxt = self.replaced(nxt)
            if nxt in seen:
                break
            seen.add(nxt)
            if nxt != owner:
                out.append(nxt)
            current = nxt
        return out

    def away(self, policy: Policy, person: str, now: dt.datetime) -> bool:
        return any(d.delegator == person and d.active(policy, now) for d in self.delegations)


@dataclass
class Replacement:
    """`replace OLD NEW` as an admin made it, with the seats it moved: submission ref -> rule -> members."""

    old: str
    new: str
    created_by: str | None = None
    created_at: dt.datetime | None = None
    moved: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def count(self) -> int:
        return sum(len(rules) for rules in self.moved.values())


@dataclass
class Context:
    policy: Policy
    evaluator: Evaluator
    directory: Directory
    now: dt.datetime


@dataclass
class Seat:
    """One vote in an approval: whose vote it is, who holds it now, and how it was cast."""

    member: str
    holder: str
    vote: str | None = None
    voted_by: str | None = None
    on_behalf_of: str | None = None
    voted_at: dt.datetime | None = None
    auto: bool = False
    comment: str | None = None
    asks: bool = False
    """Given by a replacement or a fallback: decided by its holder's click, never automatically."""


@dataclass
class Approval:
    rule: str
    chain: str
    step: int
    approver: str
    mode: str  # any | all | quorum
    quorum: int | None
    explicit: bool
    status: str
    seats: list[Seat]
    reasons: list[dict[str, Any]]
    values: dict[int, Any]
    fallback: bool = False
    escalated_to: list[str] = field(default_factory=list)
    requested_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    acted_by: str | None = None
    on_behalf_of: str | None = None
    comment: str | None = None
    carried_from: str | None = None
    reminded: bool = False
    escalated: bool = False
    reminded_at: dt.datetime | None = None  # the last reminder (repeated with a rule's remind_every)
    fallback_reason: str | None = None  # why its approver resolved to nobody, so the fallback has it
    notified: list[str] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        return self.status in SETTLED

    @property
    def open(self) -> bool:
        return self.status in OPEN


@dataclass
class Submission:
    quote_id: str
    number: int
    quote_version: int
    content_hash: str
    owner: str
    snapshot: dict[str, Any]
    status: str
    submitted_at: dt.datetime
    approvals: list[Approval]
    approved_by: list[str] = field(default_factory=list)
    decided_at: dt.datetime | None = None
    comment: str | None = None
    due_at: dt.datetime | None = None
    revision: int = 0
    justification: str | None = None  # the rep's own words on why the deal needs these approvals
    policy_version: int | None = None
    """The shared policy version that evaluated this submission (None: before versions were kept)."""

    @property
    def ref(self) -> str:
        return f"{self.quote_id}#{self.number}"

    def approval(self, rule: str) -> Approval:
        for approval in self.approvals:
            if approval.rule == rule:
                return approval
        raise NotFound(f"{self.ref} has no approval for rule {rule!r}")

    def find(self, rule: str) -> Approval | None:
        return next((a for a in self.approvals if a.rule == rule), None)

    def heading(self) -> dict[str, Any]:
        """The quote as submitted without its lines: what a list of quotes shows (a store may read
        just this, so a list costs the same whatever the size of its quotes)."""
        return {key: value for key, value in self.snapshot.items() if key != "lines"}


def _label(ctx: Context, key: str) -> str:
    """A person as sentences name them: their name in the policy, else their key."""
    person = ctx.policy.people.get(key)
    return person.name if person is not None and person.name else key


def _event(sub: Submission, kind: Kind, now: dt.datetime, **kw: Any) -> Event:
    return Event(kind, now, sub.quote_id, sub.quote_version, sub.number, **kw)


# ---------------------------------------------------------------- resolving people


@dataclass(frozen=True)
class Resolved:
    members: tuple[str, ...]
    mode: str
    quorum: int | None
    fallback: bool
    why_fallback: str | None = None  # why the approver resolved to nobody (said wherever the fallback shows)


def current_since(now: dt.datetime) -> dt.date:
    """The earliest end date of a delegation window that may still be active at `now` in some zone
    (local dates run from a day behind UTC to a day ahead): older windows are history."""
    return now.astimezone(dt.UTC).date() - dt.timedelta(days=1)


def owner_key(policy: Policy, quote: Quote | dict[str, Any]) -> str:
    owner = str(quote.owner if isinstance(quote, Quote) else quote.get("owner"))
    return policy.person_for(owner) or owner


def _people_of(ctx: Context, definition: Approver, quote: Quote) -> list[str]:
    policy = ctx.policy
    if definition.user is not None:
        raw: list[Any] = [definition.user]
    elif definition.group is not None:
        raw = list(definition.group)
    else:
        found = lookup(quote.data, definition.field or "", ctx.evaluator.person)
        raw = found if isinstance(found, list) else [found]
    out: list[str] = []
    for item in raw:
        key = policy.person_for(str(item)) if item is not None else None
        if key is None:
            continue
        key = ctx.directory.replaced(key)
        if key not in out:
            out.append(key)
    return out


def _shape(definition: Approver) -> tuple[str, int | None]:
    if definition.group is None:
        return "any", None
    if definition.quorum is not None:
        return "quorum", definition.quorum
    return str(definition.mode), None


def _nobody(
    ctx: Context, definition: Approver, quote: Quote, everyone: list[str], owner: str, quorum: int | None
) -> str:
    """Why an approver definition resolved to nobody who may approve, in words."""
    owner_name = _label(ctx, owner)
    if definition.field is not None:
        found = lookup(quote.data, definition.field, ctx.evaluator.person)
        if found is None or found == [] or found == "":
            return f"{definition.field} points at nobody on this quote (is it set in the policy's people?)"
        if not everyone:
            return f"{definition.field} is {found!r}, who is not in the policy's people"
        return f"{definition.field} is {owner_name}, the quote's owner, who cannot approve their own quote"
    if definition.user is not None:
        if not everyone:
            return f"{definition.user!r} is not in the policy's people"
        return f"{_label(ctx, everyone[0])} owns the quote and cannot approve it"
    allowed = len([p for p in everyone if p != owner])
    if quorum is not None:
        return (
            f"only {allowed} of the group may approve (not {owner_name}, the owner), fewer than its quorum of {quorum}"
        )
    return "nobody in the group may approve it (the owner cannot)"


def resolve(ctx: Context, approver: str, quote: Quote, rule_name: str = "") -> Resolved:
    """The people an approver stands for on this quote, after separation of duties (§3.3)."""
    policy = ctx.policy
    owner = owner_key(policy, quote)
    definition = policy.approver(approver)
    why = f"approver {approver!r} is not defined"
    if definition is not None:
        everyone = _people_of(ctx, definition, quote)
        members = [p for p in everyone if p != owner]
        mode, quorum = _shape(definition)
        if members and (quorum is None or len(members) >= quorum):
            return Resolved(tuple(members), mode, quorum, False)
        why = _nobody(ctx, definition, quote, everyone, owner, quorum)
    fallback = policy.approver(policy.fallback_approver)
    if fallback is not None:
        members = [p for p in _people_of(ctx, fallback, quote) if p != owner]
        mode, quorum = _shape(fallback)
        if members:
            return Resolved(tuple(members), mode, min(quorum, len(members)) if quorum else None, True, why)
    admins = [ctx.directory.replaced(a) for a in policy.admins]
    admins = [a for i, a in enumerate(admins) if a != owner and a not in admins[:i]]
    if admins:
        return Resolved(tuple(admins), "any", None, True, why)
    raise NotAllowed(
        f"nobody but the quote owner can approve rule {rule_name or approver!r}, and the "
        "fallback approver and the admins resolve to nobody else: fix the policy's people"
    )


def can_act_for(ctx: Context, sub: Submission, approval: Approval, person: str) -> list[Seat]:
    """The undecided seats `person` may vote in: their own, and those they stand in for."""
    seats = []
    for seat in approval.seats:
        if seat.vote is not None:
            continue
        if seat.holder == person or person in ctx.directory.stand_ins(ctx.policy, seat.holder, ctx.now, sub.owner):
            seats.append(seat)
    return seats


def acting_for(ctx: Context, sub: Submission, approval: Approval, person: str) -> list[str]:
    """Whom `person` would decide for, standing in (a delegate): the holders of the open seats
    they may vote in that are not theirs. Empty for their own seats and for escalations."""
    out: list[str] = []
    for seat in can_act_for(ctx, sub, approval, person):
        if seat.holder != person and seat.holder not in out:
            out.append(seat.holder)
    return out


def can_decide(ctx: Context, sub: Submission, approval: Approval, person: str) -> bool:
    """Whether `person` may decide (or vote on) this approval right now."""
    if person == sub.owner or approval.status != "requested" or sub.status != "pending":
        return False
    return person in approval.escalated_to or bool(can_act_for(ctx, sub, approval, person))


def assignees(ctx: Context, sub: Submission, approval: Approval) -> list[str]:
    """Everyone who may act on this approval now: holders, their active delegates, escalations."""
    out: list[str] = []
    for seat in approval.seats:
        for person in (seat.holder, *ctx.directory.stand_ins(ctx.policy, seat.holder, ctx.now, sub.owner)):
            if person not in out:
                out.append(person)
    for person in approval.escalated_to:
        if person not in out:
            out.append(person)
    return out


def is_assignee(ctx: Context, sub: Submission, approval: Approval, person: str) -> bool:
    return person in assignees(ctx, sub, approval)


# ---------------------------------------------------------------- planning (preview = submit)


class Planned(NamedTuple):
    """What a submission of this quote would ask for one rule (the preview shows these).

    A named tuple rather than a frozen dataclass: a plan makes one per firing rule, and a
    frozen dataclass costs several times as much to build."""

    outcome: Outcome
    resolved: Resolved
    carried: Approval | None
    carried_ref: str | None

    @property
    def rule(self) -> str:
        return self.outcome.rule.name


def submission_day(ctx: Context) -> dt.date:
    return ctx.now.astimezone(ctx.policy.zone).date()


def plan(
    ctx: Context, quote: Quote, previous: Submission | None, variables: dict[str, Any] | None = None
) -> list[Planned]:
    """Every approval the quote needs now, in policy order, with smart carries applied.

    `variables` are the quote's, when the caller has computed them already."""
    day = submission_day(ctx)
    out = []
    resolutions: dict[str, Resolved] = {}
    owner = owner_key(ctx.policy, quote)
    for outcome in ctx.evaluator.firing(quote, variables):
        rule = outcome.rule
        if rule.effective is not None and not rule.effective.covers(day):
            continue
        resolved = resolutions.get(rule.approver)
        if resolved is None:
            resolved = resolutions[rule.approver] = resolve(ctx, rule.approver, quote, rule.name)
        carried, ref = None, None
        before = previous.find(rule.name) if previous is not None else None
        if (
            before is not None
            and previous is not None
            and previous.status in ("rejected", "recalled", "pending")  # a pending one is recalled by the change
            and before.status in SETTLED
            and not _decided_by(before, owner)  # the quote changed hands: its new owner's approval never counts
            and not ctx.evaluator.still_needed(outcome, before.values)
        ):
            carried = before
            ref = before.carried_from or f"{previous.ref}/{rule.name}"
        out.append(Planned(outcome, resolved, carried, ref))
    return out


def _decided_by(approval: Approval, person: str) -> bool:
    """Whether PERSON had a hand in APPROVAL's outcome: acted, was acted for, or cast one of its votes."""
    return person in (approval.acted_by, approval.on_behalf_of) or any(
        person in (seat.voted_by, seat.member) and seat.vote is not None for seat in approval.seats
    )


def _reason_dicts(reasons: list[Reason]) -> list[dict[str, Any]]:
    return [r.as_dict() for r in reasons]


def submit(
    ctx: Context, quote: Quote, number: int, previous: Submission | None, justification: str | None = None
) -> tuple[Submission, list[Event]]:
    """Freeze a snapshot, create one approval per firing rule and open the first steps (§3.1).

    `justification` is the rep's reason for the deal, shown with every request and in the audit."""
    planned = plan(ctx, quote, previous)
    now = ctx.now
    sub = Submission(
        quote_id=quote.id,
        number=number,
        quote_version=quote.version,
        content_hash=quote.content_hash,
        owner=owner_key(ctx.policy, quote),
        snapshot=quote.data,
        status="pending",
        submitted_at=now,
        approvals=[],
        justification=(justification or "").strip() or None,
    )
    events = [
        _event(
            sub,
            Kind.SUBMITTED,
            now,
            actor=sub.owner,
            comment=sub.justification,
            detail={"rules": [p.rule for p in planned]},
        )
    ]
    for item in planned:
        rule = item.outcome.rule
        resolved = item.resolved
        approval = Approval(
            rule=rule.name,
            chain=rule.chain,
            step=rule.step,
            approver=rule.approver,
            mode=resolved.mode,
            quorum=resolved.quorum,
            explicit=rule.explicit,
            status="waiting",
            seats=[Seat(member=p, holder=p, asks=resolved.fallback) for p in resolved.members],
            reasons=_reason_dicts(item.outcome.why),
            values=dict(item.outcome.values),
            fallback=resolved.fallback,
            fallback_reason=resolved.why_fallback if resolved.fallback else None,
        )
        if item.carried is not None:
            origin = item.carried
            approval.status = "carried"
            approval.values = dict(origin.values)
            approval.carried_from = item.carried_ref
            approval.acted_by = origin.acted_by
            approval.on_behalf_of = origin.on_behalf_of
            approval.decided_at = now
            events.append(
                _event(
                    sub,
                    Kind.CARRIED,
                    now,
                    rule=rule.name,
                    actor=origin.acted_by,
                    on_behalf_of=origin.on_behalf_of,
                    detail={"carried_from": item.carried_ref},
                )
            )
        sub.approvals.append(approval)
    events.extend(_advance(ctx, sub))
    return sub, events


# ---------------------------------------------------------------- moving forward


def _settle(approval: Approval) -> str | None:
    """The approval's outcome from its votes: 'approved', 'rejected' or None (still open)."""
    votes = [s.vote for s in approval.seats]
    yes = votes.count("approve")
    no = votes.count("reject")
    if approval.mode == "any":
        return "approved" if yes else "rejected" if no else None
    if approval.mode == "all":
        return "rejected" if no else "approved" if yes == len(votes) else None
    need = approval.quorum or 1
    if yes >= need:
        return "approved"
    if yes + votes.count(None) < need:
        return "rejected"
    return None


def _finish(ctx: Context, sub: Submission, approval: Approval, outcome: str, deciding: Seat | None) -> list[Event]:
    now = ctx.now
    approval.decided_at = now
    if deciding is not None:
        approval.acted_by = deciding.voted_by
        approval.on_behalf_of = deciding.on_behalf_of
        approval.comment = deciding.comment
    if outcome == "approved":
        approval.status = "auto" if deciding is not None and deciding.auto else "approved"
        kind = Kind.AUTO_APPROVED if approval.status == "auto" else Kind.APPROVED
        return [
            _event(
                sub,
                kind,
                now,
                rule=approval.rule,
                actor=approval.acted_by,
                on_behalf_of=approval.on_behalf_of,
                comment=approval.comment,
            )
        ]
    approval.status = "rejected"
    events = [
        _event(
            sub,
            Kind.REJECTED,
            now,
            rule=approval.rule,
            actor=approval.acted_by,
            on_behalf_of=approval.on_behalf_of,
            comment=approval.comment,
        )
    ]
    sub.status = "rejected"
    sub.decided_at = now
    sub.comment = approval.comment
    events.extend(_revoke_open(ctx, sub, "the quote was rejected"))
    events.append(
        _event(sub, Kind.QUOTE_REJECTED, now, rule=approval.rule, actor=approval.acted_by, comment=approval.comment)
    )
    return events


def _revoke_open(ctx: Context, sub: Submission, why: str) -> list[Event]:
    events = []
    for approval in sub.approvals:
        if approval.open:
            was = approval.status
            approval.status = "revoked"
            approval.decided_at = ctx.now
            events.append(_event(sub, Kind.REVOKED, ctx.now, rule=approval.rule, comment=why, detail={"was": was}))
    return events


def _cast(
    ctx: Context, sub: Submission, approval: Approval, person: str, verdict: str, comment: str | None, auto: bool
) -> list[Event]:
    """Record `person`'s vote in every seat they may cast; settle the approval when it is decided.

    Someone added by escalation decides the whole approval (§3.11). Returns no events when the
    person has nothing to cast here.
    """
    now = ctx.now
    if person in approval.escalated_to:
        seats = [s for s in approval.seats if s.vote is None]
        for seat in seats:
            seat.vote, seat.voted_by, seat.voted_at, seat.comment, seat.auto = verdict, person, now, comment, auto
            seat.on_behalf_of = None
        deciding = seats[0] if seats else Seat(member=person, holder=person, voted_by=person, auto=auto)
        deciding.comment = comment
        return _finish(ctx, sub, approval, "approved" if verdict == "approve" else "rejected", deciding)
    seats = can_act_for(ctx, sub, approval, person)
    if auto:
        # Only a person's own seat counts automatically: never one they stand in for (a delegation),
        # nor one a replacement or a fallback gave them; those ask.
        seats = [seat for seat in seats if seat.holder == person and not seat.asks]
    for seat in seats:
        seat.vote, seat.voted_by, seat.voted_at, seat.comment, seat.auto = verdict, person, now, comment, auto
        seat.on_behalf_of = None if seat.holder == person else seat.holder
        outcome = _settle(approval)
        if outcome is not None:
            return _finish(ctx, sub, approval, outcome, seat)
    if not seats:
        return []
    detail: dict[str, Any] = {"vote": verdict}
    if auto:
        detail["auto"] = True
    return [
        _event(
            sub,
            Kind.VOTED,
            now,
            rule=approval.rule,
            actor=person,
            on_behalf_of=seats[0].on_behalf_of,
            comment=comment,
            detail=detail,
        )
    ]


def _auto_votes(ctx: Context, sub: Submission, approval: Approval) -> list[Event]:
    """§3.4: an approval someone already gave in this submission counts here too."""
    if approval.explicit or approval.status != "requested":
        return []
    events: list[Event] = []
    for person in sub.approved_by:
        if person == sub.owner:  # separation of duties: never the owner's own approval, however it got there
            continue
        events.extend(_cast(ctx, sub, approval, person, "approve", None, auto=True))
        if approval.status != "requested":
            break
    return events


def _advance(ctx: Context, sub: Submission) -> list[Event]:
    """Open the lowest unsettled step of every chain, apply auto votes, until nothing moves."""
    events: list[Event] = []
    moved = True
    while moved and sub.status == "pending":
        moved = False
        chains: dict[str, list[Approval]] = {}
        for approval in sub.approvals:
            chains.setdefault(approval.chain, []).append(approval)
        for members in chains.values():
            unsettled = [a for a in members if not a.settled]
            if not unsettled:
                continue
            step = min(a.step for a in unsettled)
            for approval in unsettled:
                if approval.step == step and approval.status == "waiting":
                    approval.status = "requested"
                    approval.requested_at = ctx.now
                    people = assignees(ctx, sub, approval)
                    approval.notified = list(people)
                    events.append(_event(sub, Kind.REQUESTED, ctx.now, rule=approval.rule, people=tuple(people)))
                    moved = True
            for approval in unsettled:
                if approval.step == step and approval.status == "requested":
                    found = _auto_votes(ctx, sub, approval)
                    if found:
                        events.extend(found)
                        moved = True
                        if sub.status != "pending":
                            return events
    if sub.status == "pending" and all(a.settled for a in sub.approvals):
        sub.status = "approved"
        sub.decided_at = ctx.now
        events.append(_event(sub, Kind.QUOTE_APPROVED, ctx.now, actor=None))
    return events


# ---------------------------------------------------------------- commands


def _requested(sub: Submission, rule: str) -> Approval:
    approval = sub.approval(rule)
    if sub.status != "pending" and approval.status not in (*SETTLED, "rejected"):
        raise StaleRequest(
            _("{ref} is no longer pending (it is {status}): nothing was changed", ref=sub.ref, status=sub.status)
        )
    if approval.status != "requested":
        if approval.status == "waiting":
            raise StaleRequest(
                _(
                    "the approval for {rule} on {quote} is not requested yet "
                    "(step {step} of the {chain} chain waits for earlier steps)",
                    rule=rule,
                    quote=sub.quote_id,
                    step=approval.step,
                    chain=approval.chain,
                )
            )
        who = _(" by {who}", who=approval.acted_by) if approval.acted_by else ""
        raise StaleRequest(
            _(
                "the approval for {rule} on {quote} was already {status}{who}",
                rule=rule,
                quote=sub.quote_id,
                status=approval.status,
                who=who,
            )
        )
    return approval


def decide(
    ctx: Context, sub: Submission, rule: str, person: str, verdict: str, comment: str | None = None
) -> list[Event]:
    """An assignee (or one standing in for them) approves or rejects (§3.2, §3.5, §3.9)."""
    if verdict not in ("approve", "reject"):
        raise GreenlightError(f"unknown decision {verdict!r}: approve or reject")
    comment = (comment or "").strip() or None
    if verdict == "reject" and not comment:
        raise NotAllowed(_("a rejection needs a reason: say what would make the deal acceptable"))
    approval = _requested(sub, rule)
    if person == sub.owner:
        raise NotAllowed(
            _("{who} owns {quote} and cannot decide its approvals", who=_label(ctx, person), quote=sub.quote_id)
        )
    if not can_act_for(ctx, sub, approval, person) and person not in approval.escalated_to:
        if any(s.voted_by == person for s in approval.seats):
            raise StaleRequest(
                _("{who} already voted on {rule} for {quote}", who=_label(ctx, person), rule=rule, quote=sub.quote_id)
            )
        stood_in = next((s for s in approval.seats if s.member == person and s.vote and s.voted_by != person), None)
        if stood_in is not None:
            voter, member = _label(ctx, stood_in.voted_by or person), _label(ctx, person)
            moment = stood_in.voted_at.isoformat() if stood_in.voted_at else "an earlier moment"
            raise StaleRequest(
                f"{voter} already voted to {stood_in.vote} {rule} on {sub.quote_id} on behalf of {member} at {moment}"
            )
        raise NotAllowed(
            _("{who} is not an approver of {rule} on {quote}", who=_label(ctx, person), rule=rule, quote=sub.quote_id)
        )
    events = _cast(ctx, sub, approval, person, verdict, comment, auto=False)
    if verdict == "approve" and person not in sub.approved_by:
        sub.approved_by.append(person)
    if sub.status == "pending":
        for other in sub.approvals:
            if other is not approval and other.status == "requested":
                events.extend(_auto_votes(ctx, sub, other))
                if sub.status != "pending":
                    break
        events.extend(_advance(ctx, sub))
    return events


def recall(ctx: Context, sub: Submission, by: str, quote_changed: bool = False) -> list[Event]:
    """The owner withdraws a pending submission (§3.6), or a new quote version does (§3.7)."""
    if sub.status != "pending":
        raise StaleRequest(
            _("{ref} is {status}, not pending: there is nothing to recall", ref=sub.ref, status=sub.status)
        )
    if not quote_changed:
        permissions.require_owner(by, sub.owner, "recall", sub.quote_id)
    why = "the quote changed" if quote_changed else "the owner recalled the quote"
    events = _revoke_open(ctx, sub, why)
    sub.status = "recalled"
    sub.decided_at = ctx.now
    sub.comment = why
    kind = Kind.QUOTE_CHANGED if quote_changed else Kind.RECALLED
    events.append(_event(sub, kind, ctx.now, actor=None if quote_changed else by, comment=why))
    return events


def reassign(
    ctx: Context, sub: Submission, rule: str, giver: str, receiver: str, comment: str | None = None
) -> list[Event]:
    """An assignee hands their part of one approval to someone else (§3.10)."""
    approval = _requested(sub, rule)
    policy = ctx.policy
    if receiver not in policy.people:
        raise NotFound(f"{receiver!r} is not in the policy's people")
    if receiver == sub.owner:
        raise NotAllowed(_("{who} owns {quote} and cannot approve it", who=_label(ctx, receiver), quote=sub.quote_id))
    seats = [seat for seat in approval.seats if seat.vote is None and seat.holder == giver]
    if not seats:
        if can_act_for(ctx, sub, approval, giver):
            raise NotAllowed(
                _(
                    "{who} stands in for someone on {rule} and can decide it, but only the assignee can reassign it",
                    who=giver,
                    rule=rule,
                )
            )
        raise NotAllowed(
            _("{who} is not an assignee of {rule} on {quote}", who=_label(ctx, giver), rule=rule, quote=sub.quote_id)
        )
    if is_assignee(ctx, sub, approval, receiver):
        raise Conflict(
            _(
                "{who} is already an assignee of {rule} on {quote}",
                who=_label(ctx, receiver),
                rule=rule,
                quote=sub.quote_id,
            )
        )
    for seat in seats:
        seat.holder = receiver
    people = assignees(ctx, sub, approval)
    approval.notified = list(people)
    events = [
        _event(
            sub,
            Kind.REASSIGNED,
            ctx.now,
            rule=rule,
            actor=giver,
            comment=comment,
            people=(receiver,),
            detail={"from": giver, "to": receiver},
        )
    ]
    events.extend(_auto_votes(ctx, sub, approval))
    if sub.status == "pending":
        events.extend(_advance(ctx, sub))
    return events


def replace(ctx: Context, sub: Submission, old: str, new: str, by: str) -> list[Event]:
    """Move `old`'s places in this submission's open approvals to `new` (§3.10)."""
    events: list[Event] = []
    if sub.status != "pending":
        return events
    for approval in sub.approvals:
        if not approval.open:
            continue
        touched = False
        members: list[str] = []
        for seat in list(approval.seats):
            if seat.holder == old and seat.vote is None:
                touched = True
                members.append(seat.member)
                if new == sub.owner:
                    approval.seats.remove(seat)
                else:
                    seat.holder, seat.asks = new, True
        if old in approval.escalated_to:
            touched = True
            swapped = [new if p == old else p for p in approval.escalated_to]
            approval.escalated_to = [p for i, p in enumerate(swapped) if p != sub.owner and p not in swapped[:i]]
        if not touched:
            continue
        detail: dict[str, Any] = {"old": old, "new": new, "members": members}
        if not approval.seats:
            quote = Quote(sub.snapshot)
            resolved = resolve(ctx, ctx.policy.fallback_approver, quote, approval.rule)
            approval.seats = [Seat(member=p, holder=p, asks=True) for p in resolved.members]
            approval.mode, approval.quorum, approval.fallback = resolved.mode, resolved.quorum, True
            detail["fallback"] = list(resolved.members)
        if approval.status == "requested":
            approval.notified = assignees(ctx, sub, approval)
        events.append(
            _event(
                sub,
                Kind.REPLACED,
                ctx.now,
                rule=approval.rule,
                actor=by,
                people=(new,),
                detail=detail,
            )
        )
    if events:
        for approval in sub.approvals:
            events.extend(_auto_votes(ctx, sub, approval))
        events.extend(_advance(ctx, sub))
    return events


def undo_replace(
    ctx: Context, sub: Submission, old: str, new: str, moved: dict[str, list[str]], by: str
) -> list[Event]:
    """Give back to `old` exactly the seats a replacement moved to `new` in this submission
    (`moved`: rule -> the members whose seats it moved), where `new` still holds them undecided."""
    events: list[Event] = []
    if sub.status != "pending":
        return events
    for approval in sub.approvals:
        members = moved.get(approval.rule)
        if not members or not approval.open:
            continue
        back = [s for s in approval.seats if s.member in members and s.holder == new and s.vote is None]
        for seat in back:
            seat.holder, seat.asks = old, seat.member != old
        if not back:
            continue
        if approval.status == "requested":
            approval.notified = assignees(ctx, sub, approval)
        detail = {"old": new, "new": old, "members": [s.member for s in back], "undo": True}
        events.append(_event(sub, Kind.REPLACED, ctx.now, rule=approval.rule, actor=by, people=(old,), detail=detail))
    return events


def tick(ctx: Context, sub: Submission) -> list[Event]:
    """Time-driven work (§3.9, §3.11): delegates added as windows open, reminders, escalations."""
    if sub.status != "pending":
        return []
    now = ctx.now
    events: list[Event] = []
    rules = {r.name: r for r in ctx.policy.rules}
    for approval in sub.approvals:
        if approval.status != "requested" or approval.requested_at is None:
            continue
        fresh = [p for p in assignees(ctx, sub, approval) if p not in approval.notified]
        if fresh:
            approval.notified.extend(fresh)
            events.append(_event(sub, Kind.DELEGATE_ADDED, now, rule=approval.rule, people=tuple(fresh)))
        rule = rules.get(approval.rule)
        if rule is None:
            continue
        remind_at = _next_reminder(approval, rule)
        if remind_at is not None and now >= remind_at:
            approval.reminded = True
            approval.reminded_at = now
            waiting = [p for p in assignees(ctx, sub, approval) if not _voted(approval, p)]
            events.append(_event(sub, Kind.REMINDED, now, rule=approval.rule, people=tuple(waiting)))
        escalate = rule.escalate_delay
        if (
            escalate is not None
            and not approval.escalated
            and rule.escalate_to
            and now >= approval.requested_at + escalate
        ):
            approval.escalated = True
            quote = Quote(sub.snapshot)
            resolved = resolve(ctx, rule.escalate_to, quote, rule.name)
            added = [p for p in resolved.members if p not in assignees(ctx, sub, approval)]
            approval.escalated_to.extend(added)
            approval.notified.extend(added)
            events.append(
                _event(
                    sub, Kind.ESCALATED, now, rule=approval.rule, people=tuple(added), detail={"to": rule.escalate_to}
                )
            )
    return events


def _next_reminder(approval: Approval, rule: Rule) -> dt.datetime | None:
    """When the next reminder of a requested approval is due: `remind_after` from the request,
    then every `remind_every` from the last one (None: no more reminders)."""
    if approval.requested_at is None or rule.remind_delay is None:
        return None
    if not approval.reminded:
        return approval.requested_at + rule.remind_delay
    every = rule.remind_interval
    if every is None:
        return None
    last = approval.reminded_at or approval.requested_at + rule.remind_delay
    return last + every


def _voted(approval: Approval, person: str) -> bool:
    return any(s.voted_by == person for s in approval.seats)


def next_due(sub: Submission, policy: Policy) -> dt.datetime | None:
    """The next instant at which `tick` has timed work for this submission (reminder/escalation)."""
    if sub.status != "pending":
        return None
    rules = {r.name: r for r in policy.rules}
    moments = []
    for approval in sub.approvals:
        rule = rules.get(approval.rule)
        if approval.status != "requested" or approval.requested_at is None or rule is None:
            continue
        reminder = _next_reminder(approval, rule)
        if reminder is not None:
            moments.append(reminder)
        if rule.escalate_delay is not None and not approval.escalated:
            moments.append(approval.requested_at + rule.escalate_delay)
    return min(moments) if moments else None
