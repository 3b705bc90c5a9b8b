"""One-tap link tokens: signed, bound, expiring after 72 hours, each with its own nonce."""

import base64
import datetime as dt
import json

import pytest
from email_kit import NOW, SECRET
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import GreenlightError
from notifications import links
from notifications.links import ExpiredLink, LinkError, MalformedLink, TamperedLink

REF = "Q-1042#2/manager-discount"
SUBMISSION = links.submission_key(2, 3, "ab" * 32)


def token(verdict: links.Verdict = "approve", now: dt.datetime = NOW, secret: str = SECRET) -> str:
    return links.issue(secret, REF, "marco", SUBMISSION, verdict, now)


def test_a_token_reads_back_as_the_approval_person_submission_and_verdict_it_was_issued_for():
    claims = links.read(SECRET, token("reject"), NOW + dt.timedelta(hours=1))
    assert (claims.approval_ref, claims.person, claims.submission, claims.verdict_hint) == (
        REF,
        "marco",
        SUBMISSION,
        "reject",
    )
    assert (claims.quote_id, claims.number, claims.rule) == ("Q-1042", 2, "manager-discount")
    assert claims.issued_at == NOW
    assert claims.expires_at == NOW + dt.timedelta(hours=72)
    assert claims.key == f"link:{claims.nonce}"


def test_a_token_is_url_safe_and_every_token_has_its_own_nonce():
    first, second = token(), token()
    assert first != second
    assert links.read(SECRET, first, NOW).nonce != links.read(SECRET, second, NOW).nonce
    assert all(char.isalnum() or char in "-_." for char in first)


def test_a_token_works_until_just_before_72_hours_and_then_is_expired():
    issued = token()
    assert links.read(SECRET, issued, NOW + dt.timedelta(hours=72) - dt.timedelta(seconds=1)).person == "marco"
    with pytest.raises(ExpiredLink) as raised:
        links.read(SECRET, issued, NOW + dt.timedelta(hours=72))
    assert raised.value.status == 410


def _swap_payload(issued: str, **changes: object) -> str:
    version, payload, signature = issued.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{version}.{forged}.{signature}"


@pytest.mark.parametrize(
    "changes",
    [{"p": "mallory"}, {"a": "Q-1042#2/cfo-mega-deal"}, {"v": "reject"}, {"t": int(NOW.timestamp()) + 86400}],
    ids=["person", "approval", "verdict", "issued-at"],
)
def test_a_token_with_a_changed_claim_is_tampered(changes):
    with pytest.raises(TamperedLink) as raised:
        links.read(SECRET, _swap_payload(token(), **changes), NOW)
    assert raised.value.status == 403


def test_a_token_signed_with_another_secret_is_tampered():
    with pytest.raises(TamperedLink):
        links.read(SECRET, token(secret="another-secret-0123456789abcdef"), NOW)


def test_a_token_with_a_changed_signature_is_tampered():
    version, payload, signature = token().split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    with pytest.raises(TamperedLink):
        links.read(SECRET, f"{version}.{payload}.{flipped}", NOW)


@pytest.mark.parametrize(
    "bad",
    ["", "hello", "v1.abc", "v2.abc.def", "v1..abc", "v1.a b.c", "v1.abc.dé", "v1." + "a" * 2000 + ".b"],
    ids=["empty", "word", "two-parts", "other-version", "empty-part", "space", "non-ascii", "too-long"],
)
def test_a_malformed_token_is_refused_as_malformed(bad):
    with pytest.raises(MalformedLink) as raised:
        links.read(SECRET, bad, NOW)
    assert raised.value.status == 400


def test_a_token_cut_short_is_refused_and_never_read():
    issued = token()
    with pytest.raises(LinkError):
        links.read(SECRET, issued[: len(issued) // 2], NOW)


def test_a_token_issued_in_the_future_is_refused():
    with pytest.raises(MalformedLink):
        links.read(SECRET, token(now=NOW + dt.timedelta(hours=1)), NOW)


def test_link_errors_are_greenlight_errors():
    assert issubclass(LinkError, GreenlightError)
    assert {MalformedLink.status, TamperedLink.status, ExpiredLink.status} == {400, 403, 410}


def test_issuing_refuses_what_no_link_can_carry():
    with pytest.raises(ValueError):
        links.issue(SECRET, "Q-1042/manager-discount", "marco", SUBMISSION, "approve", NOW)
    with pytest.raises(ValueError):
        links.issue(SECRET, REF, "marco", SUBMISSION, "maybe", NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        links.issue(SECRET, REF, "marco", SUBMISSION, "approve", NOW.replace(tzinfo=None))


@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw-_.x0"))
def test_no_one_character_change_to_a_token_is_accepted(position, replacement):
    issued = links.issue(SECRET, REF, "marco", SUBMISSION, "approve", NOW)
    index = position % len(issued)
    changed = issued[:index] + replacement + issued[index + 1 :]
    if changed == issued:
        return
    try:
        claims = links.read(SECRET, changed, NOW)
    except LinkError:
        return
    # Base64's last character may carry unused bits: the bytes, hence the claims, are the same.
    assert claims == links.read(SECRET, issued, NOW)
