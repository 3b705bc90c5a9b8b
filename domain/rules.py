"""Which rules a quote triggers, and why: variables, conditions and their reasons in words.

`Evaluator(policy)` compiles the policy once (condition tests, shared line filters, `when`
trees); `evaluator.evaluate(quote)` computes the variables and every rule's outcome for a quote.
The same evaluation serves previews and submissions, so they always agree.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import repeat
from typing import Any, cast

from . import logic
from .i18n import DEFAULT_LOCALE, speaking
from .policy import Condition, Filter, Policy, Rule, Variable
from .quote import Quote
from .values import as_number, compare, looks_like_date, reason_line

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


def _threshold(op: str, expected: Any) -> tuple[Callable[[float, float], bool], float] | None:
    """For an ordering or equality against a number: the operator and the number, which give
    `compare`'s answer directly whenever the tested value is an int or a float (not NaN)."""
    fast = _FAST.get(op)
    if fast is None or isinstance(expected, bool | list | dict):
        return None
    try:
        return fast, as_number(expected)
    except Exception:
        return None


def make_test(op: str, expected: Any) -> Test:
    """A one-argument test equal to `compare(op, actual, expected)`, with fast paths."""
    threshold = _threshold(op, expected)
    if threshold is not None:
        fast, number = threshold

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
        """In the current language ("custom terms: yes", not "custom terms yes = yes")."""
        return reason_line(self.subject, self.op, self.actual, self.expected, self.holds, self.percent)

    def as_dict(self) -> dict[str, Any]:
        with speaking(DEFAULT_LOCALE):  # stored in the source language; readers get it rebuilt in theirs
            text = self.text
        return {
            "condition": self.index,
            "text": text,
            "subject": self.subject,
            "op": self.op,
            "actual": self.actual,
            "expected": self.expected,
            "holds": self.holds,
            "smart": self.smart,
        }


class Outcome:
    """A rule's result for one quote: whether it fires, its reasons and the values it tested."""

    __slots__ = ("_compiled", "_reasons", "_sheet", "fires", "rule")

    def __init__(self, compiled: _CompiledRule, fires: bool, sheet: _Sheet) -> None:
        self._compiled = compiled
        self.rule: Rule = compiled.rule
        self.fires = fires
        self._sheet = sheet
        self._reasons: tuple[Reason, ...] | None = None

    @property
    def values(self) -> dict[int, Any]:
        """The value each condition tested, by 1-based condition number."""
        actuals = self._sheet.actuals
        return {cc.index: actuals[cc.subject_slot] for cc in self._compiled.conditions}

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Every condition with its actual value (built on demand: most callers need few)."""
        if self._reasons is None:
            self._reasons = tuple(self._reasons_where(lambda holds: True))
        return self._reasons

    @property
    def why(self) -> list[Reason]:
        """The conditions that hold: the reasons to show a person."""
        if self._reasons is not None:
            return [r for r in self._reasons if r.holds]
        return self._reasons_where(bool)  # a preview needs only these: the others are not built

    def _reasons_where(self, wanted: Callable[[bool], bool]) -> list[Reason]:
        sheet = self._sheet
        truths = sheet.truths
        return [
            Reason(
                cc.index,
                cc.subject,
                cc.condition.op,
                sheet.actuals[cc.subject_slot],
                cc.expected(sheet.quote, sheet.variables),
                truths[slot],
                cc.percent,
                cc.condition.smart,
            )
            for cc, slot in zip(self._compiled.conditions, self._compiled.slots, strict=True)
            if wanted(truths[slot])
        ]


class _CompiledCondition:
    __slots__ = ("condition", "index", "other", "percent", "subject", "subject_slot", "test", "tested")

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
        self.subject_slot = 0  # where its tested value sits in a `_Sheet`, set by the Evaluator

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
    """A rule whose conditions point into the evaluator's table of distinct conditions."""

    def __init__(self, rule: Rule, policy: Policy, person: Callable[[str], Any]) -> None:
        self.rule = rule
        self.tree = rule.logic
        keyword = rule.when.strip().lower()
        self.decide: Callable[[list[bool]], bool] = (
            all if keyword == "all" else any if keyword == "any" else logic.compile_tree(self.tree)
        )
        if not rule.conditions:
            self.decide = _always
        self.keyword = keyword
        self.conditions = [_CompiledCondition(i + 1, c, policy, person) for i, c in enumerate(rule.conditions)]
        self.slots: tuple[int, ...] = ()
        """Where each condition's truth sits in a `_Sheet` (conditions alike share one slot)."""
        self.fires: Callable[[list[bool]], bool] = _always

    def place(self, slots: tuple[int, ...]) -> None:
        self.slots = slots
        self.fires = _over(slots, self.keyword, self.tree) if self.conditions else _always


