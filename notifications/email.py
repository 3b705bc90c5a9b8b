"""Approval emails (slack-v1 §5): a text part and an HTML part, rendered from `templates/email/`.

    render_request(...)   asks an approver to decide, with Approve / Reject links to /a/<token>
                          (occasion: request, reminder, escalation, delegate)
    render_notice(...)    a plain notice: a headline, paragraphs, facts and at most one link
    decision_notice(...)  the final outcome, to a rep without Slack
    away_notice(...)      "X is away with no delegate", to the owner and the admins

Each message is written in its reader's language (`policy.person_locale`), times in the reader's
zone with its name; a notice to several people is in the policy's default language.

Every message gets a Message-ID derived from its outbox key (`<outbox-123.greenlight@domain>`), so
a resend after a crash carries the same id and the receiving side can drop the duplicate. Nothing
here sends or touches the network; `notifications.smtp.send` does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Literal

from domain import i18n
from domain.approvals import Approval, Context, Submission
from domain.errors import NotFound
from domain.i18n import _
from domain.policy import Policy
from domain.quote import Quote

from . import links
from .summary import Summary, address_of, at, facts_of, name_of, summarize
from .templating import render

Occasion = Literal["request", "reminder", "escalation", "delegate"]

_MESSAGE_ID_KEY = re.compile(r"[^A-Za-z0-9._-]+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class MailSettings:
    """What rendering needs from the settings (GREENLIGHT_MAIL_FROM, _PUBLIC_URL, _SECRET)."""

    mail_from: str
    public_url: str
    secret: str

    @property
    def domain(self) -> str:
        _, address = parseaddr(self.mail_from)
        domain = address.rpartition("@")[2].strip().strip(">").lower()
        return _MESSAGE_ID_KEY.sub("-", domain) or "localhost"

    def link(self, token: str) -> str:
        return f"{self.public_url}/a/{token}"


def message_id(outbox_key: str, mail: MailSettings) -> str:
    """The Message-ID of the outbox row OUTBOX_KEY: the same on every attempt."""
    local = _MESSAGE_ID_KEY.sub("-", str(outbox_key)).strip(".-")
    if not local:
        raise ValueError("an outbox key is needed for a stable Message-ID")
    return f"<{local}.greenlight@{mail.domain}>"


def request_subject(summary: Summary, occasion: Occasion = "request") -> str:
    headline = summary.headline
    if occasion == "reminder":
        return _one_line(_("Reminder: approve {headline}", headline=headline))
    if occasion == "escalation":
        return _one_line(_("Escalated to you: approve {headline}", headline=headline))
    if occasion == "delegate":
        return _one_line(_("Standing in: approve {headline}", headline=headline))
    return _one_line(_("Approve {headline}", headline=headline))


def render_request(
    mail: MailSettings,
    policy: Policy,
    sub: Submission,
    approval: Approval,
    person: str,
    *,
    outbox_key: str,
    now: dt.datetime,
    occasion: Occasion = "request",
    ctx: Context | None = None,
    to: str | None = None,
) -> EmailMessage:
    """Ask PERSON (a people key) to decide APPROVAL of SUB, with fresh Approve and Reject links.

    TO defaults to the person's email in the policy (NotFound when they have none). CTX (the
    service's context at NOW) adds whom the person stands in for.
    """
    address = to or address_of(policy, person)
    if not address:
        raise NotFound(f"{person} has no email address in the policy")
    with i18n.speaking(policy.person_locale(person)):
        return _request(mail, policy, sub, approval, person, address, outbox_key, now, occasion, ctx)


def _request(
    mail: MailSettings,
    policy: Policy,
    sub: Submission,
    approval: Approval,
    person: str,
    address: str,
    outbox_key: str,
    now: dt.datetime,
    occasion: Occasion,
    ctx: Context | None,
) -> EmailMessage:
    summary = summarize(policy, sub, approval, person, ctx)
    ref = links.approval_ref(sub.quote_id, sub.number, approval.rule)
    key = links.submission_key(sub.number, sub.quote_version, sub.content_hash)
    approve = mail.link(links.issue(mail.secret, ref, person, key, "approve", now))
    reject = mail.link(links.issue(mail.secret, ref, person, key, "reject", now))
    subject = request_subject(summary, occasion)
    intro = _intro(policy, sub, summary, occasion)
    context = {
        "s": summary,
        "facts": summary.facts,
        "intro": intro,
        "subject": subject,
        "preheader": "; ".join(summary.reasons) or summary.description,
        "approve_url": approve,
        "reject_url": reject,
        "expires": at(policy, person, now + links.LIFETIME),
    }
    return _message(
        mail,
        to=[_mailbox(name_of(policy, person), address)],
        subject=subject,
        text=render("email/request.txt", **context),
        html=render("email/request.html", **context),
        outbox_key=outbox_key,
        now=now,
        ref=ref,
    )


def render_notice(
    mail: MailSettings,
    *,
    to: Sequence[str],
    subject: str,
    headline: str,
    paragraphs: Sequence[str] = (),
    facts: Sequence[tuple[str, str]] = (),
    link: tuple[str, str] | None = None,
    outbox_key: str,
    now: dt.datetime,
    ref: str | None = None,
) -> EmailMessage:
    """A plain notice to TO (addresses, optionally 'Name <address>'): nothing to decide in it."""
    context = {
        "subject": _one_line(subject),
        "preheader": paragraphs[0] if paragraphs else headline,
        "headline": headline,
        "paragraphs": list(paragraphs),
        "facts": list(facts),
        "link": link,
    }
    return _message(
        mail,
        to=list(to),
        subject=subject,
        text=render("email/notice.txt", **context),
        html=render("email/notice.html", **context),
        outbox_key=outbox_key,
        now=now,
        ref=ref,
    )


def decision_notice(
    mail: MailSettings, policy: Policy, sub: Submission, *, outbox_key: str, now: dt.datetime, to: str | None = None
) -> EmailMessage:
    """The final outcome of SUB (approved, rejected, recalled) for its owner, in the owner's language."""
    owner = sub.owner
    address = to or address_of(policy, owner)
    if not address:
        raise NotFound(f"{owner} has no email address in the policy")
    with i18n.speaking(policy.person_locale(owner)):
        headline, paragraphs = _outcome(policy, sub)
        return render_notice(
            mail,
            to=[_mailbox(name_of(policy, owner), address)],
            subject=headline,
            headline=headline,
            paragraphs=paragraphs,
            facts=facts_of(policy, sub),
            outbox_key=outbox_key,
            now=now,
            ref=sub.ref,
        )


