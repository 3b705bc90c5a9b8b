"""Which rules a quote triggers, and why: variables, conditions and their reasons in words.

`Evaluator(policy)` compiles the policy once (condition tests, shared line filters, `when`
trees); `evaluator.evaluate(quote)` computes the variables and every rule's outcome for a quote.
The same evaluation serves previews and submissions, so they always agree.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import logic
from .policy import Condition, Filter, Policy, Rule, Variable
from .quote import Quote
from .values import SYMBOLS, as_number, compare, format_value, looks_like_date

Test = Callable[[Any], bool]
_FAST = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_PERCENT_WORDS = ("discount", "percent", "margin", "pct")


def make_test(op: str, expected: Any) -> Test:
    """A one-argument test equal to `compare(op, actual, expected)`, with fast paths."""
    fast = _FAST.get(op)
    number: float | None = None
    if fast is not None and not isinstance(expected, bool | list | dict):
        try:
            number = as_number(expected)
        except Exception:
            number = None
    if fast is not None and number is not None:

        def numeric(actual: Any) -> bool:
            kind = actual.__class__
            if kind is float or kind is int:
                return fast(actual, number)
            return compare(op, actual, expected)

        return numeric
    if op in ("eq", "ne") and isinstance(expected, str) and not looks_like_date(expected):
        want = op == "eq"

        def textual(actual: Any) -> bool:
            if actual.__class__ is str:
                return (actual == expected) == want
            return compare(op, actual, expected)

        return textual
    return lambda actual: compare(op, actual, expected)


def lookup(data: dict[str, Any], path: str, people: dict[str, Any] | None = None) -> Any:
    """A dotted path in quote data; a step that lands on a person continues in their entry."""
    value: Any = data
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, str) and people is not None and value in people:
            entry = people[value]
            value = getattr(entry, part, None) if not isinstance(entry, dict) else entry.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


def is_percent(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _PERCENT_WORDS)


@dataclass(frozen=True)
class Reason:
    """One condition of a rule, with the actual value it saw."""

    index: int
    subject: str
    op: str
    actual: Any
    expected: Any
    holds: bool
    percent: bool
    smart: bool

    @property
    def text(self) -> str:
        actual = format_value(self.actual, self.percent)
        expected = format_value(self.expected, self.percent)
        return f"{self.subject} {actual} {SYMBOLS[self.op]} {expected}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "condition": self.index,
            "text": self.text,
            "subject": self.subject,
            "op": self.op,
            "actual": self.actual,
            "expected": self.expected,
            "holds": self.holds,
            "smart": self.smart,
        }


@dataclass(frozen=True)
class Outcome:
    """A rule's result for one quote: whether it fires, its reasons and the values it tested."""

    rule: Rule
    fires: bool
    reasons: tuple[Reason, ...]
    values: dict[int, Any]

    @property
    def why(self) -> list[Reason]:
        """The conditions that hold: the reasons to show a person."""
        return [r for r in self.reasons if r.holds]


class _CompiledCondition:
    __slots__ = ("condition", "index", "percent", "test")

    def __init__(self, index: int, condition: Condition) -> None:
        self.index = index
        self.condition = condition
        name = condition.variable or condition.field or ""
        self.percent = is_percent(name) or is_percent(condition.label or "")
        self.test: Test | None = None
        if "value" in condition.model_fields_set:
            self.test = make_test(condition.op, condition.value)


class _CompiledRule:
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.tree = rule.logic
        self.conditions = [_CompiledCondition(i + 1, c) for i, c in enumerate(rule.conditions)]


