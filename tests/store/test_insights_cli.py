"""`greenlight insights` and `greenlight policy backtest` over the known history, as a user runs them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from domain.service import Approvals
from greenlight.cli import main
from store import db
from store.tx import DbStore

from .insights_kit import play_history, policy, policy_text


@pytest.fixture
async def history(connected: str, tmp_path: Path) -> tuple[str, Path]:
    await play_history(Approvals(policy(), DbStore()))
    await db.close()  # the command connects on its own
    path = tmp_path / "policy.yaml"
    path.write_text(policy_text(25))
    return connected, path


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The command as a user runs it: its own event loop and connection, on a thread of its own."""
    code = await asyncio.get_running_loop().run_in_executor(None, main, list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


async def test_insights_as_text_json_and_csv_for_a_period(history, capsys) -> None:  # type: ignore[no-untyped-def]
    url, path = history
    code, out, _ = await run(
        capsys, "insights", "--db", url, "--policy", str(path), "--until", "2026-11-02", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["cycle"] == {"count": 3, "median": 3 * 3600 + 600, "p90": 6 * 3600}
    assert data["submissions"] == {"approved": 2, "rejected": 1}
    code, out, _ = await run(capsys, "insights", "--db", url, "--policy", str(path), "--until", "2026-11-02")
    assert code == 0
    assert "Cycle time (submitted to decided): median 3 h 10 min, p90 6 h (3)" in out
    code, out, _ = await run(capsys, "insights", "--db", url, "--policy", str(path), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {"section": "decisions_via", "key": "email", "count": "1"}.items() <= next(
        r for r in rows if r["section"] == "decisions_via" and r["key"] == "email"
    ).items()


async def test_a_bad_period_is_refused_with_a_sentence(history, capsys) -> None:  # type: ignore[no-untyped-def]
    url, path = history
    code, out, err = await run(
        capsys, "insights", "--db", url, "--policy", str(path), "--since", "2026-12-01", "--until", "2026-11-01"
    )
    assert code == 1 and out == ""
    assert "--since 2026-12-01 is not before --until 2026-11-01: the period is empty" in err
    code, _, err = await run(capsys, "insights", "--db", url, "--policy", str(path), "--since", "last tuesday")
    assert code == 1 and "'last tuesday' is neither a date" in err


async def test_policy_backtest_from_the_command_line(history, capsys, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, path = history
    new = tmp_path / "vp-10.yaml"
    new.write_text(policy_text(10))
    code, out, _ = await run(
        capsys, "policy", "backtest", str(new), "--db", url, "--policy", str(path), "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    # Q-1 (15%), Q-2 v2 (20%) and Q-3 (12%) now need the VP too; the first two were approved without one
    assert data["rules"]["vp-deep-discount"]["newly_needed"] == 3
    assert data["rules"]["vp-deep-discount"]["newly_needed_examples"] == ["Q-1", "Q-2", "Q-3"]
    assert data["differently"] == {"approved, would have waited for more approvals": 2}
    assert data["differently_examples"] == {"approved, would have waited for more approvals": ["Q-1", "Q-2"]}
    code, out, _ = await run(capsys, "policy", "backtest", str(new), "--db", url, "--policy", str(path))
    assert "vp-deep-discount: +3 / -0 / 1" in out
    assert "vera: 1 -> 4 (+3)" in out
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nrules: [\n")
    code, out, err = await run(capsys, "policy", "backtest", str(broken), "--db", url, "--policy", str(path))
    assert code == 1 and out == "" and "broken.yaml" in err
