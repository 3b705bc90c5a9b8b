"""Oversized input: a 1 MB quote, 10,000 lines, a 50,000-character field, huge Slack and page posts.

Each gets 413 (too big to read) or 422 (read, refused with the problem located), and nothing is
stored. "Quickly" is shown by what was sent, not by time: the 413 arrives while the client still
holds most of the body back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from greenlight import signing
from greenlight.api import MAX_QUOTE_BYTES, SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.support.pages import links_in
from tests.support.quotes import example_quote_data

from .conftest import API_SECRET, App, backdated_quote

CHUNK = 64 * 1024


async def exchange(url: str, head: dict[str, str], body: bytes, *, chunked: bool = False) -> tuple[int, bytes]:
    """POST with raw HTTP/1.1: send `head` and only `body` (which may be less than declared), then read
    the answer while the rest is held back. Returns (status, answer body)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in head.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        for start in range(0, len(body), CHUNK):
            piece = body[start : start + CHUNK]
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            await writer.drain()
        async with asyncio.timeout(10):  # a guard against a hang, not a measure
            status_line = await reader.readline()
            headers = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            length = next(
                int(line.split(":", 1)[1])
                for line in headers.split("\r\n")
                if line.lower().startswith("content-length:")
            )
            answer = await reader.readexactly(length)
        return int(status_line.split()[1]), answer
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def signed_head(app: App, body: bytes, **extra: str) -> dict[str, str]:
    stamp = str(int(app.clock().timestamp()))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signing.sign(API_SECRET, stamp, body),
        **extra,
    }


def padded_quote(size: int) -> bytes:
    """Q-1042 grown to exactly `size` bytes with extra lines of ordinary size (a quote really that big)."""
    data = example_quote_data("q1042-v1.json")
    line = {
        "id": "",
        "sku": "HW-SENSOR-PACK",
        "family": "Hardware",
        "quantity": 1,
        "net_total": 0,
        "description": "Sensor pack, 24 probes, cold-chain calibration certificate included. " * 3,
    }
    number = 0
    while len(json.dumps(data).encode()) < size - 1000:
        batch = max(1, (size - len(json.dumps(data).encode())) // 400)
        data["lines"].extend({**line, "id": f"X{number + i}"} for i in range(batch))
        number += batch
    data["lines"][-1] = {**data["lines"][-1], "description": ""}
    room = size - len(json.dumps(data).encode())
    data["lines"][-1]["description"] = "d" * room
    raw = json.dumps(data).encode()
    assert len(raw) == size
    return raw


async def test_a_quote_declared_larger_than_1_mb_is_refused_before_its_body_is_sent(app: App) -> None:
    quote = padded_quote(MAX_QUOTE_BYTES + 1)
    before = await app.snapshot()

    status, answer = await exchange(
        f"{app.url}/api/quotes", signed_head(app, quote, **{"Content-Length": str(len(quote))}), b""
    )

    assert status == 413
    assert json.loads(answer)["error"] == (
        f"A quote may be at most 1 MB ({MAX_QUOTE_BYTES} bytes); this one has {MAX_QUOTE_BYTES + 1} bytes."
    )
    assert await app.snapshot() == before


async def test_a_quote_streamed_without_a_length_is_refused_once_it_passes_1_mb(app: App) -> None:
    quote = padded_quote(3 * MAX_QUOTE_BYTES)
    before = await app.snapshot()

    sent = quote[: MAX_QUOTE_BYTES + CHUNK]  # the last two megabytes are never sent
    status, answer = await exchange(
        f"{app.url}/api/quotes", signed_head(app, quote, **{"Transfer-Encoding": "chunked"}), sent, chunked=True
    )

    assert status == 413
    assert "at most 1 MB" in json.loads(answer)["error"]
    assert await app.snapshot() == before


async def test_a_quote_of_exactly_1_mb_is_read_and_judged(app: App) -> None:
    """The limit is the limit: a 1 MB quote is not refused for its size."""
    status, answer = await app.post_quote(padded_quote(MAX_QUOTE_BYTES))
    assert (status, answer["status"]) == (200, "stored")


async def test_a_quote_with_10000_lines_gets_422_naming_the_lines(app: App) -> None:
    data = backdated_quote()
    data["lines"] = [
        {"id": f"L{i}", "sku": "HW-GW-200", "family": "Hardware", "quantity": 1, "net_total": 10} for i in range(10_000)
    ]
    raw = json.dumps(data).encode()
    assert len(raw) < MAX_QUOTE_BYTES
    before = await app.snapshot()

    status, answer = await app.post_quote(raw)

    assert status == 422, answer
    assert answer["problems"] == [{"where": "$.lines", "message": "a quote has at most 5000 lines (10000 sent)"}]
    assert await app.snapshot() == before


@pytest.mark.parametrize(
    ("path", "where"),
    [(("account", "name"), "$.account.name"), (("lines", 0, "sku"), "$.lines[0].sku")],
    ids=["customer", "line-sku"],
)
async def test_a_50000_character_field_gets_422_naming_the_field(app: App, path: tuple[Any, ...], where: str) -> None:
    data = backdated_quote()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "A" * 50_000
    before = await app.snapshot()

    status, answer = await app.post_quote(json.dumps(data))

    assert status == 422, f"a 50,000-character {where} was accepted: {answer}"
    assert [problem["where"] for problem in answer["problems"]] == [where]
    assert await app.snapshot() == before


async def test_a_50000_character_quote_id_gets_422(app: App) -> None:
    before = await app.snapshot()

    status, answer = await app.post_quote(json.dumps(backdated_quote("Q" * 50_000)))

    assert status == 422
    assert [problem["where"] for problem in answer["problems"]] == ["$.id"]
    assert await app.snapshot() == before


async def test_a_quote_nested_deeper_than_32_levels_gets_422(app: App) -> None:
    quote = json.dumps(backdated_quote())
    nested = quote[:-1] + ', "extra": ' + "[" * 10_000 + '"deep"' + "]" * 10_000 + "}"
    before = await app.snapshot()

    status, answer = await app.post_quote(nested)

    assert status == 422
    assert "nested" in answer["error"], answer
    assert await app.snapshot() == before


# ---- Slack and the link page -------------------------------------------------------------------------


async def test_a_slack_request_larger_than_1_mb_is_refused_before_the_rest_is_sent(app: App) -> None:
    await app.submit(example_quote_data("q1042-v1.json"))
    before = await app.snapshot()
    head = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(5 * MAX_QUOTE_BYTES),
        "X-Slack-Request-Timestamp": "1",
        "X-Slack-Signature": "v0=00",
    }

    status, _ = await exchange(app.driver.request_url, head, b"payload=" + b"x" * (MAX_QUOTE_BYTES + CHUNK))

    assert status == 413
    assert await app.snapshot() == before
    assert await app.approval_status("Q-1042", "manager-discount") == "requested"


