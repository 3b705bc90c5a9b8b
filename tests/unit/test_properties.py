"""Properties of the engine, checked on many generated cases."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st
from unit_kit import context, policy_with

from domain import approvals as lifecycle
from domain import logic
from domain.preview import build_preview
from domain.quote import parse_quote
from domain.rules import Evaluator

FAST = settings(max_examples=200, deadline=None, database=None)


# ------------------------------------------------------------ when: all / any against custom expressions

THREE = [
    "{field: discount_percent, op: gt, value: 10}",
    "{field: net_total, op: ge, value: 100000}",
    "{field: payment_terms, op: in, value: [Net 60, Net 90]}",
]


def three_condition_rule(name: str, when: str) -> str:
    listed = "\n".join(f"    - {c}" for c in THREE)
    return f'- name: {name}\n  chain: {name}\n  approver: vp-sales\n  when: "{when}"\n  conditions:\n{listed}\n'


WHEN_POLICY = policy_with(
    "".join(
        three_condition_rule(name, when)
        for name, when in [
            ("all", "all"),
            ("and-chain", "1 and 2 and 3"),
            ("any", "any"),
            ("or-chain", "1 or 2 or 3"),
        ]
    )
)
WHEN_EVALUATOR = Evaluator(WHEN_POLICY)

quote_fields = st.fixed_dictionaries(
    {},
    optional={
        "discount_percent": st.one_of(st.floats(0, 60, allow_nan=False), st.integers(0, 60)),
        "net_total": st.one_of(st.integers(0, 300000), st.floats(0, 300000, allow_nan=False)),
        "payment_terms": st.sampled_from(["Net 30", "Net 60", "Net 90", "net 60", ""]),
    },
)


@FAST
@given(quote_fields)
def test_a_custom_and_of_every_condition_fires_exactly_like_all(fields):
    quote = parse_quote({"id": "Q-1", "version": 1, "owner": "rita", **fields})
    fires = {o.rule.name: o.fires for o in WHEN_EVALUATOR.evaluate(quote)}
    assert fires["and-chain"] == fires["all"]
    assert fires["or-chain"] == fires["any"]


@FAST
@given(st.lists(st.booleans(), min_size=1, max_size=8))
def test_a_custom_chain_of_and_or_or_equals_all_or_any_for_any_truths(truths):
    numbers = range(1, len(truths) + 1)

    def truth(index: int) -> bool:
        return truths[index - 1]

    def check(when: str) -> bool:
        return logic.evaluate(logic.parse(when, len(truths)), truth)

    assert check(" and ".join(map(str, numbers))) == check("all") == all(truths)
    assert check(" or ".join(map(str, numbers))) == check("any") == any(truths)


# ------------------------------------------------------------ precedence against a reference evaluation

# A flat expression: terms joined by and/or, each term a condition number under zero or more `not`.
flat_terms = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4)), min_size=1, max_size=7)


@FAST
@given(flat_terms, st.data(), st.lists(st.booleans(), min_size=4, max_size=4))
def test_not_binds_tighter_than_and_and_and_tighter_than_or(terms, data, truths):
    joins = data.draw(st.lists(st.sampled_from(["and", "or"]), min_size=len(terms) - 1, max_size=len(terms) - 1))
    text = " ".join(("not " * nots) + str(number) for nots, number in terms[:1])
    for (nots, number), join in zip(terms[1:], joins, strict=True):
        text += f" {join} " + ("not " * nots) + str(number)

    # Reference: split on `or` into groups of `and`-ed terms; a term flips once per `not`.
    groups: list[list[bool]] = [[]]
    for position, (nots, number) in enumerate(terms):
        if position and joins[position - 1] == "or":
            groups.append([])
        groups[-1].append(truths[number - 1] != (nots % 2 == 1))
    expected = any(all(group) for group in groups)

    assert logic.evaluate(logic.parse(text, 4), lambda i: truths[i - 1]) == expected, text


# A tree of and/or/not, written with only the parentheses precedence needs, plus some extra ones.
trees = st.recursive(
    st.integers(1, 4).map(lambda n: ("ref", n)),
    lambda inner: st.one_of(
        inner.map(lambda node: ("not", node)),
        st.tuples(st.sampled_from(["and", "or"]), inner, inner),
    ),
    max_leaves=10,
)
RANK = {"or": 1, "and": 2, "not": 3, "ref": 4}


def written(node, extra) -> str:
    """The tree as text; parentheses where precedence needs them, and where `extra` says."""

    def child(sub, needed: bool) -> str:
        text = written(sub, extra)
        return f"({text})" if needed or extra() else text

    kind = node[0]
    if kind == "ref":
        return str(node[1])
    if kind == "not":
        return "not " + child(node[1], RANK[node[1][0]] < RANK["not"])
    left = child(node[1], RANK[node[1][0]] < RANK[kind])
    # and/or are left-associative: a right operand of the same kind needs parentheses to stay on the right.
    right = child(node[2], RANK[node[2][0]] <= RANK[kind])
    return f"{left} {kind} {right}"


def reference(node, truths) -> bool:
    kind = node[0]
    if kind == "ref":
        return truths[node[1] - 1]
    if kind == "not":
        return not reference(node[1], truths)
    if kind == "and":
        return reference(node[1], truths) and reference(node[2], truths)
    return reference(node[1], truths) or reference(node[2], truths)


@FAST
@given(trees, st.lists(st.booleans(), min_size=4, max_size=4), st.data())
def test_parentheses_override_precedence(tree, truths, data):
    text = written(tree, lambda: data.draw(st.booleans()))
    parsed = logic.parse(text, 4)
    assert logic.evaluate(parsed, lambda i: truths[i - 1]) == reference(tree, truths), text


@FAST
@given(trees, st.lists(st.booleans(), min_size=4, max_size=4))
def test_an_expression_with_only_the_parentheses_precedence_needs_reads_as_its_tree(tree, truths):
    minimal = written(tree, lambda: False)
    assert logic.evaluate(logic.parse(minimal, 4), lambda i: truths[i - 1]) == reference(tree, truths), minimal


# ------------------------------------------------------------ smart approvals never carry a worse value

# Two smart gt conditions under `any`, or one under `all`: §3.8 then guarantees that a carried
# approval covers no value greater than the approved one. (Two smart conditions under `all` do not
# have that guarantee: see the report on §3.8.)
SMART_RULES = {
    "any": """
