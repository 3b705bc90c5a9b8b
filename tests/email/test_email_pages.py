"""The link page over real HTTP: GET shows and changes nothing, only a confirmed POST decides, once."""

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import pytest
from email_kit import NOW, SECRET, Desk, link_for, mail_settings, serve_pages, smtp_settings

from domain.quote import parse_quote
from notifications import smtp
from notifications.email import render_request
from notifications.links import submission_key
from tests.support.pages import LinkPages, Page, links_in
from tests.support.smtp import Inbox, smtp_server


async def statuses(desk: Desk) -> dict[str, str]:
    return {approval.rule: approval.status for approval in (await desk.sub()).approvals}


async def confirm(site: LinkPages, url: str, verdict: str = "approve", comment: str = "") -> Page:
    page = await site.get(url)
    assert page.status == 200, page.text
    return await site.post(url, {"csrf": page.csrf, "verdict": verdict, "comment": comment})


# ---- showing ---------------------------------------------------------------------------------------


async def test_the_page_shows_the_request_with_its_reasons_and_a_confirm_form():
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        page = await site.get(link_for(site, await desk.sub(), "marco"))
    assert page.status == 200
    assert "Approve Q-1042 v3 for Acme &lt;script&gt;" in page.text
    assert "<script>" not in page.text
    assert "&amp; Söhne GmbH" in page.text
    assert "Discount above the rep&#39;s 10% authority" in page.text
    assert "quote discount 30% &gt; 10%" in page.text
    for fact in ("€70,000.00 (list €100,000.00)", "<dd>30%</dd>", "Q-1042 version 3", "Ava Brooks"):
        assert fact in page.text
    assert "payment-terms: waiting on Fiona Gallagher, Carl Jensen" in page.text
    assert '<button class="approve" type="submit">Approve Q-1042</button>' in page.text
    assert "Nothing changes until you confirm" in page.text


async def test_the_reject_link_asks_for_a_required_reason_first():
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        page = await site.get(link_for(site, await desk.sub(), "marco", verdict="reject"))
    assert page.status == 200
    assert page.text.index('id="reject"') < page.text.index('id="approve"')
    assert 'name="comment" maxlength="2000" rows="4" required' in page.text
    assert "<summary>Approve instead</summary>" in page.text


async def test_every_answer_carries_the_security_headers_and_a_strict_same_site_cookie():
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        page = await site.get(link_for(site, await desk.sub(), "marco"))
        refused = await site.get(f"{site.url}/a/not-a-link")
    for answer in (page, refused):
        policy = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "script-src" not in policy
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Content-Type"].startswith("text/html")
    cookie = page.headers["Set-Cookie"]
    assert "SameSite=Strict" in cookie and "HttpOnly" in cookie and "Path=/a/v1." in cookie


async def test_opening_every_link_any_number_of_times_changes_nothing():
    desk = await Desk.submitted()
    before = desk.snapshot()
    async with serve_pages(desk) as site:
        sub = await desk.sub()
        urls = [
            link_for(site, sub, person, rule, verdict)
            for person, rule in (("marco", "manager-discount"), ("fiona", "payment-terms"))
            for verdict in ("approve", "reject")
        ]
        for url in urls:
            for _ in range(3):
                assert (await site.get(url)).status == 200
            async with site.session.head(url) as head:
                assert head.status == 200
    assert desk.snapshot() == before


# ---- deciding --------------------------------------------------------------------------------------


async def test_a_confirmed_approval_decides_once_and_the_link_then_says_it_was_used():
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "marco")
        csrf = (await site.get(url)).csrf
        done = await site.post(url, {"csrf": csrf, "verdict": "approve", "comment": "ok for a 2-year deal"})
        assert done.status == 200, done.text
        assert "You approved manager-discount of Q-1042" in done.text
        approval = (await desk.sub()).approval("manager-discount")
        assert (approval.status, approval.acted_by, approval.comment) == ("approved", "marco", "ok for a 2-year deal")
        after = desk.snapshot()

        again = await site.post(url, {"csrf": csrf, "verdict": "approve"})
        assert again.status == 409
        assert "already used" in again.text
        reopened = await site.get(url)
        assert reopened.status == 409
        assert "You approved manager-discount of Q-1042" in reopened.text
    assert desk.snapshot() == after


async def test_a_rejection_without_a_reason_is_refused_and_changes_nothing():
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "marco", verdict="reject")
        page = await site.get(url)
        before = desk.snapshot()
        refused = await site.post(url, {"csrf": page.csrf, "verdict": "reject", "comment": "   "})
        assert refused.status == 400
        assert "A rejection needs a reason" in refused.text
        assert 'name="csrf"' in refused.text  # the form again, to write the reason
        assert desk.snapshot() == before

        done = await site.post(url, {"csrf": page.csrf, "verdict": "reject", "comment": "40% on seats is too deep"})
    assert done.status == 200
    sub = await desk.sub()
    assert (sub.status, sub.comment) == ("rejected", "40% on seats is too deep")
    assert sub.approval("manager-discount").acted_by == "marco"


