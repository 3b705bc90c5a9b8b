"""Who is calling the API (crm-v1 §1): a bearer key named in GREENLIGHT_API_KEYS, or the HMAC scheme.

`identify` looks at the headers before the body is read: a bearer key is settled there, the HMAC
scheme needs the body (`Pending.verify`). Every refusal is one sentence for a 401 that names what
to send, never a key or a secret.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from multidict import CIMultiDictProxy

from . import signing
from .settings import Settings

TIMESTAMP_HEADER = "X-Greenlight-Request-Timestamp"
SIGNATURE_HEADER = "X-Greenlight-Signature"


@dataclass(frozen=True)
class Caller:
    """An authenticated caller: the name of its key, or None for the shared HMAC secret."""

    name: str | None

    @property
    def actor(self) -> str:
        """Who the audit trail says acted (`crm:<name>`, or `crm` for the HMAC secret)."""
        return "crm" if self.name is None else f"crm:{self.name}"


@dataclass(frozen=True)
class Pending:
    """HMAC headers that look right; the body decides."""

    secret: str
    timestamp: str
    signature: str

    def verify(self, body: bytes, now: dt.datetime) -> Caller | str:
        if signing.verify(self.secret, self.timestamp, self.signature, body, now):
            return Caller(None)
        return (
            "The signature does not match: sign v0:<timestamp>:<body> with GREENLIGHT_API_SECRET "
            "(HMAC-SHA256) and send v0=<hex digest> (a GET signs an empty body)."
        )


def identify(headers: CIMultiDictProxy[str], settings: Settings, now: dt.datetime) -> Caller | Pending | str:
    """The caller (bearer key), the HMAC check still to do on the body, or why the request is refused."""
    authorization = headers.get("Authorization")
    if authorization is not None:
        scheme, _, key = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return "The Authorization header must be 'Bearer <key>' with a key from GREENLIGHT_API_KEYS."
        return _bearer(key.strip(), settings)
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp or not signature:
        return (
            f"The request must carry 'Authorization: Bearer <key>', or the {TIMESTAMP_HEADER} and "
            f"{SIGNATURE_HEADER} headers."
        )
    if settings.api_secret is None:
        return (
            "This server takes bearer keys only (GREENLIGHT_API_SECRET is not set): send 'Authorization: Bearer <key>'."
        )
    stale = signing.timestamp_problem(timestamp, now)
    if stale is not None:
        return f"Refused: {stale} (sign each request when it is sent)."
    return Pending(settings.api_secret.get_secret_value(), timestamp, signature)


def _bearer(key: str, settings: Settings) -> Caller | str:
    given = key.encode()
    found: str | None = None
    for name, secret in settings.api_keys:
        # every key is compared, so the time taken says nothing about which one nearly matched
        if hmac.compare_digest(given, secret.get_secret_value().encode()):
            found = name
    if found is None:
        return "The bearer key is not one of this server's keys (GREENLIGHT_API_KEYS): check it, or ask for a new one."
    return Caller(found)
