"""Keep the translation catalogs in step with the code.

    .venv/bin/python scripts/i18n.py check          # list strings missing from a catalog (exit 1)
    .venv/bin/python scripts/i18n.py update         # add new strings to every catalog, drop gone ones
    .venv/bin/python scripts/i18n.py init de        # start a new language (then translate its .po files)

Strings are found by Babel's extractor: calls to `_("...")` and `_n("...", "...", n)` in Python,
and `{{ _("...") }}` in the Jinja templates. Each part of the product has its own catalog
(domain/i18n.py, CATALOGS); the files live in domain/locales/<language>/LC_MESSAGES/<catalog>.po.
Translators edit the .po files; nothing is compiled: Greenlight reads them as they are.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "domain" / "locales"
KEYWORDS = {"_": None, "_n": (1, 2)}
PYTHON = [("**.py", "python")]
JINJA = [("**.html", "jinja2"), ("**.txt", "jinja2")]

# catalog -> the folders its strings come from, and how each folder's files are read
SOURCES: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "domain": [("domain", PYTHON)],
    "slack": [("bot", PYTHON)],
    "email": [("notifications", PYTHON + JINJA)],
    "cli": [("greenlight", PYTHON), ("store", PYTHON), ("scheduler", PYTHON)],
}
STABLE = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)  # fixed, so that an update only changes what moved
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def extract(catalog: str) -> Catalog:
    """Every marked string of one part of the product, with where it was found."""
    return extract_paths([(ROOT / folder, method_map) for folder, method_map in SOURCES[catalog]])


def extract_paths(folders: Iterable[tuple[Path, list[tuple[str, str]]]]) -> Catalog:
    found = Catalog(project="Greenlight", creation_date=STABLE, revision_date=STABLE)
    for base, method_map in folders:
        for filename, lineno, message, comments, context in extract_from_dir(str(base), method_map, keywords=KEYWORDS):
            found.add(message, locations=[(f"{base.name}/{filename}", lineno)], auto_comments=comments, context=context)
    return found


def languages() -> list[str]:
    return sorted(p.name for p in LOCALES.iterdir() if (p / "LC_MESSAGES").is_dir())


def po_path(language: str, catalog: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{catalog}.po"


def read(language: str, catalog: str) -> Catalog:
    path = po_path(language, catalog)
    if not path.is_file():
        return Catalog(
            locale=language, domain=catalog, project="Greenlight", creation_date=STABLE, revision_date=STABLE
        )
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=catalog)


def write(language: str, catalog: str, content: Catalog) -> None:
    path = po_path(language, catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, content, width=100, sort_output=True, include_lineno=False)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems(language: str, catalog: str) -> Iterable[str]:
    """What is wrong with one catalog against the code: missing, untranslated or fuzzy strings,
    and translations whose `{placeholders}` differ from the original's."""
    return compare(extract(catalog), read(language, catalog), f"{language}/{catalog}.po")


def compare(source: Catalog, translated: Catalog, name: str) -> Iterable[str]:
    for message in source:
        if not message.id:
            continue
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
        entry = translated.get(message.id, message.context)
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        if entry is None:
            yield f"{name}: missing {ids[0]!r} ({where})"
            continue
        strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
        if entry.fuzzy or not all(strings):
            yield f"{name}: not translated {ids[0]!r} ({where})"
            continue
        wanted = set().union(*(placeholders(i) for i in ids))
        for text in strings:
            unknown = sorted(placeholders(text) - wanted)
            if unknown:
                yield f"{name}: {ids[0]!r} is translated with unknown placeholders {unknown}"


def update(language: str) -> None:
    for catalog in SOURCES:
        current = read(language, catalog)
        current.update(extract(catalog), no_fuzzy_matching=True)
        current.obsolete.clear()
        write(language, catalog, current)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "check":
        found = [p for language in languages() for catalog in SOURCES for p in problems(language, catalog)]
        for line in found:
            print(line)
        print(f"{len(found)} problem(s) in {len(languages())} language(s)")
        return 1 if found else 0
    if command == "update":
        for language in rest or languages():
            update(language)
            print(f"updated {language}")
        return 0
    if command == "init" and len(rest) == 1 and re.fullmatch(r"[a-z]{2,3}", rest[0]):
        update(rest[0])
        print(f"created {LOCALES / rest[0]}: translate its .po files")
        return 0
    print(f"unknown command {' '.join(argv)!r}: use check, update or init <language> (see --help)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
