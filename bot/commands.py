"""The `/deal` slash command (slack-v1 §3): its text parsed into small imperative commands.

`parse(text)` returns one frozen dataclass per subcommand or raises `UsageError`, whose message
says what was wrong and shows the correct usage line. Who may run what is data (`WHO_MAY`),
checked by the pure `allowed(...)`. Nothing here talks to Slack or the store.

Slack sends user arguments as `<@U123>` or `<@U123|name>` when the command escapes mentions,
and as `@name` when it does not; both arrive here as a `UserRef`. It also escapes `&`, `<` and
`>` in the rest of the text, which `parse` undoes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from domain.errors import GreenlightError
from domain.i18n import _, _n
from domain.policy import Policy
from domain.quote import MAX_KEY, QUOTE_ID

Role = Literal["anyone", "owner", "admin", "approver"]

USAGE: dict[str, str] = {
    "help": "/deal help",
    "preview": "/deal preview Q-1042",
    "submit": "/deal submit Q-1042 [why the deal needs it]",
    "status": "/deal status Q-1042",
    "recall": "/deal recall Q-1042",
    "orders": "/deal orders Q-1042",
    "orders due": "/deal orders due [this week | YYYY-MM-DD..YYYY-MM-DD]",
    "account": "/deal account A-77 [YYYY-MM-DD]",
    "ooo": (
        "/deal ooo YYYY-MM-DD YYYY-MM-DD @delegate · /deal ooo · /deal ooo replace N YYYY-MM-DD YYYY-MM-DD @delegate"
        " · /deal ooo cancel N · /deal ooo off"
    ),
    "delegate": "/deal delegate @who @to YYYY-MM-DD YYYY-MM-DD",
    "replace": "/deal replace @old @new",
    "replacements": "/deal replacements · /deal replacements undo @old",
    "approvers": "/deal approvers",
    "notify": "/deal notify slack|email|both",
    "people": '/deal people · /deal people set KEY email=… manager=KEY timezone=Area/City name="…"',
    "insights": "/deal insights",
    "policy diff": "/deal policy diff",
    "policy reload": "/deal policy reload",
}


def summary() -> dict[str, str]:
    """What each subcommand does, in the reader's language."""
    return {
        "help": _("usage of every subcommand"),
        "preview": _("the approvals a quote would need, before you submit it"),
        "submit": _("submit a quote for approval; the words after its id tell the approvers why"),
        "status": _("where a quote stands, who is holding it and since when"),
        "recall": _("recall a pending submission"),
        "orders": _("a quote's orders with their dates and status"),
        "orders due": _("the order desk: orders of every quote due in a week or between two dates, with their actions"),
        "account": _("contracts and entitlements of an account, today or at a date"),
        "ooo": _(
            "your out-of-office: who decides for you between two dates (inclusive); alone it lists your windows,"
            " `replace N` or `cancel N` changes one, `off` ends them all"
        ),
        "delegate": _("set someone else's out-of-office delegation"),
        "replace": _("replace an approver everywhere, open requests included"),
        "replacements": _(
            "the replacements in force, who made each and when; `undo @old` gives back the seats one took"
        ),
        "approvers": _("every approver definition with its current people and delegations"),
        "notify": _("how Greenlight reaches you: in Slack, by email, or both; alone it says how it does now"),
        "people": _("the directory; `set` adds or changes a person (stored, audited, `greenlight people export`)"),
        "insights": _("where deals wait: cycle times, stuck requests, the worst bottlenecks and a link to charts"),
        "policy diff": _(
            "what the policy file on disk would change, over the quotes already submitted, before a reload"
        ),
        "policy reload": _("put the policy file in force in every replica; an invalid file changes nothing"),
    }


WHO_MAY: dict[str, frozenset[Role]] = {
    "help": frozenset({"anyone"}),
    "preview": frozenset({"owner", "admin"}),
    "submit": frozenset({"owner"}),
    "status": frozenset({"owner", "approver", "admin"}),
    "recall": frozenset({"owner"}),
    "orders": frozenset({"owner", "admin"}),
    "orders due": frozenset({"anyone"}),  # the order desk: decided by domain.permissions.require_order_desk
    "account": frozenset({"anyone"}),
    "ooo": frozenset({"anyone"}),
    "delegate": frozenset({"admin"}),
    "replace": frozenset({"admin"}),
    "replacements": frozenset({"admin"}),
    "approvers": frozenset({"admin"}),
    "notify": frozenset({"anyone"}),
    "people": frozenset({"admin"}),
    "insights": frozenset({"admin"}),
    "policy diff": frozenset({"admin"}),
    "policy reload": frozenset({"admin"}),
}