def _over(slots: tuple[int, ...], keyword: str, tree: logic.Node) -> Callable[[list[bool]], bool]:
    """The rule's `when` as a function of a sheet's truths, reading only the rule's own slots."""
    if keyword in ("all", "any"):
        if len(slots) == 1:
            only = slots[0]
            return lambda truths: truths[only]
        if len(slots) == 2:  # the usual rule: two conditions, read without building a tuple
            first, second = slots
            if keyword == "all":
                return lambda truths: truths[first] and truths[second]
            return lambda truths: truths[first] or truths[second]
        pick = operator.itemgetter(*slots)
        if keyword == "all":
            return lambda truths: all(pick(truths))
        return lambda truths: any(pick(truths))

    def moved(node: logic.Node) -> logic.Node:
        if node[0] == "ref":
            return ("ref", slots[node[1] - 1] + 1)
        if node[0] == "not":
            return ("not", moved(node[1]))
        if node[0] == "const":
            return node
        return (node[0], moved(node[1]), moved(node[2]))

    return logic.compile_tree(moved(tree))


class _Sheet:
    """One quote's answers to every distinct condition of the policy, each computed once."""

    __slots__ = ("actuals", "quote", "truths", "variables")

    def __init__(self, quote: Quote, variables: dict[str, Any], actuals: list[Any], truths: list[bool]) -> None:
        self.quote = quote
        self.variables = variables
        self.actuals = actuals
        self.truths = truths


class _CompiledFilter:
    """A line filter, shared by every variable that uses the same one."""

    __slots__ = ("field", "indexable", "key", "plain", "test", "value")

    def __init__(self, flt: Filter) -> None:
        self.field = flt.field
        self.value = flt.value
        self.key = (flt.field, flt.op, repr(flt.value))
        self.test = make_test(flt.op, flt.value)
        self.plain = "." not in flt.field
        # An `eq` on plain text can be answered from one pass that groups lines by the field.
        self.indexable = flt.op == "eq" and self.plain and isinstance(flt.value, str) and not looks_like_date(flt.value)


def _always(truths: list[bool]) -> bool:
    return True


def person_finder(policy: Policy) -> Callable[[str], Any]:
    """A directory entry by people key or Slack id, or None."""
    by_slack = {p.slack: p for p in policy.people.values() if p.slack}
    people = policy.people

    def find(handle: str) -> Any:
        return people.get(handle) or by_slack.get(handle)

    return find


class _Table:
    """A quote's lines read as columns: each field pulled out once, however many variables use it."""

    __slots__ = ("_columns", "_groups", "_numeric", "lines")

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        self.lines = lines
        self._columns: dict[str, list[Any]] = {}
        self._numeric: dict[str, bool] = {}
        self._groups: dict[str, tuple[dict[str, list[int]], list[int]] | None] = {}

    def column(self, field: str) -> list[Any]:
        found = self._columns.get(field)
        if found is None:
            found = self._columns[field] = list(map(dict.get, self.lines, repeat(field)))
        return found

    def numeric(self, field: str) -> bool:
        """Whether every line's value of a plain field is an int or a float (so sums need no reading)."""
        found = self._numeric.get(field)
        if found is None:
            found = self._numeric[field] = set(map(type, self.column(field))) <= _NUMBER_TYPES
        return found

    def groups(self, field: str) -> tuple[dict[str, list[int]], list[int]] | None:
        """The positions of the lines by their text in FIELD, and those holding some other value
        (None when a value cannot be grouped, such as a list)."""
        if field in self._groups:
            return self._groups[field]
        buckets: dict[Any, list[int]] = {}
        try:
            for position, value in enumerate(self.column(field)):
                try:
                    buckets[value].append(position)
                except KeyError:
                    buckets[value] = [position]
        except TypeError:  # an unhashable value: this field is filtered line by line
            self._groups[field] = None
            return None
        by_value = {k: v for k, v in buckets.items() if k.__class__ is str}
        other = sorted(p for k, v in buckets.items() if k is not None and k.__class__ is not str for p in v)
        self._groups[field] = found = (by_value, other)
        return found

    def kept(self, flt: _CompiledFilter) -> list[int]:
        """The positions of the lines a filter keeps, in line order."""
        field, test = flt.field, flt.test
        if not flt.plain:
            return [p for p, line in enumerate(self.lines) if test(lookup(line, field))]
        grouped = self.groups(field) if flt.indexable else None
        column = self.column(field)
        if grouped is None:
            return [p for p, v in enumerate(column) if v is not None and test(v)]
        by_value, other = grouped
        kept = by_value.get(flt.value, [])
        if other:
            kept = sorted(kept + [p for p in other if test(column[p])])
        return kept

    def values(self, field: str, positions: list[int] | None) -> Iterable[Any]:
        """The field's values at POSITIONS (None: every line), in line order."""
        column = self.column(field)
        if positions is None:
            return column
        return map(column.__getitem__, positions)