async def test_an_approve_link_can_still_reject_with_a_reason_from_the_same_page():
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        done = await confirm(site, link_for(site, await desk.sub(), "marco"), "reject", "no MFN")
    assert done.status == 200
    assert (await statuses(desk))["manager-discount"] == "rejected"


async def test_a_group_member_sees_who_else_decided_and_completes_the_approval():
    desk = await Desk.submitted()
    await desk.service.decide("Q-1042", "payment-terms", "carl", "approve", NOW, "Net 90 is fine this once")
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "fiona", "payment-terms")
        page = await site.get(url)
        assert "Carl Jensen approved (Dec 1, 2026, 9:00\u202fAM (Dublin)): “Net 90 is fine this once”" in page.text
        done = await site.post(url, {"csrf": page.csrf, "verdict": "approve"})
    assert done.status == 200
    assert (await statuses(desk))["payment-terms"] == "approved"


async def test_a_delegate_decides_for_the_approver_who_is_away():
    desk = await Desk.submitted()
    await desk.service.delegate("marco", "nora", NOW.date(), NOW.date() + dt.timedelta(days=7), "marco", NOW)
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "nora")
        page = await site.get(url)
        assert "(for Marco Bellini)" in page.text
        done = await site.post(url, {"csrf": page.csrf, "verdict": "approve"})
    assert done.status == 200
    approval = (await desk.sub()).approval("manager-discount")
    assert (approval.status, approval.acted_by, approval.on_behalf_of) == ("approved", "nora", "marco")


async def test_the_approve_link_of_a_delivered_email_approves_after_the_confirmation():
    desk = await Desk.submitted()
    inbox = Inbox()
    async with serve_pages(desk) as site:
        sub = await desk.sub()
        message = render_request(
            mail_settings(site.url),
            desk.policy,
            sub,
            sub.approval("manager-discount"),
            "marco",
            outbox_key="outbox-41",
            now=NOW,
        )
        with smtp_server(inbox) as server:
            assert (await smtp.send(smtp_settings(server.port), message)).delivered
            (arrived,) = await inbox.wait_for(1)
        approve = links_in(arrived.message)["approve"]
        assert approve.startswith(f"{site.url}/a/")
        done = await confirm(site, approve)
    assert done.status == 200
    assert (await statuses(desk))["manager-discount"] == "approved"


# ---- cross-site posting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "forge",
    ["no field", "wrong field", "another link's field", "no cookie", "other origin", "cross-site fetch"],
)
async def test_a_post_that_did_not_come_from_the_page_is_refused_and_changes_nothing(forge):
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        sub = await desk.sub()
        url = link_for(site, sub, "marco")
        csrf = (await site.get(url)).csrf
        other = (await site.get(link_for(site, sub, "fiona", "payment-terms"))).csrf
        form = {"csrf": csrf, "verdict": "approve"}
        headers: dict[str, str] = {}
        if forge == "no field":
            del form["csrf"]
        elif forge == "wrong field":
            form["csrf"] = csrf[:-2] + ("AA" if not csrf.endswith("AA") else "BB")
        elif forge == "another link's field":
            form["csrf"] = other
        elif forge == "no cookie":
            site.session.cookie_jar.clear()
        elif forge == "other origin":
            headers["Origin"] = "https://evil.example"
        else:
            headers["Sec-Fetch-Site"] = "cross-site"
        before = desk.snapshot()
        refused = await site.post(url, form, headers)
        assert refused.status == 403
        assert "This form cannot be accepted" in refused.text
        assert desk.snapshot() == before
        if forge == "no cookie":
            csrf = (await site.get(url)).csrf
        done = await site.post(url, {"csrf": csrf, "verdict": "approve"}, {"Origin": "null"})
    assert done.status == 200  # the link was not spent by the refusal


# ---- links that cannot be used ---------------------------------------------------------------------


async def test_a_malformed_or_tampered_link_is_refused_on_get_and_post():
    desk = await Desk.submitted()
    before = desk.snapshot()
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "marco")
        tampered = url[:-3] + ("xyz" if not url.endswith("xyz") else "abc")
        for bad, status, title in (
            (f"{site.url}/a/not-a-link", 400, "This is not a Greenlight link"),
            (tampered, 403, "This link has been altered"),
            (link_for(site, await desk.sub(), "marco", secret="someone-elses-secret-0123456789"), 403, "altered"),
        ):
            shown = await site.get(bad)
            posted = await site.post(bad, {"csrf": "x", "verdict": "approve"})
            assert (shown.status, posted.status) == (status, status)
            assert title in shown.text and title in posted.text
            assert "Set-Cookie" not in shown.headers
    assert desk.snapshot() == before


