"""Every example scenario reports the same JSON on the database store as in memory."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.support.quotes import EXAMPLES, ROOT

SCENARIOS = sorted(EXAMPLES.glob("scenarios/*.yaml"))
CLI_TIMEOUT = 120


def policy_test(*options: str) -> subprocess.Popen[str]:
    """`greenlight policy test <every example scenario> --format json [options]`, started in its own process."""
    command = [sys.executable, "-m", "greenlight.cli", "policy", "test", *map(str, SCENARIOS), "--format", "json"]
    return subprocess.Popen([*command, *options], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def report(run: subprocess.Popen[str]) -> tuple[int, dict[str, Any]]:
    try:
        out, err = run.communicate(timeout=CLI_TIMEOUT)
    finally:
        if run.returncode is None:
            run.kill()
            run.communicate()
    assert out, f"no report (exit {run.returncode}): {err[-2000:]}"
    return run.returncode, json.loads(out)


@pytest.fixture(scope="module")
def reports(module_database_url: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """Both runs once for the module, side by side: in memory, and with `--db` on the selected backend."""
    memory, database = policy_test(), policy_test("--db", module_database_url)
    return {"memory": report(memory), "database": report(database)}


def by_file(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {scenario["file"]: scenario for scenario in report["scenarios"]}


def test_there_are_example_scenarios() -> None:
    assert len(SCENARIOS) >= 10


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda path: path.stem)
def test_an_example_scenario_gives_identical_json_with_and_without_the_database(
    reports: dict[str, tuple[int, dict[str, Any]]], scenario: Any
) -> None:
    memory = by_file(reports["memory"][1])[str(scenario)]
    database = by_file(reports["database"][1])[str(scenario)]
    assert memory["steps"], "the scenario ran no step"
    assert database == memory


def test_the_database_run_exits_like_the_memory_run(reports: dict[str, tuple[int, dict[str, Any]]]) -> None:
    assert reports["database"][0] == reports["memory"][0]
    assert [s["file"] for s in reports["database"][1]["scenarios"]] == list(map(str, SCENARIOS))


def test_the_orders_example_generates_changes_and_releases_orders_on_the_database(
    reports: dict[str, tuple[int, dict[str, Any]]],
) -> None:
    orders = str(EXAMPLES / "scenarios" / "14-orders.yaml")
    scenario = by_file(reports["database"][1])[orders]
    assert scenario["passed"], [f for s in scenario["steps"] for f in s["failures"]]
    last = scenario["steps"][-1]
    assert [(o["number"], o["status"]) for o in last["orders"]] == [
        ("Q-1200-01", "released"),
        ("Q-1200-02", "released"),
        ("Q-1200-03", "cancelled"),
        ("Q-1200-04", "released"),
        ("Q-1200-05", "released"),
    ]
    assert last["erp"] == ["Q-1200-01:released", "Q-1200-02:released", "Q-1200-04:released", "Q-1200-05:released"]
