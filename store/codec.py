"""Rows to domain objects: submissions to and from JSON documents (the `state` column), losslessly, and orders."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import fields
from typing import Any

from domain import amounts
from domain.approvals import Approval, Seat, Submission
from domain.orders import PlannedOrder

from .models import OrderRow

_MOMENTS = {"requested_at", "decided_at", "voted_at", "submitted_at"}


_PLAIN = frozenset({str, int, bool, float, type(None)})


def _dump(value: Any) -> Any:
    if type(value) in _PLAIN:  # most of a state document: checked before the isinstance tests
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return _dump_mapping(value)
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return value


def _dump_mapping(value: dict[Any, Any]) -> dict[str, Any]:
    return {str(k): _dump(v) for k, v in value.items()}


def _moment(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def dump(sub: Submission) -> dict[str, Any]:
    """The submission's state document, without its snapshot (kept in a column of its own, written once)."""
    state = {name: getattr(sub, name) for name in _SUBMISSION_FIELDS if name not in ("snapshot", "approvals")}
    state["approvals"] = [_approval_document(a) for a in sub.approvals]
    return _dump_mapping(state)


def _approval_document(approval: Approval) -> dict[str, Any]:
    """What `dataclasses.asdict` gives for an approval (its seats the only dataclasses in it), without
    its deep copy: the values are dumped into new containers right after."""
    document = {name: getattr(approval, name) for name in _APPROVAL_FIELDS}
    document["seats"] = [{name: getattr(seat, name) for name in _SEAT_FIELDS} for seat in approval.seats]
    return document


_SEAT_FIELDS = tuple(f.name for f in fields(Seat))
_APPROVAL_FIELDS = tuple(f.name for f in fields(Approval))
_SUBMISSION_FIELDS = tuple(f.name for f in fields(Submission))


def _seat(data: dict[str, Any]) -> Seat:
    seat = Seat(**{name: data[name] for name in _SEAT_FIELDS if name in data})
    seat.voted_at = _moment(seat.voted_at)
    seat.auto = bool(seat.auto)
    return seat


def _approval(data: dict[str, Any]) -> Approval:
    values = {int(k): v for k, v in (data.get("values") or {}).items()}
    kwargs = {name: data[name] for name in _APPROVAL_FIELDS if name in data}
    kwargs["seats"] = [_seat(s) for s in data.get("seats", [])]
    kwargs["values"] = values
    approval = Approval(**kwargs)
    approval.requested_at = _moment(approval.requested_at)
    approval.decided_at = _moment(approval.decided_at)
    approval.reminded_at = _moment(approval.reminded_at)
    return approval


def load(data: dict[str, Any], snapshot: dict[str, Any] | None = None) -> Submission:
    """The submission of a state document; `snapshot` is its column (None: a row from before the column,
    whose state holds it)."""
    kwargs = _arguments(data)
    if snapshot is not None:
        kwargs["snapshot"] = snapshot
    return Submission(**kwargs)


def _arguments(data: dict[str, Any]) -> dict[str, Any]:
    kwargs = {name: data[name] for name in _SUBMISSION_FIELDS if name in data}
    kwargs["approvals"] = [_approval(a) for a in data.get("approvals", [])]
    kwargs["submitted_at"] = _moment(kwargs["submitted_at"])
    kwargs["decided_at"] = _moment(kwargs.get("decided_at"))
    kwargs["due_at"] = _moment(kwargs.get("due_at"))
    return kwargs


class StoredSubmission(Submission):
    """A submission read by the hot path: its snapshot (the quote as submitted: its lines make it the
    largest part of a submission, and a decision never reads it) is decoded the first time it is read."""

    @property
    def snapshot(self) -> dict[str, Any]:
        value = self.__dict__["_snapshot"]
        if value is UNREAD:
            raise LookupError(
                f"{self.ref} was read for a list, without its snapshot: heading() has what a list shows; "
                "read the submission itself for the rest"
            )
        if isinstance(value, _Encoded):
            value = self.__dict__["_snapshot"] = amounts.loads(value.text)
        snapshot: dict[str, Any] = value
        return snapshot

    @snapshot.setter
    def snapshot(self, value: dict[str, Any]) -> None:
        self.__dict__["_snapshot"] = value

    def heading(self) -> dict[str, Any]:
        value = self.__dict__.get("_heading")
        if isinstance(value, str):  # read by the database from the snapshot, without the lines
            value = self.__dict__["_heading"] = amounts.loads(value)
        return value if isinstance(value, dict) else super().heading()

    def __repr__(self) -> str:
        return f"StoredSubmission({self.ref}, {self.status}, revision {self.revision})"


@dataclasses.dataclass(frozen=True)
class _Encoded:
    text: str


class _Unread:
    """The snapshot of a submission read for a list: not read at all."""


UNREAD: Any = _Unread()


def load_lazily(data: dict[str, Any], snapshot: str | None, heading: str | None = None) -> Submission:
    """The submission of a state document whose snapshot column was read as text (`store.decision`):
    the snapshot is decoded when first read (None: a row from before the column, whose state holds it;
    UNREAD: not read, for a list). HEADING is the snapshot without its lines, as JSON text, for
    `heading()`."""
    kwargs = _arguments(data)
    if snapshot is UNREAD:
        kwargs["snapshot"] = UNREAD
    elif snapshot is not None:
        kwargs["snapshot"] = _Encoded(snapshot)
    sub = StoredSubmission(**kwargs)
    if heading is not None:
        sub.__dict__["_heading"] = heading
    return sub


def order_of(row: OrderRow) -> PlannedOrder:
    """An order as stored: its data, with the status, release moment, ERP reference and revision of its row."""
    order = PlannedOrder.from_dict(row.data)
    return dataclasses.replace(
        order, status=row.status, released_at=row.released_at, erp_reference=row.erp_reference, revision=row.revision
    )
