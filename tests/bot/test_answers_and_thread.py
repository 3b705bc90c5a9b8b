"""Answers to `/deal` (preview, submit, status, approvers, help, refusals) and the rep's thread."""

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest
from bot_kit import NOW, all_text, assert_valid_message, context, deal, policy, quote, serialised

from bot.commands import UsageError, parse
from bot.views import (
    QUIET_KINDS,
    approvers_message,
    approvers_overview,
    help_message,
    preview_message,
    refusal,
    rep_thread_update,
    status_message,
    usage_message,
)
from domain.approvals import Delegation, Directory, Event
from domain.preview import build_preview

NEW_YORK = ZoneInfo("America/New_York")


def preview_of(name, **changes):
    return build_preview(context(), quote(name, **changes))


# ---------------------------------------------------------------- preview and submit


def test_the_preview_lists_every_approval_by_chain_and_step_with_people_and_reasons():
    text, blocks = preview_message(preview_of("q1042-v1"), policy())
    assert text == "Preview of Q-1042 v1 (Meridian Freight Lines). Needs 6 approvals in 3 chains."
    data = assert_valid_message(text, blocks)
    assert data[0] == {
        "type": "header",
        "block_id": "preview.header",
        "text": {"type": "plain_text", "text": "Q-1042 v1 · Meridian Freight Lines", "emoji": True},
    }
    body = all_text(data)
    assert "blended discount 32.4% &gt; 25%" in body
    assert "multi-year subscription value 315,900 ≥ 200,000" in body
    assert "`legal-custom-terms` → 2 of 3: Lena Vogel, Leo Fitzgerald, Luis Ortega" in body
    assert "`payment-terms` → both of Fiona Gallagher, Carl Jensen" in body
    assert "owner Ava Brooks" in body


def test_the_preview_shows_who_is_away_and_the_fallback():
    directory = Directory([Delegation("marco", "vera", dt.date(2026, 11, 1), dt.date(2026, 11, 30), id=1)])
    preview = build_preview(context(directory=directory), quote("q1042-v3"))
    body = all_text(serialised(preview_message(preview, policy())[1]))
    assert "Marco Bellini (away → Vera Lindqvist)" in body
    body = all_text(serialised(preview_message(preview_of("q1310-v1"), policy())[1]))
    assert (
        "any of Dana Whitfield, Dev Raman (fallback approver: Vera Lindqvist owns the quote and cannot approve it)"
        in body
    )


def test_a_quote_needing_nothing_says_so():
    text, blocks = preview_message(preview_of("q1001-v1"), policy())
    assert "No approval needed: submitting approves it at once." in text
    assert_valid_message(text, blocks)


def test_the_answer_to_submit_names_the_submission_and_each_approvals_state():
    d = deal("q1042-v3")
    preview = preview_of("q1042-v3")
    text, blocks = preview_message(preview, policy(), submitted=d.sub)
    assert text.startswith("Submitted Q-1042 v3 (Meridian Freight Lines) as Q-1042#1. Needs 5 approvals")
    body = all_text(assert_valid_message(text, blocks))
    assert "`manager-discount` → Marco Bellini _(requested)_" in body
    assert "`vp-deep-discount` → Vera Lindqvist _(waiting; explicit)_" in body


def test_a_carried_approval_is_marked_in_the_preview():
    d = deal("q1042-v1")
    d.approve("manager-discount", "marco")
    d.approve("services-discount", "sam")
    d.reject("vp-deep-discount", "vera", "Too deep")
    preview = build_preview(context(), quote("q1042-v2"), d.sub)
    text, blocks = preview_message(preview, policy())
    assert "1 carried by smart approvals" in text
    assert "_(carried from Q-1042#1/manager-discount)_" in all_text(assert_valid_message(text, blocks))


def test_a_preview_with_very_many_approvals_stays_within_fifty_blocks():
    preview = preview_of("q1042-v1")
    items = tuple(replace(preview.items[0], rule=f"rule-{i}", reasons=("x" * 500,) * 10) for i in range(80))
    text, blocks = preview_message(replace(preview, items=items), policy())
    data = assert_valid_message(text, blocks)
    assert len(data) <= 50
    assert data[-1]["type"] == "context"
    assert "and 40 more approvals" in all_text(data[-1])


def test_preview_data_is_escaped():
    text, blocks = preview_message(preview_of("q1042-v3", account__name="Smith & <Sons>"), policy())
    assert "Smith &amp; &lt;Sons&gt;" in text
    data = assert_valid_message(text, blocks)
    assert data[0]["text"]["text"] == "Q-1042 v3 · Smith & <Sons>", "a header is plain text: nothing to escape"


