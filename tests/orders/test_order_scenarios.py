"""Scenario files that generate, change and release orders (`greenlight policy test`), in memory.

The same files on the database: tests/store/test_scenarios_on_db.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from greenlight.cli import main
from greenlight.scenarios import run_files

REPO = Path(__file__).resolve().parents[2]
ORDERS_EXAMPLE = REPO / "examples" / "scenarios" / "14-orders.yaml"
APPROVALS_EXAMPLE = REPO / "examples" / "scenarios" / "01-submission-steps-and-chains.yaml"

POLICY = """\
version: 1
timezone: UTC
admins: [dana]
fallback_approver: dana
people:
  rita: {slack: U0RITA}
  dana: {slack: U0DANA}
"""
QUOTE = """\
  - submit:
      id: Q-7
      version: 1
      owner: rita
      currency: EUR
      net_total: 300
      account: {id: A-7, timezone: Europe/Berlin, ship_to: Berlin}
      lines:
        - {id: L1, net_total: 100, delivery_date: 2027-01-15}
        - {id: L2, net_total: 200, delivery_date: 2027-01-20}
    expect: {status: approved}
"""


def scenario(tmp_path: Path, steps: str) -> Path:
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(f"policy: policy.yaml\nnow: 2027-01-10T09:00:00Z\nsteps:\n{QUOTE}{steps}", encoding="utf-8")
    return path


def report(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, dict[str, Any]]:
    code = main(["policy", "test", "--format", "json", *map(str, paths)])
    return code, json.loads(capsys.readouterr().out)


async def test_the_orders_example_splits_changes_and_releases_orders_in_memory() -> None:
    (result,) = await run_files([str(ORDERS_EXAMPLE)])
    assert result.passed, [f for s in result.steps for f in s.failures]
    last = result.steps[-1]
    assert {o["number"]: o["status"] for o in last.orders or []} == {
        "Q-1200-01": "released",
        "Q-1200-02": "released",
        "Q-1200-03": "cancelled",
        "Q-1200-04": "released",
        "Q-1200-05": "released",
    }
    assert sum(float(o["total"]) for o in last.orders or []) == 180355
    assert last.erp == ["Q-1200-01:released", "Q-1200-02:released", "Q-1200-04:released", "Q-1200-05:released"]


def test_a_scenario_without_order_steps_reports_what_it_always_did(capsys: pytest.CaptureFixture[str]) -> None:
    code, found = report(capsys, APPROVALS_EXAMPLE)
    assert code == 0
    for step in found["scenarios"][0]["steps"]:
        assert list(step) == ["index", "action", "status", "approvals", "events", "error", "failures"]


def test_each_step_of_an_order_scenario_reports_the_quotes_orders_and_erp_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(
        tmp_path,
        "  - generate_orders: Q-7\n"
        "  - release_due: {at: 2027-01-15T05:00:00Z}\n"
        "    expect:\n"
        "      events: [order_released]\n"
        "      orders: {Q-7-01: {status: released, total: 100}, Q-7-02: {status: scheduled, total: '200.00'}}\n"
        "      erp: [Q-7-01:released]\n",
    )
    code, found = report(capsys, path)
    assert code == 0, found
    release = found["scenarios"][0]["steps"][-1]
    assert list(release) == ["index", "action", "status", "approvals", "events", "error", "orders", "erp", "failures"]
    assert release["orders"][0] == {
        "number": "Q-7-01",
        "status": "released",
        "delivery_date": "2027-01-15",
        "ship_to": "Berlin",
        "total": "100.00",
        "currency": "EUR",
        "lines": ["L1"],
        "release_at": "2027-01-15T06:00:00+01:00",
        "released_at": "2027-01-15T05:00:00+00:00",
    }
    assert release["erp"] == ["Q-7-01:released"]


def test_order_expectations_that_do_not_hold_say_what_differed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(
        tmp_path,
        "  - generate_orders: {by: rita}\n"
        "    expect:\n"
        "      orders: {Q-7-01: {delivery_date: 2027-01-16, lines: [L1, L2]}, Q-7-03: {}}\n"
        "      erp: [Q-7-01:released]\n",
    )
    code, found = report(capsys, path)
    assert code == 1
    assert found["scenarios"][0]["steps"][-1]["failures"] == [
        "orders: expected ['Q-7-01', 'Q-7-03'], got ['Q-7-01', 'Q-7-02']",
        "delivery_date of order Q-7-01: expected 2027-01-16, got 2027-01-15",
        "lines of order Q-7-01: expected ['L1', 'L2'], got ['L1']",
        "erp: expected ['Q-7-01:released'], got []",
    ]


def test_a_change_or_release_that_cannot_be_done_is_refused_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(
        tmp_path,
        "  - generate_orders:\n"
        "  - change_order: {number: Q-7-01, action: hold, by: mallory}\n"
        "    expect: {error: only the owner of Q-7 or an admin, orders: {Q-7-01: {status: scheduled}, Q-7-02: {}}}\n"
        "  - change_order: {number: Q-7-02, action: split, by: rita, date: 2027-02-01, lines: [L2]}\n"
        "    expect: {error: moving every line of order Q-7-02 is a reschedule}\n"
        "  - release_due: {at: 2027-01-01T00:00:00Z}\n"
        "    expect: {error: is before the clock}\n",
    )
    code, found = report(capsys, path)
    assert code == 0, found


def test_malformed_order_steps_are_refused_with_their_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(
        tmp_path,
        "  - change_order: {number: Q-7-01, action: ship, by: rita}\n"
        "  - change_order: {number: Q-7-01, action: split, by: rita, date: soon, lines: L1}\n"
        "  - release_due: {at: tomorrow}\n"
        "  - generate_orders: Q-7\n"
        "    expect: {orders: {Q-7-01: {colour: red}}, erp: Q-7-01:released}\n",
    )
    code, found = report(capsys, path)
    assert code == 1
    problems = found["scenarios"][0]["problems"]
    assert len(problems) == 6, problems
    expected = [
        "action is one of reschedule, split, hold, resume, cancel, release",
        "'soon' is not a date",
        "lines is a list of line ids",
        "'tomorrow' is not an ISO timestamp",
        "Q-7-01: unknown order field 'colour'",
        "erp is a list of ERP message keys",
    ]
    for problem, wanted in zip(problems, expected, strict=True):
        assert wanted in problem
    assert all(":" in p.split(" ")[0] for p in problems), "each problem names its line"
