"""Malformed policies, quotes and scenarios: one clear message per problem, located, never a traceback."""

import json
from pathlib import Path

import pytest

from domain.errors import PolicyError, QuoteError, ScenarioError
from domain.policy import load_policy
from domain.quote import load_quote_text
from greenlight.cli import main
from greenlight.scenarios import load_scenario

# Line numbers matter below: each line of the base policy is numbered in the comment.
BASE = """\
version: 1
timezone: America/New_York
admins: [dana]
fallback_approver: deal-desk
people:
  rita: {manager: mike}
  mike: {manager: vera, timezone: Europe/Paris}
  vera: {}
  dana: {email: dana@example.com}
  fin1: {}
approvers:
  deal-desk: {group: [dana, fin1], mode: any}
  manager: {field: owner.manager}
rules:
  - name: manager-discount
    approver: manager
    conditions:
      - {field: discount_percent, op: gt, value: 10}
"""
#  1 version · 2 timezone · 3 admins · 4 fallback · 5 people · 6 rita · 7 mike · 8 vera · 9 dana · 10 fin1
# 11 approvers · 12 deal-desk · 13 manager · 14 rules · 15 name · 16 approver · 17 conditions · 18 condition
# appended lines start at 19


def edited(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def appended(text: str) -> str:
    return BASE + text


BAD_POLICIES = {
    "unknown approver": (edited("approver: manager", "approver: nobody"), 16, "unknown approver 'nobody'"),
    "duplicate rule name": (
        appended("  - name: manager-discount\n    approver: manager\n"),
        19,
        "rule name 'manager-discount' is already used by rules[0]",
    ),
    "bad operator": (edited("op: gt", "op: greater"), 18, "unknown operator 'greater'"),
    "quorum larger than the group": (
        edited("mode: any}", "mode: {quorum: 3}}"),
        12,
        "quorum 3 is larger than the group (2 people)",
    ),
    "when naming a missing condition": (
        appended("    when: 1 and 2\n"),
        19,
        "names condition 2, but the rule has 1 condition",
    ),
    "unreadable when": (appended("    when: 1 and\n"), 19, "ends too early"),
    "manager cycle": (
        edited("vera: {}", "vera: {manager: rita}"),
        6,
        "managers form a cycle: rita → mike → vera → rita",
    ),
    "manager who is their own manager": (edited("vera: {}", "vera: {manager: vera}"), 8, "vera → vera"),
    "missing fallback_approver": (edited("fallback_approver: deal-desk\n", ""), 1, "fallback_approver: is missing"),
    "unknown fallback_approver": (
        edited("fallback_approver: deal-desk", "fallback_approver: desk"),
        4,
        "'desk' is neither",
    ),
    "field fallback_approver": (
        edited("fallback_approver: deal-desk", "fallback_approver: manager"),
        4,
        "must name people",
    ),
    "unknown people key": (edited("vera: {}", "vera: {phone: 555}"), 8, "unknown key 'phone'"),
    "bad email": (edited("dana@example.com", "dana-at-example"), 9, "'dana-at-example' is not an email address"),
    "unknown manager": (edited("manager: vera,", "manager: zed,"), 7, "manager 'zed' is not in people"),
    "unknown group member": (edited("[dana, fin1]", "[dana, zed]"), 12, "group member 'zed' is not in people"),
    "unknown admin": (edited("admins: [dana]", "admins: [zed]"), 3, "admin 'zed' is not in people"),
    "group without mode": (edited(", mode: any}", "}"), 12, "a group needs mode"),
    "bad YAML": (edited("    approver: manager", "   approver: manager"), 16, "this is not valid YAML"),
    "duplicate key": (edited("  vera: {}\n", "  vera: {}\n  vera: {}\n"), 9, "the key 'vera' appears twice"),
    "bad timezone": (edited("America/New_York", "Mars/Olympus"), 2, "'Mars/Olympus' is not a time zone name"),
    "bad person timezone": (edited("Europe/Paris", "Europe/Pariss"), 7, "'Europe/Pariss' is not a time zone name"),
    "bad duration": (appended("    remind_after: 4 hours\n"), 19, "'4 hours' is not a duration"),
    "escalation without a target": (appended("    escalate_after: 4h\n"), 15, "go together"),
    "unknown escalation target": (
        appended("    escalate_after: 4h\n    escalate_to: nobody\n"),
        20,
        "unknown approver 'nobody' to escalate to",
    ),
    "unquoted release_time": (appended("orders:\n  release_time: 18:30\n"), 20, "write it quoted"),
    "unknown variable": (edited("field: discount_percent", "variable: depth"), 18, "unknown variable 'depth'"),
    "in without a list": (edited("op: gt, value: 10", "op: in, value: 10"), 18, "in needs a list of values"),
    "condition without a value": (edited("op: gt, value: 10", "op: gt"), 18, "exactly one of value:, other_field:"),
    "step zero": (appended("    step: 0\n"), 19, "greater than or equal to 1"),
    "effective backwards": (
        appended("    effective: {from: 2026-12-01, to: 2026-01-01}\n"),
        19,
        "from (2026-12-01) is after to (2026-01-01)",
    ),
    "unknown rule key": (appended("    colour: red\n"), 19, "unknown key 'colour'"),
    "unknown section": (appended("colours: [red]\n"), 19, "unknown section 'colours'"),
}


@pytest.mark.parametrize(("text", "line", "message"), BAD_POLICIES.values(), ids=BAD_POLICIES.keys())
def test_a_malformed_policy_gives_one_message_at_its_line(text, line, message):
    with pytest.raises(PolicyError) as caught:
        load_policy(text, "policy.yaml")
    problems = caught.value.problems
    assert [p.where for p in problems] == [f"policy.yaml:{line}"], problems
    assert message in problems[0].message


@pytest.mark.parametrize(("text", "line", "message"), BAD_POLICIES.values(), ids=BAD_POLICIES.keys())
def test_policy_check_reports_a_malformed_policy_and_exits_non_zero(tmp_path, capsys, text, line, message):
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["policy", "check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert f"{path}:{line}" in err
    assert message in err
    assert "Traceback" not in out + err


def test_policy_check_accepts_a_valid_policy(tmp_path, capsys):
    path = tmp_path / "policy.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert main(["policy", "check", str(path)]) == 0
    assert "valid · 1 rule in 1 chain" in capsys.readouterr().out


def test_every_problem_of_a_policy_is_reported_at_once_in_line_order():
    text = edited("admins: [dana]", "admins: [zed]")
    text = text.replace("mode: any}", "mode: {quorum: 5}}")
    text += "  - name: manager-discount\n    approver: nobody\n"
    with pytest.raises(PolicyError) as caught:
        load_policy(text, "policy.yaml")
    assert [p.where for p in caught.value.problems] == [
        "policy.yaml:3",
        "policy.yaml:12",
        "policy.yaml:19",
        "policy.yaml:20",
    ]


def test_a_rule_with_a_bad_operator_still_has_its_unknown_approver_reported():
    text = edited("approver: manager", "approver: nobody").replace("op: gt", "op: greater")
    with pytest.raises(PolicyError) as caught:
        load_policy(text, "policy.yaml")
    messages = " | ".join(str(p) for p in caught.value.problems)
    assert "unknown operator 'greater'" in messages
    assert "unknown approver 'nobody'" in messages


def test_a_rule_with_a_bad_operator_still_has_its_duplicate_name_reported():
    text = appended(
        "  - name: manager-discount\n    approver: manager\n    conditions: [{field: a, op: like, value: 1}]\n"
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(text, "policy.yaml")
    messages = " | ".join(str(p) for p in caught.value.problems)
    assert "unknown operator 'like'" in messages
    assert "already used" in messages


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the policy file is empty"),
        ("- just\n- a list\n", "a policy is a YAML mapping"),
        ("people: [rita]\nfallback_approver: rita\n", "people: must be a mapping"),
    ],
)
def test_a_policy_that_is_not_a_mapping_of_sections_says_so(text, message):
    with pytest.raises(PolicyError) as caught:
        load_policy(text, "policy.yaml")
    assert message in str(caught.value)


def test_policy_check_on_a_missing_file_says_it_cannot_be_read(tmp_path, capsys):
    assert main(["policy", "check", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read the policy file" in capsys.readouterr().err


def test_policy_check_on_a_file_that_is_not_utf8_says_so_without_a_traceback(tmp_path, capsys):
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"\xff\xfe version: 1\n")
    assert main(["policy", "check", str(path)]) == 1
    assert str(path) in capsys.readouterr().err


# ------------------------------------------------------------ quotes


def quote_text(**fields) -> str:
    data = {"id": "Q-1", "version": 1, "owner": "rita", **fields}
    return json.dumps({k: v for k, v in data.items() if v is not None})


BAD_QUOTES = {
    "missing id": (quote_text(id=None), "$.id", "id is required"),
    "empty id": (quote_text(id=" "), "$.id", "id is required"),
    "missing version": (quote_text(version=None), "$.version", "version is required"),
    "version as text": (quote_text(version="3"), "$.version", "a whole number"),
    "version zero": (quote_text(version=0), "$.version", "1 or more"),
    "missing owner": (quote_text(owner=None), "$.owner", "owner is required"),
    "line number as text": (
        quote_text(lines=[{"id": "L1", "quantity": "ten"}]),
        "$.lines[0].quantity",
        "quantity must be a number",
    ),
    "line total as text": (
        quote_text(lines=[{"id": "L1", "net_total": "850"}]),
        "$.lines[0].net_total",
        "must be a number",
    ),
    "duplicate line ids": (
        quote_text(lines=[{"id": "L1"}, {"id": "L1"}]),
        "$.lines[1].id",
        "line id 'L1' is used twice",
    ),
    "line without id": (quote_text(lines=[{"sku": "X"}]), "$.lines[0].id", "each line needs an id"),
    "line not an object": (quote_text(lines=["L1"]), "$.lines[0]", "each line is an object"),
    "lines not a list": (quote_text(lines={"L1": {}}), "$.lines", "lines must be a list"),
    "bad total": (quote_text(net_total="lots"), "$.net_total", "net_total must be a number"),
    "bad currency": (quote_text(currency="dollars"), "$.currency", "three-letter code"),
    "account without id": (quote_text(account={"name": "Acme"}), "$.account.id", "account.id is required"),
    "bad delivery date": (
        quote_text(lines=[{"id": "L1", "delivery_date": "soon"}]),
        "$.lines[0].delivery_date",
        "ISO date",
    ),
    "impossible start date": (quote_text(start_date="2027-02-30"), "$.start_date", "ISO date"),
    "impossible delivery date": (
        quote_text(lines=[{"id": "L1", "delivery_date": "2027-13-01"}]),
        "$.lines[0].delivery_date",
        "ISO date",
    ),
    "not an object": ("[1, 2, 3]", "$", "a quote is a JSON object"),
    "bad JSON": ('{"id": "Q-1",\n "version": 1,,\n}', "quote.json:2", "this is not valid JSON"),
    "empty file": ("", "quote.json:1", "this is not valid JSON"),
}


@pytest.mark.parametrize(("text", "where", "message"), BAD_QUOTES.values(), ids=BAD_QUOTES.keys())
def test_a_malformed_quote_gives_one_message_at_its_json_path(text, where, message):
    with pytest.raises(QuoteError) as caught:
        load_quote_text(text, "quote.json")
    problems = caught.value.problems
    assert [p.where for p in problems] == [where], problems
    assert message in problems[0].message


def test_every_problem_of_a_quote_is_reported_at_once():
    with pytest.raises(QuoteError) as caught:
        load_quote_text(json.dumps({"lines": [{"id": "L1", "quantity": "x"}, {"id": "L1"}]}), "quote.json")
    assert [p.where for p in caught.value.problems] == [
        "$.id",
        "$.version",
        "$.owner",
        "$.lines[0].quantity",
        "$.lines[1].id",
    ]


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(BASE, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "where", "message"), BAD_QUOTES.values(), ids=BAD_QUOTES.keys())
def test_preview_reports_a_malformed_quote_and_exits_non_zero(tmp_path, capsys, policy_file, text, where, message):
    path = tmp_path / "quote.json"
    path.write_text(text.replace("quote.json", str(path)), encoding="utf-8")
    assert main(["preview", "--policy", str(policy_file), "--quote", str(path), "--at", "2026-12-01T09:00:00Z"]) == 1
    out, err = capsys.readouterr()
    assert message in err
    assert "1 problem found." in err
    assert "Traceback" not in out + err


def test_preview_of_a_missing_quote_file_says_it_cannot_be_read(tmp_path, capsys, policy_file):
    assert main(["preview", "--policy", str(policy_file), "--quote", str(tmp_path / "nope.json")]) == 1
    assert "cannot read the quote file" in capsys.readouterr().err


def test_preview_of_a_quote_file_that_is_not_utf8_says_so_without_a_traceback(tmp_path, capsys, policy_file):
    path = tmp_path / "quote.json"
    path.write_bytes(b'{"id": "Q-\xff"}')
    assert main(["preview", "--policy", str(policy_file), "--quote", str(path)]) == 1
    assert str(path) in capsys.readouterr().err


def test_preview_with_an_unreadable_time_says_so_without_a_traceback(tmp_path, capsys, policy_file):
    path = tmp_path / "quote.json"
    path.write_text(quote_text(), encoding="utf-8")
    assert main(["preview", "--policy", str(policy_file), "--quote", str(path), "--at", "yesterday"]) != 0
    assert "yesterday" in capsys.readouterr().err


def test_preview_with_a_malformed_policy_reports_the_policy(tmp_path, capsys):
    policy = tmp_path / "policy.yaml"
    policy.write_text(edited("op: gt", "op: greater"), encoding="utf-8")
    path = tmp_path / "quote.json"
    path.write_text(quote_text(), encoding="utf-8")
    assert main(["preview", "--policy", str(policy), "--quote", str(path)]) == 1
    assert f"{policy}:18" in capsys.readouterr().err


# ------------------------------------------------------------ scenarios


SCENARIO_HEAD = "policy: policy.yaml\nnow: 2026-12-01T09:00:00Z\nsteps:\n"
# 1 policy · 2 now · 3 steps · step lines start at 4


def write_scenario(tmp_path: Path, steps: str, head: str = SCENARIO_HEAD) -> Path:
    (tmp_path / "policy.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "q1.json").write_text(quote_text(discount_percent=18), encoding="utf-8")
    path = tmp_path / "scenario.yaml"
    path.write_text(head + steps, encoding="utf-8")
    return path


BAD_SCENARIOS = {
    "unknown action": ("  - approve_all: {by: mike}\n", 4, "unknown key 'approve_all'"),
    "two actions": ("  - submit: q1.json\n    recall: {by: rita}\n", 4, "2 actions"),
    "missing keys": ("  - approve: {rule: manager-discount}\n", 4, "approve needs by"),
    "unknown action key": ("  - recall: {by: rita, why: oops}\n", 4, "recall has no key 'why'"),
    "action without mapping": ("  - approve: mike\n", 4, "approve takes a mapping with by, rule"),
    "unknown expect key": ("  - submit: q1.json\n    expect: {colour: red}\n", 5, "unknown expectation 'colour'"),
    "expect not a mapping": ("  - submit: q1.json\n    expect: [pending]\n", 5, "expect: is a mapping"),
    "missing quote file": ("  - submit: quotes/nope.json\n", 4, "no quote file at quotes/nope.json"),
    "bad advance": ("  - advance: a while\n", 4, "'a while' is not a duration"),
    "bad delegation date": (
        "  - delegate: {from: mike, to: vera, start: soon, end: 2026-12-09}\n",
        4,
        "'soon' is not a date",
    ),
    "step not a mapping": ("  - submit\n", 4, "a step is a mapping with one action"),
}


@pytest.mark.parametrize(("steps", "line", "message"), BAD_SCENARIOS.values(), ids=BAD_SCENARIOS.keys())
def test_a_malformed_scenario_gives_one_message_at_its_line(tmp_path, steps, line, message):
    path = write_scenario(tmp_path, steps)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert [p.where for p in problems] == [f"{path}:{line}"], problems
    assert message in problems[0].message


@pytest.mark.parametrize(("steps", "line", "message"), BAD_SCENARIOS.values(), ids=BAD_SCENARIOS.keys())
def test_policy_test_reports_a_malformed_scenario_and_exits_non_zero(tmp_path, capsys, steps, line, message):
    path = write_scenario(tmp_path, steps)
    assert main(["policy", "test", str(path)]) == 1
    out, err = capsys.readouterr()
    assert f"{path}:{line}" in out
    assert message in out
    assert "0 passed, 1 failed" in out
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("head", "line", "message"),
    [
        ("now: 2026-12-01T09:00:00Z\nsteps:\n", 1, "policy: is required"),
        ("policy: policy.yaml\nnow: next tuesday\nsteps:\n", 2, "'next tuesday' is not an ISO timestamp"),
        ("policy: policy.yaml\nclock: 9am\nsteps:\n", 2, "unknown key 'clock'"),
    ],
)
def test_a_malformed_scenario_header_is_reported_at_its_line(tmp_path, head, line, message):
    path = write_scenario(tmp_path, "  - submit: q1.json\n", head=head)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert [p.where for p in problems] == [f"{path}:{line}"]
    assert message in problems[0].message


def test_a_scenario_without_steps_says_so(tmp_path):
    path = write_scenario(tmp_path, "", head="policy: policy.yaml\nsteps: []\n")
    with pytest.raises(ScenarioError, match="steps: is required"):
        load_scenario(path)


def test_a_scenario_naming_a_malformed_policy_reports_the_policys_problems(tmp_path, capsys):
    path = write_scenario(tmp_path, "  - submit: q1.json\n")
    (tmp_path / "policy.yaml").write_text(edited("op: gt", "op: greater"), encoding="utf-8")
    assert main(["policy", "test", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'policy.yaml'}:18" in out
    assert "unknown operator 'greater'" in out


def test_a_missing_scenario_file_fails_without_a_traceback(tmp_path, capsys):
    assert main(["policy", "test", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read the scenario" in capsys.readouterr().out


def test_a_quote_file_with_bad_json_fails_its_step_with_the_files_line(tmp_path, capsys):
    path = write_scenario(tmp_path, "  - submit: q1.json\n")
    (tmp_path / "q1.json").write_text('{"id": "Q-1",\n "version": }', encoding="utf-8")
    assert main(["policy", "test", str(path)]) == 1
    out = capsys.readouterr().out
    assert "q1.json:2: this is not valid JSON" in out


def test_an_inline_quote_with_problems_fails_its_step_with_the_json_path(tmp_path, capsys):
    path = write_scenario(tmp_path, "  - submit: {id: Q-1, owner: rita}\n")
    assert main(["policy", "test", str(path)]) == 1
    assert "$.version: version is required" in capsys.readouterr().out


def test_a_reason_that_is_not_text_fails_the_scenario_without_a_traceback(tmp_path, capsys):
    path = write_scenario(tmp_path, "  - submit: q1.json\n  - reject: {rule: manager-discount, by: mike, reason: 42}\n")
    assert main(["policy", "test", str(path)]) == 1
    assert "Traceback" not in capsys.readouterr().out


def test_an_expectation_of_the_wrong_shape_fails_the_scenario_without_a_traceback(tmp_path, capsys):
    path = write_scenario(tmp_path, "  - submit: q1.json\n    expect: {assignees: [mike]}\n")
    assert main(["policy", "test", str(path)]) == 1
    assert "assignees" in capsys.readouterr().out


def test_a_scenario_quote_file_that_is_not_utf8_fails_without_a_traceback(tmp_path, capsys):
    path = write_scenario(tmp_path, "  - submit: q1.json\n")
    (tmp_path / "q1.json").write_bytes(b'{"id": "Q-\xff"}')
    assert main(["policy", "test", str(path)]) == 1
    assert "q1.json" in capsys.readouterr().out


def test_unknown_command_line_options_exit_with_usage_not_a_traceback(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["policy", "lint", "x.yaml"])
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err
