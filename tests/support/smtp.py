"""A real SMTP server on loopback (aiosmtpd) and the inbox that keeps what it accepts.

No fake of aiosmtplib: mail goes through a real SMTP conversation with an aiosmtpd `Controller`
on 127.0.0.1. The server runs on its own thread and loop; the inbox signals each arrival to the
loop that made it, so tests wait for messages (`await inbox.wait_for(n)`) and never sleep.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Arrived:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and can be told to refuse.

    Make it in the test's event loop: arrivals are signalled there from the server's thread.
    """

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.arrived: list[Arrived] = []
        self.refuse_rcpt: dict[str, str] = {}  # address -> reply, e.g. "550 5.1.1 no such user"
        self.data_reply: str | None = None  # e.g. "451 4.3.0 try later"
        self.data_attempts = 0
        self._changed = asyncio.Event()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        refusal = self.refuse_rcpt.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_attempts += 1
        if self.data_reply is not None:
            self.loop.call_soon_threadsafe(self._changed.set)
            return self.data_reply
        self.arrived.append(Arrived(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content)))
        self.loop.call_soon_threadsafe(self._changed.set)
        return "250 2.0.0 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """The messages accepted so far, parsed."""
        return [arrived.message for arrived in list(self.arrived)]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Arrived]:
        """Wait until `count` messages have arrived; all that have, oldest first."""
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                if len(self.arrived) >= count:
                    return list(self.arrived)
                await self._changed.wait()


class LoopbackController(Controller):
    """aiosmtpd's Controller on 127.0.0.1; with port 0 it learns the free port the OS gave it."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def smtp_server(inbox: Inbox, port: int = 0, **smtp_options: Any) -> Iterator[LoopbackController]:
    """The server on 127.0.0.1:`port` (0: a free one, then `controller.port`) until the block ends.

    `smtp_options` go to aiosmtpd's SMTP: `authenticator=Passwords(...)`, `auth_require_tls=False`,
    `tls_context=...`, `require_starttls=True`.
    """
    controller = LoopbackController(inbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


class Passwords:
    """An aiosmtpd authenticator that knows one user."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False)
