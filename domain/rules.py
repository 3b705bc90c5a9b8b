"""Which rules a quote triggers, and why: variables, conditions and their reasons in words.

`Evaluator(policy)` compiles the policy once (condition tests, shared line filters, `when`
trees); `evaluator.evaluate(quote)` computes the variables and every rule's outcome for a quote.
The same evaluation serves previews and submissions, so they always agree.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from . import logic
from .policy import Condition, Filter, Policy, Rule, Variable
from .quote import Quote
from .values import SYMBOLS, as_number, compare, format_value, looks_like_date

Test = Callable[[Any], bool]
_FilterKey = tuple[str, str, str]  # field, operator, repr(value)
# Used only when both sides are int or float, where these operators give a bool.
_FAST: dict[str, Callable[[float, float], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_NUMBER_TYPES = {int, float}
_PERCENT_WORDS = ("percent", "pct")


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
            if (kind is float or kind is int) and actual == actual:  # NaN is unreadable, like in compare
                return fast(actual, number)
            return compare(op, actual, expected)

        return numeric
    if (
        op in ("in", "not_in")
        and isinstance(expected, list)
        and expected
        and all(isinstance(v, str) and not looks_like_date(v) and not _numeric_text(v) for v in expected)
    ):
        members = frozenset(expected)
        inside = op == "in"

        def membership(actual: Any) -> bool:
            if actual.__class__ is str and not looks_like_date(actual):
                return (actual in members) == inside
            return compare(op, actual, expected)

        return membership
    if op in ("eq", "ne") and isinstance(expected, str) and not looks_like_date(expected):
        want = op == "eq"

        def textual(actual: Any) -> bool:
            if actual.__class__ is str and not looks_like_date(actual):
                return (actual == expected) == want
            return compare(op, actual, expected)

        return textual
    return lambda actual: compare(op, actual, expected)


def _numeric_text(text: str) -> bool:
    try:
        as_number(text)
    except Exception:
        return False
    return True


def lookup(data: dict[str, Any], path: str, person: Callable[[str], Any] | None = None) -> Any:
    """A dotted path in quote data; a step that lands on a person continues in their entry.

    `person` finds a directory entry from a people key or a Slack id (None when unknown).
    """
    value: Any = data
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, str) and person is not None and (entry := person(value)) is not None:
            value = getattr(entry, part, None) if not isinstance(entry, dict) else entry.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


def is_percent(name: str) -> bool:
    """Whether a field or variable name reads as a percentage (discount_percent, blended_discount)."""
    lowered = name.lower()
    return any(word in lowered for word in _PERCENT_WORDS) or lowered.endswith(("discount", "margin"))


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
        if self.op in ("eq", "ne") and actual == expected and self.holds:
            return f"{self.subject}: {actual}"  # "custom terms: yes", not "custom terms yes = yes"
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


class Outcome:
    """A rule's result for one quote: whether it fires, its reasons and the values it tested."""

    __slots__ = ("_actuals", "_compiled", "_quote", "_reasons", "_truths", "_variables", "fires", "rule")

    def __init__(
        self,
        compiled: _CompiledRule,
        fires: bool,
        actuals: list[Any],
        truths: list[bool],
        quote: Quote,
        variables: dict[str, Any],
    ) -> None:
        self._compiled = compiled
        self.rule: Rule = compiled.rule
        self.fires = fires
        self._actuals = actuals
        self._truths = truths
        self._quote = quote
        self._variables = variables
        self._reasons: tuple[Reason, ...] | None = None

    @property
    def values(self) -> dict[int, Any]:
        """The value each condition tested, by 1-based condition number."""
        return {i + 1: actual for i, actual in enumerate(self._actuals)}

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Every condition with its actual value (built on demand: most callers need few)."""
        if self._reasons is None:
            self._reasons = tuple(
                Reason(
                    cc.index,
                    cc.subject,
                    cc.condition.op,
                    actual,
                    cc.expected(self._quote, self._variables),
                    holds,
                    cc.percent,
                    cc.condition.smart,
                )
                for cc, actual, holds in zip(self._compiled.conditions, self._actuals, self._truths, strict=True)
            )
        return self._reasons

    @property
    def why(self) -> list[Reason]:
        """The conditions that hold: the reasons to show a person."""
        return [r for r in self.reasons if r.holds]


class _CompiledCondition:
    __slots__ = ("condition", "index", "other", "percent", "subject", "test", "tested")

    def __init__(self, index: int, condition: Condition, policy: Policy, person: Callable[[str], Any]) -> None:
        self.index = index
        self.condition = condition
        variable = policy.variables.get(condition.variable or "")
        self.subject = condition.label or (variable.label if variable and variable.label else condition.subject)
        name = condition.variable or condition.field or ""
        self.percent = is_percent(name) or is_percent(condition.label or "")
        if variable is not None:
            self.percent = variable.discount is not None or is_percent(variable.field or "") or is_percent(name)
        self.test: Test | None = None
        if "value" in condition.model_fields_set:
            self.test = make_test(condition.op, condition.value)
        self.tested = _getter(condition.field, condition.variable, person)
        self.other = _getter(condition.other_field, condition.other_variable, person)

    def expected(self, quote: Quote, variables: dict[str, Any]) -> Any:
        return self.condition.value if self.test is not None else self.other(quote, variables)


def _getter(
    field: str | None, variable: str | None, person: Callable[[str], Any]
) -> Callable[[Quote, dict[str, Any]], Any]:
    if variable is not None:
        return lambda quote, variables: variables.get(variable)
    if field is None:
        return lambda quote, variables: None
    if "." not in field:
        return lambda quote, variables: quote.data.get(field)
    return lambda quote, variables: lookup(quote.data, field, person)


class _CompiledRule:
    def __init__(self, rule: Rule, policy: Policy, person: Callable[[str], Any]) -> None:
        self.rule = rule
        self.tree = rule.logic
        keyword = rule.when.strip().lower()
        self.decide: Callable[[list[bool]], bool] = (
            all if keyword == "all" else any if keyword == "any" else logic.compile_tree(self.tree)
        )
        if not rule.conditions:
            self.decide = _always
        self.conditions = [_CompiledCondition(i + 1, c, policy, person) for i, c in enumerate(rule.conditions)]
        self.specs = [
            (
                c.variable is not None,
                c.variable if c.variable is not None else (c.field if c.field and "." not in c.field else None),
                cc.test,
                cc,
            )
            for c, cc in ((cc.condition, cc) for cc in self.conditions)
        ]


class _CompiledFilter:
    """A line filter, shared by every variable that uses the same one."""

    __slots__ = ("field", "indexable", "key", "test", "value")

    def __init__(self, flt: Filter) -> None:
        self.field = flt.field
        self.value = flt.value
        self.key = (flt.field, flt.op, repr(flt.value))
        self.test = make_test(flt.op, flt.value)
        # An `eq` on plain text can be answered from one pass that groups lines by the field.
        self.indexable = (
            flt.op == "eq" and "." not in flt.field and isinstance(flt.value, str) and not looks_like_date(flt.value)
        )


def _always(truths: list[bool]) -> bool:
    return True


def person_finder(policy: Policy) -> Callable[[str], Any]:
    """A directory entry by people key or Slack id, or None."""
    by_slack = {p.slack: p for p in policy.people.values() if p.slack}
    people = policy.people

    def find(handle: str) -> Any:
        return people.get(handle) or by_slack.get(handle)

    return find


class Evaluator:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.person = person_finder(policy)
        self.rules = [_CompiledRule(rule, policy, self.person) for rule in policy.rules]
        self._by_name = {c.rule.name: c for c in self.rules}
        filters: dict[_FilterKey, _CompiledFilter] = {}
        self._variable_filters: dict[str, list[_CompiledFilter]] = {}
        for name, variable in policy.variables.items():
            chosen = []
            for flt in variable.where:
                compiled = _CompiledFilter(flt)
                chosen.append(filters.setdefault(compiled.key, compiled))
            self._variable_filters[name] = chosen
        self._filters = list(filters.values())
        self._indexed_fields = sorted({f.field for f in self._filters if f.indexable})

    def _selections(self, lines: list[dict[str, Any]]) -> dict[_FilterKey, list[int]]:
        """For each distinct filter, the positions of the lines it keeps."""
        groups: dict[str, tuple[dict[str, list[int]], list[int]]] = {}
        for field in self._indexed_fields:
            buckets: defaultdict[Any, list[int]] = defaultdict(list)
            for position, value in enumerate([line.get(field) for line in lines]):
                buckets[value].append(position)
            by_value = {k: v for k, v in buckets.items() if k.__class__ is str}
            other = sorted(p for k, v in buckets.items() if k is not None and k.__class__ is not str for p in v)
            groups[field] = (by_value, other)
        out: dict[_FilterKey, list[int]] = {}
        for flt in self._filters:
            if flt.indexable:
                by_value, other = groups[flt.field]
                kept = by_value.get(flt.value, [])
                if other:
                    kept = sorted(kept + [p for p in other if flt.test(lines[p].get(flt.field))])
                out[flt.key] = kept
            elif "." in flt.field:
                out[flt.key] = [p for p, line in enumerate(lines) if flt.test(lookup(line, flt.field))]
            else:
                field, test = flt.field, flt.test
                out[flt.key] = [p for p, line in enumerate(lines) if (v := line.get(field)) is not None and test(v)]
        return out

    def variables(self, quote: Quote) -> dict[str, Any]:
        lines = quote.lines
        selections = self._selections(lines) if self._filters else {}
        out: dict[str, Any] = {}
        for name, variable in self.policy.variables.items():
            chosen = self._variable_filters[name]
            if not chosen:
                picked = lines
            elif len(chosen) == 1:
                picked = list(map(lines.__getitem__, selections[chosen[0].key]))
            else:
                common = set(selections[chosen[0].key])
                for flt in chosen[1:]:
                    common.intersection_update(selections[flt.key])
                picked = [lines[p] for p in sorted(common)]
            out[name] = _aggregate(variable, picked)
        return out

    def evaluate(self, quote: Quote, variables: dict[str, Any] | None = None) -> list[Outcome]:
        values = self.variables(quote) if variables is None else variables
        return [self._outcome(compiled, quote, values) for compiled in self.rules]

    def outcome(self, rule_name: str, quote: Quote, variables: dict[str, Any]) -> Outcome:
        return self._outcome(self._by_name[rule_name], quote, variables)

    def _outcome(self, compiled: _CompiledRule, quote: Quote, variables: dict[str, Any]) -> Outcome:
        data = quote.data
        actuals = []
        truths = []
        for from_variable, key, test, cc in compiled.specs:
            if from_variable:
                assert key is not None  # a variable condition always names its variable
                actual = variables.get(key)
            elif key.__class__ is str:
                actual = data.get(key)
            else:
                actual = cc.tested(quote, variables)
            actuals.append(actual)
            if test is not None:
                truths.append(actual is not None and test(actual))
            else:
                truths.append(compare(cc.condition.op, actual, cc.other(quote, variables)))
        return Outcome(compiled, compiled.decide(truths), actuals, truths, quote, variables)

    def still_needed(self, outcome: Outcome, approved_values: dict[int, Any]) -> bool:
        """Smart approvals (§3.8): does this rule need a new approval, given what was approved?

        Each `smart` condition is true only if its value got worse than the approved one; the
        other conditions keep their ordinary truth.
        """
        from .values import smart_condition_holds

        worse = [smart_condition_holds(r.op, approved_values.get(r.index), r.actual) for r in outcome.reasons]
        if any(r.smart and r.holds and got_worse for r, got_worse in zip(outcome.reasons, worse, strict=True)):
            return True
        truths = [got_worse if r.smart else r.holds for r, got_worse in zip(outcome.reasons, worse, strict=True)]
        return self._by_name[outcome.rule.name].decide(truths)


def _numbers(lines: list[dict[str, Any]], field: str) -> list[float]:
    if "." not in field:
        found = [line.get(field) for line in lines]
        if {v.__class__ for v in found} <= _NUMBER_TYPES:
            return cast(list[float], found)  # every value's class is int or float
    out: list[float] = []
    for line in lines:
        value = line.get(field) if "." not in field else lookup(line, field)
        kind = value.__class__
        if kind is float or kind is int:
            out.append(cast(float, value))  # its class is int or float
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
