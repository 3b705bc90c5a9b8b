"""Email links (`/a/<token>`): tampered, expired, reused and cross-person tokens, and cross-site posts.

Farah has no Slack, so her request for Q-7001 (`backdated-start`, Farah or Felix) comes by email
through the app's SMTP worker; her links are the ones in that email. Each refusal is a page with
its status and "Nothing was changed", and the store is the same before and after.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import urlsplit

import pytest

from tests.support.pages import Page, links_in

from .conftest import App, backdated_quote

RULE = "backdated-start"


@pytest.fixture
async def mailed(app: App) -> tuple[App, dict[str, str]]:
    """Q-7001 submitted; Farah's Approve and Reject links from the email she received."""
    await app.submit(backdated_quote())
    [arrived] = await app.inbox.wait_for(1)
    message = arrived.message
    found = links_in(message)
    assert set(found) == {"approve", "reject"}, found
    assert all(url.startswith(app.url + "/a/") for url in found.values()), found
    return app, found


def refused(page: Page, status: int, *words: str, url: str = "") -> None:
    assert page.status == status, (url[-120:], page.status, page.text[:800])
    assert "Nothing was changed" in page.text, page.text[:800]
    for word in words:
        assert word in page.text, (word, page.text[:800])


async def confirm(app: App, url: str, verdict: str = "approve", comment: str = "") -> Page:
    """What Farah does: open the link, then press the button of the page."""
    page = await app.get(url)
    assert page.status == 200, page.text[:800]
    return await app.post(url, {"csrf": page.csrf, "verdict": verdict, "comment": comment})


def swap_claims(url: str, **changes: object) -> str:
    """The link with claims of its payload changed and its signature kept."""
    base, _, token = url.rpartition("/")
    version, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{base}/{version}.{forged}.{signature}"


async def test_the_link_from_the_email_decides_after_confirmation(mailed: tuple[App, dict[str, str]]) -> None:
    """The control for every attack below: the genuine link, used as meant, works."""
    app, found = mailed

    page = await confirm(app, found["approve"])

    assert page.status == 200, page.text[:800]
    assert await app.approval_status("Q-7001", RULE) == "approved"


async def test_tampered_links_are_refused_and_change_nothing(mailed: tuple[App, dict[str, str]]) -> None:
    app, found = mailed
    approve = found["approve"]
    base, _, token = approve.rpartition("/")
    version, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    before = await app.snapshot()

    for url, status in [
        (swap_claims(approve, p="felix"), 403),  # someone else's name in it
        (swap_claims(approve, a="Q-7001#1/legal-custom-terms"), 403),  # another approval
        (swap_claims(approve, s="1:v9:0000000000000000"), 403),  # another submission
        (swap_claims(approve, t=int(app.clock().timestamp()) + 3600), 403),  # re-dated
        (f"{base}/{version}.{payload}.{flipped}", 403),  # signature changed
        (f"{base}/{version}.{payload}", 400),  # cut short
        (f"{base}/v2.{payload}.{signature}", 400),  # another version
        (f"{base}/{token[:-3]}", 403),
        (f"{base}/not-a-token", 400),
        (f"{base}/{'A' * 5000}", 400),
    ]:
        refused(await app.get(url), status, url=url)
        refused(await app.post(url, {"csrf": "x", "verdict": "approve"}), status, url=url)

    assert await app.snapshot() == before
    assert await app.approval_status("Q-7001", RULE) == "requested"


async def test_a_link_signed_with_another_secret_is_refused(mailed: tuple[App, dict[str, str]]) -> None:
    app, _ = mailed
    sub = await app.runtime.service.latest("Q-7001")
    assert sub is not None
    url = app.link(sub, "farah", RULE, secret="an-attackers-guess-of-the-secret-0123")
    before = await app.snapshot()

    refused(await app.get(url), 403, "altered")

    assert await app.snapshot() == before


async def test_an_expired_link_is_refused_even_with_the_page_already_open(mailed: tuple[App, dict[str, str]]) -> None:
    app, found = mailed
    page = await app.get(found["approve"])  # opened in time, confirmed too late
    app.clock.advance(hours=72)
    before = await app.snapshot()

    refused(await app.get(found["approve"]), 410, "expired")
    refused(await app.post(found["approve"], {"csrf": page.csrf, "verdict": "approve"}), 410, "expired")

    assert await app.snapshot() == before
    assert await app.approval_status("Q-7001", RULE) == "requested"


