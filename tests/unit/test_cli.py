"""`greenlight policy check|test` and `greenlight preview` on well-formed files (policy-v1 §4)."""

import json
from pathlib import Path

import pytest
from unit_kit import policy_yaml

from greenlight.cli import main

RULES = """
- name: manager-discount
  chain: commercial
  step: 1
  approver: manager
  conditions: [{field: discount_percent, op: gt, value: 10, smart: true}]
- name: vp-deep-discount
  chain: commercial
  step: 2
  approver: vp-sales
  remind_after: 4h
  escalate_after: 24h
  escalate_to: deal-desk
  conditions: [{variable: blended_discount, op: gt, value: 25, smart: true}]
- name: legal-terms
  chain: legal
  approver: legal
  conditions: [{field: payment_terms, op: in, value: [Net 60, Net 90]}]
"""
VARIABLES = "blended_discount: {discount: {list: list_total, net: net_total}}"


def quote_json(version: int, discount: float, net: float) -> str:
    return json.dumps(
        {
            "id": "Q-1042",
            "version": version,
            "owner": "rita",
            "account": {"id": "A-77", "name": "Acme GmbH"},
            "payment_terms": "Net 60",
            "discount_percent": discount,
            "net_total": net,
            "lines": [{"id": "L1", "list_total": 100000, "net_total": net}],
        }
    )


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "policy.yaml").write_text(policy_yaml(RULES, VARIABLES), encoding="utf-8")
    (tmp_path / "quotes").mkdir()
    (tmp_path / "quotes" / "v1.json").write_text(quote_json(1, 18.5, 72600), encoding="utf-8")
    (tmp_path / "quotes" / "v2.json").write_text(quote_json(2, 15, 74000), encoding="utf-8")
    return tmp_path


SCENARIO = """\
policy: policy.yaml
now: 2026-12-01T09:00:00Z
steps:
  - submit: quotes/v1.json
    expect: {status: pending, requested: [manager-discount, legal-terms], waiting: [vp-deep-discount]}
  - approve: {rule: manager-discount, by: mike}
    expect: {approved: [manager-discount], requested: [vp-deep-discount, legal-terms]}
  - reject: {rule: vp-deep-discount, by: vera}
    expect: {error: reason}
  - reject: {rule: vp-deep-discount, by: vera, reason: "Too deep for a 3-year term"}
    expect: {status: rejected, rejected: [vp-deep-discount], revoked: [legal-terms], approved: [manager-discount]}
  - submit: quotes/v2.json
    expect:
      status: pending
      carried: [manager-discount]
      carried_from: {manager-discount: "Q-1042#1/manager-discount"}
      acted_by: {manager-discount: mike}
  - delegate: {from: vera, to: ned, start: 2026-12-01, end: 2026-12-31}
    expect: {events: [delegate_added], assignees: {vp-deep-discount: [vera, ned]}}
  - reassign: {rule: legal-terms, from: lea, to: sam, comment: conflict}
    expect: {assignees: {legal-terms: [sam, leo, lou]}}
  - advance: 5h
    expect: {events: [reminded]}
  - advance: 20h
    expect: {events: [escalated], assignees: {vp-deep-discount: [vera, ned, dana, fin1]}}
  - approve: {rule: vp-deep-discount, by: ned}
    expect: {approved: [vp-deep-discount], on_behalf_of: {vp-deep-discount: vera}}
  - approve: {rule: legal-terms, by: sam}
  - approve: {rule: legal-terms, by: lou}
    expect: {status: approved}
"""


