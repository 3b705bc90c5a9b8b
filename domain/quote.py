"""Quotes as a CRM sends them (policy-v1 §2), validated with every problem named by JSON path.

A quote keeps every attribute it arrives with (any of them may be tested by a rule); the ones
Greenlight itself relies on are checked here.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

from . import amounts
from .errors import Problem, QuoteError
from .sourcemap import Path, format_path, load_json, plain
from .values import as_number, looks_like_date

MAX_LINES = 5000
MAX_TEXT = 10_000
MAX_VERSION = 2**53 - 1
"""crm-v1 §3: a version is a positive integer up to 9,007,199,254,740,991 (epoch milliseconds fit)."""
MAX_NUMBER = 2**53 - 1
"""Any number in a quote lies within ±MAX_NUMBER: beyond it, JSON readers disagree (RFC 7493)."""
MAX_KEY = 128
"""The longest owner or account id (their columns' width)."""
QUOTE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")  # \Z: `$` would match before a final line break
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def _step(path: Path, key: str) -> Path:
    """The path one key further down; a key that a JSON path cannot name stays at its parent."""
    return path if not key or any(c in key for c in ".[]") or not key.isprintable() else (*path, key)


def _strings(value: Any, path: Path) -> list[tuple[Path, str]]:
    """Every string in a JSON document with its path (lines are walked too)."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _strings(item, _step(path, str(key)))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value[:MAX_LINES]) for found in _strings(item, (*path, index))]
    return []


@dataclass(frozen=True)
class Quote:
    """A validated quote: its data as received, and what Greenlight reads from it."""

    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def version(self) -> int:
        return int(self.data["version"])

    @property
    def owner(self) -> str:
        return str(self.data["owner"])

    @property
    def lines(self) -> list[dict[str, Any]]:
        return self.data.get("lines") or []

    @property
    def account(self) -> dict[str, Any]:
        account = self.data.get("account")
        return account if isinstance(account, dict) else {}

    @property
    def customer(self) -> str:
        return str(self.account.get("name") or self.account.get("id") or "")

    @property
    def currency(self) -> str:
        return str(self.data.get("currency") or "USD")

    @functools.cached_property
    def content_hash(self) -> str:
        """Worked out once per quote (its data is never changed: intake compares and stores it three
        times, and each is a canonical dump of the whole quote)."""
        return content_hash(self.data)

    def amount(self, key: str) -> int | float | None:
        """A top-level number of the quote (`net_total`, `list_total`, `discount_percent`); None
        when it is absent or not a number (a boolean is not one)."""
        value = self.data.get(key)
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def content_hash(data: dict[str, Any]) -> str:
    canonical = amounts.dumps(data, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _numbers(value: Any, path: Path) -> list[tuple[Path, int | float]]:
    """Every number in a JSON document with its path (booleans are not numbers)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [(path, value)]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _numbers(item, _step(path, str(key)))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value[:MAX_LINES]) for found in _numbers(item, (*path, index))]
    return []


def _infinite(number: int | float) -> bool:
    """Infinity and NaN are refused where the amount is used (the API's JSON reader refuses them outright)."""
    return isinstance(number, float) and not math.isfinite(number)


def key_problem(value: Any, what: str) -> str | None:
    """Why VALUE cannot be a person's or an account's key, or None: a trimmed string of 1 to 128 characters."""
    if not isinstance(value, str) or not value.strip():
        return f"{what} is required"
    if value != value.strip():
        return f"{what} {value!r} has white space at its start or end"
    if len(value) > MAX_KEY:
        return f"{what} is {len(value):,} characters long: at most {MAX_KEY} are allowed"
    if _CONTROL.search(value) or "\n" in value or "\r" in value or "\t" in value:
        return f"{what} contains control characters or line breaks"
    return None


def _where(path: Path) -> str:
    return "$" + ("." if path and isinstance(path[0], str) else "") + format_path(path)


