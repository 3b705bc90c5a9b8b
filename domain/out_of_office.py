"""Out-of-office windows that behave (pure): one person's own windows listed, and a new window
refused, with a sentence, when it is in the past, longer than the policy allows, or overlaps
another of their windows (which must be replaced or cancelled explicitly).

A window is a `Delegation`; "open" windows are those not over by `today` (the delegator's day).
"""

from __future__ import annotations

import datetime as dt

from .approvals import Delegation
from .errors import Conflict
from .events import Event, Kind
from .i18n import _
from .policy import Policy


def open_windows(delegations: list[Delegation], delegator: str, today: dt.date) -> list[Delegation]:
    """`delegator`'s windows that are on now or still to come, earliest first."""
    mine = [d for d in delegations if d.delegator == delegator and d.end >= today and d.start <= d.end]
    return sorted(mine, key=lambda d: (d.start, d.id))


def window_words(window: Delegation) -> str:
    """ "2026-11-02 to 2026-11-06" (one day: "2026-11-02")."""
    if window.start == window.end:
        return window.start.isoformat()
    return _("{start} to {end}", start=window.start.isoformat(), end=window.end.isoformat())


def check_window(
    policy: Policy,
    delegations: list[Delegation],
    delegator: str,
    start: dt.date,
    end: dt.date,
    today: dt.date,
    replacing: int | None = None,
    names: dict[str, str] | None = None,
    own: bool = True,
) -> None:
    """Raise `Conflict` saying what is wrong with a new window of `delegator` from `start` to `end`
    (inclusive), `today` being the delegator's day; `replacing` is the id of the window it replaces."""
    if end < start:
        raise Conflict(_("The window ends ({end}) before it starts ({start}).", end=end, start=start))
    if end < today:
        raise Conflict(
            _(
                "The window {start} to {end} is in the past (today is {today}): nothing would change.",
                start=start,
                end=end,
                today=today,
            )
        )
    longest = policy.out_of_office.max_days
    days = (end - start).days + 1
    if days > longest:
        raise Conflict(
            _(
                "The window is {days} days long; the policy allows at most {longest} "
                "(out_of_office.max_days): set a shorter one, or ask an admin.",
                days=days,
                longest=longest,
            )
        )
    for other in open_windows(delegations, delegator, today):
        if other.id == replacing:
            continue
        if other.start <= end and start <= other.end:
            who = (names or {}).get(other.delegate, other.delegate)
            overlap = _(
                "It overlaps the window {window} (#{id}, {who} decides)",
                window=window_words(other),
                id=other.id,
                who=who,
            )
            if not own:
                whose = (names or {}).get(delegator, delegator)
                raise Conflict(
                    _("{overlap}: {whose} can replace or cancel it with `/deal ooo`.", overlap=overlap, whose=whose)
                )
            raise Conflict(
                _(
                    "{overlap}: replace it with `/deal ooo replace {id} {start} {end} @delegate` "
                    "or cancel it with `/deal ooo cancel {id}`.",
                    overlap=overlap,
                    id=other.id,
                    start=start,
                    end=end,
                )
            )
    if replacing is not None and not any(w.id == replacing for w in open_windows(delegations, delegator, today)):
        raise Conflict(_("There is no window #{id} of yours to replace: `/deal ooo` lists them.", id=replacing))


def notice_recipients(event: Event) -> list[str]:
    """Who is told of a delegation or replacement event, once each: the delegate(s), and the
    person away or replaced when someone else (an admin) did it; the replacement too."""
    out: list[str] = []
    if event.kind in (Kind.DELEGATION_SET, Kind.DELEGATION_ENDED):
        out.extend(event.people)
        if event.on_behalf_of and event.on_behalf_of != event.actor:
            out.append(event.on_behalf_of)
    elif event.kind is Kind.REPLACEMENT_SET:
        out.extend(p for p in event.people if p != event.actor)
    return list(dict.fromkeys(p for p in out if p))
