"""Slack-style signatures: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">, fresh within 5 minutes."""

from __future__ import annotations

import datetime as dt

import pytest
from slack_sdk.signature import SignatureVerifier

from greenlight.signing import sign, timestamp_problem, verify

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SENT_AT = 1_780_000_000
BODY = b'{"id": "Q-7001", "version": 1}'


def test_a_signed_body_verifies() -> None:
    signature = sign(SECRET, SENT_AT, BODY)

    assert signature.startswith("v0=") and len(signature) == 67
    assert verify(SECRET, str(SENT_AT), signature, BODY, SENT_AT)


def test_signatures_are_the_ones_slack_makes() -> None:
    slack = SignatureVerifier(SECRET)

    assert sign(SECRET, SENT_AT, BODY) == slack.generate_signature(timestamp=str(SENT_AT), body=BODY)
    assert sign(SECRET.encode(), str(SENT_AT), BODY.decode()) == sign(SECRET, SENT_AT, BODY)


def test_now_may_be_an_aware_datetime() -> None:
    now = dt.datetime.fromtimestamp(SENT_AT + 60, dt.UTC)

    assert verify(SECRET, str(SENT_AT), sign(SECRET, SENT_AT, BODY), BODY, now)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(SECRET, str(SENT_AT), sign(SECRET, SENT_AT, BODY), BODY, now.replace(tzinfo=None))


def test_a_tampered_body_does_not_verify() -> None:
    signature = sign(SECRET, SENT_AT, BODY)

    assert not verify(SECRET, str(SENT_AT), signature, BODY.replace(b"1}", b"2}"), SENT_AT)
    assert not verify(SECRET, str(SENT_AT), signature, BODY + b" ", SENT_AT)


def test_another_secret_or_timestamp_does_not_verify() -> None:
    signature = sign(SECRET, SENT_AT, BODY)

    assert not verify("another-secret", str(SENT_AT), signature, BODY, SENT_AT)
    assert not verify(SECRET, str(SENT_AT + 1), signature, BODY, SENT_AT)


@pytest.mark.parametrize("skew", [-300, 0, 300])
def test_a_timestamp_within_five_minutes_either_way_verifies(skew: int) -> None:
    assert verify(SECRET, str(SENT_AT), sign(SECRET, SENT_AT, BODY), BODY, SENT_AT - skew)


@pytest.mark.parametrize(("skew", "said"), [(301, "more than 5 minutes old"), (-301, "5 minutes in the future")])
def test_a_stale_or_future_timestamp_does_not_verify(skew: int, said: str) -> None:
    now = SENT_AT + skew

    assert not verify(SECRET, str(SENT_AT), sign(SECRET, SENT_AT, BODY), BODY, now)
    assert said in (timestamp_problem(str(SENT_AT), now) or "")


def test_the_tolerance_can_be_narrowed() -> None:
    signature = sign(SECRET, SENT_AT, BODY)

    assert not verify(SECRET, str(SENT_AT), signature, BODY, SENT_AT + 31, tolerance=30)
    assert (
        timestamp_problem(str(SENT_AT), SENT_AT + 31, tolerance=30)
        == "the request timestamp is more than 30 seconds old"
    )


@pytest.mark.parametrize("stamp", ["", "soon", "1780000000.5", "-5", " 1780000000", "1e9", "١٧٨٠٠٠٠٠٠٠", "9" * 40])
def test_a_timestamp_that_is_not_whole_seconds_does_not_verify(stamp: str) -> None:
    signature = sign(SECRET, stamp, BODY)

    assert not verify(SECRET, stamp, signature, BODY, SENT_AT)
    assert timestamp_problem(stamp, SENT_AT) is not None


@pytest.mark.parametrize("signature", [None, "", "v0=", "v1=" + "0" * 64, "v0=" + "é" * 64, "V0=nothing"])
def test_a_missing_or_malformed_signature_does_not_verify(signature: str | None) -> None:
    assert not verify(SECRET, str(SENT_AT), signature, BODY, SENT_AT)


def test_a_missing_timestamp_does_not_verify() -> None:
    assert not verify(SECRET, None, sign(SECRET, SENT_AT, BODY), BODY, SENT_AT)
    assert timestamp_problem(None, SENT_AT) == "the request has no timestamp"
