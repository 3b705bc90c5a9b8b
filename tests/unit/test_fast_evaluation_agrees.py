"""The evaluator's fast path (columns, shared filters, a sheet of distinct conditions) against a
straightforward reading of policy-v1 §1, on generated policies and quotes.

The reference below reads every line through `lookup`, tests every filter and condition with
`compare`, and evaluates `when` with `logic.evaluate`: the plainest reading of the contract. The
evaluator and the preview must agree with it exactly (same variables, same values, same truths,
same rules, same people), so that speed buys nothing wrong.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_kit import APPROVERS, PEOPLE, context

from domain import approvals as lifecycle
from domain import logic
from domain.policy import Policy, load_policy
from domain.preview import build_preview
from domain.quote import Quote, parse_quote
from domain.rules import Reason, lookup, person_finder
from domain.values import as_number, compare

CASES = settings(max_examples=150, deadline=None, database=None)

# ------------------------------------------------------------ the straightforward reading


def reference_numbers(lines: list[dict[str, Any]], field: str) -> list[float]:
    out: list[float] = []
    for line in lines:
        value = lookup(line, field)
        if value is None:
            continue
        if type(value) in (int, float):
            out.append(value)
            continue
        try:
            out.append(as_number(value))
        except Exception:
            continue
    return out


def reference_variables(policy: Policy, quote: Quote) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, variable in policy.variables.items():
        lines = [
            line for line in quote.lines if all(compare(f.op, lookup(line, f.field), f.value) for f in variable.where)
        ]
        if variable.discount is not None:
            listed = sum(reference_numbers(lines, variable.discount.list))
            net = sum(reference_numbers(lines, variable.discount.net))
            out[name] = None if not lines or listed == 0 else round((1 - net / listed) * 100, 6)
        elif variable.aggregate == "count":
            field = variable.field
            out[name] = len([line for line in lines if field is None or lookup(line, field) is not None])
        else:
            numbers = reference_numbers(lines, variable.field or "")
            if variable.aggregate == "sum":
                out[name] = sum(numbers)
            elif not numbers:
                out[name] = None
            elif variable.aggregate == "min":
                out[name] = min(numbers)
            elif variable.aggregate == "max":
                out[name] = max(numbers)
            else:
                out[name] = sum(numbers) / len(numbers)
    return out


def reference_rules(policy: Policy, quote: Quote, variables: dict[str, Any]) -> dict[str, tuple[bool, list]]:
    """Per rule: whether it fires, and each condition's (actual, expected, holds)."""
    person = person_finder(policy)

    def value_of(field: str | None, variable: str | None) -> Any:
        if variable is not None:
            return variables.get(variable)
        return lookup(quote.data, field or "", person) if field is not None else None

    out = {}
    for rule in policy.rules:
        checked = []
        for c in rule.conditions:
            actual = value_of(c.field, c.variable)
            expected = c.value if "value" in c.model_fields_set else value_of(c.other_field, c.other_variable)
            checked.append((actual, expected, compare(c.op, actual, expected)))
        # a rule without conditions always applies (policy-v1 §1: `new-year-promo` in the examples)
        fires = not rule.conditions or logic.evaluate(rule.logic, lambda i, checked=checked: checked[i - 1][2])
        out[rule.name] = (fires, checked)
    return out


# ------------------------------------------------------------ generated policies and quotes

FAMILIES = ["Hardware", "Software", "Services"]
line_values = {
    # the fields a quote validates must be numbers; the others may hold anything JSON can
    "family": st.sampled_from([*FAMILIES, *FAMILIES, 5, 5, 4.0, "5", "", "2027-01-01", ["Hardware"]]),
    "net_total": st.one_of(st.integers(0, 5000), st.floats(0, 5000, allow_nan=False)),
    "list_total": st.one_of(st.integers(0, 5000), st.floats(0, 5000, allow_nan=False)),
    "discount_percent": st.one_of(st.integers(0, 60), st.floats(0, 60, allow_nan=False)),
    "amount": st.one_of(
        st.integers(-5, 5000), st.floats(-5, 5000, allow_nan=False), st.sampled_from(["12", "1,000", "x", True])
    ),
    "region": st.sampled_from(["DE", "FR", "US", "de"]),
    "recurring": st.booleans(),
    "meta": st.fixed_dictionaries(
        {}, optional={"tier": st.sampled_from(["gold", "silver"]), "rank": st.integers(0, 3)}
    ),
    "tags": st.lists(st.sampled_from(["a", "b"]), max_size=2),
}
LINE_FIELDS = list(line_values)
NUMBER_FIELDS = ["net_total", "list_total", "discount_percent", "amount", "meta.rank", "family"]