def _test_key(cc: _CompiledCondition) -> tuple[Any, ...]:
    """Conditions with equal keys test the same value the same way (so they share a slot)."""
    c = cc.condition
    if cc.test is not None:
        return (cc.subject_slot, c.op, "value", type(c.value).__name__, repr(c.value))
    return (cc.subject_slot, c.op, "other", c.other_field, c.other_variable)


class _Batch:
    """Numeric tests of one value with one operator: `value <op> threshold` for each threshold."""

    __slots__ = ("fast", "missing", "numbers", "tests", "where")

    def __init__(
        self, where: int, fast: Callable[[float, float], bool], numbers: tuple[float, ...], tests: tuple[Test, ...]
    ) -> None:
        self.where = where
        self.fast = fast
        self.numbers = numbers
        self.tests = tests  # for a value that is no plain number: each test reads it like compare
        self.missing = (False,) * len(numbers)


class _Single:
    """Any other distinct condition."""

    __slots__ = ("op", "other", "test", "where")

    def __init__(self, where: int, test: Test | None, op: str, other: Callable[[Quote, dict[str, Any]], Any]) -> None:
        self.where = where
        self.test = test
        self.op = op
        self.other = other


_Subject = tuple[int, str, Callable[[Quote, dict[str, Any]], Any]]  # kind (variable, field, other), name, getter
_VARIABLE, _FIELD, _OTHER = 0, 1, 2


