"""The approval policy: what an admin writes (policy-v1 §1), validated into typed objects.

`load_policy(text, source)` returns a `Policy` or raises `PolicyError` listing every problem at
once, each with its file, line and path. Sections are validated piece by piece so that one bad
rule does not hide the problems of the next.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path as FilePath
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from . import i18n, logic
from .errors import InvalidInput, PolicyError, Problem
from .sourcemap import Path, SourceMap, load_yaml, read_text
from .values import OPERATORS, ORDERED

_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": 60, "h": 3600, "d": 86400}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_duration(text: str) -> dt.timedelta:
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration: write a whole number and m, h or d (30m, 4h, 2d)")
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone name (e.g. America/New_York)") from None
    return name


def _language(tag: str) -> str:
    language = i18n.normalize(tag)
    if language is None:
        raise ValueError(f"{tag!r} is not a language Greenlight speaks (it speaks {', '.join(i18n.available())})")
    return language


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Person(Strict):
    slack: str | None = None
    email: str | None = None
    manager: str | None = None
    timezone: str | None = None
    name: str | None = None
    crm_id: str | None = None  # the person's user id in the CRM (crm-v1 §2)
    locale: str | None = None
    """The language this person reads (`fr`, `en`); when absent, their Slack locale, else the policy's."""

    _zone = field_validator("timezone")(lambda cls, v: v if v is None else _zone(v))
    _locale = field_validator("locale")(lambda cls, v: v if v is None else _language(v))

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[^@\s]+@[^@\s]+$", value):
            raise ValueError(f"{value!r} is not an email address")
        return value


class Quorum(Strict):
    quorum: int = Field(ge=1)


class Approver(Strict):
    user: str | None = None
    group: list[str] | None = None
    mode: Literal["any", "all"] | Quorum | None = None
    field: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Approver:
        kinds = [k for k in ("user", "group", "field") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("an approver needs exactly one of user:, group: or field:")
        if self.group is not None:
            if not self.group:
                raise ValueError("a group needs at least one member")
            if self.mode is None:
                raise ValueError("a group needs mode: any, all or {quorum: N}")
            if len(set(self.group)) != len(self.group):
                raise ValueError("a group lists the same person twice")
            if isinstance(self.mode, Quorum) and self.mode.quorum > len(self.group):
                raise ValueError(
                    f"quorum {self.mode.quorum} is larger than the group "
                    f"({len(self.group)} {'person' if len(self.group) == 1 else 'people'})"
                )
        elif self.mode is not None:
            raise ValueError("mode: only applies to a group")
        return self

    @property
    def kind(self) -> str:
        return "user" if self.user else "group" if self.group else "field"

    @property
    def quorum(self) -> int | None:
        return self.mode.quorum if isinstance(self.mode, Quorum) else None


class Filter(Strict):
    field: str
    op: str
    value: Any = None

    @field_validator("op")
    @classmethod
    def _op(cls, op: str) -> str:
        return _check_op(op)


def _check_op(op: str) -> str:
    if op not in OPERATORS:
        raise ValueError(f"unknown operator {op!r}: use one of {', '.join(OPERATORS)}")
    return op


class DiscountOf(Strict):
    list: str = "list_total"
    net: str = "net_total"


class Variable(Strict):
    aggregate: Literal["sum", "min", "max", "avg", "count"] | None = None
    field: str | None = None
    discount: DiscountOf | None = None
    where: list[Filter] = []
    label: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Variable:
        if (self.aggregate is None) == (self.discount is None):
            raise ValueError("a variable needs either aggregate: (with field:) or discount:")
        if self.aggregate and self.aggregate != "count" and not self.field:
            raise ValueError(f"aggregate {self.aggregate} needs field: (the line field to add up)")
        return self


class Condition(Strict):
    field: str | None = None
    variable: str | None = None
    op: str
    value: Any = None
    other_field: str | None = None
    other_variable: str | None = None
    smart: bool = False
    label: str | None = None

    @field_validator("op")
    @classmethod
    def _op(cls, op: str) -> str:
        return _check_op(op)

    @model_validator(mode="after")
    def _shape(self) -> Condition:
        if (self.field is None) == (self.variable is None):
            raise ValueError("a condition tests exactly one of field: or variable:")
        sides = [s for s in ("value", "other_field", "other_variable") if s in self.model_fields_set]
        if len(sides) != 1:
            raise ValueError("a condition compares against exactly one of value:, other_field: or other_variable:")
        if "value" in self.model_fields_set:
            if self.value is None:
                raise ValueError("value: is empty")
            if self.op in ("in", "not_in") and not isinstance(self.value, list):
                raise ValueError(f"{self.op} needs a list of values, e.g. [Net 60, Net 90]")
            if self.op in ORDERED and isinstance(self.value, list | dict):
                raise ValueError(f"{self.op} compares with one value, not a list")
        return self

    @property
    def subject(self) -> str:
        return self.label or (self.field or self.variable or "").replace("_", " ")


class Effective(Strict):
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _order(self) -> Effective:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"from ({self.start}) is after to ({self.end})")
        return self

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


