"""domain.amounts writes JSON as json.dumps does (compact, not ASCII-escaped), but keeps each Amount's digits.

The store writes every state document and quote with `amounts.dumps`: a difference from json.dumps
on plain values would change what other readers (tortoise's JSONField, PostgreSQL's jsonb) see.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain import amounts

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@given(documents, st.booleans())
def test_plain_values_are_written_as_json_dumps_writes_them(value: Any, sort_keys: bool) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    assert amounts.dumps(value, sort_keys=sort_keys) == expected


@given(st.decimals(allow_nan=False, allow_infinity=False, places=20).filter(lambda d: abs(d) < 10**12))
def test_an_amount_keeps_the_digits_it_was_read_with(number: Any) -> None:
    text = f'{{"amount":{number:f}.0}}' if "." not in f"{number:f}" else f'{{"amount":{number:f}}}'
    document = amounts.loads(text)
    assert amounts.dumps(document) == text
    assert amounts.dumps({"nested": [document, (1, True, None)]}) == '{"nested":[' + text + ",[1,true,null]]}"
