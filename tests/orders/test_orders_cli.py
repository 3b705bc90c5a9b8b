"""`greenlight orders plan` on the example files and on bad input (orders-v1 §1)."""

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from greenlight import cli
from greenlight.orderscli import add_commands

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
POLICY = str(EXAMPLES / "policy.yaml")
Q1200 = str(EXAMPLES / "quotes" / "q1200-v1.json")


@pytest.fixture
def greenlight(monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """`greenlight.cli.main`, with the orders commands registered if cli.py does not register them yet."""
    build = cli.parser

    def parser() -> argparse.ArgumentParser:
        top = build()
        commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
        if "orders" not in commands.choices:
            add_commands(commands)
        return top

    monkeypatch.setattr(cli, "parser", parser)
    return cli.main


def plan_json(greenlight, capsys, *extra: str) -> dict:
    assert greenlight(["orders", "plan", "--policy", POLICY, "--quote", Q1200, "--format", "json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_plan_prints_the_orders_of_q1200_as_json(greenlight, capsys):
    document = plan_json(greenlight, capsys)
    assert list(document) == ["orders"]
    first, second, third, fourth = document["orders"]
    assert first == {
        "number": "Q-1200-01",
        "delivery_date": "2027-01-11",
        "ship_to": "Cascade DC Boise",
        "release_at": "2027-01-11T06:00:00-08:00",
        "lines": [{"id": "L3", "quantity": 4, "net_total": "7680.00"}],
        "total": "7680.00",
    }
    assert [ln["id"] for ln in second["lines"]] == ["L1", "L2", "L7"]
    assert second["total"] == "73920.00"
    assert (third["number"], third["ship_to"], third["total"]) == ("Q-1200-03", "Cascade DC Boise", "27200.00")
    assert (fourth["number"], fourth["release_at"], fourth["total"]) == (
        "Q-1200-04",
        "2027-03-08T06:00:00-08:00",
        "71555.00",
    )


def test_plan_json_has_exactly_the_documented_keys(greenlight, capsys):
    for order in plan_json(greenlight, capsys)["orders"]:
        assert set(order) == {"number", "delivery_date", "ship_to", "release_at", "lines", "total"}
        for entry in order["lines"]:
            assert set(entry) == {"id", "quantity", "net_total"}
            assert isinstance(entry["net_total"], str)


def test_plan_json_totals_add_up_to_the_quote(greenlight, capsys):
    orders = plan_json(greenlight, capsys)["orders"]
    cents = sum(int(o["total"].replace(".", "")) for o in orders)
    assert cents == json.loads(Path(Q1200).read_text(encoding="utf-8"))["net_total"] * 100


def test_plan_prints_a_readable_table(greenlight, capsys):
    assert greenlight(["orders", "plan", "--policy", POLICY, "--quote", Q1200]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == ("Q-1200 v1 · Cascade Cold Storage · 4 orders · $180,355.00 · released at 06:00 Los Angeles time")
    assert out[2].split() == ["order", "delivery", "ship", "to", "release", "lines", "total"]
    # 06:00 in Los Angeles, shown in the policy's zone (New York), named
    assert out[4].split() == [
        "Q-1200-02",
        "January",
        "11,",
        "2027",
        "Cascade",
        "DC",
        "Tacoma",
        "Jan",
        "11,",
        "2027,",
        "9:00",
        "AM",
        "(New",
        "York)",
        "L1×6",
        "L2×60",
        "L7×3",
        "$73,920.00",
    ]
    assert out[-1].split() == ["total", "$180,355.00"]


def test_the_approval_date_dates_lines_that_have_no_date(greenlight, capsys, tmp_path):
    data = json.loads(Path(Q1200).read_text(encoding="utf-8"))
    del data["start_date"]
    for entry in data["lines"]:
        entry.pop("delivery_date")
    quote_file = tmp_path / "undated.json"
    quote_file.write_text(json.dumps(data), encoding="utf-8")
    args = ["orders", "plan", "--policy", POLICY, "--quote", str(quote_file), "--format", "json"]
    assert greenlight([*args, "--approved-on", "2026-12-10"]) == 0
    orders = json.loads(capsys.readouterr().out)["orders"]
    assert {o["delivery_date"] for o in orders} == {"2026-12-10"}


# -------------------------------------------------------------------------------------- bad input


def test_a_quote_that_is_not_json_is_reported_with_its_line(greenlight, capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "Q-1",\n  oops}', encoding="utf-8")
    assert greenlight(["orders", "plan", "--policy", POLICY, "--quote", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2: this is not valid JSON" in err
    assert "1 problem found." in err


def test_problems_in_a_quote_are_located_by_file_and_path(greenlight, capsys, tmp_path):
    data = json.loads(Path(Q1200).read_text(encoding="utf-8"))
    data["account"]["timezone"] = "Pacific/Atlantis"
    data["lines"][5]["asset"] = "per_pallet"
    bad = tmp_path / "q.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert greenlight(["orders", "plan", "--policy", POLICY, "--quote", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{bad}: $.account.timezone: 'Pacific/Atlantis' is not a time zone name (e.g. Europe/Berlin)",
        f"{bad}: $.lines[5].asset: asset must be per_line or per_unit, not 'per_pallet'",
        "2 problems found.",
    ]


def test_a_bad_term_is_caught_before_any_order_is_printed(greenlight, capsys, tmp_path):
    data = json.loads(Path(Q1200).read_text(encoding="utf-8"))
    data["lines"][6]["term_months"] = 0
    bad = tmp_path / "q.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert greenlight(["orders", "plan", "--policy", POLICY, "--quote", str(bad), "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{bad}: $.lines[6].term_months: term_months must be a whole number of months, 1 or more (not 0)" in err


def test_a_missing_quote_file_is_reported(greenlight, capsys, tmp_path):
    missing = tmp_path / "nope.json"
    assert greenlight(["orders", "plan", "--policy", POLICY, "--quote", str(missing)]) == 1
    assert f"{missing}: cannot read the quote file" in capsys.readouterr().err


def test_a_bad_release_time_in_the_policy_is_reported_with_its_line(greenlight, capsys, tmp_path):
    bad = tmp_path / "policy.yaml"
    bad.write_text('fallback_approver: dana\npeople:\n  dana: {}\norders:\n  release_time: "6 am"\n', encoding="utf-8")
    assert greenlight(["orders", "plan", "--policy", str(bad), "--quote", Q1200]) == 1
    assert f"{bad}:5: orders.release_time: '6 am' is not a time of day" in capsys.readouterr().err


def test_a_bad_approval_date_is_refused(greenlight, capsys):
    assert greenlight(["orders", "plan", "--policy", POLICY, "--quote", Q1200, "--approved-on", "10/12/2026"]) == 1
    assert "--approved-on '10/12/2026' is not a date" in capsys.readouterr().err
