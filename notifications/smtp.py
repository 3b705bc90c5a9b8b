"""Sending one email through GREENLIGHT_SMTP_URL with aiosmtplib, and what the outbox does next.

`send` never raises for a delivery problem: it classifies the outcome (reliability.md, Outbound).

    delivered   the server accepted the message for every recipient
    partial     accepted for some; `refused` names the others with the server's code and text
                (aiosmtplib returns those in a dict without raising)
    temporary   nothing accepted, try again later: cannot connect, time-outs, connection lost,
                421, 451 and every other 4xx (a reply after the client's time-out may mean the
                message was stored: the retry keeps the Message-ID so the receiver can drop it)
    permanent   nothing accepted and retrying will not help: 550 and every other 5xx (all
                recipients refused with 5xx, sender refused, message refused, authentication
                failed), or the server lacks what the settings ask for -> dead letter

`smtp://` upgrades with STARTTLS when the server offers it (plain otherwise); `smtps://` is TLS
from the first byte. User and password, when given, log in after the upgrade.

`next_attempt(attempts, now, rng)` spaces retries: exponential backoff with full jitter,
a random delay in [0, min(CAP, BASE * 2 ** (attempts - 1))], with BASE = 60 s and CAP = 1 h;
after MAX_ATTEMPTS (16) failed attempts it returns None (dead letter). The 15 waits are at most
60, 120, 240, 480, 960, 1,920 s and then 9 x 3,600 s: 36,180 s, about 10 hours, and on average
half that (about 5 hours) before a message is given up. Links in a request stay valid for 72 hours.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Literal, Protocol

import aiosmtplib
from pydantic import BaseModel, ConfigDict, SecretStr


class SmtpSettings(BaseModel):
    """Where email goes, parsed from GREENLIGHT_SMTP_URL (`smtp://` plain or STARTTLS, `smtps://` TLS)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    host: str
    port: int
    tls: bool
    user: str | None = None
    password: SecretStr | None = None

    @property
    def url(self) -> str:
        """The server's address without its credentials, for start-up notices."""
        scheme = "smtps" if self.tls else "smtp"
        return f"{scheme}://{_bracket(self.host)}:{self.port}"


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


Outcome = Literal["delivered", "partial", "temporary", "permanent"]

TIMEOUT_SECONDS = 30.0
BACKOFF_BASE = dt.timedelta(seconds=60)
BACKOFF_CAP = dt.timedelta(hours=1)
MAX_ATTEMPTS = 16


@dataclass(frozen=True)
class Refusal:
    code: int
    message: str

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str  # one sentence for logs and the dead-letter view; never a secret
    accepted: tuple[str, ...] = ()
    refused: Mapping[str, Refusal] = field(default_factory=dict)
    code: int | None = None  # the server's reply code, when it gave one

    @property
    def delivered(self) -> bool:
        """The message reached the server for at least one recipient: mark the outbox row sent."""
        return self.outcome in ("delivered", "partial")

    @property
    def retry(self) -> bool:
        return self.outcome == "temporary"

    @property
    def dead(self) -> bool:
        return self.outcome == "permanent"

    @property
    def retry_recipients(self) -> tuple[str, ...]:
        """Refused recipients worth another try (4xx); 5xx ones are gone for good."""
        return tuple(address for address, refusal in self.refused.items() if refusal.temporary)


class Random(Protocol):
    def random(self) -> float: ...


def next_attempt(
    attempts: int,
    now: dt.datetime,
    rng: Random,
    *,
    base: dt.timedelta = BACKOFF_BASE,
    cap: dt.timedelta = BACKOFF_CAP,
    max_attempts: int = MAX_ATTEMPTS,
) -> dt.datetime | None:
    """When to try again after ATTEMPTS failed attempts (1 = the first failed); None: give up."""
    if attempts < 1:
        raise ValueError("attempts counts the failed attempts so far: 1 or more")
    if attempts >= max_attempts:
        return None
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** min(attempts - 1, 62))
    return now + dt.timedelta(seconds=rng.random() * ceiling)


def recipients_of(message: EmailMessage) -> list[str]:
    """The envelope recipients: every address in To, Cc and Bcc, once each."""
    fields = [value for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    seen: dict[str, None] = {}
    for _, address in getaddresses([str(value) for value in fields]):
        if address:
            seen.setdefault(address, None)
    return list(seen)


async def send(
    smtp: SmtpSettings,
    message: EmailMessage,
    *,
    timeout: float = TIMEOUT_SECONDS,
    tls_context: ssl.SSLContext | None = None,
    local_hostname: str | None = None,
) -> SendResult:
    """Send MESSAGE to its To/Cc/Bcc recipients through SMTP; classify what happened.

    TLS_CONTEXT replaces the system's trusted certificates (a private CA, or tests).
    """
    recipients = recipients_of(message)
    sender = parseaddr(str(message.get("From", "")))[1]
    if not recipients:
        return SendResult("permanent", "the message has no recipient")
    if not sender:
        return SendResult("permanent", "the message has no From address")
    password = smtp.password.get_secret_value() if smtp.password is not None else None
    try:
        errors, reply = await aiosmtplib.send(
            message,
            sender=sender,
            recipients=recipients,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.user,
            password=password if smtp.user is not None else None,
            use_tls=smtp.tls,
            start_tls=False if smtp.tls else None,  # None: STARTTLS when the server offers it
            tls_context=tls_context,
            timeout=timeout,
            local_hostname=local_hostname,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        refused = {item.recipient: Refusal(item.code, item.message) for item in error.recipients}
        temporary = any(refusal.temporary for refusal in refused.values())
        codes = ", ".join(sorted({str(refusal.code) for refusal in refused.values()}))
        return SendResult(
            "temporary" if temporary else "permanent",
            f"{smtp.url} refused every recipient ({codes})",
            refused=refused,
            code=min(refusal.code for refusal in refused.values()) if refused else None,
        )
    except aiosmtplib.SMTPResponseException as error:
        return _by_code(smtp, error)
    except (aiosmtplib.SMTPTimeoutError, TimeoutError) as error:
        return SendResult("temporary", f"{smtp.url} did not answer in time ({_what(error)})")
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected) as error:
        return SendResult("temporary", f"cannot talk to {smtp.url}: {_what(error)}")
    except (aiosmtplib.SMTPNotSupported, aiosmtplib.SMTPException) as error:
        return SendResult("permanent", f"{smtp.url} cannot send this as configured: {_what(error)}")
    except OSError as error:  # TLS handshake failures, resets after the greeting
        return SendResult("temporary", f"connection to {smtp.url} failed: {_what(error)}")
    accepted = tuple(address for address in recipients if address not in errors)
    if errors:
        refused = {address: Refusal(response.code, response.message) for address, response in errors.items()}
        return SendResult(
            "partial",
            f"{smtp.url} accepted {len(accepted)} of {len(recipients)} recipients",
            accepted=accepted,
            refused=refused,
        )
    return SendResult("delivered", f"{smtp.url} accepted it: {_first_line(reply)}", accepted=accepted)


def _by_code(smtp: SmtpSettings, error: aiosmtplib.SMTPResponseException) -> SendResult:
    code = error.code
    kind = type(error).__name__.removeprefix("SMTP").removesuffix("Error")
    text = f"{smtp.url} answered {code} ({kind}): {_first_line(error.message)}"
    if 500 <= code < 600:
        return SendResult("permanent", text, code=code)
    return SendResult("temporary", text, code=code)


def _what(error: BaseException) -> str:
    return _first_line(str(error)) or type(error).__name__


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0][:200] if (text or "").strip() else ""
