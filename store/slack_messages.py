"""The Slack messages Greenlight has posted (`slack_message`), so a later change updates a copy
instead of posting it again, and a redelivered event never posts twice.

The outbox worker reads the messages of a whole batch's submissions at once (`preload`) and then
answers from that copy, which it keeps up to date with what it writes, until `forget`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from . import light
from .models import SlackMessageRow
from .sqlite import instant

SQLITE_ADD = (
    'INSERT INTO "slack_message" ("key", "person", "channel", "ts", "submission_ref", "rule", "kind", "created_at") '
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING "id"'
)


@dataclass(frozen=True)
class Posted:
    key: str
    person: str
    channel: str
    ts: str


@dataclass(frozen=True)
class _Kept:
    id: int
    posted: Posted
    ref: str
    rule: str | None
    kind: str


class SlackMessages:
    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}
        self._refs: set[str] = set()
        """The submissions whose every message is in `_kept` (read by `preload`)."""

    async def preload(self, refs: list[str]) -> None:
        """Read every message of these submissions in one statement; `find` and `copies` answer from it."""
        wanted = sorted(set(refs) - self._refs)
        if not wanted:
            return
        for row in await SlackMessageRow.filter(submission_ref__in=wanted):
            self._keep(row)
        self._refs.update(wanted)

    def forget(self) -> None:
        """Read from the database again (the end of a batch)."""
        self._kept, self._refs = {}, set()

    def _keep(self, row: SlackMessageRow) -> Posted:
        posted = Posted(row.key, row.person, row.channel, row.ts)
        self._kept[row.key] = _Kept(row.id, posted, row.submission_ref, row.rule, row.kind)
        return posted

    async def find(self, key: str, ref: str | None = None) -> Posted | None:
        """The message of `key`; `ref` (its submission) lets a preloaded batch answer without a query."""
        if ref is not None and ref in self._refs:
            kept = self._kept.get(key)
            return kept.posted if kept is not None else None
        row = await SlackMessageRow.filter(key=key).first()
        return Posted(row.key, row.person, row.channel, row.ts) if row else None

    async def add(
        self, key: str, person: str, channel: str, ts: str, ref: str, rule: str | None, kind: str, now: dt.datetime
    ) -> Posted:
        """Record a message just posted. On SQLite without its own fsync (`store.light`): losing the
        record in a power cut means the event is delivered again, which posts the message again."""
        posted = Posted(key, person, channel, ts)
        db = light.available()
        if db is not None:
            (row,) = await light.write(db, SQLITE_ADD, (key, person, channel, ts, ref, rule, kind, instant(now)))
            row_id = row["id"]
        else:
            created = await SlackMessageRow.create(
                key=key, person=person, channel=channel, ts=ts, submission_ref=ref, rule=rule, kind=kind, created_at=now
            )
            row_id = created.id
        if ref in self._refs:
            self._kept[key] = _Kept(row_id, posted, ref, rule, kind)
        return posted

    async def copies(self, ref: str, rule: str, kind: str = "request") -> list[Posted]:
        """Every copy of one request (one per person it was sent to), oldest first."""
        if ref in self._refs:
            kept = sorted(
                (k for k in self._kept.values() if k.ref == ref and k.rule == rule and k.kind == kind),
                key=lambda k: k.id,
            )
            return [k.posted for k in kept]
        rows = await SlackMessageRow.filter(submission_ref=ref, rule=rule, kind=kind).order_by("id")
        return [Posted(r.key, r.person, r.channel, r.ts) for r in rows]

    async def claim(self, key: str, person: str, ref: str, kind: str, now: dt.datetime) -> bool:
        """Reserve KEY before posting its message (channel and ts still empty); False when another
        worker, in this process or another, holds it. The unique key makes the claim atomic."""
        try:
            row = await SlackMessageRow.create(
                key=key, person=person, channel="", ts="", submission_ref=ref, rule=None, kind=kind, created_at=now
            )
        except IntegrityError:
            return False
        if ref in self._refs:
            self._keep(row)
        return True

    async def take_over(self, key: str, claimed_before: dt.datetime, now: dt.datetime) -> bool:
        """Take a claim whose holder never posted (it crashed) once it is older than CLAIMED_BEFORE."""
        taken = await SlackMessageRow.filter(key=key, ts="", created_at__lt=claimed_before).update(created_at=now)
        return taken == 1

    async def fill(self, key: str, channel: str, ts: str) -> Posted:
        """The claimed message was posted: record where."""
        await SlackMessageRow.filter(key=key, ts="").update(channel=channel, ts=ts)
        row = await SlackMessageRow.get(key=key)
        if row.submission_ref in self._refs:
            return self._keep(row)
        return Posted(row.key, row.person, row.channel, row.ts)

    async def release(self, key: str) -> None:
        """Give up a claim whose message could not be posted, so the next attempt posts it."""
        await SlackMessageRow.filter(key=key, ts="").delete()
        kept = self._kept.get(key)
        if kept is not None and not kept.posted.ts:
            del self._kept[key]
