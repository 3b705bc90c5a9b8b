"""The state document of a submission (store.codec): what dataclasses.asdict gives, and read back whole.

Submissions come from the example policy and quotes, submitted and partly decided in memory, so they
carry seats with votes, reasons with values and moments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from domain.approvals import Submission
from domain.memory import MemoryStore
from domain.quote import parse_quote
from domain.service import Approvals
from store import codec
from tests.support.quotes import EXAMPLE_QUOTES, example_policy, example_quote_data

NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def plain(value: Any) -> Any:
    """The reference: moments as ISO text, keys as text, containers as lists and dicts."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


async def submissions() -> list[Submission]:
    service = Approvals(example_policy(), MemoryStore())
    found: list[Submission] = []
    for name in EXAMPLE_QUOTES:
        quote = parse_quote(example_quote_data(name))
        await service.receive_quote(quote, NOW)
        latest = await service.latest(quote.id)
        if latest is not None and latest.status == "pending":
            continue  # a later version of a quote already submitted
        try:
            await service.submit(quote.id, None, NOW)
        except Exception:  # an example meant to be refused (the refusals have tests of their own)
            continue
        sub = await service.latest(quote.id)
        assert sub is not None
        requested = [a for a in sub.approvals if a.status == "requested"]
        if requested and sub.status == "pending":
            first = requested[0]
            await service.decide(quote.id, first.rule, first.seats[0].holder, "approve", NOW + dt.timedelta(hours=1))
            sub = await service.latest(quote.id)
            assert sub is not None
        found.append(sub)
    return found


async def test_the_state_document_is_asdict_of_the_submission_without_its_snapshot() -> None:
    subs = await submissions()
    assert any(seat.vote for sub in subs for a in sub.approvals for seat in a.seats), "nothing was decided"
    for sub in subs:
        expected = {
            f.name: getattr(sub, f.name)
            for f in dataclasses.fields(Submission)
            if f.name not in ("snapshot", "approvals")
        }
        expected["approvals"] = [dataclasses.asdict(a) for a in sub.approvals]
        assert codec.dump(sub) == plain(expected)


async def test_a_state_document_reads_back_as_the_same_submission() -> None:
    for sub in await submissions():
        assert codec.load(codec.dump(sub), sub.snapshot) == sub
