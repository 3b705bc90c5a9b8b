"""Approval emails (slack-v1 §5): a text part and an HTML part, rendered from `templates/email/`.

    render_request(...)   asks an approver to decide, with Approve / Reject links to /a/<token>
                          (occasion: request, reminder, escalation, delegate)
    render_notice(...)    a plain notice: a headline, paragraphs, facts and at most one link
    decision_notice(...)  the final outcome, to a rep without Slack
    away_notice(...)      "X is away with no delegate", to the owner and the admins

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

from domain.approvals import Approval, Context, Submission
from domain.errors import NotFound
from domain.policy import Policy
from domain.quote import Quote

from . import links
from .summary import Summary, address_of, at, facts_of, name_of, summarize
from .templating import render

Occasion = Literal["request", "reminder", "escalation", "delegate"]

_SUBJECT_PREFIX: dict[str, str] = {
    "request": "Approve",
    "reminder": "Reminder: approve",
    "escalation": "Escalated to you: approve",
    "delegate": "Standing in: approve",
}
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
    return _one_line(f"{_SUBJECT_PREFIX[occasion]} {summary.headline}")


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
    """The final outcome of SUB (approved, rejected, recalled) for its owner."""
    owner = sub.owner
    address = to or address_of(policy, owner)
    if not address:
        raise NotFound(f"{owner} has no email address in the policy")
    quote = Quote(sub.snapshot)
    customer = f" for {quote.customer}" if quote.customer else ""
    what = f"{sub.quote_id} v{sub.quote_version}{customer}"
    paragraphs: list[str] = []
    if sub.status == "approved":
        headline = f"{what} is approved"
        approvers = sorted({name_of(policy, a.acted_by) for a in sub.approvals if a.acted_by})
        if approvers:
            paragraphs.append("Approved by " + ", ".join(approvers) + ".")
    elif sub.status == "rejected":
        rejected = next((a for a in sub.approvals if a.status == "rejected"), None)
        who = name_of(policy, rejected.acted_by) if rejected is not None else "an approver"
        headline = f"{what} is rejected"
        rule = f" ({rejected.rule})" if rejected is not None else ""
        paragraphs.append(f"{who} rejected it{rule}.")
        if sub.comment:
            paragraphs.append(f"Reason: {sub.comment}")
        paragraphs.append("Change the quote in the CRM and submit it again; approvals that still hold carry over.")
    elif sub.status == "recalled":
        headline = f"{what} was withdrawn from approval"
        why = sub.comment or "it was recalled"
        paragraphs.append(f"Why: {why}" if why.endswith((".", "!", "?")) else f"Why: {why}.")
    else:
        headline = f"{what} is {sub.status}"
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
    """Tell TO (people keys: the quote owner and the admins) that AWAY holds APPROVAL with no delegate."""
    recipients = []
    for person in dict.fromkeys(to):
        address = address_of(policy, person)
        if address:
            recipients.append(_mailbox(name_of(policy, person), address))
    if not recipients:
        raise NotFound("none of the people to tell has an email address in the policy")
    quote = Quote(sub.snapshot)
    customer = f" for {quote.customer}" if quote.customer else ""
    who = name_of(policy, away)
    headline = f"{who} is away with no delegate: {sub.quote_id}{customer} waits"
    paragraphs = [
        f"The approval {approval.rule} of {sub.quote_id} v{sub.quote_version} waits on {who}, "
        "who is out of office and has named no delegate.",
        "An admin can set a delegate (/deal delegate) or replace the approver (/deal replace) in Slack; "
        "the owner can also wait for their return.",
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
    owner = name_of(policy, sub.owner)
    if occasion == "reminder":
        return f"A reminder, {summary.person}: {owner}'s quote still waits for your decision."
    if occasion == "escalation":
        return f"{summary.person}, this approval was escalated to you: it waited too long for a decision."
    if occasion == "delegate":
        return f"{summary.person}, you stand in for {', '.join(summary.on_behalf_of) or 'an approver'} on this request."
    return f"{owner} asks for your approval, {summary.person}."


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
