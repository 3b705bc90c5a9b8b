"""Approval emails rendered, sent through a real SMTP server and read back with the email package."""

import datetime as dt
import re
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

import pytest
from email_kit import CUSTOMER, NOW, Desk, mail_settings, smtp_settings

from domain.errors import NotFound
from greenlight.settings import Settings
from notifications import links, smtp
from notifications.email import away_notice, decision_notice, message_id, render_notice, render_request
from tests.support.pages import links_in, parts
from tests.support.smtp import Inbox, smtp_server


async def request_for(desk: Desk, person: str = "marco", rule: str = "manager-discount", **options) -> EmailMessage:
    sub = await desk.sub()
    return render_request(
        mail_settings(), desk.policy, sub, sub.approval(rule), person, outbox_key="outbox-123", now=NOW, **options
    )


async def through_smtp(message: EmailMessage) -> EmailMessage:
    inbox = Inbox()
    with smtp_server(inbox) as server:
        result = await smtp.send(smtp_settings(server.port), message)
        assert result.outcome == "delivered", result.detail
        (arrived,) = await inbox.wait_for(1)
    return arrived.message


async def test_a_request_arrives_as_text_and_html_alternatives_with_the_headers_a_mail_app_needs():
    desk = await Desk.submitted()
    received = await through_smtp(await request_for(desk))
    assert received.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in received.iter_parts()] == ["text/plain", "text/html"]
    # The standard library may leave a double space where it folded before an encoded word.
    assert " ".join(received["Subject"].split()) == f"Approve Q-1042 v3 for {CUSTOMER}: manager-discount"
    assert received["Message-ID"] == "<outbox-123.greenlight@kestrel.example>"
    assert parsedate_to_datetime(received["Date"]) == NOW
    assert parseaddr(received["From"]) == ("Greenlight", "greenlight@kestrel.example")
    assert parseaddr(received["To"]) == ("Marco Bellini", "marco@example.com")
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["X-Greenlight-Ref"] == "Q-1042#1/manager-discount"


async def test_a_request_says_what_is_asked_why_with_the_values_and_the_deal_in_both_parts():
    desk = await Desk.submitted()
    text, html = parts(await through_smtp(await request_for(desk)))
    for body in (text, html):
        assert "Ava Brooks asks for your approval, Marco Bellini." in body
        assert "Discount above the rep" in body
        assert "quote discount 30% &gt; 10%" in body if body is html else "quote discount 30% > 10%" in body
        assert "€70,000.00 (list €100,000.00)" in body
        assert "Q-1042 version 3" in body
        assert "payment-terms: waiting on Fiona Gallagher, Carl Jensen" in body


async def test_the_approve_and_reject_links_point_at_the_link_page_and_carry_signed_claims():
    desk = await Desk.submitted()
    received = await through_smtp(await request_for(desk))
    _, html = parts(received)
    found = links_in(received)
    assert set(found) == {"approve", "reject"}
    for verdict, url in found.items():
        assert url.startswith("http://127.0.0.1:3000/a/")
        assert f'href="{url}"' in html
        claims = links.read(mail_settings().secret, url.rsplit("/", 1)[1], NOW)
        assert (claims.approval_ref, claims.person, claims.verdict_hint) == (
            "Q-1042#1/manager-discount",
            "marco",
            verdict,
        )
    assert found["approve"] != found["reject"]


async def test_quote_data_is_escaped_in_the_html_part_and_kept_as_typed_in_the_text_part():
    desk = await Desk.submitted(payment_terms="Net 90 <b>& more</b>")
    text, html = parts(await through_smtp(await request_for(desk)))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Söhne GmbH" in html
    assert "Net 90 &lt;b&gt;&amp; more&lt;/b&gt;" in html
    assert CUSTOMER in text
    assert re.search(r"&(?!amp;|lt;|gt;|#34;|#39;|quot;)", html.split("<body", 1)[1]) is None


async def test_a_line_break_in_quote_data_cannot_add_a_header():
    desk = await Desk.submitted(account={"id": "A-77", "name": "Acme\r\nBcc: everyone@example.com"})
    received = await through_smtp(await request_for(desk))
    assert received["Bcc"] is None
    assert (
        " ".join(received["Subject"].split())
        == "Approve Q-1042 v3 for Acme Bcc: everyone@example.com: manager-discount"
    )