def _outcome(policy: Policy, sub: Submission) -> tuple[str, list[str]]:
    """The headline and paragraphs that tell the owner how SUB ended."""
    customer = Quote(sub.snapshot).customer
    if customer:
        what = _("{quote} v{version} for {customer}", quote=sub.quote_id, version=sub.quote_version, customer=customer)
    else:
        what = _("{quote} v{version}", quote=sub.quote_id, version=sub.quote_version)
    paragraphs: list[str] = []
    if sub.status == "approved":
        approvers = sorted({name_of(policy, a.acted_by) for a in sub.approvals if a.acted_by})
        if approvers:
            paragraphs.append(_("Approved by {names}.", names=", ".join(approvers)))
        return _("{what} is approved", what=what), paragraphs
    if sub.status == "rejected":
        rejected = next((a for a in sub.approvals if a.status == "rejected"), None)
        who = name_of(policy, rejected.acted_by) if rejected is not None else _("an approver")
        if rejected is not None:
            paragraphs.append(_("{who} rejected it ({rule}).", who=who, rule=rejected.rule))
        else:
            paragraphs.append(_("{who} rejected it.", who=who))
        if sub.comment:
            paragraphs.append(_("Reason: {reason}", reason=sub.comment))
        paragraphs.append(_("Change the quote in the CRM and submit it again; approvals that still hold carry over."))
        return _("{what} is rejected", what=what), paragraphs
    if sub.status == "recalled":
        why = sub.comment or _("it was recalled")
        paragraphs.append(_("Why: {why}", why=why) if why.endswith((".", "!", "?")) else _("Why: {why}.", why=why))
        return _("{what} was withdrawn from approval", what=what), paragraphs
    return _("{what} is {status}", what=what, status=sub.status), paragraphs