async def test_a_link_dated_in_the_future_is_refused(mailed: tuple[App, dict[str, str]]) -> None:
    app, _ = mailed
    sub = await app.runtime.service.latest("Q-7001")
    assert sub is not None
    url = app.link(sub, "farah", RULE, now=app.clock() + dt.timedelta(days=30))  # would outlive 72 hours
    before = await app.snapshot()

    refused(await app.get(url), 400, "future")

    assert await app.snapshot() == before


async def test_a_used_link_works_once_and_its_sibling_cannot_undo_the_decision(
    mailed: tuple[App, dict[str, str]],
) -> None:
    app, found = mailed
    page = await app.get(found["approve"])
    sibling_page = await app.get(found["reject"])  # both open in two tabs
    first = await app.post(found["approve"], {"csrf": page.csrf, "verdict": "approve"})
    assert first.status == 200
    before = await app.snapshot()

    again = await app.post(found["approve"], {"csrf": page.csrf, "verdict": "approve"})
    refused(again, 409, "already used")
    refused(await app.get(found["approve"]), 409, "already used")
    refused(await app.get(found["reject"]), 409, "already decided")
    sibling = await app.post(
        found["reject"], {"csrf": sibling_page.csrf, "verdict": "reject", "comment": "Changed my mind."}
    )
    refused(sibling, 409, "already decided")

    assert await app.snapshot() == before
    assert [kind for kind in await app.audit("Q-7001") if kind[0] in ("approved", "rejected", "voted")] == [
        ("approved", RULE, "farah")
    ]


async def test_a_link_for_someone_who_is_not_an_assignee_is_refused(mailed: tuple[App, dict[str, str]]) -> None:
    """Genuinely signed (as a leaked secret or a bug would make it), but Hank may not decide."""
    app, _ = mailed
    sub = await app.runtime.service.latest("Q-7001")
    assert sub is not None
    url = app.link(sub, "hank", RULE)
    before = await app.snapshot()

    refused(await app.get(url), 403, "no longer an approver")
    refused(await app.post(url, {"csrf": "x", "verdict": "approve"}), 403)

    assert await app.snapshot() == before


async def test_a_link_for_the_quote_owner_on_their_own_quote_is_refused(mailed: tuple[App, dict[str, str]]) -> None:
    app, _ = mailed
    sub = await app.runtime.service.latest("Q-7001")
    assert sub is not None
    url = app.link(sub, "ava", RULE)
    before = await app.snapshot()

    refused(await app.get(url), 403)

    assert await app.snapshot() == before


async def test_one_persons_confirmation_cannot_be_posted_to_another_persons_link(
    mailed: tuple[App, dict[str, str]],
) -> None:
    app, found = mailed
    sub = await app.runtime.service.latest("Q-7001")
    assert sub is not None
    felix = app.link(sub, "felix", RULE)
    farah_page = await app.get(found["approve"])
    await app.get(felix)  # Felix's page sets Felix's cookie on Felix's path
    before = await app.snapshot()

    page = await app.post(felix, {"csrf": farah_page.csrf, "verdict": "approve"})

    refused(page, 403, "did not come from Greenlight")
    assert await app.snapshot() == before


async def test_a_link_made_for_an_earlier_submission_is_refused(mailed: tuple[App, dict[str, str]]) -> None:
    app, found = mailed
    await app.deal("ava", "recall Q-7001")
    await app.submit(backdated_quote(version=2, net_total=9400))
    before = await app.snapshot()

    refused(await app.get(found["approve"]), 410)

    assert await app.snapshot() == before


async def test_cross_site_posts_are_refused(mailed: tuple[App, dict[str, str]]) -> None:
    app, found = mailed
    url = found["approve"]
    page = await app.get(url)
    before = await app.snapshot()
    path = urlsplit(url).path

    for form, headers, why in [
        ({"verdict": "approve"}, {}, "did not come from Greenlight"),
        ({"csrf": "forged", "verdict": "approve"}, {}, "did not come from Greenlight"),
        ({"csrf": page.csrf, "verdict": "approve"}, {"Origin": "https://evil.example"}, "another site"),
        ({"csrf": page.csrf, "verdict": "approve"}, {"Sec-Fetch-Site": "cross-site"}, "another site"),
    ]:
        refused(await app.post(url, form, headers), 403, why)

    app.http.cookie_jar.clear()  # a post from elsewhere carries no cookie (SameSite=Strict)
    refused(await app.post(url, {"csrf": page.csrf, "verdict": "approve"}), 403, "cookie")
    assert await app.snapshot() == before, path
