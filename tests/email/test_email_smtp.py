"""Sending through a real aiosmtpd server: every outcome the outbox acts on, and the retry spacing."""

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage

import pytest
from email_kit import NOW, self_signed, smtp_settings

from notifications import smtp
from notifications.smtp import BACKOFF_CAP, MAX_ATTEMPTS, next_attempt
from tests.support.loopback import free_port
from tests.support.smtp import Inbox, Passwords, smtp_server


def message(*to: str, message_id: str = "<outbox-1.greenlight@kestrel.example>") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Greenlight <greenlight@kestrel.example>"
    mail["To"] = ", ".join(to or ("marco@example.com",))
    mail["Subject"] = "Approve Q-1042 v3 for Acme GmbH: manager-discount"
    mail["Message-ID"] = message_id
    mail.set_content("Approve: http://127.0.0.1:3000/a/token")
    return mail


async def test_a_message_is_delivered_once_with_its_message_id():
    inbox = Inbox()
    with smtp_server(inbox) as server:
        result = await smtp.send(smtp_settings(server.port), message())
        (arrived,) = await inbox.wait_for(1)
    assert (result.outcome, result.delivered, result.accepted) == ("delivered", True, ("marco@example.com",))
    assert arrived.rcpt_tos == ("marco@example.com",)
    assert arrived.mail_from == "greenlight@kestrel.example"
    assert arrived.message["Message-ID"] == "<outbox-1.greenlight@kestrel.example>"


async def test_a_server_that_is_down_is_temporary_and_once_up_gets_the_message_once():
    port = free_port()
    down = await smtp.send(smtp_settings(port), message())
    assert (down.outcome, down.retry, down.delivered) == ("temporary", True, False)
    assert f"127.0.0.1:{port}" in down.detail
    inbox = Inbox()
    with smtp_server(inbox, port=port):
        up = await smtp.send(smtp_settings(port), message())
        arrived = await inbox.wait_for(1)
    assert up.outcome == "delivered"
    assert len(arrived) == 1
    assert inbox.data_attempts == 1


async def test_a_recipient_refused_with_550_is_permanent():
    inbox = Inbox()
    inbox.refuse_rcpt["marco@example.com"] = "550 5.1.1 No such user"
    with smtp_server(inbox) as server:
        result = await smtp.send(smtp_settings(server.port), message())
    assert (result.outcome, result.dead, result.retry) == ("permanent", True, False)
    assert result.refused["marco@example.com"].code == 550
    assert inbox.arrived == []


async def test_a_message_refused_with_550_after_data_is_permanent():
    inbox = Inbox()
    inbox.data_reply = "554 5.7.1 Message rejected as spam"
    with smtp_server(inbox) as server:
        result = await smtp.send(smtp_settings(server.port), message())
    assert (result.outcome, result.code) == ("permanent", 554)


@pytest.mark.parametrize("reply", ["451 4.3.0 Mail server temporarily rejected message", "421 4.7.0 Try again later"])
async def test_a_4xx_answer_to_the_message_is_temporary(reply):
    inbox = Inbox()
    inbox.data_reply = reply
    with smtp_server(inbox) as server:
        result = await smtp.send(smtp_settings(server.port), message())
    assert (result.outcome, result.retry, result.code) == ("temporary", True, int(reply[:3]))
    assert inbox.arrived == []


async def test_a_recipient_refused_with_451_is_temporary():
    inbox = Inbox()
    inbox.refuse_rcpt["marco@example.com"] = "451 4.7.1 Greylisted, try again"
    with smtp_server(inbox) as server:
        result = await smtp.send(smtp_settings(server.port), message())
    assert result.outcome == "temporary"
    assert result.retry_recipients == ("marco@example.com",)


async def test_one_of_two_recipients_refused_is_partial_delivery_to_the_other():
    inbox = Inbox()
    inbox.refuse_rcpt["gone@example.com"] = "550 5.1.1 No such user"
    with smtp_server(inbox) as server:
        result = await smtp.send(smtp_settings(server.port), message("dana@example.com", "gone@example.com"))
        (arrived,) = await inbox.wait_for(1)
    assert (result.outcome, result.delivered) == ("partial", True)
    assert result.accepted == ("dana@example.com",)
    assert set(result.refused) == {"gone@example.com"}
    assert result.refused["gone@example.com"].code == 550
    assert result.retry_recipients == ()
    assert arrived.rcpt_tos == ("dana@example.com",)


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word (no SMTP greeting)."""
    connections: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_server_that_never_greets_is_a_temporary_time_out():
    async with silent_server() as port:
        result = await smtp.send(smtp_settings(port), message(), timeout=0.2)
    assert result.outcome == "temporary"
    assert "in time" in result.detail


async def test_starttls_is_used_when_offered_and_the_login_follows_it(tmp_path):
    certificate = self_signed(tmp_path)
    if certificate is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    inbox = Inbox()
    options = {"tls_context": certificate.server(), "require_starttls": True, "authenticator": Passwords("gl", "pw")}
    with smtp_server(inbox, auth_required=True, **options) as server:
        good = await smtp.send(
            smtp_settings(server.port, user="gl", password="pw"), message(), tls_context=certificate.client()
        )
        bad = await smtp.send(
            smtp_settings(server.port, user="gl", password="wrong"), message(), tls_context=certificate.client()
        )
        await inbox.wait_for(1)
    assert good.outcome == "delivered", good.detail
    assert (bad.outcome, bad.code) == ("permanent", 535)
    assert "wrong" not in bad.detail


async def test_smtps_talks_tls_from_the_first_byte(tmp_path):
    certificate = self_signed(tmp_path)
    if certificate is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=certificate.server()) as server:
        result = await smtp.send(smtp_settings(server.port, tls=True), message(), tls_context=certificate.client())
        await inbox.wait_for(1)
    assert result.outcome == "delivered", result.detail


async def test_a_certificate_that_is_not_trusted_is_not_delivered_to(tmp_path):
    certificate = self_signed(tmp_path)
    if certificate is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=certificate.server()) as server:
        result = await smtp.send(smtp_settings(server.port, tls=True), message())
    assert result.outcome == "temporary"
    assert inbox.arrived == []


# ---- retry spacing -------------------------------------------------------------------------------


def test_backoff_grows_exponentially_with_full_jitter_up_to_the_cap():
    top = random.Random()
    top.random = lambda: 1.0  # type: ignore[method-assign]
    waits = [(next_attempt(n, NOW, top) - NOW).total_seconds() for n in range(1, 10)]  # type: ignore[operator]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    bottom = random.Random()
    bottom.random = lambda: 0.0  # type: ignore[method-assign]
    assert next_attempt(5, NOW, bottom) == NOW


def test_backoff_is_random_within_its_bound():
    rng = random.Random(42)
    for attempts in range(1, MAX_ATTEMPTS):
        moment = next_attempt(attempts, NOW, rng)
        assert moment is not None
        assert NOW <= moment <= NOW + min(BACKOFF_CAP, dt.timedelta(seconds=60 * 2 ** (attempts - 1)))


def test_after_the_last_attempt_the_message_goes_to_the_dead_letters():
    assert next_attempt(MAX_ATTEMPTS, NOW, random.Random(1)) is None
    with pytest.raises(ValueError):
        next_attempt(0, NOW, random.Random(1))