def away_notice(
    mail: MailSettings,
    policy: Policy,
    sub: Submission,
    approval: Approval,
    away: str,
    *,
    to: Sequence[str],
    outbox_key: str,
    now: dt.datetime,
) -> EmailMessage:
    """Tell TO (people keys: the quote owner and the admins) that AWAY holds APPROVAL with no delegate,
    in the policy's default language (several people read the one message)."""
    recipients = []
    for person in dict.fromkeys(to):
        address = address_of(policy, person)
        if address:
            recipients.append(_mailbox(name_of(policy, person), address))
    if not recipients:
        raise NotFound("none of the people to tell has an email address in the policy")
    if len(recipients) == 1:
        locale = policy.person_locale(next(p for p in dict.fromkeys(to) if address_of(policy, p)))
    else:
        locale = policy.locale
    with i18n.speaking(locale):
        return _away(mail, policy, sub, approval, away, recipients, outbox_key, now)


def _away(
    mail: MailSettings,
    policy: Policy,
    sub: Submission,
    approval: Approval,
    away: str,
    recipients: list[str],
    outbox_key: str,
    now: dt.datetime,
) -> EmailMessage:
    customer = Quote(sub.snapshot).customer
    who = name_of(policy, away)
    if customer:
        headline = _(
            "{who} is away with no delegate: {quote} for {customer} waits",
            who=who,
            quote=sub.quote_id,
            customer=customer,
        )
    else:
        headline = _("{who} is away with no delegate: {quote} waits", who=who, quote=sub.quote_id)
    paragraphs = [
        _(
            "The approval {rule} of {quote} v{version} waits on {who}, who is out of office and has named no delegate.",
            rule=approval.rule,
            quote=sub.quote_id,
            version=sub.quote_version,
            who=who,
        ),
        _(
            "An admin can set a delegate (/deal delegate) or replace the approver (/deal replace) in Slack; "
            "the owner can also wait for their return."
        ),
    ]
    return render_notice(
        mail,
        to=recipients,
        subject=headline,
        headline=headline,
        paragraphs=paragraphs,
        facts=facts_of(policy, sub),
        outbox_key=outbox_key,
        now=now,
        ref=links.approval_ref(sub.quote_id, sub.number, approval.rule),
    )


# ---- building the message -----------------------------------------------------------------------


def _intro(policy: Policy, sub: Submission, summary: Summary, occasion: Occasion) -> str:
    owner, reader = name_of(policy, sub.owner), summary.person
    if occasion == "reminder":
        return _("A reminder, {reader}: {owner}'s quote still waits for your decision.", reader=reader, owner=owner)
    if occasion == "escalation":
        return _("{reader}, this approval was escalated to you: it waited too long for a decision.", reader=reader)
    if occasion == "delegate":
        others = ", ".join(summary.on_behalf_of) or _("an approver")
        return _("{reader}, you stand in for {others} on this request.", reader=reader, others=others)
    return _("{owner} asks for your approval, {reader}.", owner=owner, reader=reader)


def _message(
    mail: MailSettings,
    *,
    to: list[str],
    subject: str,
    text: str,
    html: str,
    outbox_key: str,
    now: dt.datetime,
    ref: str | None,
) -> EmailMessage:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    message = EmailMessage()
    message["Subject"] = _one_line(subject)
    message["From"] = mail.mail_from
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = message_id(outbox_key, mail)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to these
    message["X-Auto-Response-Suppress"] = "All"
    if ref:
        message["X-Greenlight-Ref"] = _one_line(ref)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = i18n.current()  # after the parts: set_content drops Content-* headers
    return message


def _mailbox(name: str, address: str) -> str:
    try:
        return str(Address(display_name=_one_line(name), addr_spec=address))
    except (ValueError, IndexError):
        return formataddr((_one_line(name), address))


def _one_line(text: str) -> str:
    """Header text from data: control characters and line breaks become single spaces."""
    cleaned = "".join(" " if ord(char) < 32 or ord(char) == 127 else char for char in text)
    return _SPACE.sub(" ", cleaned).strip()
