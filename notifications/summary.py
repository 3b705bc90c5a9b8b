"""An approval request put into words, once, for the email and the link page alike (pure).

Written in the current language (`domain.i18n.speaking`): the caller picks the reader's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain import approvals as lifecycle
from domain import i18n
from domain.approvals import Approval, Context, Submission
from domain.i18n import _
from domain.policy import Policy
from domain.quote import Quote
from domain.values import format_value, one_line


@dataclass(frozen=True)
class Summary:
    quote_id: str
    version: int
    ref: str  # Q-1042#2
    customer: str
    rule: str
    description: str
    facts: tuple[tuple[str, str], ...]  # (label, value): customer, quote, amount, discount, ...
    reasons: tuple[str, ...]  # why this approval is needed, with the values
    decided: tuple[str, ...]  # who else decided what, on this approval and the others
    person: str  # the reader's name
    on_behalf_of: tuple[str, ...]  # names of the people the reader stands in for

    @property
    def headline(self) -> str:
        if self.customer:
            return _(
                "{quote} v{version} for {customer}: {rule}",
                quote=self.quote_id,
                version=self.version,
                customer=self.customer,
                rule=self.rule,
            )
        return _("{quote} v{version}: {rule}", quote=self.quote_id, version=self.version, rule=self.rule)


def name_of(policy: Policy, key: str | None) -> str:
    if not key:
        return _("someone")
    person = policy.people.get(key)
    return person.name if person is not None and person.name else key


def address_of(policy: Policy, key: str) -> str | None:
    person = policy.people.get(key)
    return person.email if person is not None else None


def at(policy: Policy, person: str, moment: dt.datetime | None) -> str:
    """A moment as the reader reads it: in their own time zone, named ("3 déc. 2026, 18:27 (Paris)")."""
    if moment is None:
        return ""
    return i18n.moment(moment, policy.person_zone(person))


def money(quote: Quote, key: str) -> str | None:
    value = quote.amount(key)
    return i18n.money(value, quote.currency) if value is not None else None


def cast(who: str, vote: str, for_whom: str | None = None) -> str:
    """Who voted how: "Carl Jensen approved", "Dana rejected for Marco Bellini"."""
    if vote == "reject":
        if for_whom:
            return _("{who} rejected for {other}", who=who, other=for_whom)
        return _("{who} rejected", who=who)
    if for_whom:
        return _("{who} approved for {other}", who=who, other=for_whom)
    return _("{who} approved", who=who)


def facts_of(policy: Policy, sub: Submission) -> tuple[tuple[str, str], ...]:
    quote = Quote(sub.snapshot)
    facts: list[tuple[str, str]] = []
    if quote.customer:
        facts.append((_("Customer"), one_line(quote.customer)))
    facts.append((_("Quote"), _("{quote} version {version}", quote=sub.quote_id, version=sub.quote_version)))
    facts.append((_("Rep"), name_of(policy, sub.owner)))
    net, listed = money(quote, "net_total"), money(quote, "list_total")
    if net is not None:
        amount = _("{net} (list {listed})", net=net, listed=listed) if listed and listed != net else net
        facts.append((_("Amount"), amount))
    discount = quote.data.get("discount_percent")
    if discount is not None:  # "27.4%", "27,4 %" in French, or the value as given
        facts.append((_("Discount"), format_value(discount, percent=True)))
    for key, label in (("payment_terms", _("Payment terms")), ("term_months", _("Term (months)"))):
        if quote.data.get(key) is not None:
            facts.append((label, one_line(format_value(quote.data[key]))))
    if sub.justification:
        facts.append((_("Why (from the rep)"), one_line(sub.justification)))
    return tuple(facts)


def decisions(policy: Policy, sub: Submission, approval: Approval | None, reader: str) -> tuple[str, ...]:
    """What others decided: votes on this approval first, then the other approvals' outcomes."""
    lines: list[str] = []
    if approval is not None:
        for seat in approval.seats:
            if seat.vote is None or seat.voted_by == reader or seat.auto:
                continue
            lines.append(
                _vote(policy, reader, seat.voted_by, seat.vote, seat.on_behalf_of, seat.comment, seat.voted_at)
            )
    for other in sub.approvals:
        if approval is not None and other.rule == approval.rule:
            continue
        lines.append(_("{rule}: {status}", rule=other.rule, status=_status(policy, other)))
    return tuple(lines)


