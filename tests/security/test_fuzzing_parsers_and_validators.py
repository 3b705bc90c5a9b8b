"""Hypothesis against what reads outside input: the `/deal` parser, the policy loader, the quote validator.

Whatever they are given, they answer with their own error (never another exception), and every
refusal is a clear sentence: `UsageError` ends in the usage, `PolicyError` problems are located in
the file, `QuoteError` problems by `$`-path.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import USAGE, UsageError, full_usage, parse
from domain.errors import Problem
from domain.policy import PolicyError, load_policy
from domain.quote import QuoteError, parse_quote
from tests.support.quotes import EXAMPLES

FUZZ = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
SOURCE = "policy.yaml"
EXAMPLE_POLICY = (EXAMPLES / "policy.yaml").read_text()
EXAMPLE_POLICY_DATA = yaml.safe_load(EXAMPLE_POLICY)
EXAMPLE_QUOTES = [json.loads(path.read_text()) for path in sorted((EXAMPLES / "quotes").glob("*.json"))]
LONGEST_SENTENCE = 600  # a refusal is read by a person: it never echoes a whole hostile input


CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # \t and \n may stay


def assert_sentence(text: str) -> None:
    assert text.strip(), repr(text)
    assert len(text) <= LONGEST_SENTENCE, f"{len(text)} characters: {text[:200]!r}…"
    assert "Traceback" not in text and "object at 0x" not in text, text
    assert not re.search(r"\b(?:pydantic|ValidationError|KeyError|TypeError|NoneType)\b", text), text


# ---------------------------------------------------------------- /deal

WORDS = [
    *USAGE,
    "off",
    "Q-1042",
    "A-77",
    "2026-11-02",
    "2026-02-30",
    "2026-13-01",
    "<@U03MB2N7RGM|marco>",
    "<@W1>",
    "@marco",
    "@",
    "<@>",
    "&lt;@U1&gt;",
    "&amp;",
    "<!channel>",
    "`",
    "*",
    "\u202e",
    "\x00",
    "#",
]
deal_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=12)), max_size=7).map(" ".join),
)


@FUZZ
@given(deal_text)
def test_the_deal_parser_answers_any_text_with_a_command_or_a_usage_sentence(text: str) -> None:
    try:
        parse(text)
    except UsageError as refusal:
        assert refusal.usage in (*USAGE.values(), full_usage()), refusal.usage
        assert str(refusal).endswith(refusal.usage)
        assert_sentence(refusal.problem)
        assert refusal.problem.endswith("."), refusal.problem


def test_a_deal_text_with_a_control_character_is_refused_without_echoing_it() -> None:
    """Found by the fuzzing above: the ephemeral answer repeats the raw character."""
    for text in ["\x1b[2J", "submit \x00", "ooo \x07 2026-11-02 @ben"]:
        try:
            parse(text)
        except UsageError as refusal:
            assert CONTROL.search(str(refusal)) is None, f"echoed raw: {str(refusal)!r}"
        else:
            raise AssertionError(f"{text!r} is not a command")


# ---------------------------------------------------------------- policies


def assert_located(error: PolicyError) -> None:
    assert error.problems, "a PolicyError lists its problems"
    for problem in error.problems:
        assert isinstance(problem, Problem)
        assert problem.where == SOURCE or re.fullmatch(rf"{re.escape(SOURCE)}:\d+", problem.where), problem
        assert_sentence(problem.message)


def load(text: str) -> None:
    try:
        load_policy(text, SOURCE)
    except PolicyError as refusal:
        assert_located(refusal)


YAML_CHARS = st.sampled_from(list(":-[]{}#&*!|>'\"%@`,? \n\t") + list("abcxyz019_.") + ["\x00", "\u202e", "é"])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.dates(),
    st.sampled_from(["any", "all", "1 and (2 or", "not", "owner.manager", "gt", "2d", "4h", "06:00", "Europe/Nowhere"]),
)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4))


yaml_values = st.recursive(scalars, containers, max_leaves=20)


@FUZZ
@given(st.one_of(st.text(YAML_CHARS, max_size=200), yaml_values.map(lambda v: yaml.safe_dump(v, allow_unicode=True))))
def test_the_policy_loader_refuses_any_yamlish_text_with_located_problems(text: str) -> None:
    load(text)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def trimmed(rules: list[int], variables: list[str]) -> dict[str, Any]:
    """The example policy with only some of its rules and variables (a policy one load of which is fast)."""
    data = copy.deepcopy(EXAMPLE_POLICY_DATA)
    data["rules"] = [data["rules"][index] for index in sorted(set(rules))]
    data["variables"] = {name: data["variables"][name] for name in variables}
    return data


RULE_INDEXES = st.lists(st.integers(0, len(EXAMPLE_POLICY_DATA["rules"]) - 1), min_size=1, max_size=3)
VARIABLE_NAMES = st.lists(st.sampled_from(sorted(EXAMPLE_POLICY_DATA["variables"])), max_size=3, unique=True)


def mutated(data: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    """DATA with the node at PATH replaced, deleted, or given an extra sibling."""
    data = copy.deepcopy(data)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif isinstance(parent, list):
        parent.insert(last, value)
    else:
        parent[f"{last}_extra"] = value
    return data


@FUZZ
@given(RULE_INDEXES, VARIABLE_NAMES, st.booleans(), st.data())
def test_the_policy_loader_refuses_mutated_example_policies_with_located_problems(
    rules: list[int], variables: list[str], as_data: bool, draw: st.DataObject
) -> None:
    """Mutated as data (a value replaced, deleted or added) or as text (lines cut, noise put in)."""
    data = trimmed(rules, variables)
    if as_data:
        for _ in range(draw.draw(st.integers(1, 3))):
            path = draw.draw(st.sampled_from(paths(data)[1:]))
            action = draw.draw(st.sampled_from(["replace", "delete", "insert"]))
            data = mutated(data, path, action, draw.draw(yaml_values))
        load(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        return
    lines = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).splitlines(keepends=True)
    start = draw.draw(st.integers(0, len(lines) - 1))
    end = draw.draw(st.integers(start, min(len(lines), start + 8)))
    noise = draw.draw(st.text(YAML_CHARS, max_size=30))
    load("".join(lines[:start]) + noise + "".join(lines[end:]))


def test_a_policy_key_with_a_control_character_is_reported_without_it() -> None:
    """Found by the fuzzing above: the key is echoed raw, and a \\r rewinds the terminal line it is printed on."""
    for text in ['"\\r": null\n', 'version: 1\napprovers:\n  "\\x1b[2J": {user: x}\n']:
        try:
            load_policy(text, SOURCE)
        except PolicyError as refusal:
            for problem in refusal.problems:
                assert CONTROL.search(str(problem)) is None, f"echoed raw: {str(problem)!r}"
        else:
            raise AssertionError("not a policy")


# ---------------------------------------------------------------- quotes


def assert_quote_refusal(error: QuoteError) -> None:
    assert error.problems, "a QuoteError lists its problems"
    for problem in error.problems:
        assert problem.where == "$" or re.match(r"^\$(\.[^.\[\]]+|\[\d+\])+$", problem.where), problem
        assert_sentence(problem.message)


def validate(value: Any) -> None:
    try:
        parse_quote(value, "quote")
    except QuoteError as refusal:
        assert_quote_refusal(refusal)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["2026-02-30", "2026-12-18", "1e400", "NaN", "Net 30", ""]),
)
json_values = st.recursive(json_scalars, containers, max_leaves=25)
QUOTE_KEYS = [
    "id",
    "version",
    "owner",
    "currency",
    "account",
    "lines",
    "net_total",
    "list_total",
    "discount_percent",
    "term_months",
    "start_date",
    "close_date",
    "payment_terms",
]
quote_like = st.dictionaries(st.sampled_from(QUOTE_KEYS), json_values, max_size=10)


@FUZZ
@given(st.one_of(json_values, quote_like))
def test_the_quote_validator_refuses_any_json_value_with_dollar_paths(value: Any) -> None:
    validate(value)


QUOTE_PATHS = [(index, path) for index, quote in enumerate(EXAMPLE_QUOTES) for path in paths(quote)[1:]]


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from(QUOTE_PATHS), st.sampled_from(["replace", "delete", "insert"]), json_values),
        min_size=1,
        max_size=3,
    )
)
def test_the_quote_validator_refuses_mutated_example_quotes_with_dollar_paths(
    mutations: list[tuple[tuple[int, tuple[Any, ...]], str, Any]],
) -> None:
    quote: Any = EXAMPLE_QUOTES[mutations[0][0][0]]
    for (_, path), action, value in mutations:
        try:
            quote = mutated(quote, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue
    validate(quote)


def test_dates_and_non_text_keys_from_yaml_are_read_like_json() -> None:
    """`parse_quote` also takes YAML-loaded data (scenarios): dates and non-text keys must not break it."""
    validate(
        {
            "id": "Q-1",
            "version": 1,
            "owner": "ava",
            "start_date": dt.date(2026, 1, 1),
            1: "x",
            "lines": [{"id": "L1", "delivery_date": dt.datetime(2026, 1, 1, 9, 0), None: 2}],
        }
    )
