"""The CLI speaks the language of LC_ALL, LC_MESSAGES or LANG, else the policy's default; its times
are in the policy's zone, named, and its amounts as the reader writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from greenlight import cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
POLICY = str(EXAMPLES / "policy.yaml")
Q1200 = str(EXAMPLES / "quotes" / "q1200-v1.json")
NBSP, NNBSP = "\xa0", "\u202f"


@pytest.fixture
def lang(monkeypatch: pytest.MonkeyPatch):
    """Set the locale variables as a shell would; the ones not given are unset."""

    def set_to(**variables: str) -> None:
        for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_to


def test_orders_plan_under_lang_fr_is_a_french_table_with_times_in_the_policys_zone_named(lang, capsys):
    lang(LANG="fr_FR.UTF-8")
    assert cli.main(["orders", "plan", "--policy", POLICY, "--quote", Q1200]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"Q-1200 v1 · Cascade Cold Storage · 4{NBSP}commandes · 180{NNBSP}355,00{NBSP}$US · "
        "lancement à 06:00, heure de Los Angeles"
    )
    assert out[2].split() == ["commande", "livraison", "livrer", "à", "lancement", "lignes", "total"]
    # 06:00 in Los Angeles is 09:00 in New York, the policy's zone, which the table names
    assert "Q-1200-02  11 janvier 2027  Cascade DC Tacoma  11 janv. 2027, 09:00 (New York)" in out[4]
    assert out[4].endswith(f"73{NNBSP}920,00{NBSP}$US")


def test_the_json_of_orders_plan_stays_plain_whatever_the_language(lang, capsys):
    lang(LANG="fr_FR.UTF-8")
    assert cli.main(["orders", "plan", "--policy", POLICY, "--quote", Q1200, "--format", "json"]) == 0
    totals = [order["total"] for order in json.loads(capsys.readouterr().out)["orders"]]
    assert totals == ["7680.00", "73920.00", "27200.00", "71555.00"]


def test_policy_check_preview_and_a_refusal_in_french(lang, capsys, tmp_path):
    lang(LC_MESSAGES="fr_CA.UTF-8", LANG="en_US.UTF-8")
    assert cli.main(["policy", "check", POLICY]) == 0
    assert f"policy.yaml{NBSP}: valide · 15{NBSP}règles dans 5 chaînes" in capsys.readouterr().out
    assert cli.main(["preview", "--policy", POLICY, "--quote", Q1200]) == 0
    preview = capsys.readouterr().out
    assert f"180{NNBSP}355,00{NBSP}$US · propriétaire Ben Okafor" in preview
    assert "Nécessite 4 approbations dans 3 chaînes." in preview
    assert "étape 1" in preview
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "Q-1",\n  oops}', encoding="utf-8")
    assert cli.main(["orders", "plan", "--policy", POLICY, "--quote", str(bad)]) == 1
    assert f"1{NBSP}problème trouvé." in capsys.readouterr().err


def test_the_help_is_in_french_under_lang_fr(lang, capsys):
    lang(LANG="fr_FR.UTF-8")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "L’approbation des affaires et le découpage des commandes" in " ".join(out.split())
    assert "vérifie un fichier de politique" in out


def test_lc_all_decides_over_lang(lang, capsys):
    lang(LC_ALL="en_US.UTF-8", LANG="fr_FR.UTF-8")
    assert cli.main(["policy", "check", POLICY]) == 0
    assert "valid · 15 rules in 5 chains" in capsys.readouterr().out


def test_without_a_language_or_with_c_the_policys_default_language_is_used(lang, capsys, tmp_path):
    french = tmp_path / "policy.yaml"
    french.write_text(Path(POLICY).read_text(encoding="utf-8").replace("version: 1\n", "version: 1\nlocale: fr\n", 1))
    for variables in ({}, {"LANG": "C.UTF-8"}, {"LC_ALL": "POSIX", "LANG": "en_US.UTF-8"}):
        lang(**variables)
        assert cli.main(["policy", "check", str(french)]) == 0
        assert "valide · 15" in capsys.readouterr().out, variables
    lang(LANG="C")
    assert cli.main(["policy", "check", POLICY]) == 0
    assert "valid · 15 rules" in capsys.readouterr().out


def test_a_language_greenlight_does_not_speak_falls_back_to_the_policys(lang, capsys):
    lang(LANG="de_DE.UTF-8")
    assert cli.environment_language() is None
    assert cli.main(["policy", "check", POLICY]) == 0
    assert "valid · 15 rules" in capsys.readouterr().out
