"""The policy in force for every replica: numbered versions of its validated text.

`publish` adds a version only when the text differs from the newest (so a reload of an unchanged
file, or the same file applied by several replicas at once, makes no new version); `newest`
is what each replica polls to follow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError, OperationalError

from .models import PolicyVersionRow

ATTEMPTS = 20


@dataclass(frozen=True)
class PolicyVersion:
    version: int
    digest: str
    text: str
    source: str
    applied_by: str
    applied_at: dt.datetime


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _version(row: PolicyVersionRow) -> PolicyVersion:
    return PolicyVersion(row.version, row.digest, row.text, row.source, row.applied_by, row.applied_at)


async def newest() -> PolicyVersion | None:
    row = await PolicyVersionRow.all().order_by("-version").first()
    return _version(row) if row is not None else None


async def newest_number() -> int:
    """The version in force (0 when none was ever published): a cheap poll."""
    row = await PolicyVersionRow.all().order_by("-version").only("version").first()
    return row.version if row is not None else 0


async def publish(text: str, source: str, by: str, now: dt.datetime) -> tuple[PolicyVersion, bool]:
    """The newest version after adding `text` (already validated); True when it is a new version."""
    digest = digest_of(text)
    for _ in range(ATTEMPTS):
        current = await newest()
        if current is not None and current.digest == digest:
            return current, False
        number = (current.version if current is not None else 0) + 1
        try:
            row = await PolicyVersionRow.create(
                version=number, digest=digest, text=text, source=source[:255], applied_by=by[:128], applied_at=now
            )
        except (IntegrityError, OperationalError):
            continue  # another replica published that number first (or held the SQLite lock): look again
        return _version(row), True
    raise RuntimeError("could not publish the policy: other replicas kept publishing at the same time")