- name: deep
  chain: commercial
  approver: manager
  when: any
  conditions:
    - {field: discount_percent, op: gt, value: 10, smart: true}
    - {field: services_discount, op: gt, value: 20, smart: true}
- {name: vp, chain: vp, approver: vp-sales}
""",
    "all": """
- name: deep
  chain: commercial
  approver: manager
  conditions:
    - {field: discount_percent, op: gt, value: 10, smart: true}
- {name: vp, chain: vp, approver: vp-sales}
""",
}
SMART_POLICIES = {when: policy_with(rules) for when, rules in SMART_RULES.items()}
percent = st.integers(0, 600).map(lambda tenths: tenths / 10)


@FAST
@given(st.sampled_from(["all", "any"]), percent, percent, percent, percent, st.sampled_from(["reject", "recall"]))
def test_a_smart_approval_never_carries_a_value_worse_than_the_one_approved(
    when, approved_discount, approved_services, new_discount, new_services, how
):
    ctx = context(SMART_POLICIES[when])

    def quote(version, discount, services):
        return parse_quote(
            {
                "id": "Q-1",
                "version": version,
                "owner": "rita",
                "discount_percent": discount,
                "services_discount": services,
            }
        )

    sub, _ = lifecycle.submit(ctx, quote(1, approved_discount, approved_services), 1, None)
    if sub.find("deep") is None:
        return
    lifecycle.decide(ctx, sub, "deep", "mike", "approve")
    if how == "reject":
        lifecycle.decide(ctx, sub, "vp", "vera", "reject", "try again")
    else:
        lifecycle.recall(ctx, sub, "rita")
    again, _ = lifecycle.submit(ctx, quote(2, new_discount, new_services), 2, sub)
    deep = again.find("deep")
    if deep is None:
        return
    no_worse = new_discount <= approved_discount and (when == "all" or new_services <= approved_services)
    if deep.status == "carried":
        assert no_worse
        assert deep.values[1] == approved_discount
    else:
        assert deep.status == "requested"
        assert not no_worse


# ------------------------------------------------------------ preview and submission agree

AGREE_RULES = """
- name: manager-discount
  chain: commercial
  step: 1
  approver: manager
  conditions: [{field: discount_percent, op: gt, value: 10}]