MAX_QUOTE_ID = 64
MAX_JUSTIFICATION = 1500
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")
_NAME = re.compile(r"^@([\w.\-']+)$")
_TOKEN = re.compile(r"<[^>]*>|\S+")


class UsageError(GreenlightError):
    """A `/deal` text that cannot be run: `problem` says why, `usage` shows how it is written."""

    def __init__(self, problem: str, usage: str) -> None:
        self.problem = problem
        self.usage = usage
        separator = "\n" if "\n" in usage else " "
        super().__init__(problem + "\n" + _("Usage:") + separator + usage)


@dataclass(frozen=True)
class UserRef:
    """A person named in a command: a Slack user id (escaped mention), a bare name, or both."""

    slack_id: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.slack_id:
            return f"<@{self.slack_id}>"
        return f"@{self.name}"

    def same_as(self, other: UserRef) -> bool:
        if self.slack_id and other.slack_id:
            return self.slack_id == other.slack_id
        return bool(self.name and other.name and self.name.lower() == other.name.lower())


def resolve_user(ref: UserRef, policy: Policy) -> str | None:
    """The people key `ref` names: a mention by its Slack id only (its label is whatever the sender
    typed, never trusted); a bare `@name` by key, email name or full name (any case)."""
    if ref.slack_id:
        return policy.person_for(ref.slack_id)
    if not ref.name:
        return None
    name = ref.name.lower()
    for key in policy.people:
        if key.lower() == name:
            return key
    for key, person in policy.people.items():
        if person.email and person.email.split("@", 1)[0].lower() == name:
            return key
    for key, person in policy.people.items():
        if person.name and person.name.lower() in (name, name.replace(".", " ")):
            return key
    return None


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class Help:
    name: ClassVar[str] = "help"
    topic: str | None = None


@dataclass(frozen=True)
class Preview:
    name: ClassVar[str] = "preview"
    quote_id: str


@dataclass(frozen=True)
class Submit:
    name: ClassVar[str] = "submit"
    quote_id: str
    justification: str | None = None


@dataclass(frozen=True)
class Status:
    name: ClassVar[str] = "status"
    quote_id: str


@dataclass(frozen=True)
class Recall:
    name: ClassVar[str] = "recall"
    quote_id: str


@dataclass(frozen=True)
class Orders:
    name: ClassVar[str] = "orders"
    quote_id: str


@dataclass(frozen=True)
class OrdersDue:
    """The order desk's view: orders across quotes released between two days (None: this week)."""

    name: ClassVar[str] = "orders due"
    start: dt.date | None = None
    end: dt.date | None = None


MAX_DESK_DAYS = 92


@dataclass(frozen=True)
class Account:
    name: ClassVar[str] = "account"
    account_id: str
    at: dt.date | None = None


@dataclass(frozen=True)
class OutOfOffice:
    name: ClassVar[str] = "ooo"
    start: dt.date
    end: dt.date
    delegate: UserRef


@dataclass(frozen=True)
class OutOfOfficeOff:
    name: ClassVar[str] = "ooo"


@dataclass(frozen=True)
class OutOfOfficeList:
    name: ClassVar[str] = "ooo"


@dataclass(frozen=True)
class OutOfOfficeCancel:
    name: ClassVar[str] = "ooo"
    window: int


@dataclass(frozen=True)
class OutOfOfficeReplace:
    name: ClassVar[str] = "ooo"
    window: int
    start: dt.date
    end: dt.date
    delegate: UserRef


@dataclass(frozen=True)
class Delegate:
    name: ClassVar[str] = "delegate"
    who: UserRef
    to: UserRef
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Replace:
    name: ClassVar[str] = "replace"
    old: UserRef
    new: UserRef


@dataclass(frozen=True)
class Approvers:
    name: ClassVar[str] = "approvers"