def quote_problems(data: Any) -> list[Problem]:
    """Every problem with a quote document, each located by JSON path ($.lines[2].quantity)."""
    if not isinstance(data, dict):
        return [Problem("$", "a quote is a JSON object")]
    problems: list[Problem] = []

    def need(path: Path, ok: bool, message: str) -> None:
        if not ok:
            problems.append(Problem(_where(path), message))

    quote_id = data.get("id")
    need(
        ("id",),
        isinstance(quote_id, str) and bool(QUOTE_ID.fullmatch(quote_id)),
        "id is required: 1 to 64 letters, digits, dots, dashes, underscores or colons, starting with a letter "
        "or digit (e.g. Q-1042)",
    )
    version = data.get("version")
    need(
        ("version",),
        isinstance(version, int) and not isinstance(version, bool) and 1 <= version <= MAX_VERSION,
        f"version is required: a whole number of 1 or more, at most {MAX_VERSION:,} (2^53 - 1)",
    )
    owner = data.get("owner")
    owner_problem = key_problem(owner, "owner")
    need(("owner",), owner_problem is None, f"{owner_problem}: a people key or a Slack user id")
    currency = data.get("currency", "USD")
    need(
        ("currency",),
        isinstance(currency, str) and len(currency) == 3 and currency.isalpha(),
        "currency must be a three-letter code such as USD or EUR",
    )
    account = data.get("account")
    if account is not None:
        need(("account",), isinstance(account, dict), "account must be an object")
        if isinstance(account, dict):
            account_problem = key_problem(account.get("id"), "account.id")
            need(("account", "id"), account_problem is None, f"{account_problem} when account is given")
    for key in ("start_date",):
        if data.get(key) is not None:
            need((key,), is_date(data[key]), f"{key} must be a real ISO date (YYYY-MM-DD)")
    for key in ("net_total", "list_total", "discount_percent", "term_months"):
        if data.get(key) is not None:
            need((key,), _is_number(data[key]), f"{key} must be a number")
    flagged = {p.where for p in problems}
    for path, number in _numbers(data, ()):
        if _where(path) not in flagged and abs(number) > MAX_NUMBER and not _infinite(number):
            flagged.add(_where(path))
            problems.append(Problem(_where(path), f"is out of range: numbers lie within ±{MAX_NUMBER:,}"))
    for path, text in _strings(data, ()):
        if _where(path) in flagged:
            continue
        flagged.add(_where(path))
        if len(text) > MAX_TEXT:
            problems.append(Problem(_where(path), f"is {len(text):,} characters long: at most {MAX_TEXT:,} are kept"))
        elif _CONTROL.search(text):
            problems.append(
                Problem(_where(path), "contains control characters (only tabs and line breaks are allowed)")
            )
    lines = data.get("lines", [])
    if not isinstance(lines, list):
        problems.append(Problem("$.lines", "lines must be a list"))
        return problems
    if len(lines) > MAX_LINES:
        problems.append(Problem("$.lines", f"a quote has at most {MAX_LINES} lines ({len(lines)} sent)"))
        return problems
    seen: set[str] = set()
    for index, line in enumerate(lines):
        path = ("lines", index)
        if not isinstance(line, dict):
            problems.append(Problem(_where(path), "each line is an object"))
            continue
        line_id = line.get("id")
        if not isinstance(line_id, str) or not line_id:
            problems.append(Problem(_where((*path, "id")), "each line needs an id (a string)"))
        elif line_id in seen:
            problems.append(Problem(_where((*path, "id")), f"line id {line_id!r} is used twice"))
        else:
            seen.add(line_id)
        for key in (
            "quantity",
            "list_price",
            "net_price",
            "net_total",
            "list_total",
            "discount_percent",
            "term_months",
        ):
            if line.get(key) is not None and not _is_number(line[key]):
                problems.append(Problem(_where((*path, key)), f"{key} must be a number"))
        if line.get("delivery_date") is not None and not is_date(line["delivery_date"]):
            problems.append(Problem(_where((*path, "delivery_date")), "delivery_date must be an ISO date"))
        if line.get("recurring") is not None and not isinstance(line["recurring"], bool):
            problems.append(Problem(_where((*path, "recurring")), "recurring must be true or false"))
    return problems


def is_date(value: Any) -> bool:
    if not isinstance(value, str) or not looks_like_date(value):
        return False
    try:
        dt.date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def _is_number(value: Any) -> bool:
    try:
        as_number(value)
    except Exception:
        return False
    return not isinstance(value, str)


def parse_quote(data: Any, source: str = "quote") -> Quote:
    data = plain(data)
    problems = quote_problems(data)
    if problems:
        raise QuoteError(problems, source)
    return Quote(data)


def load_quote_text(text: str, source: str = "quote") -> Quote:
    data, _, problems = load_json(text, source)
    if problems:
        raise QuoteError(problems, source)
    return parse_quote(data, source)
