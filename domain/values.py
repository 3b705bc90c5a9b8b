"""Typed comparison of quote values: the twelve operators, and values put into words.

A value from the quote decides how the other side is read: a number compares as a number, a
boolean as a boolean, an ISO date as a date, anything else as a string. A side that cannot be
read that way makes the comparison false, like a missing value does.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from . import i18n
from .i18n import _

OPERATORS = (
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
)

SYMBOLS = {
    "eq": "=",
    "ne": "≠",
    "lt": "<",
    "le": "≤",
    "gt": ">",
    "ge": "≥",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
}

ORDERED = {"lt", "le", "gt", "ge"}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class _Unreadable(Exception):
    pass


def as_number(value: Any) -> float:
    if isinstance(value, bool):
        raise _Unreadable
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            raise _Unreadable
        try:
            return float(value)
        except OverflowError:  # an integer beyond any float: unreadable, like text that is no number
            raise _Unreadable from None
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except (ValueError, OverflowError):
            raise _Unreadable from None
        if math.isnan(number):
            raise _Unreadable
        return number
    raise _Unreadable


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _Unreadable


def _as_moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and (_DATE.match(value) or _DATETIME.match(value)):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _Unreadable from None
    else:
        raise _Unreadable
    return moment.replace(tzinfo=None) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def looks_like_date(value: Any) -> bool:
    return isinstance(value, dt.date) or (isinstance(value, str) and bool(_DATE.match(value) or _DATETIME.match(value)))


def reader_for(actual: Any) -> Callable[[Any], Any]:
    """How to read the other side of a comparison, given the value found in the quote."""
    if isinstance(actual, bool):
        return _as_bool
    if isinstance(actual, int | float):
        return as_number
    if looks_like_date(actual):
        return _as_moment
    return _as_text


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        return value
    raise _Unreadable


def _naive(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo else moment


def _same_kind(a: Any, b: Any) -> tuple[Any, Any]:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime) and (a.tzinfo is None) != (b.tzinfo is None):
        return _naive(a), _naive(b)
    return a, b


def _scalar(op: str, actual: Any, expected: Any) -> bool:
    read = reader_for(actual)
    left, right = _same_kind(read(actual), read(expected))
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if op == "lt":
        return bool(left < right)
    if op == "le":
        return bool(left <= right)
    if op == "gt":
        return bool(left > right)
    if op == "ge":
        return bool(left >= right)
    raise ValueError(op)


def _member(actual: Any, candidates: Any) -> bool:
    if not isinstance(candidates, list | tuple):
        candidates = [candidates]
    for candidate in candidates:
        try:
            if _scalar("eq", actual, candidate):
                return True
        except _Unreadable:
            continue
    return False


def compare(op: str, actual: Any, expected: Any) -> bool:
    """The truth of `actual <op> expected`; false whenever a side is missing or unreadable."""
    if actual is None or expected is None:
        return False
    try:
        if op in ("in", "not_in"):
            if isinstance(actual, list | dict):
                return False
            found = _member(actual, expected)
            return found if op == "in" else not found
        if op in ("contains", "not_contains"):
            if isinstance(actual, list | tuple):
                found = _member_of_list(actual, expected)
            elif isinstance(actual, str):
                found = _as_text(expected) in actual
            else:
                return False
            return found if op == "contains" else not found
        if op in ("starts_with", "ends_with"):
            if not isinstance(actual, str):
                return False
            text = _as_text(expected)
            return actual.startswith(text) if op == "starts_with" else actual.endswith(text)
        if isinstance(actual, list | dict) or isinstance(expected, list | dict):
            if op in ("eq", "ne") and isinstance(actual, list) and isinstance(expected, list):
                return (actual == expected) == (op == "eq")
            return False
        return _scalar(op, actual, expected)
    except (_Unreadable, TypeError):
        return False


def _member_of_list(items: list[Any] | tuple[Any, ...], expected: Any) -> bool:
    for item in items:
        try:
            if _scalar("eq", item, expected):
                return True
        except _Unreadable:
            continue
    return False


def smart_condition_holds(op: str, approved: object, current: object) -> bool:
    """A smart condition on resubmission: true only if the value got worse than the approved one.

    Worse means greater for gt/ge, smaller for lt/le and, for every other operator, different.
    """
    if current is None and approved is None:
        return False
    if current is None or approved is None:
        return True
    if op in ("gt", "ge", "lt", "le"):
        try:
            read = reader_for(current)
            new, old = _same_kind(read(current), read(approved))
            return bool(new > old) if op in ("gt", "ge") else bool(new < old)
        except (_Unreadable, TypeError):
            return current != approved
    return current != approved


def format_number(value: float | int, places: int = 2) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if i18n.current() != i18n.DEFAULT_LOCALE and math.isfinite(float(value)):
        return i18n.number(value, places)  # "152 000", "27,4"
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}"
    text = f"{number:,.{places}f}".rstrip("0").rstrip(".")
    return text


def format_value(value: Any, percent: bool = False) -> str:
    """A value as a person reads it: 152,000 · 27.4% · Net 60 · 2027-01-01 · Net 60 or Net 90."""
    if value is None:
        return _("(none)")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        if percent and i18n.current() != i18n.DEFAULT_LOCALE:
            return _("{number}%", number=format_number(value, 1))  # "27,4 %" in French
        return format_number(value, 1 if percent else 2) + ("%" if percent else "")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item, percent) for item in value)
    if isinstance(value, dt.date) and i18n.current() != i18n.DEFAULT_LOCALE:
        return i18n.date(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile(r"[^\S\xa0\u202f]+")  # no-break spaces stay: French typography needs them


def one_line(value: Any) -> str:
    """Text from outside (quote data, names) fit to show on one line: control characters and
    direction overrides dropped, line breaks and runs of spaces made one space."""
    return _BREAKS.sub(" ", _INVISIBLE.sub("", str(value))).strip()


def reason_line(subject: str, op: str, actual: Any, expected: Any, holds: bool, percent: bool) -> str:
    """One condition with the value it saw, in the current language: "quote discount 36% > 10%",
    "custom terms: yes" (an equality that holds names its value once)."""
    shown, wanted = format_value(actual, percent), format_value(expected, percent)
    if op in ("eq", "ne") and shown == wanted and holds:
        return _("{subject}: {value}", subject=subject, value=shown)
    return f"{subject} {shown} {_symbol(op)} {wanted}"


def reason_words(reason: dict[str, Any]) -> str:
    """A stored reason (`Reason.as_dict()`) in the current language, rebuilt from its subject,
    operator and values ("quote discount 36,5 % > 10 %" for a French reader); a reason stored
    without its parts keeps its text."""
    text = str(reason.get("text") or "")
    subject, op = reason.get("subject"), reason.get("op")
    if not isinstance(subject, str) or op not in SYMBOLS:
        return text or str(reason)
    actual, expected = _plain(reason.get("actual")), _plain(reason.get("expected"))
    return reason_line(subject, str(op), actual, expected, bool(reason.get("holds", True)), "%" in text)


def _symbol(op: str) -> str:
    words = {
        "in": _("is one of"),
        "not_in": _("is none of"),
        "contains": _("contains"),
        "not_contains": _("does not contain"),
        "starts_with": _("starts with"),
        "ends_with": _("ends with"),
    }
    return words.get(op, SYMBOLS[op])


def _plain(value: Any) -> Any:
    """A value read back from JSON: an ISO day is a day again."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value)
    return value
