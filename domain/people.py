"""Who a person field of a quote names (crm-v1 §2), as small pure functions.

A CRM knows a rep by email or by its own user id, Slack by a user id, the policy by a directory
key. `resolve_person` turns any of the four into the directory key, or refuses with a sentence
naming the field and the value: a value that matches nobody, or two people, is never guessed.
`person_fields` lists the fields of a quote that hold people (`owner`, and where each `field:`
approver lands), and `with_people_resolved` gives the quote's data with each of them resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from .errors import Problem, QuoteError
from .sourcemap import format_path


class Entry(Protocol):
    """What resolution reads of a directory entry (`domain.policy.Person` has it)."""

    @property
    def slack(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def crm_id(self) -> str | None: ...


def matches(people: Mapping[str, Entry], value: str) -> list[str]:
    """Every directory key that `value` names: as the key, the Slack id, the email (any case) or the CRM id."""
    wanted = value.casefold()
    found = []
    for key, entry in people.items():
        if (
            value == key
            or (entry.slack is not None and value == entry.slack)
            or (entry.email is not None and wanted == entry.email.casefold())
            or (entry.crm_id is not None and value == entry.crm_id)
        ):
            found.append(key)
    return found


def person_problem(people: Mapping[str, Entry], value: Any, field: str) -> tuple[str | None, Problem | None]:
    """(the directory key `value` names, None) or (None, the problem with it, naming `field`)."""
    if not isinstance(value, str) or not value:
        return None, Problem(field, f"{field} must name a person: a directory key, Slack user id, email or CRM id")
    shown = value if len(value) <= 80 else value[:77] + "..."
    if value != value.strip():
        return None, Problem(field, f"{field} {shown!r} has white space around it: send the value alone")
    found = matches(people, value)
    if not found:
        return None, Problem(
            field,
            f"{field} {shown!r} matches nobody in the directory (by key, Slack user id, email or people.<key>.crm_id)",
        )
    if len(found) > 1:
        return None, Problem(
            field, f"{field} {shown!r} matches {len(found)} people ({', '.join(found)}): send one of their keys"
        )
    return found[0], None


def resolve_person(people: Mapping[str, Entry], value: Any, field: str) -> str:
    """The directory key `value` names; raises QuoteError naming `field` when it names nobody or several."""
    key, problem = person_problem(people, value, field)
    if problem is not None:
        raise QuoteError([problem])
    assert key is not None
    return key


def person_fields(data: Mapping[str, Any], paths: Iterable[str]) -> list[tuple[str, ...]]:
    """Where the quote holds people: `owner`, and for each dotted `field:` path the step that lands on a
    person (the first text met walking the path: `owner.manager` lands on `owner`). A list of people
    gives one place per item."""
    found: list[tuple[str, ...]] = [("owner",)]
    for path in paths:
        node: Any = data
        walked: tuple[str, ...] = ()
        for step in path.split("."):
            if not isinstance(node, Mapping) or step not in node:
                break
            node, walked = node[step], (*walked, step)
            if isinstance(node, str):
                found.append(walked)
                break
            if isinstance(node, list):
                found.extend((*walked, str(index)) for index, item in enumerate(node) if isinstance(item, str))
                break
    return list(dict.fromkeys(found))


def with_people_resolved(
    people: Mapping[str, Entry], data: dict[str, Any], paths: Iterable[str]
) -> tuple[dict[str, Any], list[Problem]]:
    """A copy of `data` whose person fields hold directory keys, and the problems found (none: all resolved)."""
    problems: list[Problem] = []
    resolved = _copy(data)
    for place in person_fields(data, paths):
        parent: Any = resolved
        for step in place[:-1]:
            parent = parent[step]
        last: Any = int(place[-1]) if isinstance(parent, list) else place[-1]
        key, problem = person_problem(people, parent[last], ".".join(place))
        if problem is not None:
            # located by JSON path, as every other problem with a quote ($.owner, $.team.se)
            path = [int(step) if step.isdigit() else step for step in place]
            problems.append(Problem("$." + format_path(path), problem.message))
        elif key != parent[last]:
            parent[last] = key
    return (data if problems else resolved), problems


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