- name: vp-deep-discount
  chain: commercial
  step: 2
  approver: vp-sales
  when: any
  conditions:
    - {variable: blended_discount, op: gt, value: 25}
    - {field: net_total, op: ge, value: 100000}
- name: services-heavy
  chain: services
  step: 3
  approver: finance
  when: "1 and not 2"
  conditions:
    - {variable: services_max_discount, op: ge, value: 30}
    - {field: payment_terms, op: eq, value: Net 30}
- name: legal-terms
  chain: legal
  approver: legal
  conditions: [{field: payment_terms, op: in, value: [Net 60, Net 90]}]
- name: new-year-promo
  chain: promo
  approver: deal-desk
  effective: {from: 2027-01-01}
- name: hardware-count
  chain: hardware
  approver: dana
  conditions: [{variable: hardware_lines, op: gt, value: 1}]
"""
AGREE_VARIABLES = """
blended_discount: {discount: {list: list_total, net: net_total}}
services_max_discount: {aggregate: max, field: discount_percent, where: [{field: family, op: eq, value: Services}]}
hardware_lines: {aggregate: count, where: [{field: family, op: eq, value: Hardware}]}
"""
AGREE_POLICY = policy_with(AGREE_RULES, AGREE_VARIABLES)

quote_lines = st.lists(
    st.fixed_dictionaries(
        {
            "family": st.sampled_from(["Hardware", "Software", "Services"]),
            "list_total": st.integers(1, 100000),
            "discount_percent": st.integers(0, 60),
        }
    ),
    max_size=5,
)
quotes = st.fixed_dictionaries(
    {
        "owner": st.sampled_from(["rita", "mike", "vera", "lea", "fin1", "U0RITA"]),
        "lines": quote_lines,
    },
    optional={
        "discount_percent": st.floats(0, 60, allow_nan=False),
        "net_total": st.integers(0, 300000),
        "payment_terms": st.sampled_from(["Net 30", "Net 60", "Net 90"]),
    },
)
moments = st.sampled_from(
    [
        dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC),  # still 2026 in New York
        dt.datetime(2027, 1, 1, 4, 59, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 1, 5, 0, tzinfo=dt.UTC),  # New Year in New York
    ]
)


@FAST
@given(quotes, moments)
def test_preview_and_submission_agree_on_which_rules_fire_and_who_decides(fields, now):
    lines = [
        {"id": f"L{i}", "net_total": line["list_total"] * (100 - line["discount_percent"]) / 100, **line}
        for i, line in enumerate(fields.pop("lines"))
    ]
    quote = parse_quote({"id": "Q-1", "version": 1, **fields, "lines": lines})
    ctx = context(AGREE_POLICY, now)
    preview = build_preview(ctx, quote)
    sub, _ = lifecycle.submit(ctx, quote, 1, None)
    assert {i.rule for i in preview.items} == {a.rule for a in sub.approvals}
    assert {i.rule: [p.person for p in i.people] for i in preview.items} == {
        a.rule: [s.holder for s in a.seats] for a in sub.approvals
    }
    assert {i.rule: (i.chain, i.step) for i in preview.items} == {a.rule: (a.chain, a.step) for a in sub.approvals}