class Evaluator:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.rules = [_CompiledRule(rule) for rule in policy.rules]
        self._filters: dict[tuple, tuple[str, Test]] = {}
        self._variable_filters: dict[str, list[tuple]] = {}
        for name, variable in policy.variables.items():
            keys = []
            for flt in variable.where:
                key = (flt.field, flt.op, repr(flt.value))
                self._filters.setdefault(key, (flt.field, make_test(flt.op, flt.value)))
                keys.append(key)
            self._variable_filters[name] = keys

    def variables(self, quote: Quote) -> dict[str, Any]:
        lines = quote.lines
        masks: dict[tuple, list[bool]] = {}
        for key, (field, test) in self._filters.items():
            masks[key] = [test(line.get(field)) if "." not in field else test(lookup(line, field)) for line in lines]
        out: dict[str, Any] = {}
        for name, variable in self.policy.variables.items():
            keys = self._variable_filters[name]
            if keys:
                picked = [line for i, line in enumerate(lines) if all(masks[k][i] for k in keys)]
            else:
                picked = lines
            out[name] = _aggregate(variable, picked)
        return out

    def evaluate(self, quote: Quote, variables: dict[str, Any] | None = None) -> list[Outcome]:
        values = self.variables(quote) if variables is None else variables
        return [self._outcome(compiled, quote, values) for compiled in self.rules]

    def outcome(self, rule_name: str, quote: Quote, variables: dict[str, Any]) -> Outcome:
        compiled = next(c for c in self.rules if c.rule.name == rule_name)
        return self._outcome(compiled, quote, variables)

    def _side(self, quote: Quote, variables: dict[str, Any], field: str | None, variable: str | None) -> Any:
        if variable is not None:
            return variables.get(variable)
        return lookup(quote.data, field or "", self.policy.people)

    def _outcome(self, compiled: _CompiledRule, quote: Quote, variables: dict[str, Any]) -> Outcome:
        reasons = []
        values: dict[int, Any] = {}
        truths: dict[int, bool] = {}
        for cc in compiled.conditions:
            condition = cc.condition
            actual = self._side(quote, variables, condition.field, condition.variable)
            if cc.test is not None:
                expected = condition.value
                holds = actual is not None and cc.test(actual)
            else:
                expected = self._side(quote, variables, condition.other_field, condition.other_variable)
                holds = compare(condition.op, actual, expected)
            values[cc.index] = actual
            truths[cc.index] = holds
            reasons.append(
                Reason(cc.index, condition.subject, condition.op, actual, expected, holds, cc.percent, condition.smart)
            )
        fires = logic.evaluate(compiled.tree, truths.__getitem__)
        return Outcome(compiled.rule, fires, tuple(reasons), values)

    def still_needed(self, outcome: Outcome, approved_values: dict[int, Any]) -> bool:
        """Smart approvals (§3.8): does this rule need a new approval, given what was approved?

        Each `smart` condition is true only if its value got worse than the approved one; the
        other conditions keep their ordinary truth.
        """
        from .values import smart_condition_holds

        truths: dict[int, bool] = {}
        for reason in outcome.reasons:
            if reason.smart:
                truths[reason.index] = smart_condition_holds(
                    reason.op, approved_values.get(reason.index), reason.actual
                )
            else:
                truths[reason.index] = reason.holds
        compiled = next(c for c in self.rules if c.rule is outcome.rule)
        return logic.evaluate(compiled.tree, truths.__getitem__)


def _numbers(lines: list[dict[str, Any]], field: str) -> list[float]:
    out = []
    for line in lines:
        value = line.get(field) if "." not in field else lookup(line, field)
        kind = value.__class__
        if kind is float or kind is int:
            out.append(value)
        elif value is not None:
            try:
                out.append(as_number(value))
            except Exception:
                continue
    return out


def _aggregate(variable: Variable, lines: list[dict[str, Any]]) -> Any:
    if variable.discount is not None:
        listed = sum(_numbers(lines, variable.discount.list))
        net = sum(_numbers(lines, variable.discount.net))
        if not lines or listed == 0:
            return None
        return round((1 - net / listed) * 100, 6)
    kind = variable.aggregate
    if kind == "count":
        if variable.field is None:
            return len(lines)
        return sum(1 for line in lines if lookup(line, variable.field) is not None)
    numbers = _numbers(lines, variable.field or "")
    if kind == "sum":
        return sum(numbers)
    if not numbers:
        return None
    if kind == "min":
        return min(numbers)
    if kind == "max":
        return max(numbers)
    return sum(numbers) / len(numbers)


__all__ = ["Evaluator", "Filter", "Outcome", "Reason", "lookup", "make_test"]
