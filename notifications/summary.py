"""An approval request put into words, once, for the email and the link page alike (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from domain import approvals as lifecycle
from domain.approvals import Approval, Context, Submission
from domain.policy import Policy
from domain.quote import Quote
from domain.values import format_number, format_value, one_line

_PAST = {"approve": "approved", "reject": "rejected"}


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
        customer = f" for {self.customer}" if self.customer else ""
        return f"{self.quote_id} v{self.version}{customer}: {self.rule}"


def name_of(policy: Policy, key: str | None) -> str:
    if not key:
        return "someone"
    person = policy.people.get(key)
    return person.name if person is not None and person.name else key


def address_of(policy: Policy, key: str) -> str | None:
    person = policy.people.get(key)
    return person.email if person is not None else None


def at(policy: Policy, person: str, moment: dt.datetime | None) -> str:
    """A moment as the reader reads it: in their own time zone, with the zone's abbreviation."""
    if moment is None:
        return ""
    local = moment.astimezone(policy.person_zone(person))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def money(quote: Quote, key: str) -> str | None:
    value = quote.data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{quote.currency} {format_number(value)}"
    return None


def facts_of(policy: Policy, sub: Submission) -> tuple[tuple[str, str], ...]:
    quote = Quote(sub.snapshot)
    facts: list[tuple[str, str]] = []
    if quote.customer:
        facts.append(("Customer", one_line(quote.customer)))
    facts.append(("Quote", f"{sub.quote_id} version {sub.quote_version}"))
    facts.append(("Rep", name_of(policy, sub.owner)))
    net, listed = money(quote, "net_total"), money(quote, "list_total")
    if net is not None:
        facts.append(("Amount", f"{net} (list {listed})" if listed and listed != net else net))
    discount = quote.data.get("discount_percent")
    if discount is not None:
        facts.append(("Discount", format_value(discount, percent=True)))
    for key, label in (("payment_terms", "Payment terms"), ("term_months", "Term (months)")):
        if quote.data.get(key) is not None:
            facts.append((label, one_line(format_value(quote.data[key]))))
    if sub.justification:
        facts.append(("Why (from the rep)", one_line(sub.justification)))
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
        lines.append(f"{other.rule}: {_status(policy, other)}")
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
    text = f"{name_of(policy, by)} {_PAST.get(vote, vote)}"
    if for_whom:
        text += f" for {name_of(policy, for_whom)}"
    if when is not None:
        text += f" ({at(policy, reader, when)})"
    if comment:
        text += f": “{comment}”"
    return text


def _status(policy: Policy, approval: Approval) -> str:
    by = f" by {name_of(policy, approval.acted_by)}" if approval.acted_by else ""
    if approval.status == "approved":
        return f"approved{by}"
    if approval.status == "auto":
        return f"approved{by} (counted from their other approval)"
    if approval.status == "carried":
        return f"approved earlier{by} ({approval.carried_from}), still valid"
    if approval.status == "rejected":
        reason = f": “{approval.comment}”" if approval.comment else ""
        return f"rejected{by}{reason}"
    if approval.status == "requested":
        cast = [f"{name_of(policy, s.voted_by)} {_PAST.get(s.vote, s.vote)}" for s in approval.seats if s.vote]
        waiting = [name_of(policy, s.holder) for s in approval.seats if s.vote is None]
        return "; ".join([*cast, "waiting on " + (", ".join(waiting) if waiting else "the approvers")])
    if approval.status == "waiting":
        return f"comes after step {approval.step - 1} of the {approval.chain} chain"
    return approval.status


def still_open(policy: Policy, sub: Submission) -> tuple[str, ...]:
    """The approvals of a pending submission that wait on someone: "payment-terms (Fiona Gallagher)"."""
    out = []
    for approval in sub.approvals:
        if approval.status == "requested":
            waiting = [name_of(policy, s.holder) for s in approval.seats if s.vote is None]
            out.append(f"{approval.rule} ({', '.join(waiting)})" if waiting else approval.rule)
        elif approval.status == "waiting":
            out.append(f"{approval.rule} (after step {approval.step - 1})")
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
        description=(rule.description if rule is not None and rule.description else approval.rule),
        facts=facts_of(policy, sub),
        reasons=reasons,
        decided=decisions(policy, sub, approval, person),
        person=name_of(policy, person),
        on_behalf_of=on_behalf,
    )


def voted(approval: Approval, person: str) -> Any:
    """The seat PERSON voted in on this approval (the first one), or None."""
    return next((s for s in approval.seats if s.voted_by == person and not s.auto), None)