Change = Callable[[Desk], Awaitable[object]]


async def expire(desk: Desk) -> None:
    desk.clock.now = NOW + dt.timedelta(hours=72)


async def decided_by_the_delegate(desk: Desk) -> None:
    await desk.service.delegate("marco", "nora", NOW.date(), NOW.date() + dt.timedelta(days=7), "marco", NOW)
    await desk.service.decide("Q-1042", "manager-discount", "nora", "approve", NOW)


async def decided_by_marco_in_slack(desk: Desk) -> None:
    await desk.service.decide("Q-1042", "manager-discount", "marco", "approve", NOW)


async def revoked_by_a_rejection(desk: Desk) -> None:
    await desk.service.decide("Q-1042", "payment-terms", "fiona", "reject", NOW, "Net 90 costs too much cash")


async def recalled(desk: Desk) -> None:
    await desk.service.recall("Q-1042", "ava", NOW)


async def quote_changed(desk: Desk) -> None:
    from email_kit import quote

    await desk.service.receive_quote(parse_quote(quote(version=4, discount_percent=25)), NOW)


async def delegation_ended(desk: Desk) -> None:
    await desk.service.end_delegation("marco", "marco", NOW)


SCENARIOS: list[tuple[str, Change, int, str]] = [
    ("expired", expire, 410, "This link has expired"),
    ("decided by someone else", decided_by_the_delegate, 409, "already approved by Nora Quist"),
    ("decided by the same person elsewhere", decided_by_marco_in_slack, 409, "You already decided this"),
    ("revoked", revoked_by_a_rejection, 410, "was rejected by Fiona Gallagher on payment-terms"),
    ("recalled", recalled, 410, "withdrawn from approval: the owner recalled the quote"),
    ("quote changed", quote_changed, 410, "withdrawn from approval: the quote changed"),
]


@pytest.mark.parametrize(("change", "status", "says"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
async def test_a_link_whose_request_moved_on_is_refused_with_its_status_and_changes_nothing(change, status, says):
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "marco")
        csrf = (await site.get(url)).csrf  # opened while it was still open
        await change(desk)
        before = desk.snapshot()
        shown = await site.get(url)
        posted = await site.post(url, {"csrf": csrf, "verdict": "approve"})
    assert (shown.status, posted.status) == (status, status)
    assert says in shown.text and says in posted.text
    assert "Nothing was changed" in shown.text and "Nothing was changed" in posted.text
    assert desk.snapshot() == before


async def test_a_delegate_whose_delegation_ended_is_no_longer_an_assignee():
    desk = await Desk.submitted()
    await desk.service.delegate("marco", "nora", NOW.date(), NOW.date() + dt.timedelta(days=7), "marco", NOW)
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "nora")
        csrf = (await site.get(url)).csrf
        await delegation_ended(desk)
        before = desk.snapshot()
        shown = await site.get(url)
        posted = await site.post(url, {"csrf": csrf, "verdict": "approve"})
    assert (shown.status, posted.status) == (403, 403)
    assert "Nora Quist is no longer an approver of manager-discount" in shown.text
    assert desk.snapshot() == before


async def test_a_link_for_someone_who_never_was_an_approver_is_refused():
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        shown = await site.get(link_for(site, await desk.sub(), "dana"))
    assert shown.status == 403


async def test_a_link_to_an_unknown_request_or_another_submission_is_refused():
    desk = await Desk.submitted()
    before = desk.snapshot()
    async with serve_pages(desk) as site:
        sub = await desk.sub()
        unknown_rule = await site.get(link_for(site, sub, "marco", rule="cfo-mega-deal"))
        sub.number = 7
        unknown_submission = await site.get(link_for(site, sub, "marco"))
        sub.number = 1
        sub.content_hash = "0" * 64
        replaced = await site.get(link_for(site, sub, "marco"))
    assert (unknown_rule.status, unknown_submission.status, replaced.status) == (404, 404, 410)
    assert submission_key(1, 3, "0" * 64) != submission_key(1, 3, (await desk.sub()).content_hash)
    assert desk.snapshot() == before


async def test_the_secret_that_signs_links_must_be_the_pages_own():
    desk = await Desk.submitted()
    async with serve_pages(desk, secret="another-secret-for-this-page-0123") as site:
        shown = await site.get(link_for(site, await desk.sub(), "marco", secret=SECRET))
    assert shown.status == 403


async def test_the_access_log_never_holds_a_link_token(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    desk = await Desk.submitted()
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "marco")
        await confirm(site, url)
    lines = [record.getMessage() for record in caplog.records if record.name == "aiohttp.access"]
    assert [line.rsplit(" ", 2)[0] for line in lines] == ["GET /a/<token> 200", "POST /a/<token> 200"]
    assert url.rsplit("/", 1)[1] not in caplog.text
