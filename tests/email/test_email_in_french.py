"""Emails and the link page in the reader's language: a French approver in Paris, through a real
SMTP server and real HTTP requests; the others keep the policy's language."""

import datetime as dt
import re
from email.message import EmailMessage

from email_kit import NOW, POLICY, Desk, link_for, mail_settings, quote, serve_pages, smtp_settings

from domain.memory import MemoryStore
from domain.policy import load_policy
from domain.quote import parse_quote
from domain.service import Approvals
from notifications import smtp
from notifications.email import away_notice, decision_notice, render_request
from tests.support.clock import Clock
from tests.support.pages import parts
from tests.support.smtp import Inbox, smtp_server

NBSP, NNBSP = "\xa0", "\u202f"

# Marco (Ava's manager) reads French in Paris; Fiona reads French in Paris too; the policy stays
# English in Berlin, so everyone else reads English.
FRENCH_POLICY = POLICY.replace(
    "marco: {name: Marco Bellini, email: marco@example.com}",
    "marco: {name: Marco Bellini, email: marco@example.com, locale: fr, timezone: Europe/Paris}",
).replace(
    "fiona: {name: Fiona Gallagher, email: fiona@example.com, timezone: Europe/Dublin}",
    "fiona: {name: Fiona Gallagher, email: fiona@example.com, timezone: Europe/Paris, locale: fr-FR}",
)


async def desk_with(policy_text: str = FRENCH_POLICY) -> Desk:
    rules = load_policy(policy_text, "French email test policy")
    store = MemoryStore()
    desk = Desk(rules, store, Approvals(rules, store), Clock(NOW))
    await desk.service.receive_quote(parse_quote(quote()), desk.clock())
    await desk.service.submit("Q-1042", "ava", desk.clock())
    return desk


async def through_smtp(message: EmailMessage) -> EmailMessage:
    inbox = Inbox()
    with smtp_server(inbox) as server:
        result = await smtp.send(smtp_settings(server.port), message)
        assert result.outcome == "delivered", result.detail
        (arrived,) = await inbox.wait_for(1)
    return arrived.message


def subject(message: EmailMessage) -> str:
    return " ".join(str(message["Subject"]).split())


async def test_a_french_approver_gets_the_request_in_french_in_both_parts_through_smtp():
    desk = await desk_with()
    sub = await desk.sub()
    message = render_request(
        mail_settings(), desk.policy, sub, sub.approval("manager-discount"), "marco", outbox_key="outbox-1", now=NOW
    )
    received = await through_smtp(message)
    text, html = parts(received)
    assert subject(received).startswith("À approuver : Q-1042 v3 pour Acme")
    assert received["Content-Language"] == "fr"
    assert '<html lang="fr">' in html
    for body in (text, html):
        assert "Ava Brooks sollicite votre approbation, Marco Bellini." in body
        assert f"70{NNBSP}000,00{NBSP}€ (prix catalogue 100{NNBSP}000,00{NBSP}€)" in body
        assert f"30{NNBSP}%" in body
        assert "Q-1042 version 3" in body
        assert f"payment-terms{NBSP}: en attente de Fiona Gallagher, Carl Jensen" in body
        # The links expire 72 hours after NOW (09:00 UTC): 10:00 in Paris, with the zone named.
        assert "expirent le 4 déc. 2026, 10:00 (Paris)." in body
        assert "Approve" not in body and "asks for your approval" not in body
    assert f"Pourquoi votre approbation est nécessaire{NBSP}:" in text
    assert ">Approuver</a>" in html and ">Refuser</a>" in html
    urls = re.findall(r"^(?:Approuver|Refuser)[^\n]*:\r?\n(\S+)\r?$", text, flags=re.MULTILINE)
    assert len(urls) == 2 and all("/a/v1." in url for url in urls)


async def test_the_same_request_to_an_english_approver_stays_english_beside_a_french_one():
    desk = await desk_with()
    sub = await desk.sub()
    message = render_request(
        mail_settings(), desk.policy, sub, sub.approval("payment-terms"), "carl", outbox_key="o-2", now=NOW, to="c@x.io"
    )
    text, html = parts(await through_smtp(message))
    assert "Ava Brooks asks for your approval, Carl Jensen." in text
    assert "€70,000.00 (list €100,000.00)" in text
    assert "expire Dec 4, 2026, 10:00\u202fAM (Berlin)." in text
    assert '<html lang="en">' in html


