"""The policy settings issue 17 added, checked by `greenlight policy check` with a sentence each:
`deal_channel`, `out_of_office.max_days` and a rule's `remind_every`."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenlight.cli import main
from tests.support.quotes import EXAMPLE_POLICY


def policy_with(tmp_path: Path, top: str = "", rule_extra: str = "") -> Path:
    text = EXAMPLE_POLICY.read_text().replace("admins: [dana, dev]", f"admins: [dana, dev]\n{top}", 1)
    if rule_extra:
        text = text.replace("    remind_after: 4h\n", f"    remind_after: 4h\n    {rule_extra}\n", 1)
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def test_the_new_settings_are_accepted_when_they_make_sense(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = policy_with(tmp_path, "deal_channel: C0DEALS\nout_of_office: {max_days: 30}", "remind_every: 1d")

    assert main(["policy", "check", str(path)]) == 0, capsys.readouterr()


@pytest.mark.parametrize(
    ("top", "rule_extra", "said"),
    [
        ('deal_channel: "#deals"', "", "'#deals' is not a Slack channel id"),
        ("out_of_office: {max_days: 0}", "", "out_of_office.max_days"),
        ("", "remind_every: 10m", "remind_every: is at least 30m"),
    ],
)
def test_settings_that_make_no_sense_are_refused_with_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], top: str, rule_extra: str, said: str
) -> None:
    assert main(["policy", "check", str(policy_with(tmp_path, top, rule_extra))]) == 1
    assert said in capsys.readouterr().err
