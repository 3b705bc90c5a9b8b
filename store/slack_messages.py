"""The Slack messages Greenlight has posted (`slack_message`), so a later change updates a copy
instead of posting it again, and a redelivered event never posts twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from .models import SlackMessageRow


@dataclass(frozen=True)
class Posted:
    key: str
    person: str
    channel: str
    ts: str


class SlackMessages:
    async def find(self, key: str) -> Posted | None:
        row = await SlackMessageRow.filter(key=key).first()
        return Posted(row.key, row.person, row.channel, row.ts) if row else None

    async def add(
        self, key: str, person: str, channel: str, ts: str, ref: str, rule: str | None, kind: str, now: dt.datetime
    ) -> Posted:
        await SlackMessageRow.create(
            key=key, person=person, channel=channel, ts=ts, submission_ref=ref, rule=rule, kind=kind, created_at=now
        )
        return Posted(key, person, channel, ts)

    async def copies(self, ref: str, rule: str, kind: str = "request") -> list[Posted]:
        """Every copy of one request (one per person it was sent to), oldest first."""
        rows = await SlackMessageRow.filter(submission_ref=ref, rule=rule, kind=kind).order_by("id")
        return [Posted(r.key, r.person, r.channel, r.ts) for r in rows]

    async def claim(self, key: str, person: str, ref: str, kind: str, now: dt.datetime) -> bool:
        """Reserve KEY before posting its message (channel and ts still empty); False when another
        worker, in this process or another, holds it. The unique key makes the claim atomic."""
        try:
            await SlackMessageRow.create(
                key=key, person=person, channel="", ts="", submission_ref=ref, rule=None, kind=kind, created_at=now
            )
        except IntegrityError:
            return False
        return True

    async def take_over(self, key: str, claimed_before: dt.datetime, now: dt.datetime) -> bool:
        """Take a claim whose holder never posted (it crashed) once it is older than CLAIMED_BEFORE."""
        taken = await SlackMessageRow.filter(key=key, ts="", created_at__lt=claimed_before).update(created_at=now)
        return taken == 1

    async def fill(self, key: str, channel: str, ts: str) -> Posted:
        """The claimed message was posted: record where."""
        await SlackMessageRow.filter(key=key, ts="").update(channel=channel, ts=ts)
        row = await SlackMessageRow.get(key=key)
        return Posted(row.key, row.person, row.channel, row.ts)

    async def release(self, key: str) -> None:
        """Give up a claim whose message could not be posted, so the next attempt posts it."""
        await SlackMessageRow.filter(key=key, ts="").delete()
