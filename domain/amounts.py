"""Numbers from a quote kept exactly as they were written (orders-v1: money is never a float).

JSON has one number type; Python reads `33.3333333333333333333` as the float 33.333333333333336.
`Amount` is that float (so rules compare and aggregate as before) which also keeps the digits as
written: `repr`/`str` give them back, so `Decimal(repr(amount))` (how orders and contracts read
money) is exact, and `dumps` writes them back unchanged. `loads` reads every non-integer number as
an `Amount`. The store writes quotes with these two functions, so an amount goes in and comes out
with all its digits on SQLite and PostgreSQL (whose `jsonb` keeps numbers as `numeric`).
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring  # json.dumps's own string writer (ensure_ascii=False)
from typing import Any


class Amount(float):
    """A float that remembers the text it was read from."""

    text: str

    def __new__(cls, text: str | float) -> Amount:
        number = super().__new__(cls, text)
        number.text = text if isinstance(text, str) else float.__repr__(float(text))
        return number

    def __getnewargs__(self) -> tuple[str]:  # type: ignore[override]
        return (self.text,)

    def __repr__(self) -> str:
        return self.text

    __str__ = __repr__


def read_number(text: str) -> Amount:
    """A JSON number with a fraction or an exponent, as an Amount (refusing what is not finite)."""
    number = Amount(text.strip())
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} is too large a number")
    return number


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=read_number)


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON, with each Amount written as the digits it was read from (else like json.dumps)."""
    parts: list[str] = []
    _write(value, parts, sort_keys)
    return "".join(parts)


def _write(value: Any, out: list[str], sort_keys: bool) -> None:
    # The common scalars are written here (what json.dumps would write, without building an encoder
    # for each one: a state document has hundreds); anything else goes to json.dumps.
    kind = type(value)
    if kind is str:
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is Amount:
        out.append(value.text)
    elif isinstance(value, dict):
        out.append("{")
        items = sorted(value.items()) if sort_keys else value.items()
        for index, (key, item) in enumerate(items):
            if index:
                out.append(",")
            out.append(encode_basestring(str(key)))
            out.append(":")
            _write(item, out, sort_keys)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, sort_keys)
        out.append("]")
    elif isinstance(value, Amount):
        out.append(value.text)
    else:
        out.append(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
