"""Values out of any range never crash an evaluation or a command (issue 12 item 5)."""

from __future__ import annotations

import pytest

from bot.commands import Account, UsageError, parse
from domain.values import compare


@pytest.mark.parametrize("op", ["gt", "ge", "lt", "le", "eq", "ne"])
def test_an_integer_beyond_any_float_compares_false_instead_of_failing(op: str) -> None:
    assert compare(op, 10**400, 10) is False


def test_an_account_id_longer_than_128_characters_is_a_usage_answer() -> None:
    with pytest.raises(UsageError, match="at most 128 characters; this one has 200"):
        parse("account " + "A" * 200)
    assert parse("account " + "A" * 128) == Account("A" * 128, None)
