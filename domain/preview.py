"""Approval previews (§3.12): what a quote would need, by chain and step, in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .approvals import Context, Planned, Submission, owner_key, plan
from .quote import Quote


@dataclass(frozen=True)
class PreviewPerson:
    person: str
    away: bool
    delegates: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"person": self.person, "away": self.away, "delegates": list(self.delegates)}


@dataclass(frozen=True)
class PreviewItem:
    rule: str
    chain: str
    step: int
    approver: str
    mode: str
    quorum: int | None
    people: tuple[PreviewPerson, ...]
    reasons: tuple[str, ...]
    carried: bool
    carried_from: str | None
    fallback: bool
    explicit: bool
    description: str | None
    fallback_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "chain": self.chain,
            "step": self.step,
            "approver": self.approver,
            "mode": self.mode,
            "quorum": self.quorum,
            "people": [p.as_dict() for p in self.people],
            "reasons": list(self.reasons),
            "carried": self.carried,
            "carried_from": self.carried_from,
            "fallback": self.fallback,
            "explicit": self.explicit,
            "description": self.description,
            "fallback_reason": self.fallback_reason,
        }


@dataclass(frozen=True)
class Preview:
    quote: Quote
    items: tuple[PreviewItem, ...]
    variables: dict[str, Any]

    @property
    def needs_approval(self) -> bool:
        return any(not item.carried for item in self.items)

    def chains(self) -> dict[str, dict[int, list[PreviewItem]]]:
        out: dict[str, dict[int, list[PreviewItem]]] = {}
        for item in sorted(self.items, key=lambda i: (i.chain, i.step)):
            out.setdefault(item.chain, {}).setdefault(item.step, []).append(item)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "quote": self.quote.id,
            "version": self.quote.version,
            "customer": self.quote.customer,
            "currency": self.quote.currency,
            "net_total": self.quote.data.get("net_total"),
            "needs_approval": self.needs_approval,
            "chains": [
                {
                    "chain": chain,
                    "steps": [
                        {"step": step, "approvals": [i.as_dict() for i in items]} for step, items in steps.items()
                    ],
                }
                for chain, steps in self.chains().items()
            ],
            "variables": {k: self.variables[k] for k in sorted(self.variables)},
        }


def build_preview(
    ctx: Context, quote: Quote, previous: Submission | None = None, planned: list[Planned] | None = None
) -> Preview:
    items = []
    owner = owner_key(ctx.policy, quote)
    variables = ctx.evaluator.variables(quote)
    seen: dict[tuple[str, ...], tuple[PreviewPerson, ...]] = {}  # many rules share an approver's people
    for p in planned if planned is not None else plan(ctx, quote, previous, variables):
        rule = p.outcome.rule
        people = seen.get(p.resolved.members)
        if people is None:
            people = seen[p.resolved.members] = tuple(
                PreviewPerson(
                    person,
                    ctx.directory.away(ctx.policy, person, ctx.now),
                    tuple(ctx.directory.stand_ins(ctx.policy, person, ctx.now, owner)),
                )
                for person in p.resolved.members
            )
        items.append(
            PreviewItem(
                rule=rule.name,
                chain=rule.chain,
                step=rule.step,
                approver=rule.approver,
                mode=p.resolved.mode,
                quorum=p.resolved.quorum,
                people=people,
                reasons=tuple(r.text for r in p.outcome.why),
                carried=p.carried is not None,
                carried_from=p.carried_ref,
                fallback=p.resolved.fallback,
                explicit=rule.explicit,
                description=rule.description,
                fallback_reason=p.resolved.why_fallback if p.resolved.fallback else None,
            )
        )
    return Preview(quote, tuple(items), variables)