def test_a_passing_scenario_exits_zero_with_a_readable_report(files, capsys):
    (files / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    assert main(["policy", "test", str(files / "scenario.yaml")]) == 0
    out = capsys.readouterr().out
    assert "PASS" in out
    assert "1 passed, 0 failed" in out
    assert "refused: a rejection needs a reason" in out


def test_a_failed_expectation_exits_non_zero_and_says_what_differed(files, capsys):
    text = SCENARIO.replace("carried: [manager-discount]", "carried: [legal-terms]")
    (files / "scenario.yaml").write_text(text, encoding="utf-8")
    assert main(["policy", "test", str(files / "scenario.yaml")]) == 1
    out = capsys.readouterr().out
    assert "carried: expected ['legal-terms'], got ['manager-discount']" in out
    assert "0 passed, 1 failed" in out


def test_a_step_refused_without_an_error_expectation_fails_the_scenario(files, capsys):
    text = "policy: policy.yaml\nsteps:\n  - submit: quotes/v1.json\n  - approve: {rule: legal-terms, by: vera}\n"
    (files / "scenario.yaml").write_text(text, encoding="utf-8")
    assert main(["policy", "test", str(files / "scenario.yaml")]) == 1
    assert "the step was refused: vera is not an approver of legal-terms" in capsys.readouterr().out


def test_the_json_report_has_the_documented_shape(files, capsys):
    (files / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    assert main(["policy", "test", "--format", "json", str(files / "scenario.yaml")]) == 0
    report = json.loads(capsys.readouterr().out)
    [scenario] = report["scenarios"]
    assert scenario["passed"] is True
    first = scenario["steps"][0]
    assert (first["index"], first["action"], first["status"]) == (0, "submit", "pending")
    assert set(first["approvals"][0]) == {
        "rule",
        "chain",
        "step",
        "approver",
        "status",
        "assignees",
        "acted_by",
        "on_behalf_of",
        "carried_from",
    }
    assert first["approvals"][0]["assignees"] == ["mike"]
    assert first["failures"] == []


def test_update_recalls_a_pending_quote_and_a_step_can_name_its_quote(files, capsys):
    text = """\
policy: policy.yaml
steps:
  - submit: quotes/v1.json
  - update: quotes/v2.json
    expect: {status: recalled, revoked: [manager-discount, vp-deep-discount, legal-terms], events: [quote_changed]}
  - submit: {quote: Q-1042}
    expect: {status: pending, requested: [manager-discount, legal-terms]}
  - recall: {by: rita, quote: Q-1042}
    expect: {status: recalled}
"""
    (files / "scenario.yaml").write_text(text, encoding="utf-8")
    assert main(["policy", "test", str(files / "scenario.yaml")]) == 0, capsys.readouterr().out


def test_several_scenarios_are_run_on_fresh_stores(files, capsys):
    one = "policy: policy.yaml\nsteps:\n  - submit: quotes/v1.json\n    expect: {status: pending}\n"
    (files / "a.yaml").write_text(one, encoding="utf-8")
    (files / "b.yaml").write_text(one, encoding="utf-8")
    assert main(["policy", "test", str(files / "a.yaml"), str(files / "b.yaml")]) == 0
    assert "2 passed, 0 failed" in capsys.readouterr().out


def test_preview_prints_the_approvals_by_chain_with_reasons(files, capsys):
    args = ["preview", "--policy", str(files / "policy.yaml"), "--quote", str(files / "quotes" / "v1.json")]
    assert main([*args, "--at", "2026-12-01T09:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "Q-1042 v1 · Acme GmbH · $72,600.00 · owner rita" in out
    assert "Needs 3 approvals in 2 chains." in out
    assert "· blended discount 27.4% > 25%" in out
    assert "· discount percent 18.5% > 10%" in out


def test_preview_as_json_is_one_document(files, capsys):
    args = ["preview", "--policy", str(files / "policy.yaml"), "--quote", str(files / "quotes" / "v1.json")]
    assert main([*args, "--format", "json", "--at", "2026-12-01T09:00:00Z"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["chain"] for c in data["chains"]] == ["commercial", "legal"]
    assert data["needs_approval"] is True


def test_policy_check_summarises_a_valid_policy(files, capsys):
    assert main(["policy", "check", str(files / "policy.yaml")]) == 0
    assert "valid · 3 rules in 2 chains · 5 approvers · 1 variable · 12 people" in capsys.readouterr().out