@dataclass(frozen=True)
class Replacements:
    """`/deal replacements` lists them; with `undo`, the replacement of that person is undone."""

    name: ClassVar[str] = "replacements"
    undo: UserRef | None = None


@dataclass(frozen=True)
class People:
    name: ClassVar[str] = "people"
    person: str | None = None  # None: list the directory
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Notify:
    name: ClassVar[str] = "notify"
    how: str | None = None  # slack | email | both; None: say how it is now


class Insights:
    name: ClassVar[str] = "insights"


@dataclass(frozen=True)
class PolicyDiff:
    name: ClassVar[str] = "policy diff"


@dataclass(frozen=True)
class PolicyReload:
    name: ClassVar[str] = "policy reload"


Command = (
    Help
    | Preview
    | Submit
    | Status
    | Recall
    | Orders
    | OrdersDue
    | Account
    | OutOfOffice
    | OutOfOfficeOff
    | OutOfOfficeList
    | OutOfOfficeCancel
    | OutOfOfficeReplace
    | Delegate
    | Replace
    | Replacements
    | Approvers
    | Notify
    | People
    | Insights
    | PolicyDiff
    | PolicyReload
)

QUOTE_COMMANDS: dict[str, type[Preview | Submit | Status | Recall | Orders]] = {
    "preview": Preview,
    "submit": Submit,
    "status": Status,
    "recall": Recall,
    "orders": Orders,
}


# ---------------------------------------------------------------- parsing


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _arity(sub: str, args: list[str], want: int, what: str) -> None:
    """`what` is already in the reader's language ("one quote id")."""
    if len(args) < want:
        missing = _("nothing") if not args else _n("{count} argument", "{count} arguments", len(args))
        raise UsageError(_("`{sub}` needs {what}; got {missing}.", sub=sub, what=what, missing=missing), USAGE[sub])
    if len(args) > want:
        extra = _short(" ".join(args[want:]))
        raise UsageError(
            _("`{sub}` takes {what}; `{extra}` is one too many.", sub=sub, what=what, extra=extra), USAGE[sub]
        )


