"""POST /api/quotes over real HTTP (slack-v1 §2): signed like Slack, every refusal changes nothing."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from domain.memory import MemoryStore
from domain.service import Approvals
from greenlight import signing
from greenlight.api import MAX_QUOTE_BYTES
from greenlight.settings import Settings
from tests.support.crm import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.support.memory import snapshot

from .conftest import Serve
from .support import API_SECRET, Intake, quote

# ---- stored ------------------------------------------------------------------------------------


async def test_a_signed_quote_is_stored_and_answered_with_its_status(intake: Intake, store: MemoryStore) -> None:
    reply = await intake.post(quote(1))

    assert (reply.status, reply.body) == (200, {"quote": "Q-7001", "version": 1, "status": "stored"})
    assert reply.content_type == "application/json"
    assert store.quotes["Q-7001"].data == quote(1)


async def test_the_same_quote_sent_again_is_unchanged(intake: Intake, store: MemoryStore) -> None:
    await intake.post(quote(1))
    before = snapshot(store)

    reply = await intake.post(quote(1))

    assert (reply.status, reply.body) == (200, {"quote": "Q-7001", "version": 1, "status": "unchanged"})
    assert snapshot(store) == before


async def test_a_higher_version_replaces_the_stored_quote(intake: Intake, store: MemoryStore) -> None:
    await intake.post(quote(1))

    reply = await intake.post(quote(2, net_total=7100))

    assert (reply.status, reply.body) == (200, {"quote": "Q-7001", "version": 2, "status": "stored"})
    assert store.quotes["Q-7001"].version == 2
    assert store.quotes["Q-7001"].data["net_total"] == 7100


async def test_a_higher_version_of_a_pending_quote_recalls_its_submission(
    intake: Intake, service: Approvals, store: MemoryStore
) -> None:
    await intake.post(quote(1))
    submission, _ = await service.submit("Q-7001", None, intake.clock())
    assert submission.status == "pending"

    reply = await intake.post(quote(2))

    assert (reply.status, reply.body) == (200, {"quote": "Q-7001", "version": 2, "status": "recalled"})
    latest = await service.latest("Q-7001")
    assert latest is not None and latest.status == "recalled"
    assert store.quotes["Q-7001"].version == 2


# ---- refused: the version ----------------------------------------------------------------------


async def test_a_lower_version_is_refused_with_409_and_changes_nothing(intake: Intake, store: MemoryStore) -> None:
    await intake.post(quote(2))
    before = snapshot(store)

    reply = await intake.post(quote(1))

    assert reply.status == 409
    assert "Q-7001 version 1 is stale: version 2 is stored" in reply.body["error"]
    assert snapshot(store) == before


async def test_the_same_version_with_other_content_is_refused_with_409(intake: Intake, store: MemoryStore) -> None:
    await intake.post(quote(1))
    before = snapshot(store)

    reply = await intake.post(quote(1, net_total=1))

    assert reply.status == 409
    assert reply.body["error"].endswith(".")
    assert snapshot(store) == before


# ---- refused: who sent it ----------------------------------------------------------------------


async def test_without_api_secret_the_api_answers_503_and_stores_nothing(serve: Serve, store: MemoryStore) -> None:
    intake = await serve(Settings())

    reply = await intake.post(quote(1))

    assert reply.status == 503
    assert "GREENLIGHT_API_SECRET" in reply.body["error"]
    assert store.quotes == {}


async def test_a_signature_made_with_another_secret_is_refused_with_401(intake: Intake, store: MemoryStore) -> None:
    reply = await intake.post(quote(1), secret="some-other-secret-0123456789")

    assert reply.status == 401
    assert "signature does not match" in reply.body["error"]
    assert store.quotes == {}


async def test_a_body_changed_after_signing_is_refused_with_401(intake: Intake, store: MemoryStore) -> None:
    signed_for = json.dumps(quote(1, net_total=7000)).encode()
    signature = signing.sign(API_SECRET, intake.now(), signed_for)

    reply = await intake.post(quote(1, net_total=1), signature=signature)

    assert reply.status == 401
    assert store.quotes == {}


@pytest.mark.parametrize(
    ("seconds", "said"), [(-301, "more than 5 minutes old"), (301, "more than 5 minutes in the future")]
)
async def test_a_timestamp_more_than_five_minutes_away_is_refused_with_401(
    intake: Intake, store: MemoryStore, seconds: int, said: str
) -> None:
    reply = await intake.post(quote(1), timestamp=intake.now() + seconds)

    assert reply.status == 401
    assert said in reply.body["error"]
    assert store.quotes == {}


async def test_a_timestamp_five_minutes_old_is_still_accepted(intake: Intake) -> None:
    reply = await intake.post(quote(1), timestamp=intake.now() - 300)

    assert reply.status == 200


async def test_a_timestamp_that_is_not_a_number_is_refused_with_401(intake: Intake, store: MemoryStore) -> None:
    reply = await intake.post(quote(1), timestamp="yesterday")

    assert reply.status == 401
    assert store.quotes == {}


@pytest.mark.parametrize("missing", [(TIMESTAMP_HEADER,), (SIGNATURE_HEADER,), (TIMESTAMP_HEADER, SIGNATURE_HEADER)])
async def test_a_request_without_the_signature_headers_is_refused_with_401(
    intake: Intake, store: MemoryStore, missing: tuple[str, ...]
) -> None:
    reply = await intake.post(quote(1), omit=missing)

    assert reply.status == 401
    assert TIMESTAMP_HEADER in reply.body["error"] and SIGNATURE_HEADER in reply.body["error"]
    assert store.quotes == {}


# ---- refused: what was sent --------------------------------------------------------------------


async def test_an_invalid_quote_is_refused_with_422_listing_every_problem(intake: Intake, store: MemoryStore) -> None:
    bad = quote(1, currency="DOLLARS")
    bad["version"] = "three"
    bad["lines"][0]["quantity"] = "ten"
    bad["lines"].append(dict(bad["lines"][0], quantity=1, delivery_date="someday"))

    reply = await intake.post(bad)

    assert reply.status == 422
    assert reply.body["error"] == "The quote has 5 problems and was not stored."
    where = [problem["where"] for problem in reply.body["problems"]]
    assert where == [
        "$.version",
        "$.currency",
        "$.lines[0].quantity",
        "$.lines[1].id",
        "$.lines[1].delivery_date",
    ]
    assert all(problem["message"] for problem in reply.body["problems"])
    assert store.quotes == {}


async def test_an_invalid_new_version_leaves_the_stored_quote_as_it_was(intake: Intake, store: MemoryStore) -> None:
    await intake.post(quote(1))
    before = snapshot(store)

    reply = await intake.post(quote(2, lines="none"))

    assert reply.status == 422
    assert reply.body["problems"] == [{"where": "$.lines", "message": "lines must be a list"}]
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "body",
    [
        b"this is not JSON",
        b"",
        b'{"id": "Q-7001", "version": 1,',
        b'{"id": "Q-7001", "version": 1, "owner": "ava", "net_total": NaN}',
        b'{"id": "Q-7001", "version": 1, "owner": "ava", "net_total": 1e999}',
        '{"id": "Q-7001", "owner": "Zoë"}'.encode("latin-1"),
        b"[" * 40 + b"]" * 40,
    ],
    ids=["text", "empty", "truncated", "nan", "infinite", "not-utf8", "too-deep"],
)
async def test_a_body_that_is_not_json_is_refused_with_422(intake: Intake, store: MemoryStore, body: bytes) -> None:
    reply = await intake.post(body)

    assert reply.status == 422
    assert reply.body["error"].startswith("The body is not a JSON quote: ")
    assert store.quotes == {}


async def test_json_that_is_not_an_object_is_refused_with_422(intake: Intake, store: MemoryStore) -> None:
    reply = await intake.post(b"[1, 2, 3]")

    assert reply.status == 422
    assert reply.body["problems"] == [{"where": "$", "message": "a quote is a JSON object"}]
    assert store.quotes == {}


# ---- refused: the size -------------------------------------------------------------------------


async def test_a_body_over_1_mb_is_refused_with_413(intake: Intake, store: MemoryStore) -> None:
    body = json.dumps(quote(1, notes="x" * MAX_QUOTE_BYTES)).encode()

    reply = await intake.post(body)

    assert reply.status == 413
    assert reply.body == {
        "error": f"A quote may be at most 1 MB (1048576 bytes); this one has {len(body)} bytes.",
        "limit": MAX_QUOTE_BYTES,
    }
    assert store.quotes == {}


async def test_a_body_of_exactly_1_mb_is_read(intake: Intake) -> None:
    # Text fields are kept to 10,000 characters each, so the padding is spread over several.
    chunks = ["x" * 9_000] * (MAX_QUOTE_BYTES // 9_004)
    padding = MAX_QUOTE_BYTES - len(json.dumps(quote(1, notes=[*chunks, ""])).encode())
    body = json.dumps(quote(1, notes=[*chunks, "x" * padding])).encode()
    assert len(body) == MAX_QUOTE_BYTES

    reply = await intake.post(body)

    assert reply.status == 200


async def test_a_chunked_body_over_1_mb_is_refused_with_413(intake: Intake, store: MemoryStore) -> None:
    reply = await intake.post_chunked(32 * 65536)

    assert reply.status == 413
    assert reply.body["error"] == "A quote may be at most 1 MB (1048576 bytes); this one is larger."
    assert store.quotes == {}


async def test_a_declared_oversized_body_is_refused_before_it_is_sent(intake: Intake, store: MemoryStore) -> None:
    # Only the head is sent: the answer proves the server did not wait for (or read) the body.
    host, port = intake.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(
            b"POST /api/quotes HTTP/1.1\r\nHost: greenlight\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50000000\r\n\r\n"
        )
        await writer.drain()
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    assert head.startswith(b"HTTP/1.1 413 ")
    assert b"application/json" in head
    assert store.quotes == {}


# ---- what is said and logged -------------------------------------------------------------------


async def test_no_answer_or_log_line_shows_the_api_secret(intake: Intake, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    replies = [
        await intake.post(quote(1)),
        await intake.post(quote(1), secret="wrong-secret-0123456789abcdef"),
        await intake.post(quote(1), timestamp=0),
        await intake.post(quote(0)),
    ]

    assert [reply.status for reply in replies] == [200, 401, 401, 422]
    shown = caplog.text + "".join(json.dumps(reply.body) for reply in replies)
    assert API_SECRET not in shown
    assert "quote Q-7001 version 1 from the CRM: stored" in caplog.text