lines = st.lists(st.fixed_dictionaries({}, optional=line_values), max_size=25)


def values_for(op: str) -> st.SearchStrategy[Any]:
    scalar = st.one_of(
        st.integers(0, 100), st.sampled_from([0.5, 12.5, "10", "Hardware", "DE", "gold", "2027-01-01", True, "5"])
    )
    if op in ("in", "not_in"):
        return st.lists(scalar, min_size=1, max_size=3)
    if op in ("lt", "le", "gt", "ge"):
        return st.one_of(
            st.integers(0, 6000), st.floats(0, 6000, allow_nan=False), st.sampled_from(["10", "2027-01-01"])
        )
    if op in ("contains", "not_contains", "starts_with", "ends_with"):
        return st.sampled_from(["Hard", "ware", "a", "D", "1"])
    return scalar


@st.composite
def filters(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):  # the usual filter: a family by name (and "5", which a line's number 5 equals)
        return {"field": "family", "op": "eq", "value": draw(st.sampled_from([*FAMILIES, "5", "4"]))}
    op = draw(st.sampled_from(["eq", "ne", "in", "not_in", "ge", "lt", "starts_with", "contains"]))
    field = draw(st.sampled_from([*LINE_FIELDS, "meta.tier", "meta.rank"]))
    return {"field": field, "op": op, "value": draw(values_for(op))}


@st.composite
def variables(draw: st.DrawFn) -> dict[str, Any]:
    where = draw(st.lists(filters(), max_size=3))
    if draw(st.integers(0, 5)) == 0:
        net, listed = draw(
            st.sampled_from([("net_total", "list_total"), ("amount", "list_total"), ("meta.rank", "net_total")])
        )
        return {"discount": {"list": listed, "net": net}, "where": where}
    aggregate = draw(st.sampled_from(["sum", "min", "max", "avg", "count"]))
    out: dict[str, Any] = {"aggregate": aggregate, "where": where}
    if aggregate != "count" or draw(st.booleans()):
        out["field"] = draw(st.sampled_from([*NUMBER_FIELDS, "region"]))
    return out


