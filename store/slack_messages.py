"""The Slack messages Greenlight has posted (`slack_message`), so a later change updates a copy
instead of posting it again, and a redelivered event never posts twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
