"""The approver's DM (slack-v1 §4): what it says first, its buttons, and its outcome once decided."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from bot_kit import (
    NOW,
    QUOTES,
    action_ids,
    all_text,
    assert_valid_message,
    buttons,
    deal,
    policy,
    quote,
)

from bot.views import (
    OPEN,
    Decision,
    RequestRef,
    action_kind,
    action_pattern,
    approval_request,
    decisions,
    numbered,
    request_state,
)
from bot.views import ids as view_ids

NEW_YORK = ZoneInfo("America/New_York")


def render(d, rule, person=None, **options):
    approval = d.sub.approval(rule)
    state = request_state(d.sub, approval, person, d.assignees(rule)) if person else OPEN
    options.setdefault("zone", NEW_YORK)
    options.setdefault("now", d.now)
    return approval_request(d.sub, approval, d.quote, policy().people, decisions(d.sub, approval), state, **options)


def test_the_push_text_is_a_complete_sentence_with_customer_quote_amount_discount_and_rule():
    text, _ = render(deal("q1042-v3"), "manager-discount", "marco")
    assert text == "Approval needed: Meridian Freight Lines, Q-1042 v3, $383,280.00 at 36% discount: manager-discount"


def test_customer_amount_discount_and_reasons_come_in_the_first_two_blocks():
    d = deal("q1042-v3")
    _, blocks = render(d, "manager-discount", "marco", description="Discount above the rep's 10% authority")
    first_two = all_text(assert_valid_message("x", blocks)[:2])
    for words in ("Meridian Freight Lines", "Q-1042 v3", "$383,280.00", "36% discount", "quote discount 36% &gt; 10%"):
        assert words in first_two
    assert "Discount above the rep's 10% authority" in first_two


def test_the_buttons_come_before_any_detail():
    d = deal("q1042-v1")
    d.approve("services-discount", "sam")
    _, blocks = render(d, "manager-discount", "marco")
    data = assert_valid_message("x", blocks, limit=12)
    kinds = [b["type"] for b in data]
    assert kinds[:3] == ["section", "section", "actions"]
    assert [b["block_id"] for b in data[3:]] == ["request.decided", "request.meta"]
    assert "services-discount: approved by Sam Adeyemi at 9:00\u202fAM (New York)" in all_text(data[3])


def test_contract_buttons_and_approve_with_comment_carry_a_compact_reference():
    d = deal("q1042-v3")
    _, blocks = render(d, "manager-discount", "marco")
    found = buttons(assert_valid_message("x", blocks))
    assert [b["action_id"] for b in found] == [
        "approval.approve",
        "approval.approve_comment",
        "approval.reject",
        "approval.reassign",
        "approval.details",
    ]
    assert [b.get("style") for b in found] == ["primary", None, "danger", None, None]
    assert {b["value"] for b in found} == {"Q-1042#1/manager-discount"}
    assert not any("confirm" in b for b in found), "approve is one tap, no dialog"


@pytest.mark.parametrize("name", QUOTES)
def test_every_request_of_every_example_quote_is_a_valid_short_message(name):
    d = deal(name)
    for approval in d.sub.approvals:
        for person in d.assignees(approval.rule):
            text, blocks = render(d, approval.rule, person)
            data = assert_valid_message(text, blocks, limit=12)
            if approval.status == "requested":
                assert text.startswith("Approval needed: ")
                assert data[2]["type"] == "actions"
            else:
                assert not buttons(data)


def test_quote_data_is_escaped_everywhere_in_mrkdwn():
    d = deal("q1042-v3", account__name="Smith & <Sons>", currency="EUR")
    text, blocks = render(d, "manager-discount", "marco", description="Deals > 10% & <more>")
    assert text.startswith("Approval needed: Smith &amp; &lt;Sons&gt;, Q-1042 v3, €383,280.00")
    data = assert_valid_message(text, blocks)
    assert "Smith &amp; &lt;Sons&gt;" in data[0]["text"]["text"]
    assert "Deals &gt; 10% &amp; &lt;more&gt;" in data[1]["text"]["text"]


def test_a_quote_without_totals_still_makes_a_sentence():
    d = deal("q1042-v3", net_total=None, list_total=None, discount_percent=None)
    text, blocks = render(d, "legal-custom-terms", "lena")
    assert text == "Approval needed: Meridian Freight Lines, Q-1042 v3: legal-custom-terms"
    assert_valid_message(text, blocks)


def test_the_discount_is_computed_from_the_totals_when_the_quote_does_not_say_it():
    d = deal("q1042-v3", discount_percent=None)
    text, _ = render(d, "legal-custom-terms", "lena")
    assert "$383,280.00 at 36% discount" in text


# ---------------------------------------------------------------- outcomes, without buttons


def outcome(blocks):
    data = assert_valid_message("x", blocks, limit=12)
    assert not buttons(data)
    assert not any(b["type"] == "actions" for b in data)
    return next(b for b in data if b["block_id"] == "request.outcome")["text"]["text"]


def test_approved_shows_who_and_when_in_the_recipients_zone():
    d = deal("q1042-v3").later(2)
    d.approve("manager-discount", "marco")
    text, blocks = render(d, "manager-discount", "marco")
    assert "Approved by Marco Bellini at 9:02\u202fAM (New York)" in outcome(blocks)
    assert text == (
        "Approved by Marco Bellini at 9:02\u202fAM (New York) (manager-discount on Meridian Freight Lines, Q-1042 v3)."
    )
    _, blocks = render(d, "manager-discount", "marco", zone=dt.UTC, now=NOW + dt.timedelta(days=1))
    assert "Approved by Marco Bellini at Nov 3, 2026, 2:02\u202fPM (UTC)" in outcome(blocks)


def test_rejected_shows_the_reason_and_the_other_requests_are_closed():
    d = deal("q1042-v3").later(5)
    d.reject("manager-discount", "marco", "36% is below our floor & the MFN clause <must> go")
    _, blocks = render(d, "manager-discount", "marco")
    assert (
        "Rejected by Marco Bellini at 9:05\u202fAM (New York): "
        "36% is below our floor &amp; the MFN clause &lt;must&gt; go" in (outcome(blocks))
    )
    _, blocks = render(d, "payment-terms", "fiona")
    assert outcome(blocks).startswith(
        ":no_entry_sign: *Closed: the quote was rejected by Marco Bellini on manager-discount"
    )


def test_the_quote_changing_withdraws_the_request():
    d = deal("q1042-v3").later(60)
    d.recall(quote_changed=True)
    text, blocks = render(d, "legal-custom-terms", "leo")
    assert "Withdrawn: the quote changed" in outcome(blocks)
    assert text.startswith("Withdrawn: the quote changed (legal-custom-terms on Meridian Freight Lines")


def test_a_recall_withdraws_the_request():
    d = deal("q1042-v3")
    d.recall()
    _, blocks = render(d, "manager-discount", "marco")
    assert "Withdrawn: the owner recalled the quote" in outcome(blocks)


def test_the_giver_of_a_reassigned_request_sees_who_has_it_now():
    d = deal("q1042-v3")
    d.reassign("manager-discount", "marco", "omar", "I am at the customer all week")
    _, blocks = render(d, "manager-discount", "marco")
    assert "Reassigned to Omar Haddad" in outcome(blocks)
    text, blocks = render(d, "manager-discount", "omar")
    assert text.startswith("Approval needed")
    assert buttons(assert_valid_message(text, blocks))


def test_a_vote_in_an_all_group_closes_the_voters_copy_and_shows_on_the_others():
    d = deal("q1042-v3").later(3)
    d.approve("payment-terms", "fiona")
    _, blocks = render(d, "payment-terms", "fiona")
    assert "You voted to approve at 9:03\u202fAM (New York); waiting for the others in the group" in outcome(blocks)
    text, blocks = render(d, "payment-terms", "carl")
    data = assert_valid_message(text, blocks)
    assert buttons(data)
    assert "payment-terms: Fiona Gallagher voted to approve at 9:03\u202fAM (New York)" in all_text(data)
    assert "both of Fiona Gallagher, Carl Jensen" in all_text(data)


def test_an_approval_given_elsewhere_shows_as_automatic():
    d = deal("q2210-v1").later(1)
    d.approve("manager-discount", "vera")
    _, blocks = render(d, "long-term-commitment", "vera")
    assert (
        "Approved automatically at 9:01\u202fAM (New York): "
        "Vera Lindqvist had already approved this submission" in outcome(blocks)
    )


def test_a_carried_approval_names_the_approval_it_carries():
    d = deal("q1042-v1")
    d.approve("manager-discount", "marco")
    d.approve("services-discount", "sam")
    d.reject("vp-deep-discount", "vera", "Too deep for a 3-year deal")
    d.resubmit(quote("q1042-v2"))
    assert d.sub.approval("manager-discount").status == "carried"
    _, blocks = render(d, "manager-discount", "marco")
    assert "Carried from Q-1042#1/manager-discount: Marco Bellini approved it before" in outcome(blocks)


def test_a_request_whose_step_is_not_open_has_no_buttons():
    d = deal("q1042-v3")
    _, blocks = render(d, "vp-deep-discount", "vera")
    assert "Not requested yet" in outcome(blocks)


def test_a_delegate_whose_window_ended_sees_the_request_is_no_longer_theirs():
    d = deal("q1042-v3")
    approval = d.sub.approval("manager-discount")
    state = request_state(d.sub, approval, "ben", ["marco"])
    assert state.kind == "gone"
    _, blocks = approval_request(d.sub, approval, d.quote, policy().people, [], state)
    assert "No longer yours to decide" in outcome(blocks)


# ---------------------------------------------------------------- limits


def test_many_decisions_are_summed_up_within_twelve_blocks():
    d = deal("q1042-v3")
    many = [Decision(f"rule-{i}", "approved", by="dana", at=NOW, comment="fine " * 200) for i in range(30)]
    approval = d.sub.approval("manager-discount")
    text, blocks = approval_request(d.sub, approval, d.quote, policy().people, many, OPEN)
    data = assert_valid_message(text, blocks, limit=12)
    decided = all_text(next(b for b in data if b["block_id"] == "request.decided"))
    assert "more_" in decided
    assert len(decided) <= 2000


def test_long_reasons_and_names_are_clipped_to_slack_limits():
    d = deal("q1042-v3", account__name="A" * 5000)
    approval = d.sub.approval("manager-discount")
    approval.reasons = [{"text": f"condition {i} " + "x" * 300} for i in range(40)]
    text, blocks = approval_request(d.sub, approval, d.quote, policy().people, [], OPEN, description="d" * 4000)
    data = assert_valid_message(text, blocks, limit=12)
    assert data[2]["type"] == "actions"
    assert len(text) <= 3000


# ---------------------------------------------------------------- ids and references


def test_a_request_ref_round_trips_and_refuses_what_is_not_one():
    ref = RequestRef("Q-10#42", 12, "rule/with/slashes")
    assert RequestRef.parse(ref.value) == ref
    assert RequestRef.parse("Q-1042#2/manager-discount") == RequestRef("Q-1042", 2, "manager-discount")
    for bad in ("", "Q-1042", "Q-1042#x/rule", "Q-1042#2"):
        with pytest.raises(ValueError):
            RequestRef.parse(bad)


def test_numbered_action_ids_match_the_plain_ones():
    pattern = action_pattern(view_ids.APPROVE)
    assert pattern.match("approval.approve")
    assert pattern.match(numbered("approval.approve", 7))
    assert not pattern.match("approval.approved")
    assert not pattern.match("approval.reject:1")
    assert action_kind("approval.reassign:3") == "approval.reassign"


def test_the_request_carries_only_the_contract_action_ids():
    _, blocks = render(deal("q1042-v3"), "manager-discount", "marco")
    assert set(action_ids(assert_valid_message("x", blocks))) == set(view_ids.APPROVAL_ACTIONS)
