"""Small pieces every view shares: mrkdwn escaping, Slack's size limits, names, money and times.

Every piece of quote or policy data that goes into mrkdwn passes through `escape` (Slack reads
`&`, `<` and `>` as control characters); `clip` keeps a text within a limit without cutting an
escape in half.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from domain import i18n
from domain.i18n import _, _n
from domain.policy import Person
from domain.quote import Quote
from domain.values import format_value, one_line

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
TEXT_LIMIT = 3000
FIELD_LIMIT = 2000  # a context element or a section field
HEADER_LIMIT = 150

People = Mapping[str, Person]
T = TypeVar("T")

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


_MARKERS = re.compile(r"([*_~`])")


def escape(value: Any) -> str:
    """`value` as text Slack shows literally in mrkdwn, on one line: `&`, `<`, `>` escaped,
    control characters and line breaks removed."""
    return one_line(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inert(value: Any) -> str:
    """Text from a quote, with Slack's formatting markers (`*_~` and backquote) each followed by a
    zero-width space, so that a customer called *Acme* shows its asterisks instead of bold."""
    return _MARKERS.sub("\\1\u200b", one_line(value))


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters with an ellipsis, never inside an `&amp;`."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - 1])
    return cut + "…"


def top_text(text: str) -> str:
    """A message's top-level text (the push notification), kept to a readable length."""
    return clip(text, TEXT_LIMIT)


def sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def name(key: str | None, people: People | None = None) -> str:
    """A person's display name (not escaped): their `name:` in the policy, else their key."""
    if not key:
        return _("someone")
    person = (people or {}).get(key)
    return person.name if person is not None and person.name else key


def names(keys: Iterable[str], people: People | None = None, conjunction: str = "and") -> str:
    """ "Dana, Dev and Lena"; `conjunction` is "and" or "or" (in the reader's language)."""
    items = [name(k, people) for k in keys]
    if len(items) <= 1:
        return items[0] if items else _("nobody")
    word = {"and": _("and"), "or": _("or")}.get(conjunction, conjunction)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def money(quote: Quote) -> str:
    """ "$383,280.00" ("383 280,00 $US" in French), or "" when the quote has no net total."""
    total = quote.amount("net_total")
    return i18n.money(total, quote.currency) if total is not None else ""


def discount(quote: Quote) -> str:
    """ "36%", from `discount_percent` or from the list and net totals; "" when unknown."""
    value = quote.amount("discount_percent")
    if value is not None:
        return format_value(value, percent=True)
    net, listed = quote.amount("net_total"), quote.amount("list_total")
    if net is not None and listed is not None and listed > 0:
        return format_value(round((1 - net / listed) * 100, 1), percent=True)
    return ""


def deal_words(quote: Quote) -> str:
    """ "USD 383,280 at 36% discount" (plain, not escaped); parts that are unknown are left out."""
    amount, off = money(quote), discount(quote)
    if amount and off:
        return _("{amount} at {discount} discount", amount=amount, discount=off)
    return amount or (_("{discount} discount", discount=off) if off else "")


def quote_label(quote: Quote) -> str:
    """ "Q-1042 v3" (plain)."""
    return f"{quote.id} v{quote.version}"


def customer(quote: Quote) -> str:
    return inert(quote.customer) if quote.customer else _("no customer")


def when(at: dt.datetime | None, zone: dt.tzinfo = dt.UTC, now: dt.datetime | None = None) -> str:
    """A moment as the reader reads it in `zone`, with the zone named: "2:02 PM (Paris)" today,
    "Dec 1, 2026, 2:02 PM (Paris)" on another day ("14:02 (Paris)", "1 déc. 2026, 14:02 (Paris)")."""
    if at is None:
        return _("an unknown time")
    return i18n.moment(at, zone, now)


def stamp(at: dt.datetime | None, zone: dt.tzinfo = dt.UTC) -> str:
    """A moment in a Slack message (mrkdwn, not escaped): each reader's Slack shows it in their own
    zone; clients that cannot show the moment in `zone`, labelled."""
    if at is None:
        return _("an unknown time")
    return i18n.slack_moment(at, zone)


def day(value: dt.date) -> str:
    """A day in the reader's words: "3 Dec 2026" / "3 décembre 2026"."""
    if i18n.current() == i18n.DEFAULT_LOCALE:
        return f"{value.day} {value:%b %Y}"  # short, as English messages always wrote it
    return i18n.date(value)


def split(items: Sequence[T], limit: int) -> tuple[list[T], int]:
    """The items to show and how many are left out, so that a list fits `limit` entries."""
    if len(items) <= limit:
        return list(items), 0
    return list(items[: max(limit, 0)]), len(items) - max(limit, 0)


def more(count: int, what: str, block_id: str) -> ContextBlock:
    """ "_and 3 more approvals_": `what` is already in the reader's language."""
    words = _("and {count} more {what}", count=count, what=what)
    return ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=f"_{words}_")])


def mrkdwn_lines(lines: Iterable[str], limit: int = TEXT_LIMIT) -> str:
    """Lines joined for one text field; lines that do not fit are counted ("and 3 more"), not cut."""
    lines = list(lines)
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    out: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        left = len(lines) - index
        tail = "_" + _n("and {count} more", "and {count} more", left) + "_"
        if size + len(line) + 1 + len(tail) > limit:
            if not out:
                return clip(line, limit - len(tail) - 1) + "\n" + tail
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join([*out, tail])


def capped(blocks: list[Block], limit: int, prefix: str) -> list[Block]:
    """At most `limit` blocks: the last one kept says how many were left out."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    return [*kept, more(len(blocks) - len(kept), _("items"), f"{prefix}.more")]


def justification_text(justification: str, owner: str | None = None, people: People | None = None) -> str:
    """The rep's justification as one mrkdwn line: ":memo: *Why, from Ava Brooks:* <their words>"."""
    if owner:
        head = _("Why, from {who}:", who=escape(name(owner, people)))
    else:
        head = _("Why:")
    return clip(f":memo: *{head}* {escape(justification)}", TEXT_LIMIT)
