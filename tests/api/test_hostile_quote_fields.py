"""Hostile quote fields are refused with 422 naming the field (issue 12 items 3 and 5), never stored, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from domain.memory import MemoryStore
from domain.service import Approvals
from tests.support.memory import snapshot

from .support import Intake, quote


def problems(body: dict[str, Any]) -> dict[str, str]:
    return {p["where"]: p["message"] for p in body["problems"]}


@pytest.mark.parametrize(
    ("changes", "where", "says"),
    [
        ({"id": "Q-NL\n"}, "$.id", "1 to 64 letters"),
        ({"id": "Q-NL\r\n"}, "$.id", "1 to 64 letters"),
        ({"owner": "rita "}, "$.owner", "white space at its start or end"),
        ({"owner": " ava"}, "$.owner", "white space at its start or end"),
        ({"owner": "a" * 129}, "$.owner", "at most 128"),
        ({"owner": "ava\nmax"}, "$.owner", "line breaks"),
        ({"account": {"id": "A" * 129, "name": "Acme"}}, "$.account.id", "at most 128"),
        ({"account": {"id": "A-1 ", "name": "Acme"}}, "$.account.id", "white space"),
        ({"version": 2**53}, "$.version", "9,007,199,254,740,991"),
        ({"version": 2**63}, "$.version", "9,007,199,254,740,991"),
        ({"version": 10**400}, "$.version", "9,007,199,254,740,991"),
        ({"deal_score": 10**400}, "$.deal_score", "out of range"),
        ({"net_total": -(10**30)}, "$.net_total", "out of range"),
        ({"discount_percent": 1e300}, "$.discount_percent", "out of range"),
    ],
)
async def test_a_hostile_field_is_refused_with_422_naming_it_and_nothing_is_stored(
    intake: Intake, store: MemoryStore, changes: dict[str, Any], where: str, says: str
) -> None:
    before = snapshot(store)

    reply = await intake.post({**quote(1), **changes})

    assert reply.status == 422, reply
    assert says in problems(reply.body).get(where, ""), reply.body
    assert snapshot(store) == before


async def test_a_quote_id_with_a_final_line_break_is_not_a_second_quote(intake: Intake, store: MemoryStore) -> None:
    assert (await intake.post(quote(1, id="Q-NL"))).status == 200
    assert (await intake.post(quote(1, id="Q-NL\n"))).status == 422
    assert list(store.quotes) == ["Q-NL"]


async def test_the_largest_version_and_numbers_are_accepted_and_the_quote_can_be_submitted(
    intake: Intake, service: Approvals
) -> None:
    reply = await intake.post(quote(2**53 - 1, deal_score=2**53 - 1))

    assert (reply.status, reply.body["version"]) == (200, 2**53 - 1)
    sub, _ = await service.submit("Q-7001", None, intake.clock())
    assert sub.quote_version == 2**53 - 1