def _short(text: str, limit: int = 60) -> str:
    text = "".join(c if c.isprintable() else "\ufffd" for c in _unescape(text).replace("`", "'"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quote_id(sub: str, token: str) -> str:
    value = _unescape(token)
    if value.startswith(("<", "@")):
        raise UsageError(_("`{value}` is a person, not a quote id.", value=_short(value)), USAGE[sub])
    if len(value) > MAX_QUOTE_ID:
        raise UsageError(_("a quote id has at most {count} characters.", count=MAX_QUOTE_ID), USAGE[sub])
    if not QUOTE_ID.match(value):
        raise UsageError(
            _(
                "`{value}` is not a quote id: use letters, digits, dots, dashes, underscores or colons.",
                value=_short(value),
            ),
            USAGE[sub],
        )
    return value


def _date(sub: str, token: str, what: str) -> dt.date:
    text = _unescape(token)
    if not _DATE.match(text):
        raise UsageError(
            _("the {what} `{text}` is not a date: write it as YYYY-MM-DD.", what=what, text=_short(text)), USAGE[sub]
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(_("the {what} {text} is not a real date.", what=what, text=text), USAGE[sub]) from None


def _orders_due(args: list[str]) -> OrdersDue:
    words = " ".join(_unescape(a) for a in args).strip().lower()
    if words in ("", "this week"):
        return OrdersDue()
    first, dots, last = words.partition("..")
    if not dots or " " in words:
        raise UsageError(
            _(
                "`{words}` is not a period: write `this week` or two dates as YYYY-MM-DD..YYYY-MM-DD.",
                words=_short(words),
            ),
            USAGE["orders due"],
        )
    start, end = _date("orders due", first, _("first day")), _date("orders due", last, _("last day"))
    if end < start:
        raise UsageError(
            _("the last day {end} is before the first day {start}.", end=end, start=start), USAGE["orders due"]
        )
    if (end - start).days >= MAX_DESK_DAYS:
        raise UsageError(
            _("a period is at most {count} days: ask for a shorter one.", count=MAX_DESK_DAYS), USAGE["orders due"]
        )
    return OrdersDue(start, end)


def _window(sub: str, first: str, second: str) -> tuple[dt.date, dt.date]:
    start = _date(sub, first, _("start date"))
    end = _date(sub, second, _("end date"))
    if end < start:
        raise UsageError(_("the end date {end} is before the start date {start}.", end=end, start=start), USAGE[sub])
    return start, end


def _user(sub: str, token: str, role: str) -> UserRef:
    mention = _MENTION.match(token)
    if mention:
        return UserRef(slack_id=mention.group(1), name=(mention.group(2) or None))
    named = _NAME.match(_unescape(token))
    if named:
        return UserRef(name=named.group(1))
    raise UsageError(
        _("`{token}` is not a person: mention the {role} with @.", token=_short(token), role=role), USAGE[sub]
    )


def _account(args: list[str]) -> Account:
    if not args:
        raise UsageError(_("`account` needs an account id."), USAGE["account"])
    if len(args) > 2:
        extra = _short(" ".join(args[2:]))
        raise UsageError(
            _("`account` takes an account id and at most one date; `{extra}` is too many.", extra=extra),
            USAGE["account"],
        )
    account_id = _unescape(args[0])
    if len(account_id) > MAX_KEY:
        raise UsageError(
            _(
                "an account id has at most {most} characters; this one has {count}.",
                most=MAX_KEY,
                count=len(account_id),
            ),
            USAGE["account"],
        )
    if account_id.startswith(("<", "@")) or _DATE.match(account_id):
        raise UsageError(_("`{value}` is not an account id.", value=_short(account_id)), USAGE["account"])
    at = _date("account", args[1], _("date")) if len(args) == 2 else None
    return Account(account_id, at)


def _window_number(token: str | None, verb: str) -> int:
    if token is None:
        raise UsageError(
            _("`ooo {verb}` needs the number of a window: `/deal ooo` lists them.", verb=verb), USAGE["ooo"]
        )
    text = _unescape(token).lstrip("#")
    if not text.isdigit() or not 0 < int(text) < 2**31:
        raise UsageError(
            _("`{token}` is not a window number: `/deal ooo` lists them.", token=_short(token)), USAGE["ooo"]
        )
    return int(text)


def _ooo(args: list[str]) -> OutOfOffice | OutOfOfficeOff | OutOfOfficeList | OutOfOfficeCancel | OutOfOfficeReplace:
    if len(args) == 1 and args[0].lower() == "off":
        return OutOfOfficeOff()
    if not args:
        return OutOfOfficeList()
    verb = args[0].lower()
    if verb in ("off", "list") and len(args) > 1:
        raise UsageError(_("`ooo {verb}` takes nothing more.", verb=verb), USAGE["ooo"])
    if verb == "list":
        return OutOfOfficeList()
    if verb == "cancel":
        if len(args) > 2:
            raise UsageError(
                _("`ooo cancel` takes one window number; `{extra}` is too many.", extra=_short(args[2])), USAGE["ooo"]
            )
        return OutOfOfficeCancel(_window_number(args[1] if len(args) > 1 else None, "cancel"))
    if verb == "replace":
        number = _window_number(args[1] if len(args) > 1 else None, "replace")
        rest = args[2:]
        if len(rest) != 3:
            raise UsageError(
                _("`ooo replace N` needs the new start date, end date and delegate after the number."), USAGE["ooo"]
            )
        start, end = _window("ooo", rest[0], rest[1])
        return OutOfOfficeReplace(number, start, end, _user("ooo", rest[2], _("delegate")))
    _arity("ooo", args, 3, _("a start date, an end date and a delegate"))
    start, end = _window("ooo", args[0], args[1])
    return OutOfOffice(start, end, _user("ooo", args[2], _("delegate")))


def _delegate(args: list[str]) -> Delegate:
    _arity("delegate", args, 4, _("the person away, their delegate, a start date and an end date"))
    who = _user("delegate", args[0], _("person who is away"))
    to = _user("delegate", args[1], _("delegate"))
    if who.same_as(to):
        raise UsageError(_("{who} cannot be their own delegate.", who=who), USAGE["delegate"])
    start, end = _window("delegate", args[2], args[3])
    return Delegate(who, to, start, end)


def _replace(args: list[str]) -> Replace:
    _arity("replace", args, 2, _("the approver to replace and who replaces them"))
    old = _user("replace", args[0], _("approver to replace"))
    new = _user("replace", args[1], _("new approver"))
    if old.same_as(new):
        raise UsageError(_("replacing {who} with themselves changes nothing.", who=old), USAGE["replace"])
    return Replace(old, new)


def _replacements(args: list[str]) -> Replacements:
    if not args:
        return Replacements()
    if args[0].lower() != "undo":
        raise UsageError(
            _("`{word}` is not something `replacements` does: use `undo`.", word=_short(args[0])),
            USAGE["replacements"],
        )
    _arity("replacements", args[1:], 1, _("`undo` and the replaced person"))
    return Replacements(_user("replacements", args[1], _("replaced person")))


def _submit(text: str) -> Submit:
    """`submit Q-1042 [justification...]`: everything after the quote id, as typed, is the justification."""
    match = re.match(r"\s*\S+\s+(<[^>]*>|\S+)(.*)\Z", text, re.DOTALL)
    if match is None:
        raise UsageError(_("`submit` needs one quote id; got nothing."), USAGE["submit"])
    quote_id = _quote_id("submit", match.group(1))
    words = _unescape(match.group(2)).split()
    if len(words) == 1:  # `submit Q-1 Q-2` is a slip far more often than a one-word reason
        raise UsageError(
            _(
                "`{word}` is one too many: submit one quote at a time; say why in words after its id.",
                word=_short(words[0]),
            ),
            USAGE["submit"],
        )
    justification = " ".join(words) or None
    if justification is not None and len(justification) > MAX_JUSTIFICATION:
        raise UsageError(
            _(
                "the justification has {count} characters; keep it to {most}.",
                count=len(justification),
                most=MAX_JUSTIFICATION,
            ),
            USAGE["submit"],
        )
    return Submit(quote_id, justification)


_PERSON_FIELDS = ("email", "manager", "timezone", "name", "slack")


def _people(text: str) -> People:
    """`people` alone, or `people set KEY field=value...` (values may be quoted)."""
    import shlex

    try:
        words = shlex.split(_unescape(text))[1:]
    except ValueError:
        raise UsageError(_("a quote mark is not closed."), USAGE["people"]) from None
    if not words:
        return People()
    if words[0].lower() != "set":
        raise UsageError(_("`{word}` is not a `people` action: use `set`.", word=_short(words[0])), USAGE["people"])
    if len(words) < 3:
        raise UsageError(_("`people set` needs a people key and at least one field=value."), USAGE["people"])
    key = words[1]
    mention = _MENTION.match(key)
    if mention or not re.fullmatch(r"[A-Za-z0-9_.\-]{1,64}", key):
        raise UsageError(
            _(
                "`{key}` is not a people key: write the key the policy uses (letters, digits, . _ -).",
                key=_short(key),
            ),
            USAGE["people"],
        )
    pairs: list[tuple[str, str]] = []
    for word in words[2:]:
        field, sep, value = word.partition("=")
        if not sep or field.lower() not in _PERSON_FIELDS:
            raise UsageError(
                _(
                    "`{word}` is not field=value with a field among {fields}.",
                    word=_short(word),
                    fields=", ".join(_PERSON_FIELDS),
                ),
                USAGE["people"],
            )
        pairs.append((field.lower(), value.strip()))
    return People(key, tuple(pairs))


def parse(text: str) -> Command:
    """The command a `/deal` text asks for; `UsageError` says what is wrong with it."""
    tokens = _tokens(text or "")
    if not tokens:
        return Help()
    sub, args = tokens[0].lower(), tokens[1:]
    if sub == "submit":
        return _submit(text)
    if sub == "orders" and args and args[0].lower() == "due":
        return _orders_due(args[1:])
    if sub in QUOTE_COMMANDS:
        _arity(sub, args, 1, _("one quote id"))
        return QUOTE_COMMANDS[sub](_quote_id(sub, args[0]))
    if sub == "help":
        if not args:
            return Help()
        topic = " ".join(args).lower()
        if topic not in USAGE:
            raise UsageError(
                _("there is no subcommand `{word}` to explain.", word=_short(" ".join(args))), full_usage()
            )
        return Help(topic)
    if sub == "account":
        return _account(args)
    if sub == "ooo":
        return _ooo(args)
    if sub == "delegate":
        return _delegate(args)
    if sub == "replace":
        return _replace(args)
    if sub == "replacements":
        return _replacements(args)
    if sub == "people":
        return _people(text)
    if sub == "notify":
        if not args:
            return Notify()
        how = _unescape(args[0]).lower()
        if how not in ("slack", "email", "both") or len(args) > 1:
            raise UsageError(
                _("`{word}` is not a way to be reached: choose slack, email or both.", word=_short(" ".join(args))),
                USAGE["notify"],
            )
        return Notify(how)
    if sub == "approvers":
        _arity("approvers", args, 0, _("no arguments"))
        return Approvers()
    if sub == "insights":
        _arity("insights", args, 0, _("no arguments"))
        return Insights()
    if sub == "policy" and args and args[0].lower() == "diff":
        _arity("policy diff", args[1:], 0, _("no arguments"))
        return PolicyDiff()
    if sub == "policy" and args and args[0].lower() == "reload":
        _arity("policy reload", args[1:], 0, _("no arguments"))
        return PolicyReload()
    if sub == "policy":
        actions = "\n".join(usage for key, usage in USAGE.items() if key.startswith("policy "))
        if args:
            raise UsageError(_("`{word}` is not a policy action.", word=_short(" ".join(args))), actions)
        raise UsageError(_("`policy` needs a policy action."), actions)
    raise UsageError(_("`{word}` is not a /deal subcommand.", word=_short(tokens[0])), full_usage())


# ---------------------------------------------------------------- help and permissions


def full_usage() -> str:
    """Every usage line, one per line (plain text)."""
    return "\n".join(USAGE.values())


def who_may(name: str) -> str:
    """Who may run a subcommand, in words: "the quote's owner or an admin"."""
    if name == "account":  # decided with the account's quotes (domain.permissions.may_read_account)
        return _("an admin, the order desk or the account's reps")
    if name == "orders due":
        return _("the order desk or an admin")
    roles = WHO_MAY[name]
    if "anyone" in roles:
        return _("anyone")
    role_words = {"owner": _("the quote's owner"), "approver": _("its approvers"), "admin": _("an admin")}
    words = [role_words[r] for r in ("owner", "approver", "admin") if r in roles]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " " + _("or") + " " + words[-1]


def help_text(topic: str | None = None) -> str:
    """The usage of every subcommand (or one), as Slack mrkdwn."""
    names = [topic] if topic else list(USAGE)
    lines = [] if topic else [_("*Greenlight* `/deal` commands:")]
    summaries = summary()
    for name in names:
        usage = " · ".join(f"`{part}`" for part in USAGE[name].split(" · "))
        bullet = f"• {usage}"
        lines.append(_("{usage}: {what}", usage=bullet, what=summaries[name]) + f" _({who_may(name)})_")
    return "\n".join(lines)


def allowed(
    command: Command,
    person: str | None,
    quote_owner: str | None = None,
    is_admin: bool = False,
    is_approver: bool = False,
) -> bool:
    """Whether `person` (a people key; None for someone the policy does not know) may run `command`.

    `quote_owner` is the people key owning the command's quote, `is_approver` whether the person
    is or was an assignee of its submission: the caller looks these up.
    """
    roles = WHO_MAY[command.name]
    if "anyone" in roles:
        return True
    if person is None:
        return False
    return (
        ("admin" in roles and is_admin)
        or ("owner" in roles and quote_owner is not None and person == quote_owner)
        or ("approver" in roles and is_approver)
    )


def refusal_text(command: Command) -> str:
    """Why a person may not run `command`: "Only the quote's owner or an admin can preview Q-1042."."""
    quote = getattr(command, "quote_id", "")
    actions = {
        "preview": _("preview {quote}", quote=quote),
        "submit": _("submit {quote}", quote=quote),
        "status": _("see where {quote} stands", quote=quote),
        "recall": _("recall {quote}", quote=quote),
        "orders": _("see the orders of {quote}", quote=quote),
        "delegate": _("set a delegation for someone else"),
        "replace": _("replace an approver"),
        "replacements": _("see or undo replacements"),
        "approvers": _("see every approver"),
        "insights": _("see the insights"),
        "policy diff": _("compare the policy on disk with the one in force"),
    }
    action = actions.get(command.name) or _("use `/deal {command}`", command=command.name)
    return _("Only {who} can {action}.", who=who_may(command.name), action=action)
