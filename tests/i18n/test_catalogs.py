"""Every string a person can read is in every catalog: Babel's extraction compared with the .po files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
assert _spec is not None and _spec.loader is not None
catalogs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(catalogs)


@pytest.mark.parametrize("catalog", sorted(catalogs.SOURCES))
@pytest.mark.parametrize("language", catalogs.languages())
def test_every_marked_string_is_translated_in_the_catalog(language: str, catalog: str) -> None:
    missing = list(catalogs.problems(language, catalog))
    assert not missing, (
        f"{len(missing)} string(s) of {catalog} not translated in {language} "
        "(run `.venv/bin/python scripts/i18n.py update`, then translate):\n" + "\n".join(missing[:40])
    )


def test_french_is_offered() -> None:
    assert "fr" in catalogs.languages()


def test_the_check_finds_a_string_missing_from_a_catalog(tmp_path: Path) -> None:
    """The check itself can fail: a marked string that no catalog has is reported with its place."""
    source = tmp_path / "views.py"
    source.write_text('from domain.i18n import _\n\nTEXT = _("A sentence no translator has seen yet")\n')
    found = catalogs.extract_paths([(tmp_path, catalogs.PYTHON)])
    problems = list(catalogs.compare(found, catalogs.read("fr", "slack"), "fr/slack.po"))
    assert any("A sentence no translator has seen yet" in p and "views.py" in p for p in problems)