class Rule(Strict):
    name: str = Field(min_length=1)
    chain: str = "default"
    step: int = Field(default=1, ge=1)
    approver: str
    conditions: list[Condition] = []
    when: str = "all"
    explicit: bool = False
    remind_after: str | None = None
    remind_every: str | None = None  # after the first reminder, remind again this often until decided
    escalate_after: str | None = None
    escalate_to: str | None = None
    effective: Effective | None = None
    description_text: str | dict[str, str] | None = Field(default=None, alias="description")
    """`description:` once (`"Deep discount"`) or per language (`{en: ..., fr: ...}`)."""
    _default_locale: str = PrivateAttr(default=i18n.DEFAULT_LOCALE)

    @field_validator("description_text")
    @classmethod
    def _languages(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        if isinstance(value, dict):
            if not value:
                raise ValueError("description: names no language (write {en: ..., fr: ...} or one text)")
            return {_language(tag): text for tag, text in value.items()}
        return value

    @property
    def description(self) -> str | None:
        """The description in the current language, else the policy's, else the first one given."""
        return i18n.localized(self.description_text, self._default_locale)

    @field_validator("remind_after", "escalate_after", "remind_every")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if (self.escalate_after is None) != (self.escalate_to is None):
            raise ValueError("escalate_after: and escalate_to: go together")
        if self.remind_every is not None and self.remind_after is None:
            raise ValueError("remind_every: needs remind_after: (when the first reminder goes)")
        if self.remind_every is not None and parse_duration(self.remind_every) < dt.timedelta(minutes=30):
            raise ValueError("remind_every: is at least 30m, or people learn to ignore the reminders")
        return self

    @property
    def logic(self) -> logic.Node:
        return logic.parse(self.when, len(self.conditions))

    @property
    def remind_delay(self) -> dt.timedelta | None:
        return parse_duration(self.remind_after) if self.remind_after else None

    @property
    def remind_interval(self) -> dt.timedelta | None:
        return parse_duration(self.remind_every) if self.remind_every else None

    @property
    def escalate_delay(self) -> dt.timedelta | None:
        return parse_duration(self.escalate_after) if self.escalate_after else None


# The line fields of a quote (policy-v1 §2) that `orders.order_by` may name; other names are taken as
# the CRM's own line fields, unless they look like a misspelling of one of these.
LINE_FIELDS = (
    "delivery_date",
    "ship_to",
    "sku",
    "family",
    "recurring",
    "term_months",
    "id",
    "quantity",
    "list_price",
    "net_price",
    "discount_percent",
    "net_total",
    "list_total",
)


class Orders(Strict):
    order_by: list[str] = ["delivery_date", "ship_to"]
    release_time: str = "06:00"
    generate: Literal["button", "auto"] = "button"
    # Days before a contract's end when its owner (and the CRM) hear that its renewal is due.
    renewal_notice_days: int = Field(default=60, ge=0, le=3650)
    # The order desk: people who see orders across quotes (`/deal orders due`, App Home) and read
    # any account's contracts, besides the admins.
    desk: list[str] = []

    @field_validator("order_by", mode="after")
    @classmethod
    def _known_fields(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or not isinstance(name, str):
                raise ValueError("order_by lists line fields, e.g. [delivery_date, ship_to]")
            if name in LINE_FIELDS:
                continue
            close = difflib.get_close_matches(name, LINE_FIELDS, n=1, cutoff=0.75)
            if close:
                raise ValueError(f"{name!r} is not a line field: did you mean {close[0]!r}?")
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(f"order_by names {repeated[0]!r} twice")
        return value

    @field_validator("release_time", mode="before")
    @classmethod
    def _time(cls, value: Any) -> str:
        if not isinstance(value, str) or not _TIME.match(value):
            raise ValueError(f'{value!r} is not a time of day: write it quoted, like "06:00"')
        return value


class OutOfOfficeRules(Strict):
    """How long one out-of-office window may be (`out_of_office: {max_days: 60}` in the policy)."""

    max_days: int = Field(default=60, ge=1, le=366)


class InsightsSettings(Strict):
    """`insights:` (an extension of policy-v1): when an open request counts as stuck."""

    stuck_after: str = "48h"

    @field_validator("stuck_after")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def stuck_delay(self) -> dt.timedelta:
        return parse_duration(self.stuck_after)


class Policy(Strict):
    version: Literal[1] = 1
    timezone: str = "UTC"
    locale: str = i18n.DEFAULT_LOCALE
    """The default language: for people with no language of their own, and for messages several read."""
    admins: list[str] = []
    fallback_approver: str
    people: dict[str, Person] = {}
    approvers: dict[str, Approver] = {}
    variables: dict[str, Variable] = {}
    rules: list[Rule] = []
    orders: Orders = Orders()
    out_of_office: OutOfOfficeRules = OutOfOfficeRules()
    deal_channel: str | None = None
    """A Slack channel id where each submission gets one thread (submitted, decided, orders) for discussion."""

    @field_validator("deal_channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[CG][A-Z0-9]{2,20}", value):
            raise ValueError(
                f"{value!r} is not a Slack channel id: copy the id (like C0123ABCD) from the channel's details"
            )
        return value

    insights: InsightsSettings = InsightsSettings()

    _zone = field_validator("timezone")(lambda cls, v: _zone(v))
    _locale = field_validator("locale")(lambda cls, v: _language(v))

    @model_validator(mode="after")
    def _texts_fall_back_to_the_policy_language(self) -> Policy:
        for rule in self.rules:
            rule._default_locale = self.locale
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def person_locale(self, key: str | None, slack_locale: str | None = None) -> str:
        """The language `key` reads: their `locale:` in the policy, else their Slack locale, else the
        policy's default."""
        person = self.people.get(key) if key else None
        return i18n.choose(person.locale if person else None, slack_locale, self.locale)

    def person_zone(self, key: str) -> ZoneInfo:
        person = self.people.get(key)
        return ZoneInfo(person.timezone) if person and person.timezone else self.zone

    def rule(self, name: str) -> Rule | None:
        return next((r for r in self.rules if r.name == name), None)

    def approver(self, name: str) -> Approver | None:
        """An approver definition by name; a people key stands for a one-person approver."""
        if name in self.approvers:
            return self.approvers[name]
        if name in self.people:
            return Approver(user=name)
        return None

    def person_for(self, handle: str) -> str | None:
        """The people key for a key or a Slack user id."""
        if handle in self.people:
            return handle
        return next((k for k, p in self.people.items() if p.slack == handle), None)


_SECTIONS: dict[str, type[Strict]] = {
    "people": Person,
    "approvers": Approver,
    "variables": Variable,
}
_TOP = set(Policy.model_fields)


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key {error['loc'][-1]!r}"
    if kind == "missing":
        return f"missing required key {error['loc'][-1]!r}"
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


_Model = TypeVar("_Model", bound=BaseModel)


def _validate(model: type[_Model], data: Any, path: Path, where: SourceMap, problems: list[Problem]) -> _Model | None:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and "[" in p))
            if loc and loc[-1] in ("function-after", "literal['any','all']", "Quorum"):
                loc = loc[:-1]
            problems.append(where.problem((*path, *loc), _describe(item)))
        return None


