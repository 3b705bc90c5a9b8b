"""Reading what a person typed into Greenlight's modals (`view.state.values`), pure.

Each reader returns the values or raises `FormErrors`, whose `errors` (block id -> sentence)
go straight into the ack: `ack(response_action="errors", errors=error.errors)`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from domain.errors import GreenlightError
from domain.i18n import _

from . import ids
from .text import day

Values = Mapping[str, Mapping[str, Mapping[str, Any]]]


class FormErrors(GreenlightError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors.values()))


def _field(values: Values, where: tuple[str, str]) -> Mapping[str, Any]:
    block, action = where
    return (values.get(block) or {}).get(action) or {}


def read_reject(values: Values) -> str:
    """The reason typed in the reject modal (required, not blank)."""
    reason = (_field(values, ids.REJECT_REASON).get("value") or "").strip()
    if not reason:
        raise FormErrors(
            {ids.REJECT_REASON[0]: _("Say why: the rep needs to know what would make the deal acceptable.")}
        )
    return reason


def read_approve_comment(values: Values) -> str:
    """The comment typed in the "Approve with comment" modal (required, not blank)."""
    comment = (_field(values, ids.APPROVE_NOTE).get("value") or "").strip()
    if not comment:
        raise FormErrors(
            {ids.APPROVE_NOTE[0]: _("Write the comment, or close this and tap Approve to approve without one.")}
        )
    return comment


def read_reassign(values: Values) -> tuple[str, str | None]:
    """(Slack user id of the person chosen, comment or None) from the reassign modal."""
    user = _field(values, ids.REASSIGN_TO).get("selected_user")
    if not user:
        raise FormErrors({ids.REASSIGN_TO[0]: _("Choose who takes this approval.")})
    comment = (_field(values, ids.REASSIGN_COMMENT).get("value") or "").strip() or None
    return str(user), comment


def read_ooo(values: Values) -> tuple[dt.date, dt.date, str]:
    """(first day, last day, delegate's Slack user id) from the out-of-office modal."""
    errors: dict[str, str] = {}
    days: dict[str, dt.date] = {}
    for where, missing in (
        (ids.OOO_START, _("Pick the first day away.")),
        (ids.OOO_END_DATE, _("Pick the last day away.")),
    ):
        raw = _field(values, where).get("selected_date")
        try:
            days[where[0]] = dt.date.fromisoformat(str(raw))
        except ValueError:
            errors[where[0]] = missing
    delegate = _field(values, ids.OOO_DELEGATE).get("selected_user")
    if not delegate:
        errors[ids.OOO_DELEGATE[0]] = _("Choose who decides for you while you are away.")
    start, end = days.get(ids.OOO_START[0]), days.get(ids.OOO_END_DATE[0])
    if start and end and end < start:
        errors[ids.OOO_END_DATE[0]] = _("The last day is before the first day ({day}).", day=day(start))
    if errors:
        raise FormErrors(errors)
    assert start is not None and end is not None
    return start, end, str(delegate)
