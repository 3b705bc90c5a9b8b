"""Words, money and moments in the reader's language (issue 18).

The language a text is written in is the *current locale*, held in a context variable: an edge
(a Slack handler, an email being rendered, the CLI) picks the reader's locale once with
`speaking(locale)` and everything rendered inside, down to the reasons and refusals the domain
writes, comes out in that language. A message several people read (the rep's thread, a deal
channel) is written in the policy's default language.

Catalogs are gettext `.po` files under `domain/locales/<language>/LC_MESSAGES/`, one per part of
the product (`domain.po`, `slack.po`, `email.po`, `cli.po`), read with Babel at first use; a
language joins by adding its folder, without code. `pybabel extract` (see `scripts/i18n`) finds
every string marked with `_` or `_n`; a test compares the extraction with each catalog.

Messages are written with `{name}` placeholders filled after translation, so that a translator
can move them: `_("{who} approved {quote}", who=..., quote=...)`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gettext
import io
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision

DEFAULT_LOCALE = "en"
LOCALES_DIR = Path(__file__).parent / "locales"
CATALOGS = ("domain", "slack", "email", "cli")

_current: ContextVar[str] = ContextVar("greenlight_locale", default=DEFAULT_LOCALE)


@functools.cache
def available() -> tuple[str, ...]:
    """The languages Greenlight speaks: English (the source language) and every catalog folder
    (read once: a language added on disk is offered after a restart, as its catalogs are read then)."""
    folders = LOCALES_DIR.iterdir() if LOCALES_DIR.is_dir() else iter(())
    found = sorted(p.name for p in folders if (p / "LC_MESSAGES").is_dir())
    return (DEFAULT_LOCALE, *(name for name in found if name != DEFAULT_LOCALE))


@functools.lru_cache(maxsize=512)  # every render asks; the tags people and policies use are few
def normalize(tag: str | None) -> str | None:
    """A language Greenlight speaks for a locale tag as Slack (`fr-FR`), a policy (`fr`) or `LANG`
    (`fr_FR.UTF-8`) writes it; None when the tag is empty, malformed or a language not offered."""
    if not tag:
        return None
    cleaned = tag.split(".")[0].split("@")[0].replace("-", "_").strip()
    if not cleaned or cleaned in ("C", "POSIX"):
        return None
    try:
        language = Locale.parse(cleaned).language
    except (ValueError, UnknownLocaleError):
        return None
    return language if language in available() else None


def current() -> str:
    return _current.get()


@contextlib.contextmanager
def speaking(locale: str | None) -> Iterator[str]:
    """Render in `locale` (normalized; the default language when it is unknown) inside the block."""
    chosen = normalize(locale) or DEFAULT_LOCALE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def choose(*candidates: str | None) -> str:
    """The first candidate Greenlight speaks, e.g. `choose(person.locale, slack_locale, policy.locale)`."""
    for candidate in candidates:
        found = normalize(candidate)
        if found:
            return found
    return DEFAULT_LOCALE


@functools.cache
def _translations(locale: str) -> gettext.NullTranslations:
    """Every catalog of `locale` read with Babel and handed to the standard library's gettext
    (which knows plural forms); entries marked fuzzy or left empty are not used."""
    merged: gettext.NullTranslations = gettext.NullTranslations()
    for name in CATALOGS:
        path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{name}.po"
        if not path.is_file():
            continue
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = gettext.GNUTranslations(compiled)
        part.add_fallback(merged)
        merged = part
    return merged


def _(message: str, /, **values: Any) -> str:
    """`message` in the current language, with its `{placeholders}` filled from `values`."""
    text = message if current() == DEFAULT_LOCALE else _translations(current()).gettext(message)
    return text.format(**values) if values else text


def _n(singular: str, plural: str, count: int, /, **values: Any) -> str:
    """The singular or plural form for `count` in the current language; `{count}` is filled too."""
    if current() == DEFAULT_LOCALE:
        text = singular if count == 1 else plural
    else:
        text = _translations(current()).ngettext(singular, plural, count)
    return text.format(count=count, **values)


def localized(value: str | Mapping[str, str] | None, default: str = DEFAULT_LOCALE) -> str | None:
    """A policy text given once (`"Deep discount"`) or per language (`{en: ..., fr: ...}`), in the
    current language, else the policy's default language, else the first one given."""
    if value is None or isinstance(value, str):
        return value
    return value.get(current()) or value.get(default) or next(iter(value.values()), None)