def load_policy(text: str, source: str = "policy.yaml") -> Policy:
    data, where, problems = load_yaml(text, source)
    if data is None and not problems:
        problems.append(Problem(source, "the policy file is empty"))
    if problems and data is None:
        raise PolicyError(problems, source)
    if not isinstance(data, dict):
        raise PolicyError([Problem(source, "a policy is a YAML mapping (version:, people:, rules: ...)")])
    return _build(data, where, problems)


def read_policy(path: str | FilePath) -> Policy:
    try:
        text = read_text(path, "policy file")
    except InvalidInput as error:
        raise PolicyError(error.problems) from None
    return load_policy(text, str(path))


def _build(data: dict[Any, Any], where: SourceMap, problems: list[Problem]) -> Policy:
    for key in data:
        if key not in _TOP:
            problems.append(where.problem((key,), f"unknown section {key!r}"))
    clean: dict[str, Any] = {k: v for k, v in data.items() if k in _TOP}
    for section, model in _SECTIONS.items():
        raw = data.get(section) or {}
        if not isinstance(raw, dict):
            problems.append(where.problem((section,), "must be a mapping of names"))
            clean[section] = {}
            continue
        parsed: dict[str, Strict] = {}
        for name, item in raw.items():
            value = _validate(model, item if item is not None else {}, (section, name), where, problems)
            if value is not None:
                parsed[str(name)] = value
        clean[section] = parsed
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        problems.append(where.problem(("rules",), "must be a list of rules"))
        raw_rules = []
    rules = []
    for index, item in enumerate(raw_rules):
        rule = _validate(Rule, item, ("rules", index), where, problems)
        when_ok = True
        if isinstance(item, dict) and isinstance(item.get("conditions") or [], list):
            try:
                logic.parse(str(item.get("when", "all")), len(item.get("conditions") or []))
            except logic.LogicError as error:
                problems.append(where.problem(("rules", index, "when"), str(error)))
                when_ok = False
        if rule is not None and when_ok:
            rules.append((index, rule))
    clean["rules"] = [rule for _, rule in rules]
    if "fallback_approver" not in data:
        problems.append(
            where.problem(
                (),
                (
                    "fallback_approver: is missing: name the approver who takes an approval that resolves "
                    "to nobody eligible (for example the owner's own manager approval)"
                ),
            )
        )
        clean["fallback_approver"] = ""
    try:
        policy = Policy.model_validate(clean)
    except ValidationError as error:
        for item in error.errors():
            problems.append(where.problem(tuple(item["loc"]), _describe(item)))
            clean.pop(str(item["loc"][0]), None)
        clean.setdefault("fallback_approver", "")
        try:
            policy = Policy.model_validate(clean)
        except ValidationError:
            raise PolicyError(problems, where.source) from None
    problems.extend(_cross_check(policy, raw_rules, where, _keys(data.get("approvers")), _keys(data.get("people"))))
    if problems:
        raise PolicyError(sorted(problems, key=_line_of), where.source)
    return policy