# ---------------------------------------------------------------- status


def test_status_of_a_pending_quote_says_who_holds_it_and_since_when():
    d = deal("q1042-v3").later(30)
    d.approve("manager-discount", "marco")
    d.approve("payment-terms", "fiona")
    holders = {a.rule: d.assignees(a.rule) for a in d.sub.approvals if a.status == "requested"}
    text, blocks = status_message(d.sub, d.quote, policy().people, holders, zone=NEW_YORK, now=d.now)
    assert text.startswith("Q-1042 v3 is pending: waiting on Vera Lindqvist (vp-deep-discount);")
    assert "; Carl Jensen (payment-terms);" in text
    body = all_text(assert_valid_message(text, blocks))
    assert "`vp-deep-discount` (commercial, step 2): Vera Lindqvist, since 9:30\u202fAM (New York)" in body
    assert (
        "`payment-terms` (finance, step 1): Carl Jensen, since 9:00\u202fAM (New York)\n"
        "    ◦ _Fiona Gallagher voted to approve_" in body
    )
    assert "`manager-discount` · approved by Marco Bellini at 9:30\u202fAM (New York)" in body
    assert "`rev-rec-multi-year`" in body


def test_status_says_when_the_crm_sent_a_newer_version():
    d = deal("q1042-v2")
    text, blocks = status_message(d.sub, quote("q1042-v3"), policy().people)
    assert "The CRM has sent v3 since; this submission is for v2." in all_text(assert_valid_message(text, blocks))


def test_status_of_a_rejected_quote_gives_the_reason():
    d = deal("q1042-v3").later(5)
    d.reject("manager-discount", "marco", "Too deep")
    text, blocks = status_message(d.sub, None, policy().people, zone=NEW_YORK, now=d.now)
    assert text == "Q-1042 v3 was rejected by Marco Bellini (manager-discount) at 9:05\u202fAM (New York): Too deep."
    assert_valid_message(text, blocks)


def test_status_of_an_approved_and_of_a_never_submitted_quote():
    d = deal("q1001-v1")
    text, _ = status_message(d.sub, d.quote, policy().people, zone=NEW_YORK, now=d.now)
    assert text == "Q-1001 v1 was approved at 9:00\u202fAM (New York)."
    text, blocks = status_message(None, quote("q1500-v1"), policy().people)
    assert text == "Q-1500 v1 (Harborview Logistics) has not been submitted."
    assert_valid_message(text, blocks)


# ---------------------------------------------------------------- the rep's thread


def thread(d):
    out = []
    for event in d.events:
        message = rep_thread_update(event, d.sub, policy().people, zone=NEW_YORK, now=d.now)
        if message is None:
            assert event.kind in QUIET_KINDS
            continue
        text, blocks = message
        assert_valid_message(text, blocks)
        out.append(text)
    return out


def test_the_rep_follows_a_submission_from_submit_to_approval():
    d = deal("q1500-v1").later(20)
    d.approve("vp-deep-discount", "vera")
    assert thread(d) == [
        "Q-1500 v1 submitted for approval: 1 approval needed.",
        "Vera Lindqvist approved vp-deep-discount on Q-1500 v1.",
        "Q-1500 v1 is approved.",
    ]


def test_the_submitted_message_says_who_has_it_now():
    d = deal("q1042-v3")
    text, blocks = rep_thread_update(d.events[0], d.sub, policy().people)
    assert text == "Q-1042 v3 submitted for approval: 5 approvals needed."
    assert "Now with Marco Bellini (manager-discount); both of Fiona Gallagher, Carl Jensen (payment-terms)" in (
        all_text(serialised(blocks)[1])
    )


def test_a_rejection_reaches_the_rep_once_with_its_reason():
    d = deal("q1042-v3").later(5)
    d.approve("payment-terms", "fiona")
    d.reject("manager-discount", "marco", "Below the floor: come back at 30% & Net 60")
    messages = thread(d)
    assert "Fiona Gallagher voted to approve payment-terms on Q-1042 v3." in messages
    assert messages[-1] == (
        "Q-1042 v3 was rejected by Marco Bellini (manager-discount): Below the floor: come back at 30% &amp; Net 60."
    )
    assert sum("rejected" in m for m in messages) == 1


def test_recalls_reassignments_and_new_versions_are_told():
    d = deal("q1042-v3")
    d.reassign("manager-discount", "marco", "omar", "<out> this week")
    d.recall()
    messages = thread(d)
    assert 'Marco Bellini handed manager-discount on Q-1042 v3 to Omar Haddad: "&lt;out&gt; this week".' in messages
    assert messages[-1] == "Q-1042 v3 was recalled by Ava Brooks."
    d = deal("q1042-v2")
    d.recall(quote_changed=True)
    assert thread(d)[-1].startswith("Q-1042 v2 was withdrawn from approval: the CRM sent a new version.")


