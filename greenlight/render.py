"""Plain-text renderings for the terminal: previews and scenario reports."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

from domain.preview import Preview, PreviewItem
from domain.values import format_number

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
            text += f" (away → {', '.join(person.delegates)})" if person.delegates else " (away)"
        names.append(text)
    if len(names) == 1:
        group = names[0]
    elif item.mode == "all":
        group = "all of " + ", ".join(names)
    elif item.mode == "quorum":
        group = f"{item.quorum} of " + ", ".join(names)
    else:
        group = "any of " + ", ".join(names)
    if item.fallback:
        group += f" [fallback: {item.fallback_reason}]" if item.fallback_reason else " [fallback]"
    return group


def preview_text(preview: Preview, owner: str | None = None) -> str:
    """The preview for a terminal; `owner` is the owner's name (default: as the quote names them)."""
    quote = preview.quote
    total = quote.data.get("net_total")
    money = f"{quote.currency} {format_number(total)}" if isinstance(total, int | float) else quote.currency
    lines = [
        paint(
            f"{quote.id} v{quote.version} · {quote.customer or 'no customer'} · {money} · owner {owner or quote.owner}",
            "1",
        )
    ]
    needed = [i for i in preview.items if not i.carried]
    carried = [i for i in preview.items if i.carried]
    if not preview.items:
        lines.append("No approval needed: submitting approves the quote at once.")
        return "\n".join(lines)
    chains = {i.chain for i in needed}
    lines.append(
        f"Needs {len(needed)} approval{'s' if len(needed) != 1 else ''}"
        f" in {len(chains)} chain{'s' if len(chains) != 1 else ''}"
        + (f"; {len(carried)} carried by smart approvals" if carried else "")
        + "."
    )
    for chain, steps in preview.chains().items():
        lines.append("")
        lines.append(paint(chain, "1;36"))
        for step, items in steps.items():
            for item in items:
                flags = []
                if item.explicit:
                    flags.append("explicit")
                if item.carried:
                    flags.append(f"carried from {item.carried_from}")
                flag = f"  [{'; '.join(flags)}]" if flags else ""
                lines.append(f"  step {step}  {paint(item.rule, '1')} → {who(item)}{flag}")
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
                state = f"quote {step.status}" if step.status else "no submission"
                out.append(f"  {step.index + 1:>2}. {step.summary} → {state}")
                if step.error:
                    out.append(f"      refused: {step.error}")
                detail = _statuses(step.approvals)
                if verbose and detail:
                    out.append(f"      {detail}")
                if verbose and step.events:
                    out.append(f"      events: {', '.join(step.events)}")
                if verbose and step.orders:
                    out.append(f"      orders: {_orders(step.orders)}")
                if verbose and step.erp:
                    out.append(f"      to the ERP: {', '.join(step.erp)}")
            for failure in step.failures:
                out.append(paint(f"      ✗ {failure}", "31"))
    passed = sum(1 for r in results if r.passed)
    out.append("")
    out.append(f"{passed} passed, {len(results) - passed} failed")
    return "\n".join(out)
