"""The email worker: outbox rows of topic `email` become messages, sent with aiosmtplib.

Rows are queued by the Slack worker (people without Slack, Slack unreachable past the fallback
time, reminders, final decisions for reps without Slack, ERP alerts for admins without Slack).
Each is rendered at send time from the current state with a Message-ID derived from the outbox
key, so a resend after a crash is recognisable. Temporary failures are retried with backoff and
jitter; permanent ones go to the dead letters and the admins are told in Slack.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from domain.errors import NotFound
from domain.events import Event, Kind, to_json
from domain.reactions import topics
from domain.service import Approvals
from store.outbox import Claimed, Outbox

from . import smtp
from .email import MailSettings, Occasion, decision_notice, render_notice, render_request
from .smtp import SmtpSettings
from .worker import Permanent, Retry

log = logging.getLogger("greenlight.email")

OCCASION: dict[str, Occasion] = {
    "request": "request",
    "reminder": "reminder",
    "escalation": "escalation",
    "delegate": "delegate",
}


@dataclass
class EmailDelivery:
    smtp: SmtpSettings
    mail: MailSettings
    service: Approvals
    outbox: Outbox
    clock: Callable[[], dt.datetime]
    rng: random.Random = field(default_factory=random.Random)
    give_up_after: dt.timedelta = dt.timedelta(hours=24)

    async def _render(self, row: Claimed) -> EmailMessage | None:
        payload = row.payload
        kind = payload.get("kind", "request")
        person = str(payload.get("person", ""))
        now = self.clock()
        key = f"outbox-{row.id}"
        policy = self.service.policy
        if kind == "alert":
            return render_notice(
                self.mail,
                to=[person],
                subject=str(payload.get("subject", "Greenlight needs an admin")),
                headline=str(payload.get("headline", "Something needs an admin")),
                paragraphs=[str(payload.get("detail", ""))],
                outbox_key=key,
                now=now,
            )
        sub = await self.service.submission(str(payload["quote_id"]), int(payload["submission"]))
        if sub is None:
            return None
        if kind == "decision":
            return decision_notice(self.mail, policy, sub, outbox_key=key, now=now)
        approval = sub.find(str(payload.get("rule")))
        if approval is None or approval.status != "requested" or sub.status != "pending":
            return None  # decided meanwhile: an email asking for it would only confuse
        ctx = self.service.context(await self.service.directory(now), now)
        return render_request(
            self.mail,
            policy,
            sub,
            approval,
            person,
            outbox_key=key,
            now=now,
            occasion=OCCASION.get(kind, "request"),
            ctx=ctx,
        )

    async def deliver(self, row: Claimed) -> None:
        try:
            message = await self._render(row)
        except NotFound as error:
            raise Permanent(str(error)) from error
        if message is None:
            return
        result = await smtp.send(self.smtp, message)
        if result.delivered:
            if result.refused:
                log.warning("email %s: some recipients refused: %s", row.key, ", ".join(result.refused))
            return
        now = self.clock()
        if result.retry and now - row.created_at < self.give_up_after:
            # Give up by time, not by a count of random waits: an outage of a night must not lose mail.
            at = smtp.next_attempt(max(1, row.attempts), now, self.rng, max_attempts=10**6)
            raise Retry(at or now + smtp.BACKOFF_CAP, result.detail)
        await self._alert(row, result.detail)
        raise Permanent(result.detail)

    async def _alert(self, row: Claimed, detail: str) -> None:
        """Tell the admins in Slack that an email could not be delivered."""
        payload = row.payload
        event = Event(
            Kind.EMAIL_FAILED,
            self.clock(),
            str(payload.get("quote_id", "")),
            0,
            int(payload.get("submission") or 0),
            rule=payload.get("rule"),
            comment=detail,
            people=tuple(self.service.policy.admins),
            detail={"person": payload.get("person"), "outbox": row.id},
        )
        for topic in topics(event.kind):
            await self.outbox.add(topic, f"email-failed:{row.id}", to_json(event), self.clock())