def test_carries_and_automatic_approvals_are_told():
    d = deal("q2210-v1")
    d.approve("manager-discount", "vera")
    assert "long-term-commitment on Q-2210 v1 approved automatically: Vera Lindqvist had already approved." in thread(d)
    d = deal("q1042-v1")
    d.approve("manager-discount", "marco")
    d.approve("services-discount", "sam")
    d.reject("vp-deep-discount", "vera", "Too deep")
    d.resubmit(quote("q1042-v2"))
    messages = thread(d)
    assert "Q-1042 v2 submitted for approval: 4 approvals needed, 1 carried from before." in messages
    assert (
        "manager-discount on Q-1042 v2 carried from Q-1042#1/manager-discount (Marco Bellini's approval)." in messages
    )


def test_an_event_kind_the_views_do_not_know_still_gets_a_sentence():
    d = deal("q1200-v1")
    event = Event("delegation_set", NOW, "Q-1200", 1, 1, actor="hank", comment="Tacoma 2027-01-11")
    text, blocks = rep_thread_update(event, d.sub, policy().people)
    assert text == 'Q-1200 v1: delegation set by Hank Doyle: "Tacoma 2027-01-11".'
    assert_valid_message(text, blocks)


def test_an_order_event_names_the_order_and_its_dates():
    d = deal("q1200-v1")
    detail = {"order": "Q-1200-02", "delivery_date": "2027-01-11", "new_date": "2027-02-01"}
    event = Event("order_reschedule", NOW, "Q-1200", 1, 1, actor="hank", detail=detail)
    text, blocks = rep_thread_update(event, d.sub, policy().people)
    assert text == "Q-1200 v1: Order Q-1200-02 was moved from 2027-01-11 to 2027-02-01 by Hank Doyle."
    assert_valid_message(text, blocks)


# ---------------------------------------------------------------- approvers, help, refusals


def test_the_approvers_overview_lists_every_definition_replacement_and_delegation():
    directory = Directory(
        [
            Delegation("carl", "fiona", dt.date(2026, 11, 1), dt.date(2026, 11, 10), id=1),
            Delegation("vera", "omar", dt.date(2026, 12, 20), dt.date(2027, 1, 3), id=2),
            Delegation("sam", "hank", dt.date(2026, 1, 1), dt.date(2026, 1, 2), id=3),
        ],
        {"leo": "nina"},
    )
    blocks = approvers_overview(policy(), directory, NOW)
    text, message = approvers_message(policy(), directory, NOW)
    data = assert_valid_message(text, message)
    body = all_text(data)
    for name in policy().approvers:
        assert f"*`{name}`*" in body
    assert "2 of 3: Lena Vogel, Leo Fitzgerald, Luis Ortega\nNow: Lena Vogel, Nina Petrova, Luis Ortega" in body
    assert "from the quote: `owner.manager`" in body
    assert "Used by payment-terms" in body
    assert "*`deal-desk`* · any of Dana Whitfield, Dev Raman · the fallback approver" in body
    assert "Used by short-pilot, vp-deep-discount (escalation), partner-deal, eoy-discount-review" in body
    assert "• Leo Fitzgerald → Nina Petrova" in body
    assert "• Carl Jensen: 1 Nov 2026 to 10 Nov 2026, Fiona Gallagher decides *(now)*" in body
    assert "• Vera Lindqvist: 20 Dec 2026 to 3 Jan 2027, Omar Haddad decides" in body
    assert "Sam Adeyemi:" not in body, "a delegation that ended is not listed"
    assert len(blocks) <= 40


def test_help_usage_and_refusals_are_valid_escaped_messages():
    text, blocks = help_message()
    assert "/deal ooo YYYY-MM-DD YYYY-MM-DD @delegate" in text
    assert_valid_message(text, blocks)
    with pytest.raises(UsageError) as caught:
        parse("ooo 2027-01-03 2026-12-20 <@U04DR9M3QXB>")
    text, blocks = usage_message(caught.value)
    assert text.startswith("The end date 2026-12-20 is before the start date 2027-01-03. Usage: /deal ooo")
    assert_valid_message(text, blocks)
    text, blocks = refusal("Only the quote's owner can submit Q-1042 & <friends>")
    assert text == "Only the quote's owner can submit Q-1042 &amp; &lt;friends&gt;."
    assert_valid_message(text, blocks)