def _keys(section: Any) -> set[str]:
    return {str(k) for k in section} if isinstance(section, dict) else set()


def _line_of(problem: Problem) -> int:
    _, _, line = problem.where.rpartition(":")
    return int(line) if line.isdigit() else 0


def _cross_check(
    policy: Policy, raw_rules: list[Any], where: SourceMap, approvers: set[str], people: set[str]
) -> list[Problem]:
    """Problems between sections; names declared in the file count even when their entry has problems."""
    problems: list[Problem] = []

    def known(name: str) -> bool:
        return name in approvers or name in people

    def person(path: Path, key: str, role: str) -> None:
        if key not in people:
            problems.append(where.problem(path, f"{role} {key!r} is not in people:"))

    for index, key in enumerate(policy.admins):
        person(("admins", index), key, "admin")
    for index, key in enumerate(policy.orders.desk):
        person(("orders", "desk", index), key, "order desk member")
    for key, entry in policy.people.items():
        if entry.manager is not None:
            person(("people", key, "manager"), entry.manager, "manager")
    slack_ids: dict[str, str] = {}
    for key, entry in policy.people.items():
        if entry.slack and entry.slack in slack_ids:
            problems.append(
                where.problem(
                    ("people", key, "slack"), (f"Slack id {entry.slack} is already {slack_ids[entry.slack]}'s")
                )
            )
        elif entry.slack:
            slack_ids[entry.slack] = key
    for name, approver in policy.approvers.items():
        if approver.user is not None:
            person(("approvers", name, "user"), approver.user, "user")
        for index, member in enumerate(approver.group or []):
            person(("approvers", name, "group", index), member, "group member")
    if policy.fallback_approver and not known(policy.fallback_approver):
        problems.append(
            where.problem(("fallback_approver",), f"{policy.fallback_approver!r} is neither an approver nor a person")
        )
    fallback = policy.approvers.get(policy.fallback_approver)
    if fallback is not None and fallback.field is not None:
        problems.append(
            where.problem(
                ("fallback_approver",),
                "the fallback approver must name people (user: or group:), not a quote field, "
                "since it is used exactly when a field resolves to nobody",
            )
        )
    problems.extend(_manager_cycles(policy, where))
    for name, variable in policy.variables.items():
        for index, flt in enumerate(variable.where):
            if flt.op in ("in", "not_in") and not isinstance(flt.value, list):
                problems.append(
                    where.problem(("variables", name, "where", index, "value"), (f"{flt.op} needs a list of values"))
                )
    seen: dict[str, int] = {}
    for index, item in enumerate(raw_rules):
        if not isinstance(item, dict):
            continue
        path = ("rules", index)
        rule_name = item.get("name")
        if isinstance(rule_name, str) and rule_name in seen:
            problems.append(
                where.problem(
                    (*path, "name"),
                    (f"rule name {rule_name!r} is already used by rules[{seen[rule_name]}]; names must be unique"),
                )
            )
        if isinstance(rule_name, str):
            seen.setdefault(rule_name, index)
        for key, what in (
            ("approver", "unknown approver {!r}: define it under approvers: or name a person"),
            ("escalate_to", "unknown approver {!r} to escalate to"),
        ):
            value = item.get(key)
            if isinstance(value, str) and not known(value):
                problems.append(where.problem((*path, key), what.format(value)))
        conditions = item.get("conditions")
        for number, condition in enumerate(conditions if isinstance(conditions, list) else []):
            if not isinstance(condition, dict):
                continue
            for key in ("variable", "other_variable"):
                referenced = condition.get(key)
                if isinstance(referenced, str) and referenced not in policy.variables:
                    problems.append(
                        where.problem(
                            (*path, "conditions", number, key),
                            (f"unknown variable {referenced!r}: define it under variables:"),
                        )
                    )
    return problems


def _manager_cycles(policy: Policy, where: SourceMap) -> list[Problem]:
    problems = []
    reported: set[str] = set()
    for start in policy.people:
        trail: list[str] = []
        key: str | None = start
        while key is not None and key in policy.people and key not in trail:
            trail.append(key)
            key = policy.people[key].manager
        if key is not None and key in trail:
            loop = trail[trail.index(key) :]
            if not reported & set(loop):
                reported |= set(loop)
                chain = " → ".join([*loop, key])
                problems.append(where.problem(("people", loop[0], "manager"), (f"managers form a cycle: {chain}")))
    return problems