# --- numbers and money ----------------------------------------------------------------------


def _decimal(value: int | float | Decimal) -> Decimal:
    """A float through its shortest text (0.1 + 0.2 -> 0.30000000000000004, never 0.1000000000000000055...)."""
    return Decimal(str(value)) if isinstance(value, float) else Decimal(value)


@functools.lru_cache(maxsize=64)
def _locale(tag: str) -> Locale:
    """Babel's data for a language, parsed once: handing Babel a tag parses it again on every call."""
    return Locale.parse(tag)


def number(value: int | float | Decimal, places: int = 2) -> str:
    """A number as the reader writes it ("1,234.5" / "1 234,5"), at most `places` decimals, never a
    float's repr."""
    return _number(_decimal(value), places, current())


@functools.lru_cache(maxsize=4096)  # a quote's amounts are written again for every copy and line
def _number(amount: Decimal, places: int, tag: str) -> str:
    pattern = "#,##0" + ("." + "#" * places if places > 0 else "")
    return format_decimal(amount, format=pattern, locale=_locale(tag))


def money(amount: int | float | Decimal, currency: str) -> str:
    """An amount in its currency as the reader writes it: "€1,234,567.50" in English,
    "1 234 567,50 €" in French, "¥4,256" with the yen's lack of decimals."""
    return _money(_decimal(amount), currency, current())


@functools.lru_cache(maxsize=4096)
def _money(value: Decimal, currency: str, tag: str) -> str:
    try:
        return format_currency(value, currency, locale=_locale(tag))
    except (ValueError, KeyError):  # a code Babel does not know: plain number and the code
        return f"{_number(value, get_currency_precision(currency), tag)} {currency}"


# --- dates and moments ----------------------------------------------------------------------


def zone_label(zone: dt.tzinfo) -> str:
    """The zone as a reader names it: "Paris", "New York", "UTC"."""
    key = getattr(zone, "key", None)
    if zone is dt.UTC or key in ("UTC", "Etc/UTC", "GMT", "Etc/GMT"):
        return "UTC"
    if isinstance(zone, ZoneInfo):
        return _city(zone, current())
    return str(zone)


@functools.lru_cache(maxsize=1024)
def _city(zone: ZoneInfo, tag: str) -> str:
    return get_timezone_location(zone, locale=_locale(tag), return_city=True)


def date(value: dt.date) -> str:
    """A day in the reader's words: "December 3, 2026" / "3 décembre 2026"."""
    return format_date(value, "long", locale=_locale(current()))


def moment(at: dt.datetime, zone: dt.tzinfo, now: dt.datetime | None = None, label: bool = True) -> str:
    """A moment in `zone` with the zone named: "18:27 (Paris)" today, "3 déc. 2026, 18:27 (Paris)"
    on another day."""
    local = at.astimezone(zone)
    today = now is not None and now.astimezone(zone).date() == local.date()
    return _moment(local, zone, today, label, current())


@functools.lru_cache(maxsize=4096)  # a request's moments are written again for every copy and update
def _moment(local: dt.datetime, zone: dt.tzinfo, today: bool, label: bool, tag: str) -> str:
    # `zone` is part of the key: aware datetimes of one instant compare equal whatever their zone
    locale = _locale(tag)
    clock = format_time(local, "short", locale=locale)
    if today:
        text = clock
    else:
        glue = locale.datetime_formats["medium"]  # "{1}, {0}": date, then time
        text = str(glue).format(clock, format_date(local, "medium", locale=locale))
    return f"{text} ({zone_label(zone)})" if label else text


def slack_moment(at: dt.datetime, zone: dt.tzinfo) -> str:
    """A moment for Slack mrkdwn: Slack shows it to each reader in their own zone; the fallback
    (for clients that cannot) is the moment in `zone`, labelled."""
    stamp = int(at.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{moment(at, zone)}>"
