"""The audit trail across quotes, for `greenlight audit --since --until`: every event recorded in
a window of time, oldest first (delegations and replacements, which belong to no quote, included)."""

from __future__ import annotations

import datetime as dt

from domain.events import Event, Kind

from .models import AuditRow


async def between(since: dt.datetime | None, until: dt.datetime | None) -> list[Event]:
    """Events recorded at `since` or later and before `until` (either may be None: open-ended)."""
    query = AuditRow.all()
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    rows = await query.order_by("at", "id")
    return [event_of(r) for r in rows]


def event_of(r: AuditRow) -> Event:
    """The event an audit row records."""
    return Event(
        Kind(r.kind),
        r.at,
        r.quote_id,
        r.quote_version,
        r.submission,
        r.rule,
        r.actor,
        r.on_behalf_of,
        r.comment,
        tuple(r.people or ()),
        dict(r.detail or {}),
    )
