"""Every benchmark still runs: each bench in bench/ at its smoke sizes (`--smoke`, bench/measure.py),
as a process of its own, exits 0 and prints its headline and its `target …:` lines.

Only what a bench prints is checked, never a figure: whether a target is met is the bench's
business on a quiet machine (make bench), not the suite's. The parts on PostgreSQL (decisions,
release, insights) run in the PostgreSQL run (GREENLIGHT_TEST_DB=postgres); the SQLite run
leaves PostgreSQL out.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.loopback import PROXY_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
TARGET = re.compile(r"^target (?P<what>.+): (?:met|NOT met) \(.+\)$")
TIMEOUT = 600  # a process that hangs fails the test instead of the suite; none takes near this

SQLITE_ONLY = {
    "crm": ["CRM intake, 12 quotes"],
    "delegations": ["delegations benchmark (SQLite)", "floor (no past window)"],
    "engine": ["engine preview benchmark", "quote: 100 lines"],
    "history": ["history sizes on SQLite (smoke mode"],
    "memory": ["memory benchmark · 30 quotes", "App Home (event -> views.publish)"],
    "slack_ack": ["Slack ack latency", "decided: "],
}
SQLITE_TARGETS = {
    "crm": ["CRM intake >= 25% of the floor (JSON parse + INSERT)"],
    "delegations": [],
    "engine": ["preview <= 3x hand-written"],
    "history": [
        f"{what} with {size} within 1.2x of the empty case (CPU per operation)"
        for size in ("30 ended delegations", "10 replacements", "200 audit rows", "5-line quotes")
        for what in ("decision", "App Home")
    ],
    "memory": ["server peak RSS <= 200 MB with 30 quotes", "App Home median <= 100 ms with 30 quotes"],
    "slack_ack": [
        "ack p99 <= 100 ms at 4 concurrent clickers",
        "ack throughput >= 50% of the grouped durable floor",
        "sustained 20 clicks/s for 0.1 s with Slack delivery lag < 5 s (quick mode: shorter than 60 s)",
    ],
}
BOTH_BACKENDS = {
    "decisions": (["decisions on sqlite:"], ["decisions >= 50% of the minimal-transaction floor on sqlite"]),
    "release": (
        ["Releasing 12 due orders", "amendment of a 40-line quote"],
        [
            "release on SQLite, one process: >= 25% of its fair floor",
            "release on SQLite, one process, 2/3 amended: >= 25% of its fair floor",
        ],
    ),
    "insights": (
        ["SQLite: 40 submissions written"],
        [
            "insights on SQLite <= 2.0x the bare SQL of every figure",
            "backtest on SQLite <= 1.5x the preview loop over the stored quotes",
        ],
    ),
}
ON_POSTGRES = {
    "decisions": (["decisions on postgres:"], ["decisions >= 50% of the minimal-transaction floor on postgres"]),
    "release": (
        ["release_due, two processes "],
        [
            "release on PostgreSQL, two processes: >= 1,000 orders/s",
            "release on PostgreSQL, two processes: >= 25% of its fair floor",
            "release on PostgreSQL, two processes, 2/3 amended: >= 1,000 orders/s",
            "release on PostgreSQL, two processes, 2/3 amended: >= 25% of its fair floor",
        ],
    ),
    "insights": (
        ["PostgreSQL: 40 submissions written"],
        [
            "insights on PostgreSQL <= 2.0x the bare SQL of every figure",
            "backtest on PostgreSQL <= 1.5x the preview loop over the stored quotes",
        ],
    ),
}


def run_bench(name: str, *extra: str) -> str:
    """Run bench/NAME.py --smoke; its output, once it exited 0."""
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES and k != "GREENLIGHT_BENCH_SMOKE"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--smoke", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, f"bench/{name}.py --smoke exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def targets_in(output: str) -> list[str]:
    return [m["what"] for line in output.splitlines() if (m := TARGET.match(line.strip()))]


def assert_prints(output: str, headlines: list[str], targets: list[str]) -> None:
    for headline in headlines:
        assert headline in output, f"{headline!r} missing from:\n{output}"
    assert sorted(targets_in(output)) == sorted(targets), output


@pytest.fixture
def sqlite_run(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only: the SQLite run covers it")


@pytest.mark.parametrize("name", sorted(SQLITE_ONLY))
def test_a_sqlite_bench_runs_at_smoke_size_and_prints_its_targets(name: str, sqlite_run: None) -> None:
    assert_prints(run_bench(name), SQLITE_ONLY[name], SQLITE_TARGETS[name])


@pytest.mark.parametrize("name", sorted(BOTH_BACKENDS))
def test_a_bench_with_a_postgres_part_runs_its_sqlite_part_at_smoke_size(name: str, sqlite_run: None) -> None:
    headlines, targets = BOTH_BACKENDS[name]

    output = run_bench(name, "--sqlite-only")

    assert_prints(output, headlines, targets)
    assert "PostgreSQL at" not in output


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(ON_POSTGRES))
def test_a_bench_runs_on_postgres_and_sqlite_at_smoke_size(name: str, postgres_server: str) -> None:
    headlines, targets = ON_POSTGRES[name]
    sqlite_headlines, sqlite_targets = BOTH_BACKENDS[name]

    output = run_bench(name, "--pg-url", postgres_server)

    assert_prints(output, headlines + sqlite_headlines, targets + sqlite_targets)


def test_the_runner_collects_every_target_and_writes_no_report_in_smoke_mode(sqlite_run: None) -> None:
    report = ROOT / "docs" / "BENCHMARKS.md"
    before = report.stat().st_mtime_ns if report.exists() else None
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}

    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--only", "engine", "crm"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "[1/2] engine: bench/engine.py --smoke" in done.stdout.replace(str(ROOT) + "/", "")
    assert "[2/2] crm: bench/crm.py --smoke" in done.stdout.replace(str(ROOT) + "/", "")
    collected = done.stdout.rsplit("\n\n", 1)[-1]
    assert sorted(targets_in(collected)) == sorted(SQLITE_TARGETS["engine"] + SQLITE_TARGETS["crm"])
    assert (report.stat().st_mtime_ns if report.exists() else None) == before
