"""People's own choices, stored: how each one is reached (`/deal notify slack|email|both`)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from .models import PersonPrefRow

Notify = Literal["slack", "email", "both"]
CHOICES: tuple[Notify, ...] = ("slack", "email", "both")


async def notify_of(person: str) -> Notify:
    """How `person` is reached: "slack" unless they chose otherwise."""
    row = await PersonPrefRow.filter(person=person).first()
    value = row.notify if row is not None else "slack"
    return value if value in CHOICES else "slack"


async def set_notify(person: str, how: Notify, now: dt.datetime) -> None:
    updated = await PersonPrefRow.filter(person=person).update(notify=how, updated_at=now)
    if not updated:
        await PersonPrefRow.create(person=person, notify=how, updated_at=now)