async def test_a_paris_approver_sees_the_time_of_another_vote_in_paris_time_labelled():
    desk = await desk_with()
    voted_at = dt.datetime(2026, 12, 3, 17, 27, tzinfo=dt.UTC)  # 18:27 in Paris, 12:27 in New York
    await desk.service.decide("Q-1042", "payment-terms", "carl", "approve", voted_at, "Net 90 ça passe")
    async with serve_pages(desk) as site:
        page = await site.get(link_for(site, await desk.sub(), "fiona", "payment-terms"))
    assert page.status == 200
    assert f"Carl Jensen a approuvé (3 déc. 2026, 18:27 (Paris)){NBSP}: «{NNBSP}Net 90 ça passe{NNBSP}»" in page.text
    sub = await desk.sub()
    message = render_request(
        mail_settings(), desk.policy, sub, sub.approval("payment-terms"), "fiona", outbox_key="o-3", now=voted_at
    )
    text, _ = parts(await through_smtp(message))
    assert "Carl Jensen a approuvé (3 déc. 2026, 18:27 (Paris))" in text


async def test_the_confirm_page_is_in_french_and_a_confirmed_approval_thanks_in_french():
    desk = await desk_with()
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "marco")
        page = await site.get(url)
        assert page.status == 200
        assert '<html lang="fr">' in page.text
        assert "Marco Bellini, votre décision est attendue" in page.text
        assert "Approuver Q-1042 v3 pour Acme &lt;script&gt;" in page.text
        assert f"<dd>70{NNBSP}000,00{NBSP}€ (prix catalogue 100{NNBSP}000,00{NBSP}€)</dd>" in page.text
        assert '<button class="approve" type="submit">Approuver Q-1042</button>' in page.text
        assert "<summary>Refuser plutôt</summary>" in page.text
        assert "jusqu’au 4 déc. 2026, 10:00 (Paris)." in page.text
        done = await site.post(url, {"csrf": page.csrf, "verdict": "approve", "comment": ""})
        assert done.status == 200
        assert "Vous avez approuvé manager-discount de Q-1042. Merci." in done.text
        again = await site.post(url, {"csrf": page.csrf, "verdict": "approve", "comment": ""})
    assert again.status == 409
    assert "Lien déjà utilisé" in again.text
    assert "Vous avez approuvé manager-discount de Q-1042 (1 déc. 2026, 10:00 (Paris))." in again.text


async def test_a_french_rejection_without_a_reason_is_refused_in_french_and_changes_nothing():
    desk = await desk_with()
    before = desk.snapshot()
    async with serve_pages(desk) as site:
        url = link_for(site, await desk.sub(), "marco", verdict="reject")
        page = await site.get(url)
        answer = await site.post(url, {"csrf": page.csrf, "verdict": "reject", "comment": "  "})
    assert answer.status == 400
    assert f"Un refus doit être motivé{NBSP}: indiquez ce qui rendrait l’affaire acceptable." in answer.text
    assert "Rien n’a été modifié." in answer.text
    assert desk.snapshot() == before


async def test_a_link_that_cannot_be_read_is_answered_in_the_policys_language():
    desk = await desk_with(FRENCH_POLICY.replace("timezone: Europe/Berlin", "timezone: Europe/Berlin\nlocale: fr", 1))
    async with serve_pages(desk) as site:
        page = await site.get(f"{site.url}/a/v1.not-a-real-token")
    assert page.status == 400
    assert "Ce n’est pas un lien Greenlight" in page.text
    assert "Rien n’a été modifié." in page.text


async def test_a_french_rep_without_slack_is_told_the_rejection_in_french():
    desk = await desk_with(
        FRENCH_POLICY.replace(
            "ava: {name: Ava Brooks, slack: U0AVA, email: ava@example.com, manager: marco}",
            "ava: {name: Ava Brooks, slack: U0AVA, email: ava@example.com, manager: marco, locale: fr}",
        )
    )
    now = NOW + dt.timedelta(hours=2)
    await desk.service.decide("Q-1042", "manager-discount", "marco", "reject", now, "30 % c’est trop & trop long")
    received = await through_smtp(
        decision_notice(mail_settings(), desk.policy, await desk.sub(), outbox_key="outbox-7", now=now)
    )
    text, html = parts(received)
    assert subject(received) == 'Q-1042 v3 pour Acme <script>alert("x")</script> & Söhne GmbH est refusé'
    assert "Marco Bellini l’a refusé (manager-discount)." in text
    assert f"Motif{NBSP}: 30 % c’est trop & trop long" in text
    assert f"Motif{NBSP}: 30 % c’est trop &amp; trop long" in html
    assert "Modifiez le devis dans le CRM" in text


async def test_a_notice_to_several_people_is_in_the_policys_language():
    desk = await desk_with()
    sub = await desk.sub()
    message = away_notice(
        mail_settings(),
        desk.policy,
        sub,
        sub.approval("manager-discount"),
        "marco",
        to=["ava", "fiona"],
        outbox_key="outbox-8",
        now=NOW,
    )
    received = await through_smtp(message)
    assert subject(received).startswith("Marco Bellini is away with no delegate")
    assert received["Content-Language"] == "en"
