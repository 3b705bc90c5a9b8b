"""The email side of an approval: the links a request email carries and the pages they open.

`LinkPages` fetches and posts the pages through one cookie-keeping session, as a browser would;
`approval_link` issues a link as an email would carry it; `links_in` reads them out of a message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiohttp

from domain.approvals import Submission
from notifications import links


@dataclass
class Page:
    status: int
    text: str
    headers: Any

    @property
    def csrf(self) -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.text)
        assert match is not None, f"the page has no form: {self.text[:500]}"
        return match.group(1)


@dataclass
class LinkPages:
    """The link pages of the server at `url`, opened through `session` (it must keep cookies)."""

    url: str
    session: aiohttp.ClientSession

    async def get(self, url: str) -> Page:
        async with self.session.get(url, allow_redirects=False) as response:
            return Page(response.status, await response.text(), response.headers)

    async def post(self, url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> Page:
        async with self.session.post(url, data=form, headers=headers or {}, allow_redirects=False) as response:
            return Page(response.status, await response.text(), response.headers)


def cookie_session() -> aiohttp.ClientSession:
    """A client session that keeps the pages' cookies on 127.0.0.1 and ignores proxy settings."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), trust_env=False)


def approval_link(
    base_url: str, secret: str, sub: Submission, person: str, rule: str, verdict: links.Verdict, now: dt.datetime
) -> str:
    """A link as an email would carry it, for `person` to decide `rule` of `sub`, issued at `now`."""
    ref = links.approval_ref(sub.quote_id, sub.number, rule)
    key = links.submission_key(sub.number, sub.quote_version, sub.content_hash)
    return f"{base_url}/a/{links.issue(secret, ref, person, key, verdict, now)}"


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text part, HTML part) of a message Greenlight sent."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def links_in(message: EmailMessage) -> dict[str, str]:
    """{"approve": url, "reject": url} of a request email's text part (the message has an HTML part too)."""
    text, _ = parts(message)
    found = re.findall(r"^(Approve|Reject)[^\n]*:\r?\n(\S+)\r?$", text, flags=re.MULTILINE)
    return {label.lower(): url for label, url in found}
