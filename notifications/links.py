"""One-tap links for email (slack-v1 §5): signed, bound to one approval, one person, one submission.

A token is `v1.<payload>.<signature>`, both parts unpadded URL-safe base64. The payload is a small
JSON object; the signature is HMAC-SHA256 over `v1.<payload>` with a key derived from
GREENLIGHT_SECRET for this purpose only (the CSRF tokens of the link page use another one).

    LinkError (GreenlightError)     a link that cannot be used; `status` is the HTTP answer
    ├── MalformedLink   400         not a Greenlight link at all (cut short, wrong shape)
    ├── TamperedLink    403         well formed, but its signature is not ours
    └── ExpiredLink     410         ours, but older than LIFETIME (72 hours)

A token carries a random nonce; `Claims.key` (`link:<nonce>`) is the idempotency key the link page
hands to `Approvals.decide`, so each token decides once and a second use is a no-op.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from domain.errors import GreenlightError
from domain.i18n import _, moment

Verdict = Literal["approve", "reject"]
VERDICTS: tuple[Verdict, ...] = ("approve", "reject")
LIFETIME = dt.timedelta(hours=72)
CLOCK_SKEW = dt.timedelta(minutes=5)  # a token "issued" further in the future than this is refused
MAX_TOKEN_LENGTH = 1024
VERSION = "v1"

_REF = re.compile(r"^(?P<quote>[^#/\s]{1,64})#(?P<number>[1-9][0-9]{0,8})/(?P<rule>\S{1,200})$")
_B64 = re.compile(r"^[A-Za-z0-9_-]+$")


class LinkError(GreenlightError):
    """A link that cannot be used; nothing was changed. Its sentence and title are in the language
    current when it is raised and read."""

    status = 400

    @property
    def title(self) -> str:
        return _("This link cannot be used")


class MalformedLink(LinkError):
    status = 400

    @property
    def title(self) -> str:
        return _("This is not a Greenlight link")


class TamperedLink(LinkError):
    status = 403

    @property
    def title(self) -> str:
        return _("This link has been altered")


class ExpiredLink(LinkError):
    status = 410

    @property
    def title(self) -> str:
        return _("This link has expired")


@dataclass(frozen=True)
class Claims:
    """What a valid token says: who may decide which approval of which submission."""

    approval_ref: str  # "Q-1042#2/manager-discount"
    person: str  # a people key of the policy
    submission: str  # `submission_key(sub)`: the submission's number, quote version and content
    verdict_hint: Verdict  # which button of the email was tapped
    issued_at: dt.datetime
    nonce: str

    @property
    def quote_id(self) -> str:
        return _split_ref(self.approval_ref)[0]

    @property
    def number(self) -> int:
        return _split_ref(self.approval_ref)[1]

    @property
    def rule(self) -> str:
        return _split_ref(self.approval_ref)[2]

    @property
    def expires_at(self) -> dt.datetime:
        return self.issued_at + LIFETIME

    @property
    def key(self) -> str:
        """The idempotency key of a decision made with this token."""
        return f"link:{self.nonce}"


def approval_ref(quote_id: str, number: int, rule: str) -> str:
    """The reference a token is bound to, e.g. `Q-1042#2/manager-discount`."""
    ref = f"{quote_id}#{number}/{rule}"
    _split_ref(ref)
    return ref


def submission_key(number: int, quote_version: int, content_hash: str) -> str:
    """Pins a submission: its number, the quote version and the content it froze."""
    return f"{number}:v{quote_version}:{content_hash[:16]}"


def issue(secret: str, approval_ref: str, person: str, submission: str, verdict_hint: Verdict, now: dt.datetime) -> str:
    """A fresh token (its own nonce) for PERSON to decide APPROVAL_REF of SUBMISSION."""
    _aware(now)
    _split_ref(approval_ref)
    if verdict_hint not in VERDICTS:
        raise ValueError(f"verdict_hint must be approve or reject, not {verdict_hint!r}")
    if not person or not submission:
        raise ValueError("a link needs a person and a submission")
    payload = {
        "a": approval_ref,
        "p": person,
        "s": submission,
        "v": verdict_hint,
        "t": int(now.timestamp()),
        "n": secrets.token_urlsafe(12),
    }
    body = _encode(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    signed = f"{VERSION}.{body}"
    token = f"{signed}.{_encode(_sign(secret, signed))}"
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError("the approval reference or person is too long for a link")
    return token


def read(secret: str, token: str, now: dt.datetime) -> Claims:
    """The claims of a token made by `issue` with SECRET, still valid at NOW; else a LinkError."""
    _aware(now)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise MalformedLink(_("the link is empty, too long or has characters a link never has"))
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION or not all(_B64.fullmatch(part) for part in parts[1:]):
        raise MalformedLink(_("the link does not have the shape of a Greenlight link: was it cut short?"))
    signed = f"{parts[0]}.{parts[1]}"
    try:
        signature = _decode(parts[2])
    except ValueError:
        raise MalformedLink(_("the link's signature cannot be read: was it cut short?")) from None
    if not hmac.compare_digest(signature, _sign(secret, signed)):
        raise TamperedLink(_("the link's signature does not match: it was changed or was not made by Greenlight"))
    try:
        data = json.loads(_decode(parts[1]))
        claims = Claims(
            approval_ref=_text(data, "a"),
            person=_text(data, "p"),
            submission=_text(data, "s"),
            verdict_hint=_verdict(data.get("v")),
            issued_at=dt.datetime.fromtimestamp(_number(data, "t"), dt.UTC),
            nonce=_text(data, "n"),
        )
        _split_ref(claims.approval_ref)
    except (KeyError, ValueError, TypeError, AttributeError, OverflowError):
        raise MalformedLink(_("the link's content cannot be read")) from None
    if claims.issued_at > now + CLOCK_SKEW:
        raise MalformedLink(_("the link claims to be issued in the future"))
    if now >= claims.expires_at:
        hours = int(LIFETIME.total_seconds() // 3600)
        raise ExpiredLink(
            _(
                "links work for {hours} hours; this one expired {when}",
                hours=hours,
                when=moment(claims.expires_at, dt.UTC),
            )
        )
    return claims


def purpose_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, derived from GREENLIGHT_SECRET (links and CSRF never share one)."""
    return hmac.new(secret.encode(), f"greenlight/{purpose}".encode(), hashlib.sha256).digest()


# ---- helpers ----------------------------------------------------------------------------------


def _sign(secret: str, signed: str) -> bytes:
    return hmac.new(purpose_key(secret, "email-link"), signed.encode(), hashlib.sha256).digest()


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None


def _split_ref(ref: str) -> tuple[str, int, str]:
    match = _REF.fullmatch(ref) if isinstance(ref, str) else None
    if match is None:
        raise ValueError(f"{ref!r} is not an approval reference like Q-1042#2/manager-discount")
    return match["quote"], int(match["number"]), match["rule"]


def _text(data: dict[str, Any], name: str) -> str:
    value = data[name]
    if not isinstance(value, str) or not value:
        raise ValueError(name)
    return value


def _number(data: dict[str, Any], name: str) -> int:
    value = data[name]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(name)
    return value


def _verdict(value: Any) -> Verdict:
    if value == "approve":
        return "approve"
    if value == "reject":
        return "reject"
    raise ValueError("v")


def _aware(now: dt.datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
