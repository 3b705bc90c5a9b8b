"""Quotes and policies for tests: the examples of the repository, and a small quote made inline.

`example_quote("q1042-v3", account__name="Acme")` is an example quote with one field changed
(`__` walks into nested objects); `one_line_quote("Q-1")` is the smallest quote every rule of a
test policy can fire on: one software line, 5% off.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from domain.policy import Policy, read_policy
from domain.quote import Quote, parse_quote

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EXAMPLE_POLICY = EXAMPLES / "policy.yaml"
EXAMPLE_QUOTES = sorted(path.stem for path in (EXAMPLES / "quotes").glob("*.json"))


def example_policy() -> Policy:
    """examples/policy.yaml, read afresh (a runtime may change its policy: no test shares one)."""
    return read_policy(EXAMPLE_POLICY)


def example_quote_path(name: str) -> Path:
    return EXAMPLES / "quotes" / (name if name.endswith(".json") else f"{name}.json")


def example_quote_data(name: str) -> dict[str, Any]:
    """examples/quotes/<name>(.json) as the CRM sends it."""
    data: dict[str, Any] = json.loads(example_quote_path(name).read_text())
    return data


def changed(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `data` with fields replaced: `account__name="Acme"` sets data["account"]["name"]."""
    data = copy.deepcopy(data)
    for key, value in changes.items():
        target = data
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    return data


def example_quote(name: str, **changes: Any) -> Quote:
    return parse_quote(changed(example_quote_data(name), **changes))


def one_line_quote(quote_id: str, version: int = 1, *, owner: str = "rep", **changes: Any) -> dict[str, Any]:
    """A small valid quote owned by `owner`: one recurring software line at 9,500 of 10,000 (5% off)."""
    data: dict[str, Any] = {
        "id": quote_id,
        "version": version,
        "owner": owner,
        "currency": "USD",
        "account": {"id": "A-1", "name": "Acme GmbH", "timezone": "Europe/Berlin", "ship_to": "Berlin HQ"},
        "start_date": "2027-01-01",
        "term_months": 12,
        "payment_terms": "Net 30",
        "discount_percent": 5,
        "net_total": 9500,
        "list_total": 10000,
        "lines": [
            {
                "id": "L1",
                "sku": "SW-PLAT",
                "family": "Software",
                "quantity": 1,
                "list_price": 10000,
                "net_price": 9500,
                "discount_percent": 5,
                "net_total": 9500,
                "list_total": 10000,
                "recurring": True,
                "term_months": 12,
                "delivery_date": "2027-01-01",
                "ship_to": "Berlin HQ",
            }
        ],
    }
    data.update(changes)
    return data
