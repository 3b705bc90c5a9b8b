"""Every catalog of a language is loaded into one gettext namespace, so an English message that two
parts of the product share must read the same in both: otherwise the last catalog loaded silently
rewrites the other part's words (an email's "approuvé" turning a Slack status into the wrong gender)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from domain import i18n

LOCALES = Path(i18n.__file__).parent / "locales"


def translations(language: str, catalog: str) -> dict[str, str]:
    path = LOCALES / language / "LC_MESSAGES" / f"{catalog}.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        found = read_po(handle, locale=language)
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): str(m.string) for m in found if m.id and m.string and not m.fuzzy
    }


@pytest.mark.parametrize("language", [name for name in i18n.available() if name != i18n.DEFAULT_LOCALE])
def test_a_message_two_catalogs_share_is_translated_the_same_in_both(language: str) -> None:
    seen: dict[str, tuple[str, str]] = {}
    disagreements = []
    for catalog in i18n.CATALOGS:
        for message, text in translations(language, catalog).items():
            if message in seen and seen[message][1] != text:
                disagreements.append(f"{message!r}: {seen[message][0]} {seen[message][1]!r}, {catalog} {text!r}")
            seen.setdefault(message, (catalog, text))
    assert not disagreements, "\n".join(disagreements)