class Evaluator:
    """A policy compiled for evaluation.

    Variables are computed from the quote's lines read as columns: each distinct filter picks its
    lines once, and every variable sharing it aggregates over the same positions. Conditions that
    test the same thing in the same way (same subject, operator and value) are evaluated once per
    quote; each rule then reads its conditions' truths from that sheet.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.person = person_finder(policy)
        self.rules = [_CompiledRule(rule, policy, self.person) for rule in policy.rules]
        self._subjects: list[_Subject] = []
        self._layout: list[_Batch | _Single] = []
        self._lay_out_conditions()
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

    def variables(self, quote: Quote) -> dict[str, Any]:
        table = _Table(quote.lines)
        kept = {flt.key: table.kept(flt) for flt in self._filters}
        out: dict[str, Any] = {}
        for name, variable in self.policy.variables.items():
            chosen = self._variable_filters[name]
            positions: list[int] | None
            if not chosen:
                positions = None
            elif len(chosen) == 1:
                positions = kept[chosen[0].key]
            else:
                common = set(kept[chosen[0].key])
                for flt in chosen[1:]:
                    common.intersection_update(kept[flt.key])
                positions = sorted(common)
            out[name] = _aggregate_columns(variable, table, positions)
        return out

    def _lay_out_conditions(self) -> None:
        """Give every distinct condition one slot in a sheet and its tested value one place; the
        numeric tests of one value with one operator sit side by side, so that a sheet answers
        them in one call over their thresholds."""
        subjects: dict[tuple[str | None, str | None], int] = {}
        groups: dict[tuple[Any, ...], list[_CompiledCondition]] = {}  # in order of first appearance
        seen: set[tuple[Any, ...]] = set()
        for compiled in self.rules:
            for cc in compiled.conditions:
                c = cc.condition
                subject = (c.variable, c.field)
                if subject not in subjects:
                    subjects[subject] = len(self._subjects)
                    if c.variable is not None:
                        self._subjects.append((_VARIABLE, c.variable, cc.tested))
                    elif c.field is not None and "." not in c.field:
                        self._subjects.append((_FIELD, c.field, cc.tested))
                    else:
                        self._subjects.append((_OTHER, "", cc.tested))
                cc.subject_slot = subjects[subject]
                key = _test_key(cc)
                if key in seen:
                    continue
                seen.add(key)
                batched = cc.test is not None and _threshold(c.op, c.value) is not None
                groups.setdefault(("batch", cc.subject_slot, c.op) if batched else key, []).append(cc)
        slot_of: dict[tuple[Any, ...], int] = {}
        for group, members in groups.items():
            for cc in members:
                slot_of[_test_key(cc)] = len(slot_of)
            first = members[0]
            if group[0] == "batch":
                thresholds = [_threshold(cc.condition.op, cc.condition.value) for cc in members]
                self._layout.append(
                    _Batch(
                        first.subject_slot,
                        _FAST[first.condition.op],
                        tuple(t[1] for t in thresholds if t is not None),
                        tuple(cc.test for cc in members if cc.test is not None),
                    )
                )
            else:
                self._layout.append(_Single(first.subject_slot, first.test, first.condition.op, first.other))
        for compiled in self.rules:
            compiled.place(tuple(slot_of[_test_key(cc)] for cc in compiled.conditions))

    def _sheet(self, quote: Quote, variables: dict[str, Any]) -> _Sheet:
        data = quote.data
        actuals: list[Any] = [
            variables.get(name) if kind == _VARIABLE else data.get(name) if kind == _FIELD else get(quote, variables)
            for kind, name, get in self._subjects
        ]
        truths: list[bool] = []
        for entry in self._layout:
            actual = actuals[entry.where]
            if isinstance(entry, _Batch):
                kind = actual.__class__
                if (kind is float or kind is int) and actual == actual:  # NaN is unreadable, like in compare
                    truths.extend(map(entry.fast, repeat(actual), entry.numbers))
                elif actual is None:
                    truths.extend(entry.missing)
                else:
                    truths.extend([test(actual) for test in entry.tests])
            elif entry.test is not None:
                truths.append(actual is not None and entry.test(actual))
            else:
                truths.append(compare(entry.op, actual, entry.other(quote, variables)))
        return _Sheet(quote, variables, actuals, truths)

    def evaluate(self, quote: Quote, variables: dict[str, Any] | None = None) -> list[Outcome]:
        """Every rule's outcome for the quote, in policy order."""
        sheet = self._sheet(quote, self.variables(quote) if variables is None else variables)
        truths = sheet.truths
        return [Outcome(compiled, compiled.fires(truths), sheet) for compiled in self.rules]

    def firing(self, quote: Quote, variables: dict[str, Any] | None = None) -> list[Outcome]:
        """The outcomes of the rules that fire, in policy order (what a submission asks for)."""
        sheet = self._sheet(quote, self.variables(quote) if variables is None else variables)
        truths = sheet.truths
        return [Outcome(compiled, True, sheet) for compiled in self.rules if compiled.fires(truths)]

    def outcome(self, rule_name: str, quote: Quote, variables: dict[str, Any]) -> Outcome:
        compiled = self._by_name[rule_name]
        sheet = self._sheet(quote, variables)
        return Outcome(compiled, compiled.fires(sheet.truths), sheet)

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


def _aggregate_columns(variable: Variable, table: _Table, positions: list[int] | None) -> Any:
    """A variable over the lines at POSITIONS (None: every line), read from the table's columns.

    Columns holding only numbers are added up directly; anything else is read line by line
    exactly as `_aggregate` reads it."""
    count = len(table.lines) if positions is None else len(positions)
    discount = variable.discount
    if discount is not None:
        if (
            "." in discount.list
            or "." in discount.net
            or not table.numeric(discount.list)
            or not table.numeric(discount.net)
        ):
            return _aggregate(variable, _picked(table, positions))
        listed = sum(table.values(discount.list, positions))
        net = sum(table.values(discount.net, positions))
        if not count or listed == 0:
            return None
        return round((1 - net / listed) * 100, 6)
    kind = variable.aggregate
    field = variable.field
    if kind == "count" and field is None:
        return count
    if field is None or "." in field:
        return _aggregate(variable, _picked(table, positions))
    if kind == "count":
        return count - operator.countOf(table.values(field, positions), None)
    if not table.numeric(field):
        return _aggregate(variable, _picked(table, positions))
    numbers = table.values(field, positions)
    if kind == "sum":
        return sum(numbers)
    if not count:
        return None
    if kind == "min":
        return min(numbers)
    if kind == "max":
        return max(numbers)
    return sum(numbers) / count


def _picked(table: _Table, positions: list[int] | None) -> list[dict[str, Any]]:
    lines = table.lines
    return lines if positions is None else list(map(lines.__getitem__, positions))


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
