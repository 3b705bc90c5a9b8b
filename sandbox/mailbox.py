"""A local mail server for the sandbox: every email Greenlight sends, kept and listed.

`Mailbox` runs aiosmtpd's `Controller` on 127.0.0.1 (port 0: a free port) and keeps each message it
accepts as a `Mail`: its headers, text and HTML parts, and the Approve / Reject links found in it
(anchors pointing at the bot's `GET /a/<token>` page). Point `GREENLIGHT_SMTP_URL` at `mailbox.url`.

The SMTP server runs on the Controller's own thread and loop; arrivals are handed to the loop that
started the mailbox, where `messages()`, `subscribe(...)` and `wait_for(...)` are used.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

LINK_PATH = re.compile(r"/a/[A-Za-z0-9._~-]+$")
TEXT_LINK = re.compile(r"https?://[^\s<>\"']+/a/[A-Za-z0-9._~-]+")
MAX_MESSAGES = 500


@dataclass(frozen=True)
class Link:
    """A link in an email that opens the bot's approval page; `label` is the anchor's text."""

    label: str
    url: str


@dataclass(frozen=True)
class Mail:
    id: int
    mail_from: str
    rcpt_tos: tuple[str, ...]
    subject: str
    to: tuple[str, ...]
    date: str | None
    message_id: str | None
    text: str
    html: str | None
    links: tuple[Link, ...]
    received_at: float

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "from": self.mail_from,
            "to": list(self.to or self.rcpt_tos),
            "subject": self.subject,
            "date": self.date,
            "message_id": self.message_id,
            "text": self.text,
            "has_html": self.html is not None,
            "links": [{"label": link.label, "url": link.url} for link in self.links],
        }


class _Anchors(HTMLParser):
    """Collects (href, text) of every anchor in an HTML part."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def approval_links(text: str, html: str | None) -> tuple[Link, ...]:
    """The links to the bot's approval page: anchors of the HTML part, else bare URLs of the text."""
    found: list[Link] = []
    if html:
        parser = _Anchors()
        parser.feed(html)
        for href, label in parser.anchors:
            url = urlsplit(href)
            if url.scheme in ("http", "https") and LINK_PATH.search(url.path):
                found.append(Link(label or "Open", href))
    if not found:
        found = [Link("Open", url) for url in TEXT_LINK.findall(text)]
    unique: dict[str, Link] = {}
    for link in found:
        unique.setdefault(link.url, link)
    return tuple(unique.values())


def read_mail(number: int, mail_from: str, rcpt_tos: tuple[str, ...], content: bytes) -> Mail:
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    text_part = parsed.get_body(("plain",))
    html_part = parsed.get_body(("html",))
    text = text_part.get_content().replace("\r\n", "\n") if text_part is not None else ""
    html = html_part.get_content() if html_part is not None else None
    date = parsed.get("Date")
    try:
        when = parsedate_to_datetime(str(date)).isoformat() if date else None
    except (TypeError, ValueError):
        when = str(date)
    to = tuple(
        f"{name} <{address}>" if name else address
        for name, address in getaddresses([str(v) for v in parsed.get_all("To", [])])
        if address
    )
    return Mail(
        id=number,
        mail_from=str(parsed.get("From") or mail_from),
        rcpt_tos=rcpt_tos,
        subject=str(parsed.get("Subject") or "(no subject)"),
        to=to,
        date=when,
        message_id=str(parsed.get("Message-ID")) if parsed.get("Message-ID") else None,
        text=text,
        html=html,
        links=approval_links(text, html),
        received_at=time.time(),
    )


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mailbox._received(str(envelope.mail_from or ""), tuple(envelope.rcpt_tos), bytes(envelope.content))
        return "250 2.0.0 Message accepted for delivery"


class _LoopbackController(Controller):
    """aiosmtpd's Controller; with port 0 it learns the free port the OS gave it."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Mailbox:
    """Use ``async with Mailbox() as mailbox:``; ``mailbox.url`` is ``smtp://127.0.0.1:<port>``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self._controller: _LoopbackController | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._mails: list[Mail] = []
        self._ids = itertools.count(1)
        self._listeners: list[Callable[[str], None]] = []
        self._arrived = asyncio.Event()

    async def start(self) -> Self:
        self._loop = asyncio.get_running_loop()
        controller = _LoopbackController(_Handler(self), hostname=self.host, port=self._port)
        await asyncio.to_thread(controller.start)
        self._controller = controller
        return self

    async def stop(self) -> None:
        if self._controller is not None:
            controller, self._controller = self._controller, None
            await asyncio.to_thread(controller.stop)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the mailbox is not started")
        return int(self._controller.port)

    @property
    def url(self) -> str:
        """For GREENLIGHT_SMTP_URL."""
        return f"smtp://{self.host}:{self.port}"

    def messages(self) -> list[Mail]:
        """Every message received, newest first."""
        return list(reversed(self._mails))

    def message(self, mail_id: int) -> Mail | None:
        return next((mail for mail in self._mails if mail.id == mail_id), None)

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    async def wait_for(
        self, count: int = 1, predicate: Callable[[Mail], bool] | None = None, timeout: float = 10.0
    ) -> Mail:
        """Wait until ``count`` matching messages have arrived; returns the last of them."""

        def matching() -> list[Mail]:
            return [mail for mail in self._mails if predicate is None or predicate(mail)]

        async with asyncio.timeout(timeout):
            while len(matching()) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return matching()[count - 1]

    # -- on the SMTP server's thread

    def _received(self, mail_from: str, rcpt_tos: tuple[str, ...], content: bytes) -> None:
        mail = read_mail(next(self._ids), mail_from, rcpt_tos, content)
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the mailbox's loop is closing: nobody is looking any more
            self._loop.call_soon_threadsafe(self._keep, mail)

    # -- back on the mailbox's loop

    def _keep(self, mail: Mail) -> None:
        self._mails.append(mail)
        del self._mails[:-MAX_MESSAGES]
        self._arrived.set()
        for listener in list(self._listeners):
            listener("mail")
