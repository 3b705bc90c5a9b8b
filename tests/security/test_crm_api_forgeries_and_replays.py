"""`POST /api/quotes` from someone without GREENLIGHT_API_SECRET, or replaying what the CRM sent.

Forgeries get 401 before the quote is read; a replay inside the five minutes is harmless (the same
version is `unchanged`, an older one 409); a replay after them gets 401. Nothing is stored by any.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from greenlight import signing
from greenlight.api import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.support.quotes import example_quote_data

from .conftest import API_SECRET, App


def body(name: str = "q1042-v1.json", **changes: Any) -> bytes:
    return json.dumps({**example_quote_data(name), **changes}).encode()


async def test_a_quote_signed_with_the_api_secret_is_stored(app: App) -> None:
    """The control for the forgeries below."""
    status, answer = await app.post_quote(body())
    assert (status, answer) == (200, {"quote": "Q-1042", "version": 1, "status": "stored"})


async def test_forged_quotes_get_401_and_store_nothing(app: App) -> None:
    now = int(app.clock().timestamp())
    quote = body()
    genuine = signing.sign(API_SECRET, now, quote)
    before = await app.snapshot()

    for headers, why in [
        ({TIMESTAMP_HEADER: "", SIGNATURE_HEADER: ""}, "no signature at all"),
        ({SIGNATURE_HEADER: signing.sign("a-guess-at-the-api-secret-012345", now, quote)}, "another secret"),
        ({SIGNATURE_HEADER: signing.sign(API_SECRET, now, body(owner="hank"))}, "signed for another body"),
        ({SIGNATURE_HEADER: signing.sign(API_SECRET, now + 1, quote)}, "signed for another time"),
        ({SIGNATURE_HEADER: "v1=" + genuine[3:]}, "another scheme"),
        ({SIGNATURE_HEADER: "v0=" + genuine[3:].upper()}, "upper-case digest"),
        ({SIGNATURE_HEADER: genuine[:-1]}, "cut short"),
        ({SIGNATURE_HEADER: genuine + "00"}, "lengthened"),
        ({SIGNATURE_HEADER: "v0=" + "é" * 64}, "not ASCII"),
        ({TIMESTAMP_HEADER: "not-a-number", SIGNATURE_HEADER: signing.sign(API_SECRET, "not-a-number", quote)}, "word"),
        ({TIMESTAMP_HEADER: "1.5e9", SIGNATURE_HEADER: signing.sign(API_SECRET, "1.5e9", quote)}, "float"),
        ({TIMESTAMP_HEADER: "9" * 30, SIGNATURE_HEADER: signing.sign(API_SECRET, "9" * 30, quote)}, "huge"),
    ]:
        headers = {TIMESTAMP_HEADER: str(now), **headers}
        status, answer = await app.post_quote(quote, timestamp=now, headers=headers)
        assert status == 401, (why, status, answer)
        assert answer["error"].endswith("."), answer
        assert API_SECRET not in json.dumps(answer)

    assert await app.snapshot() == before
    assert await app.runtime.service.stored_quote("Q-1042") is None


@pytest.mark.parametrize("seconds", [-301, 301], ids=["stale", "future"])
async def test_a_quote_signed_more_than_five_minutes_off_gets_401(app: App, seconds: int) -> None:
    before = await app.snapshot()

    status, answer = await app.post_quote(body(), timestamp=int(app.clock().timestamp()) + seconds)

    assert status == 401, answer
    assert "5 minutes" in answer["error"], answer
    assert await app.snapshot() == before


async def test_a_replay_inside_five_minutes_is_unchanged_and_changes_nothing(app: App) -> None:
    now = int(app.clock().timestamp())
    assert (await app.post_quote(body(), timestamp=now))[0] == 200
    before = await app.snapshot()

    app.clock.advance(minutes=4)
    status, answer = await app.post_quote(body(), timestamp=now)

    assert (status, answer["status"]) == (200, "unchanged")
    assert await app.snapshot() == before


async def test_a_replay_after_five_minutes_gets_401(app: App) -> None:
    now = int(app.clock().timestamp())
    assert (await app.post_quote(body(), timestamp=now))[0] == 200
    before = await app.snapshot()

    app.clock.advance(minutes=6)
    status, answer = await app.post_quote(body(), timestamp=now)

    assert status == 401, answer
    assert await app.snapshot() == before


async def test_a_replayed_older_version_cannot_overwrite_a_newer_one(app: App) -> None:
    now = int(app.clock().timestamp())
    assert (await app.post_quote(body(), timestamp=now))[0] == 200
    assert (await app.post_quote(body("q1042-v2.json"), timestamp=now + 60))[0] == 200
    before = await app.snapshot()

    status, answer = await app.post_quote(body(), timestamp=now)  # version 1 again, as captured

    assert status == 409, answer
    assert answer["error"].endswith("."), answer
    assert await app.snapshot() == before
    stored = await app.runtime.service.stored_quote("Q-1042")
    assert stored is not None and stored.version == 2


async def test_a_captured_quote_with_a_fresh_timestamp_gets_401(app: App) -> None:
    now = int(app.clock().timestamp())
    captured = signing.sign(API_SECRET, now, body())
    app.clock.advance(minutes=10)
    before = await app.snapshot()
    later = str(int(app.clock().timestamp()))

    status, answer = await app.post_quote(
        body(), timestamp=later, headers={TIMESTAMP_HEADER: later, SIGNATURE_HEADER: captured}
    )

    assert status == 401, answer
    assert await app.snapshot() == before