async def test_the_same_outbox_row_rendered_again_has_the_same_message_id_with_fresh_links():
    desk = await Desk.submitted()
    first, again = await request_for(desk), await request_for(desk)
    assert first["Message-ID"] == again["Message-ID"] == message_id("outbox-123", mail_settings())
    assert links_in(first) != links_in(again)
    assert message_id("outbox 9/x", mail_settings()) == "<outbox-9-x.greenlight@kestrel.example>"


async def test_a_reminder_and_an_escalation_say_so_in_the_subject():
    desk = await Desk.submitted()
    reminder = await request_for(desk, occasion="reminder")
    escalation = await request_for(desk, occasion="escalation")
    assert reminder["Subject"].startswith("Reminder: approve Q-1042 v3 for Acme")
    assert escalation["Subject"].startswith("Escalated to you: approve Q-1042 v3")


async def test_a_request_for_a_person_without_an_email_address_is_refused():
    desk = await Desk.submitted()
    with pytest.raises(NotFound):
        await request_for(desk, "carl", "payment-terms")


async def test_the_rep_without_slack_is_told_the_final_decision_with_the_reason():
    desk = await Desk.submitted()
    now = NOW + dt.timedelta(hours=2)
    await desk.service.decide("Q-1042", "manager-discount", "marco", "reject", now, "30% is too deep & too long")
    sub = await desk.sub()
    received = await through_smtp(decision_notice(mail_settings(), desk.policy, sub, outbox_key="outbox-7", now=now))
    text, html = parts(received)
    assert " ".join(received["Subject"].split()) == f"Q-1042 v3 for {CUSTOMER} is rejected"
    assert parseaddr(received["To"]) == ("Ava Brooks", "ava@example.com")
    assert "Marco Bellini rejected it (manager-discount)." in text
    assert "Reason: 30% is too deep & too long" in text
    assert "Reason: 30% is too deep &amp; too long" in html
    assert received["Message-ID"] == "<outbox-7.greenlight@kestrel.example>"


async def test_the_owner_and_admins_are_told_when_an_approver_is_away_with_no_delegate():
    desk = await Desk.submitted()
    sub = await desk.sub()
    message = away_notice(
        mail_settings(),
        desk.policy,
        sub,
        sub.approval("manager-discount"),
        "marco",
        to=["ava", "dana", "ava"],
        outbox_key="outbox-8",
        now=NOW,
    )
    received = await through_smtp(message)
    assert [parseaddr(value)[1] for value in received["To"].split(",")] == ["ava@example.com", "dana@example.com"]
    assert received["Subject"].startswith("Marco Bellini is away with no delegate: Q-1042 for Acme")
    assert "has named no delegate" in parts(received)[0]


async def test_a_plain_notice_has_both_parts_and_its_one_link():
    message = render_notice(
        mail_settings(),
        to=["Dana <dana@example.com>"],
        subject="Reminder: Q-1042 waits",
        headline="Q-1042 waits on Marco <3",
        paragraphs=["Since 2 days."],
        link=("Open Greenlight", "https://greenlight.example/a?x=1&y=2"),
        outbox_key="outbox-9",
        now=NOW,
    )
    text, html = parts(await through_smtp(message))
    assert "Q-1042 waits on Marco <3" in text
    assert "Q-1042 waits on Marco &lt;3" in html
    assert 'href="https://greenlight.example/a?x=1&amp;y=2"' in html
    assert "https://greenlight.example/a?x=1&y=2" in text


def test_mail_settings_come_from_greenlight_settings_and_need_the_secret():
    settings = Settings.from_env(
        {
            "GREENLIGHT_SMTP_URL": "smtp://mail.example.com:587",
            "GREENLIGHT_SECRET": "s" * 32,
            "GREENLIGHT_MAIL_FROM": "Deal Desk <deals@kestrel.example>",
            "GREENLIGHT_PUBLIC_URL": "https://greenlight.kestrel.example/",
        },
        env_file=None,
        require_slack=False,
    )
    mail = settings.mail_settings()
    assert (mail.public_url, mail.secret, mail.domain) == (
        "https://greenlight.kestrel.example",
        "s" * 32,
        "kestrel.example",
    )
    assert mail.link("abc") == "https://greenlight.kestrel.example/a/abc"
    with pytest.raises(ValueError, match="GREENLIGHT_SECRET"):
        Settings.from_env({}, env_file=None, require_slack=False).mail_settings()
