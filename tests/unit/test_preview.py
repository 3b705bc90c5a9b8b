"""The preview a rep sees before submitting (policy-v1 §3.12)."""

import datetime as dt
import json

from unit_kit import NOW, Desk, away, context, line, policy_with, quote

from domain import approvals as lifecycle
from domain.approvals import Directory
from domain.preview import build_preview
from greenlight.render import preview_text

RULES = """
- name: manager-discount
  chain: commercial
  step: 1
  approver: manager
  conditions: [{field: discount_percent, op: gt, value: 10, smart: true, label: headline discount}]
- name: vp-deep-discount
  chain: commercial
  step: 2
  approver: vp-sales
  description: Deep discounts need the VP.
  explicit: true
  when: any
  conditions:
    - {variable: blended_discount, op: gt, value: 25, smart: true}
    - {field: net_total, op: ge, value: 100000}
- name: legal-terms
  chain: legal
  approver: legal
  conditions: [{field: payment_terms, op: in, value: [Net 60, Net 90]}]
- name: ops-check
  chain: ops
  step: 3
  approver: deal-desk
  conditions: [{field: start_date, op: lt, value: 2027-01-01}]
"""
VARIABLES = "blended_discount: {discount: {list: list_total, net: net_total}}"


def deal(**overrides):
    fields = dict(
        discount_percent=18.5,
        net_total=72600,
        payment_terms="Net 60",
        lines=[line("L1", list_total=100000, net_total=72600)],
    )
    fields.update(overrides)
    return quote(**fields)


def preview_of(q, directory=None, previous=None, now=NOW):
    policy = policy_with(RULES, VARIABLES)
    return build_preview(context(policy, now, directory), q, previous)


def item(preview, rule):
    return next(i for i in preview.items if i.rule == rule)


def test_the_preview_lists_every_approval_by_chain_and_step():
    preview = preview_of(deal(start_date="2026-12-15"))
    layout = {
        chain: {step: [i.rule for i in items] for step, items in steps.items()}
        for chain, steps in preview.chains().items()
    }
    assert layout == {
        "commercial": {1: ["manager-discount"], 2: ["vp-deep-discount"]},
        "legal": {1: ["legal-terms"]},
        "ops": {3: ["ops-check"]},
    }
    assert preview.needs_approval is True


def test_the_preview_gives_reasons_in_words_with_the_actual_values():
    preview = preview_of(deal(net_total=152000))
    assert item(preview, "vp-deep-discount").reasons == ("blended discount 27.4% > 25%", "net total 152,000 ≥ 100,000")
    assert item(preview, "legal-terms").reasons == ("payment terms Net 60 is one of Net 60, Net 90",)


def test_a_condition_label_names_the_reason():
    assert item(preview_of(deal()), "manager-discount").reasons == ("headline discount 18.5% > 10%",)


def test_only_the_conditions_that_hold_are_given_as_reasons():
    preview = preview_of(deal(net_total=50000))
    assert item(preview, "vp-deep-discount").reasons == ("blended discount 27.4% > 25%",)


def test_a_date_reason_shows_the_date():
    preview = preview_of(deal(start_date="2026-12-15"))
    assert item(preview, "ops-check").reasons == ("start date 2026-12-15 < 2027-01-01",)


def test_the_preview_resolves_people_with_separation_of_duties_and_fallback():
    preview = preview_of(deal(owner="lea"))
    manager = item(preview, "manager-discount")
    assert ([p.person for p in manager.people], manager.fallback) == (["dana", "fin1"], True)
    legal = item(preview, "legal-terms")
    assert ([p.person for p in legal.people], legal.mode, legal.quorum) == (["leo", "lou"], "quorum", 2)


def test_the_preview_shows_who_is_away_and_who_stands_in_for_them():
    delegations = Directory(
        [
            away("mike", "vera", dt.date(2026, 11, 30), dt.date(2026, 12, 5), 1),
            away("vera", "ned", dt.date(2026, 11, 30), dt.date(2026, 12, 5), 2),
        ]
    )
    preview = preview_of(deal(), directory=delegations)
    [mike] = item(preview, "manager-discount").people
    assert (mike.person, mike.away, mike.delegates) == ("mike", True, ("vera", "ned"))
    [vera] = item(preview, "vp-deep-discount").people
    assert (vera.person, vera.away, vera.delegates) == ("vera", True, ("ned",))
    lea = item(preview, "legal-terms").people[0]
    assert (lea.away, lea.delegates) == (False, ())


def test_the_preview_shows_which_approvals_smart_approvals_would_carry():
    policy = policy_with(RULES, VARIABLES)
    ctx = context(policy)
    previous, _ = lifecycle.submit(ctx, deal(), 1, None)
    lifecycle.decide(ctx, previous, "manager-discount", "mike", "approve")
    lifecycle.decide(ctx, previous, "legal-terms", "lea", "reject", "no Net 60")
    preview = build_preview(ctx, deal(version=2, discount_percent=15), previous)
    manager = item(preview, "manager-discount")
    assert (manager.carried, manager.carried_from) == (True, "Q-1#1/manager-discount")
    assert item(preview, "vp-deep-discount").carried is False
    assert "carried from Q-1#1/manager-discount" in preview_text(preview)


def test_a_quote_that_needs_nothing_says_so():
    preview = preview_of(quote(discount_percent=5))
    assert preview.items == ()
    assert preview.needs_approval is False
    assert "No approval needed" in preview_text(preview)


def test_the_preview_respects_effective_dates():
    policy = policy_with("- {name: old-rule, approver: vera, effective: {to: 2026-06-30}}")
    assert build_preview(context(policy), quote()).items == ()


def test_the_preview_is_plain_data_for_json():
    preview = preview_of(deal(net_total=152000))
    data = json.loads(json.dumps(preview.as_dict()))
    assert data["quote"] == "Q-1"
    assert data["variables"]["blended_discount"] == 27.4
    vp = data["chains"][0]["steps"][1]["approvals"][0]
    assert (vp["rule"], vp["people"][0]["person"], vp["explicit"], vp["description"]) == (
        "vp-deep-discount",
        "vera",
        True,
        "Deep discounts need the VP.",
    )


def test_the_text_preview_reads_like_the_contract():
    text = preview_text(preview_of(deal(net_total=152000)))
    assert "step 1  manager-discount → mike" in text
    assert "· blended discount 27.4% > 25%" in text
    assert "legal-terms → 2 of lea, leo, lou" in text
    assert "[explicit]" in text


async def test_the_service_preview_matches_what_the_submission_then_asks_for():
    desk = Desk(policy_with(RULES, VARIABLES))
    q = deal(net_total=152000, lines=[line("L1", list_total=200000, net_total=152000)])  # lines add up: orderable
    planned = await desk.service.preview(q, desk.now)
    await desk.service.receive_quote(q, desk.now)
    sub, _ = await desk.service.submit("Q-1", "rita", desk.now)
    assert [p.rule for p in planned] == [a.rule for a in sub.approvals]
    assert [list(p.resolved.members) for p in planned] == [[s.holder for s in a.seats] for a in sub.approvals]


def test_a_money_amount_whose_name_mentions_discount_is_not_shown_as_a_percentage():
    policy = policy_with("- {name: r, approver: vera, conditions: [{field: discount_amount, op: gt, value: 1000}]}")
    [only] = build_preview(context(policy), quote(discount_amount=5000)).items
    assert only.reasons == ("discount amount 5,000 > 1,000",)
