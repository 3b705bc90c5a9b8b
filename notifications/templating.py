"""The jinja2 environment for emails and the link page: autoescaped for .html, plain for .txt.

Templates write in the reader's language with the functions of `domain.i18n`, as globals:
`{{ _("Approve {quote}?", quote=s.quote_id) }}`, `_n(...)`, `money(amount, currency)`,
`moment(at, zone)` and `date(day)`. The caller renders inside `i18n.speaking(locale)`; what they
return is plain text, escaped like any other value in an .html template. `lang` is the language
the text is in, for `<html lang>`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from domain import i18n

TEMPLATES = Path(__file__).resolve().parent / "templates"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(
            enabled_extensions=("html",), disabled_extensions=("txt", "css"), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(_=i18n._, _n=i18n._n, money=i18n.money, moment=i18n.moment, date=i18n.date)
    return env


def render(name: str, **context: object) -> str:
    return environment().get_template(name).render(lang=i18n.current(), **context)
