"""Plain-text renderings for the terminal: previews and scenario reports, in the current language."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

from domain import i18n
from domain.i18n import _, _n
from domain.preview import Preview, PreviewItem

from .scenarios import STATUSES, ScenarioResult


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def paint(text: str, code: str) -> str:
    return f"\033[{code}m{text}\033[0m" if _color() else text


def who(item: PreviewItem) -> str:
    names = []
    for person in item.people:
        text = person.person
        if person.away:
            if person.delegates:
                text = _("{who} (away → {delegates})", who=text, delegates=", ".join(person.delegates))
            else:
                text = _("{who} (away)", who=text)
        names.append(text)
    listed = ", ".join(names)
    if len(names) == 1:
        group = names[0]
    elif item.mode == "all":
        group = _("all of {names}", names=listed)
    elif item.mode == "quorum":
        group = _("{quorum} of {names}", quorum=item.quorum, names=listed)
    else:
        group = _("any of {names}", names=listed)
    if item.fallback:
        if item.fallback_reason:
            return _("{group} [fallback: {reason}]", group=group, reason=item.fallback_reason)
        return _("{group} [fallback]", group=group)
    return group


def preview_text(preview: Preview, owner: str | None = None) -> str:
    """The preview for a terminal; `owner` is the owner's name (default: as the quote names them)."""
    quote = preview.quote
    total = quote.data.get("net_total")
    amount = i18n.money(total, quote.currency) if isinstance(total, int | float) else quote.currency
    head = _(
        "{quote} v{version} · {customer} · {amount} · owner {owner}",
        quote=quote.id,
        version=quote.version,
        customer=quote.customer or _("no customer"),
        amount=amount,
        owner=owner or quote.owner,
    )
    lines = [paint(head, "1")]
    needed = [i for i in preview.items if not i.carried]
    carried = [i for i in preview.items if i.carried]
    if not preview.items:
        lines.append(_("No approval needed: submitting approves the quote at once."))
        return "\n".join(lines)
    chains = {i.chain for i in needed}
    approvals = _n("{count} approval", "{count} approvals", len(needed))
    in_chains = _n("{count} chain", "{count} chains", len(chains))
    if carried:
        lines.append(
            _(
                "Needs {approvals} in {chains}; {carried} carried by smart approvals.",
                approvals=approvals,
                chains=in_chains,
                carried=len(carried),
            )
        )
    else:
        lines.append(_("Needs {approvals} in {chains}.", approvals=approvals, chains=in_chains))
    for chain, steps in preview.chains().items():
        lines.append("")
        lines.append(paint(chain, "1;36"))
        for step, items in steps.items():
            for item in items:
                flags = []
                if item.explicit:
                    flags.append(_("explicit"))
                if item.carried:
                    flags.append(_("carried from {where}", where=item.carried_from))
                flag = f"  [{'; '.join(flags)}]" if flags else ""
                step_label = _("step {step}", step=step)
                lines.append(f"  {step_label}  {paint(item.rule, '1')} → {who(item)}{flag}")
                if item.description:
                    lines.append(f"          {item.description}")
                for reason in item.reasons:
                    lines.append(f"          · {reason}")
    return "\n".join(lines)


def _statuses(approvals: list[dict[str, Any]]) -> str:
    parts = []
    for status in STATUSES:
        rules = [a["rule"] for a in approvals if a["status"] == status]
        if rules:
            parts.append(f"{status}: {', '.join(rules)}")
    return " · ".join(parts)


def _orders(orders: list[dict[str, Any]]) -> str:
    return " · ".join(f"{o['number']} {o['status']} {o['delivery_date']} {o['currency']} {o['total']}" for o in orders)


def scenario_text(results: Iterable[ScenarioResult], verbose: bool = True) -> str:
    out: list[str] = []
    results = list(results)
    for result in results:
        mark = paint("PASS", "1;32") if result.passed else paint("FAIL", "1;31")
        out.append(f"{mark} {result.file}")
        for problem in result.problems:
            out.append(f"  ✗ {problem}")
        for step in result.steps:
            if verbose or step.failures:
                state = _("quote {status}", status=step.status) if step.status else _("no submission")
                out.append(f"  {step.index + 1:>2}. {step.summary} → {state}")
                if step.error:
                    out.append("      " + _("refused: {error}", error=step.error))
                detail = _statuses(step.approvals)
                if verbose and detail:
                    out.append(f"      {detail}")
                if verbose and step.events:
                    out.append("      " + _("events: {events}", events=", ".join(step.events)))
                if verbose and step.orders:
                    out.append("      " + _("orders: {orders}", orders=_orders(step.orders)))
                if verbose and step.erp:
                    out.append("      " + _("to the ERP: {messages}", messages=", ".join(step.erp)))
            for failure in step.failures:
                out.append(paint(f"      ✗ {failure}", "31"))
    passed = sum(1 for r in results if r.passed)
    out.append("")
    out.append(_("{passed} passed, {failed} failed", passed=passed, failed=len(results) - passed))
    return "\n".join(out)