async def test_a_50000_character_deal_command_is_refused_with_its_usage(app: App) -> None:
    await app.receive(example_quote_data("q1042-v1.json"))
    before = await app.snapshot()

    for text, why in [
        ("submit " + "Q" * 50_000, "at most 64 characters"),
        ("submit Q-1042 " + "x " * 25_000, "keep it to 1500"),
        ("x" * 50_000, "is not a /deal subcommand"),
    ]:
        answer = await app.deal("ava", text)
        shown = answer.json()["text"]
        assert why in shown and "Usage:" in shown, shown[:300]
        assert len(shown) < 3000, "the answer does not echo the whole text"

    assert await app.snapshot() == before


async def test_a_link_page_post_larger_than_1_mb_is_refused(app: App) -> None:
    await app.submit(backdated_quote())
    [arrived] = await app.inbox.wait_for(1)
    message = arrived.message
    url = links_in(message)["approve"]
    before = await app.snapshot()
    head = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(5 * MAX_QUOTE_BYTES)}

    status, _ = await exchange(url, head, b"verdict=approve&comment=" + b"x" * (MAX_QUOTE_BYTES + CHUNK))

    assert status == 413
    assert await app.snapshot() == before


async def test_a_50000_character_rejection_reason_on_the_link_page_is_sent_back_to_shorten(app: App) -> None:
    await app.submit(backdated_quote())
    [arrived] = await app.inbox.wait_for(1)
    message = arrived.message
    url = links_in(message)["reject"]
    page = await app.get(url)
    before = await app.snapshot()

    answer = await app.post(url, {"csrf": page.csrf, "verdict": "reject", "comment": "No. " * 12_500})

    assert answer.status == 400
    assert "Keep the text under 2000 characters" in answer.text
    assert await app.snapshot() == before


def test_control_characters_in_a_quote_are_refused_at_intake_with_their_path() -> None:
    from domain.errors import QuoteError
    from domain.quote import parse_quote

    data = {"id": "Q-1", "version": 1, "owner": "ava", "account": {"id": "A-1", "name": "Acme\u202e\x07"}}
    try:
        parse_quote(data)
    except QuoteError as refusal:
        assert [p.where for p in refusal.problems] == ["$.account.name"]
        assert "control characters" in refusal.problems[0].message
    else:
        raise AssertionError("a quote with control characters was accepted")
