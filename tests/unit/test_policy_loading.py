"""Loading a valid policy into typed objects (policy-v1 §1 and docs/decisions.md "Policy")."""

import datetime as dt
from pathlib import Path

import pytest
from unit_kit import policy_with, policy_yaml

from domain.policy import load_policy, parse_duration

SAMPLE = """\
version: 1
timezone: America/New_York
admins: [dana]
fallback_approver: deal-desk
people:
  rita:  {slack: U0RITA, email: rita@example.com, manager: mike}
  mike:  {slack: U0MIKE, email: mike@example.com, manager: vera, timezone: Europe/Paris}
  vera:  {slack: U0VERA, email: vera@example.com}
  fin1:  {slack: U0FIN1, email: fin1@example.com}
  fin2:  {email: fin2@example.com}
  dana:  {name: Dana Desk}
  lea: {}
  leo: {}
  lou: {}
approvers:
  deal-desk: {group: [dana, fin1], mode: any}
  finance:   {group: [fin1, fin2], mode: all}
  legal:     {group: [lea, leo, lou], mode: {quorum: 2}}
  vp-sales:  {user: vera}
  manager:   {field: owner.manager}
variables:
  services_max_discount:
    aggregate: max
    field: discount_percent
    where: [{field: family, op: eq, value: Services}]
  blended_discount: {discount: {list: list_total, net: net_total}}
rules:
  - name: manager-discount
    chain: commercial
    step: 1
    approver: manager
    conditions:
      - {field: discount_percent, op: gt, value: 10, smart: true, label: headline discount}
  - name: vp-deep-discount
    chain: commercial
    step: 2
    approver: vp-sales
    description: Deep discounts need the VP.
    conditions:
      - {variable: blended_discount, op: gt, value: 25, smart: true}
      - {field: net_total, op: ge, value: 100000}
    when: any
    explicit: true
    remind_after: 4h
    escalate_after: 24h
    escalate_to: deal-desk
    effective: {from: 2026-01-01, to: 2026-12-31}
  - name: legal-terms
    approver: legal
    conditions:
      - {field: payment_terms, op: in, value: [Net 60, Net 90]}
orders:
  order_by: [delivery_date, ship_to]
  release_time: "06:00"
"""


def test_the_contract_example_loads_with_every_section():
    policy = load_policy(SAMPLE, "policy.yaml")
    assert [r.name for r in policy.rules] == ["manager-discount", "vp-deep-discount", "legal-terms"]
    assert policy.approvers["legal"].quorum == 2
    assert policy.approvers["manager"].kind == "field"
    assert policy.approvers["finance"].mode == "all"
    assert policy.orders.release_time == "06:00"


def test_a_rule_defaults_to_the_default_chain_step_one_and_all_conditions():
    rule = load_policy(SAMPLE).rule("legal-terms")
    assert (rule.chain, rule.step, rule.when, rule.explicit) == ("default", 1, "all", False)


def test_durations_and_effective_dates_are_read_into_time():
    rule = load_policy(SAMPLE).rule("vp-deep-discount")
    assert rule.remind_delay == dt.timedelta(hours=4)
    assert rule.escalate_delay == dt.timedelta(hours=24)
    assert rule.effective.covers(dt.date(2026, 1, 1))
    assert rule.effective.covers(dt.date(2026, 12, 31))
    assert not rule.effective.covers(dt.date(2027, 1, 1))


@pytest.mark.parametrize(
    ("text", "delta"), [("30m", dt.timedelta(minutes=30)), ("4h", dt.timedelta(hours=4)), ("2d", dt.timedelta(days=2))]
)
def test_a_duration_is_a_whole_number_of_minutes_hours_or_days(text, delta):
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["1.5h", "4 hours", "h", "-2d", "2w", ""])
def test_anything_else_is_not_a_duration(text):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_a_condition_label_and_a_rule_description_are_kept_for_previews():
    policy = load_policy(SAMPLE)
    assert policy.rule("manager-discount").conditions[0].subject == "headline discount"
    assert policy.rule("vp-deep-discount").description == "Deep discounts need the VP."
    assert policy.rule("vp-deep-discount").conditions[0].subject == "blended discount"


def test_a_person_is_found_by_people_key_or_slack_id():
    policy = load_policy(SAMPLE)
    assert policy.person_for("mike") == "mike"
    assert policy.person_for("U0MIKE") == "mike"
    assert policy.person_for("U0NOBODY") is None


def test_a_person_without_a_zone_lives_in_the_policy_zone():
    policy = load_policy(SAMPLE)
    assert str(policy.person_zone("mike")) == "Europe/Paris"
    assert str(policy.person_zone("rita")) == "America/New_York"


def test_a_people_key_can_stand_as_an_approver_and_as_the_fallback():
    policy = policy_with("- {name: r, approver: vera}", fallback="dana")
    assert policy.approver("vera").user == "vera"
    assert policy.fallback_approver == "dana"


def test_the_orders_section_has_defaults():
    policy = policy_with()
    assert policy.orders.order_by == ["delivery_date", "ship_to"]
    assert policy.orders.release_time == "06:00"


def test_the_example_policy_shipped_with_greenlight_is_valid():
    path = Path(__file__).resolve().parents[2] / "examples" / "policy.yaml"
    load_policy(path.read_text(encoding="utf-8"), str(path))


def test_the_unit_test_policy_template_is_valid():
    load_policy(policy_yaml(), "template.yaml")
