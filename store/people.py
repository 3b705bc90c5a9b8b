"""People's own choices, stored: how each one is reached (`/deal notify slack|email|both`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ValidationError
from tortoise.transactions import in_transaction

from domain.errors import Conflict
from domain.events import Kind
from domain.policy import Person, Policy

from .models import AuditRow, PersonChangeRow, PersonPrefRow

Notify = Literal["slack", "email", "both"]
CHOICES: tuple[Notify, ...] = ("slack", "email", "both")


async def notify_of(person: str) -> Notify:
    """How `person` is reached: "slack" unless they chose otherwise."""
    row = await PersonPrefRow.filter(person=person).first()
    value = row.notify if row is not None else "slack"
    return value if value in CHOICES else "slack"


async def notify_all() -> dict[str, Notify]:
    """How each person who chose is reached (one read for a batch of deliveries); others: "slack"."""
    return {row.person: row.notify for row in await PersonPrefRow.all() if row.notify in CHOICES}


async def set_notify(person: str, how: Notify, now: dt.datetime) -> None:
    updated = await PersonPrefRow.filter(person=person).update(notify=how, updated_at=now)
    if not updated:
        await PersonPrefRow.create(person=person, notify=how, updated_at=now)


PERSON_FIELDS = ("name", "email", "manager", "timezone", "slack", "locale")


async def changes() -> dict[str, dict[str, Any]]:
    """Every person added or changed from chat: key -> the fields set."""
    return {row.person: dict(row.data) for row in await PersonChangeRow.all().order_by("person")}


def apply_changes(policy: Policy, changed: dict[str, dict[str, Any]]) -> None:
    """Lay the chat changes over the policy's `people` (in memory): the YAML stays the source."""
    for key, data in changed.items():
        current = policy.people.get(key)
        base = current.model_dump() if current is not None else {}
        policy.people[key] = Person(**{**base, **{k: v for k, v in data.items() if k in PERSON_FIELDS}})


async def change_person(policy: Policy, person: str, data: dict[str, Any], by: str, now: dt.datetime) -> dict[str, Any]:
    """Add or change one person (validated like the policy file), store it, record it in the audit."""
    current = policy.people.get(person)
    merged = {**(current.model_dump() if current is not None else {}), **data}
    try:
        checked = Person(**merged)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise Conflict(f"Nothing was changed: {problems}") from None
    if checked.manager is not None and checked.manager not in policy.people and checked.manager != person:
        raise Conflict(f"Nothing was changed: the manager {checked.manager!r} is not in the directory")
    if checked.manager == person:
        raise Conflict("Nothing was changed: a person cannot be their own manager")
    async with in_transaction():
        row = await PersonChangeRow.filter(person=person).first()
        stored = {**(dict(row.data) if row is not None else {}), **data}
        if row is None:
            await PersonChangeRow.create(person=person, data=stored, changed_by=by, changed_at=now)
        else:
            await PersonChangeRow.filter(person=person).update(data=stored, changed_by=by, changed_at=now)
        await AuditRow.create(
            at=now,
            kind=Kind.PERSON_CHANGED.value,
            quote_id="",
            quote_version=0,
            submission=0,
            actor=by,
            people=[person],
            detail={"added": current is None, **data},
        )
    policy.people[person] = checked
    return data
