"""Policy backtest: what a new policy would have changed, quote version by quote version.

Each submission Greenlight recorded is compared twice over the same quote snapshot: the approvals
the policy that decided it actually asked for (the rules recorded with the submission, whatever
the policy in force was then) against the approvals the new policy would ask for (`plan`, the
same function as a preview, at the moment of the submission: effective dates hold as they did).
Rules are matched by name. Everything here is pure; the store feeds it in batches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .approvals import SETTLED, Context, Directory, resolve
from .approvals import plan as plan_approvals
from .errors import GreenlightError
from .policy import Policy
from .quote import Quote
from .rules import Evaluator

EXAMPLES = 5


@dataclass(frozen=True)
class Recorded:
    """One submission as the store recorded it: its quote, outcome and the approvals asked."""

    quote_id: str
    number: int
    version: int
    status: str  # pending | approved | rejected | recalled
    submitted_at: dt.datetime
    quote: Quote
    approvals: dict[str, str]  # rule -> status

    @property
    def ref(self) -> str:
        return f"{self.quote_id}#{self.number}"


@dataclass
class RuleChange:
    newly: int = 0  # quotes that would need this rule and did not
    dropped: int = 0  # quotes that needed it and would not
    kept: int = 0  # needed under both
    newly_examples: list[str] = field(default_factory=list)
    dropped_examples: list[str] = field(default_factory=list)


@dataclass
class Backtest:
    submissions: int = 0
    changed: int = 0  # submissions whose set of rules would differ
    rules: dict[str, RuleChange] = field(default_factory=dict)
    load: dict[str, list[int]] = field(default_factory=dict)  # person -> [before, after]
    decided: int = 0
    differently: dict[str, int] = field(default_factory=dict)
    differently_examples: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def decided_differently(self) -> int:
        return sum(self.differently.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "submissions": self.submissions,
            "changed": self.changed,
            "rules": {
                name: {
                    "newly_needed": c.newly,
                    "no_longer_needed": c.dropped,
                    "still_needed": c.kept,
                    "newly_needed_examples": c.newly_examples,
                    "no_longer_needed_examples": c.dropped_examples,
                }
                for name, c in sorted(self.rules.items())
            },
            "approver_load": {
                person: {"before": before, "after": after, "change": after - before}
                for person, (before, after) in sorted(self.load.items())
            },
            "decided": self.decided,
            "decided_differently": self.decided_differently,
            "differently": dict(sorted(self.differently.items())),
            "differently_examples": dict(sorted(self.differently_examples.items())),
            "problems": self.problems,
        }


WOULD_WAIT = "approved, would have waited for more approvals"
WOULD_APPROVE = "rejected, would have been approved"
WOULD_NOT_REJECT = "rejected, that rejection would not have been asked"


class Backtester:
    """Feeds on recorded submissions (`add`) and keeps the running comparison (`result`)."""

    def __init__(self, new: Policy, current: Policy, directory: Directory | None = None) -> None:
        self.new, self.current = new, current
        self.new_evaluator = Evaluator(new)
        self.current_evaluator = Evaluator(current)
        self.directory = directory or Directory()
        self.result = Backtest()
        self._approver_of: dict[str, str] = {}
        self._resolved: dict[tuple[str, str], tuple[str, ...]] = {}

    def add(self, item: Recorded) -> None:
        out = self.result
        out.submissions += 1
        ctx = Context(self.new, self.new_evaluator, self.directory, item.submitted_at)
        try:
            planned = plan_approvals(ctx, item.quote, None)
        except GreenlightError as error:
            if len(out.problems) < 20:
                out.problems.append(f"{item.ref}: {error}")
            return
        after = {p.rule: p for p in planned}
        before = item.approvals
        if after.keys() != before.keys():
            out.changed += 1
        for name in after.keys() | before.keys():
            change = out.rules.get(name)
            if change is None:
                change = out.rules[name] = RuleChange()
            if name in after and name in before:
                change.kept += 1
            elif name in after:
                change.newly += 1
                _example(change.newly_examples, item.quote_id)
            else:
                change.dropped += 1
                _example(change.dropped_examples, item.quote_id)
        for p in planned:
            for person in p.resolved.members:
                self._load(person)[1] += 1
        for name in before:
            for person in self._asked_before(name, item):
                self._load(person)[0] += 1
        if item.status in ("approved", "rejected"):
            out.decided += 1
            verdict = _differently(item, after.keys())
            if verdict is not None:
                out.differently[verdict] = out.differently.get(verdict, 0) + 1
                _example(out.differently_examples.setdefault(verdict, []), item.quote_id)

    def _asked_before(self, name: str, item: Recorded) -> tuple[str, ...]:
        """Who the recorded approval `name` had as approvers, by the approver definitions in force.

        A user or group approver resolves the same way for every quote of one owner: remembered.
        """
        approver = self._approver_of.get(name)
        if approver is None:
            rule = self.current.rule(name)
            if rule is None:
                return ()
            approver = self._approver_of[name] = rule.approver
        definition = self.current.approver(approver)
        key = (approver, item.quote.owner) if definition is not None and definition.field is None else None
        if key is not None and key in self._resolved:
            return self._resolved[key]
        ctx = Context(self.current, self.current_evaluator, self.directory, item.submitted_at)
        try:
            members = resolve(ctx, approver, item.quote, name).members
        except GreenlightError:
            members = ()
        if key is not None:
            self._resolved[key] = members
        return members

    def _load(self, person: str) -> list[int]:
        found = self.result.load.get(person)
        if found is None:
            found = self.result.load[person] = [0, 0]
        return found


def _example(examples: list[str], quote_id: str) -> None:
    if len(examples) < EXAMPLES and quote_id not in examples:
        examples.append(quote_id)


def _differently(item: Recorded, needed: Any) -> str | None:
    """How a decided submission would have ended under the new rules (None: the same)."""
    given = {rule for rule, status in item.approvals.items() if status in SETTLED}
    if item.status == "approved":
        return WOULD_WAIT if any(rule not in given for rule in needed) else None
    rejecting = [rule for rule, status in item.approvals.items() if status == "rejected"]
    if rejecting and not any(rule in needed for rule in rejecting):
        return WOULD_APPROVE if all(rule in given for rule in needed) else WOULD_NOT_REJECT
    return None


def text(result: Backtest, source: str) -> str:
    """The backtest for a terminal."""
    lines = [
        f"Backtest of {source} over {result.submissions} submitted quote versions: "
        f"{result.changed} would need a different set of approvals.",
        "",
        "By rule (newly needed / no longer needed / still needed):",
    ]
    for name, c in sorted(result.rules.items()):
        lines.append(f"  {name}: +{c.newly} / -{c.dropped} / {c.kept}")
        if c.newly_examples:
            lines.append(f"    newly needed by {', '.join(c.newly_examples)}")
        if c.dropped_examples:
            lines.append(f"    no longer needed by {', '.join(c.dropped_examples)}")
    lines += ["", "Approver load (approvals they are an approver of, before -> after):"]
    for person, (before, after) in sorted(result.load.items(), key=lambda kv: (-(abs(kv[1][1] - kv[1][0])), kv[0])):
        if before != after:
            lines.append(f"  {person}: {before} -> {after} ({after - before:+d})")
    if all(before == after for before, after in result.load.values()):
        lines.append("  unchanged")
    lines += ["", f"Decided quotes decided differently: {result.decided_differently} of {result.decided}"]
    for verdict, count in sorted(result.differently.items()):
        lines.append(f"  {count} {verdict} (e.g. {', '.join(result.differently_examples.get(verdict, []))})")
    for problem in result.problems:
        lines.append(f"  problem: {problem}")
    return "\n".join(lines) + "\n"