OPS = ["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "starts_with"]
QUOTE_FIELDS = ["discount_percent", "net_total", "payment_terms", "account.segment", "owner.manager", "flag"]


@st.composite
def conditions(draw: st.DrawFn, names: list[str]) -> dict[str, Any]:
    if names and draw(st.booleans()):
        subject: dict[str, Any] = {"variable": draw(st.sampled_from(names))}
    else:
        subject = {"field": draw(st.sampled_from(QUOTE_FIELDS))}
    op = draw(st.sampled_from(OPS))
    if draw(st.integers(0, 6)) == 0:
        if names and draw(st.booleans()):
            side: dict[str, Any] = {"other_variable": draw(st.sampled_from(names))}
        else:
            side = {"other_field": draw(st.sampled_from(QUOTE_FIELDS))}
    else:
        side = {"value": draw(values_for(op))}
    return {**subject, "op": op, **side, "smart": draw(st.booleans())}


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    named = draw(st.lists(variables(), max_size=6))
    names = [f"v{i}" for i in range(len(named))]
    # a small pool of conditions, so that rules share some (the sheet answers each once)
    pool = draw(st.lists(conditions(names), min_size=1, max_size=8))
    rules = []
    for i in range(draw(st.integers(1, 10))):
        chosen = draw(st.lists(st.sampled_from(pool), min_size=0, max_size=3))
        count = len(chosen)
        choices = ["all", "any"] + (
            ["1 and not 2", "not 1 or 2", "(1 or 2) and 3", "1 and (2 or not 3)"] if count else []
        )
        when = draw(st.sampled_from(choices))
        if when != "all" and when != "any" and max(int(c) for c in when if c.isdigit()) > count:
            when = "any"
        rules.append(
            {
                "name": f"r{i}",
                "chain": draw(st.sampled_from(["c1", "c2"])),
                "step": draw(st.integers(1, 3)),
                "approver": draw(st.sampled_from(["manager", "vp-sales", "legal", "finance", "deal-desk", "mike"])),
                "conditions": chosen,
                "when": when,
            }
        )
    document = {
        "version": 1,
        "timezone": "America/New_York",
        "admins": ["dana"],
        "fallback_approver": "deal-desk",
        **yaml.safe_load(PEOPLE),
        **yaml.safe_load(APPROVERS),
        "variables": dict(zip(names, named, strict=True)),
        "rules": rules,
    }
    return load_policy(yaml.safe_dump(document), "generated.yaml")


@st.composite
def quotes(draw: st.DrawFn) -> Quote:
    drawn = draw(lines)
    data: dict[str, Any] = {
        "id": "Q-1",
        "version": 1,
        "owner": draw(st.sampled_from(["rita", "mike", "vera", "U0RITA"])),
        "lines": [{"id": f"L{i}", **line} for i, line in enumerate(drawn)],
    }
    optional = {
        "discount_percent": st.one_of(st.integers(0, 60), st.floats(0, 60, allow_nan=False)),
        "net_total": st.integers(0, 300000),
        "payment_terms": st.sampled_from(["Net 30", "Net 60", "10"]),
        "account": st.fixed_dictionaries({"id": st.just("A-1")}, optional={"segment": st.sampled_from(["DE", "gold"])}),
        "flag": st.one_of(st.booleans(), st.sampled_from(["yes", "5", "2027-01-01"]), st.integers(0, 100)),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            data[key] = draw(strategy)
    return parse_quote(data)


# ------------------------------------------------------------ the properties


@CASES
@given(policies(), quotes())
def test_variables_equal_the_straightforward_reading_of_every_line(policy, quote):
    evaluator = context(policy).evaluator
    assert evaluator.variables(quote) == reference_variables(policy, quote)


@CASES
@given(policies(), quotes())
def test_every_rule_fires_with_the_same_values_and_truths_as_the_straightforward_evaluation(policy, quote):
    evaluator = context(policy).evaluator
    variables = reference_variables(policy, quote)
    expected = reference_rules(policy, quote, variables)
    for outcome in evaluator.evaluate(quote):
        fires, checked = expected[outcome.rule.name]
        assert outcome.fires == fires, outcome.rule.name
        assert outcome.values == {i + 1: actual for i, (actual, _, _) in enumerate(checked)}
        assert [(r.actual, r.expected, r.holds) for r in outcome.reasons] == checked


@CASES
@given(policies(), quotes())
def test_the_preview_shows_exactly_the_rules_reasons_and_people_of_the_straightforward_evaluation(policy, quote):
    ctx = context(policy, dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC))
    variables = reference_variables(policy, quote)
    expected = reference_rules(policy, quote, variables)
    preview = build_preview(ctx, quote)

    assert preview.variables == variables
    assert [item.rule for item in preview.items] == [r.name for r in policy.rules if expected[r.name][0]]
    reasons_by_rule = {o.rule.name: o.reasons for o in ctx.evaluator.evaluate(quote)}
    for item in preview.items:
        _, checked = expected[item.rule]
        shown = reasons_by_rule[item.rule]  # its subject and percent are wording, not evaluation
        assert item.reasons == tuple(
            Reason(r.index, r.subject, r.op, actual, wanted, holds, r.percent, r.smart).text
            for r, (actual, wanted, holds) in zip(shown, checked, strict=True)
            if holds
        )
        resolved = lifecycle.resolve(ctx, item.approver, quote, item.rule)
        assert tuple(p.person for p in item.people) == resolved.members