def _vote(
    policy: Policy,
    reader: str,
    by: str | None,
    vote: str,
    for_whom: str | None,
    comment: str | None,
    when: dt.datetime | None,
) -> str:
    text = cast(name_of(policy, by), vote, name_of(policy, for_whom) if for_whom else None)
    if when is not None:
        text = _("{text} ({when})", text=text, when=at(policy, reader, when))
    if comment:
        text = _("{text}: “{comment}”", text=text, comment=comment)
    return text


def _status(policy: Policy, approval: Approval) -> str:
    by = name_of(policy, approval.acted_by) if approval.acted_by else None
    if approval.status == "approved":
        return _("approved by {who}", who=by) if by else _("approved")
    if approval.status == "auto":
        if by:
            return _("approved by {who} (counted from their other approval)", who=by)
        return _("approved (counted from their other approval)")
    if approval.status == "carried":
        if by:
            return _("approved earlier by {who} ({where}), still valid", who=by, where=approval.carried_from)
        return _("approved earlier ({where}), still valid", where=approval.carried_from)
    if approval.status == "rejected":
        text = _("rejected by {who}", who=by) if by else _("rejected")
        return _("{text}: “{comment}”", text=text, comment=approval.comment) if approval.comment else text
    if approval.status == "requested":
        votes = [cast(name_of(policy, s.voted_by), s.vote) for s in approval.seats if s.vote]
        waiting = [name_of(policy, s.holder) for s in approval.seats if s.vote is None]
        wait = _("waiting on {who}", who=", ".join(waiting)) if waiting else _("waiting on the approvers")
        return "; ".join([*votes, wait])
    if approval.status == "waiting":
        return _("comes after step {step} of the {chain} chain", step=approval.step - 1, chain=approval.chain)
    return approval.status


def still_open(policy: Policy, sub: Submission) -> tuple[str, ...]:
    """The approvals of a pending submission that wait on someone: "payment-terms (Fiona Gallagher)"."""
    out = []
    for approval in sub.approvals:
        if approval.status == "requested":
            waiting = [name_of(policy, s.holder) for s in approval.seats if s.vote is None]
            out.append(f"{approval.rule} ({', '.join(waiting)})" if waiting else approval.rule)
        elif approval.status == "waiting":
            out.append(_("{rule} (after step {step})", rule=approval.rule, step=approval.step - 1))
    return tuple(out)


def summarize(policy: Policy, sub: Submission, approval: Approval, person: str, ctx: Context | None = None) -> Summary:
    """The request PERSON is asked to decide, with what others decided so far."""
    quote = Quote(sub.snapshot)
    rule = policy.rule(approval.rule)
    reasons = tuple(one_line(reason.get("text", "")) for reason in approval.reasons if reason.get("text"))
    on_behalf: tuple[str, ...] = ()
    if ctx is not None:
        seats = lifecycle.can_act_for(ctx, sub, approval, person)
        on_behalf = tuple(name_of(policy, s.holder) for s in seats if s.holder != person)
    return Summary(
        quote_id=sub.quote_id,
        version=sub.quote_version,
        ref=sub.ref,
        customer=one_line(quote.customer),
        rule=approval.rule,
        description=(i18n.localized(rule.description, policy.locale) if rule is not None else None) or approval.rule,
        facts=facts_of(policy, sub),
        reasons=reasons,
        decided=decisions(policy, sub, approval, person),
        person=name_of(policy, person),
        on_behalf_of=on_behalf,
    )


def voted(approval: Approval, person: str) -> Any:
    """The seat PERSON voted in on this approval (the first one), or None."""
    return next((s for s in approval.seats if s.voted_by == person and not s.auto), None)
