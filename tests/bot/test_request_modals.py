"""The modals behind Reject, Reassign and Details, the out-of-office modal, and reading them back."""

import datetime as dt

import pytest
from bot_kit import action_ids, all_text, assert_escaped, assert_unique_ids, block_ids, deal, policy, serialised

from bot.views import (
    FormErrors,
    RequestRef,
    details_modal,
    ooo_modal,
    read_ooo,
    read_reassign,
    read_reject,
    reassign_modal,
    reject_modal,
)
from bot.views import ids as view_ids

REF = RequestRef("Q-1042", 2, "manager-discount")


def inputs(view):
    return {b["block_id"]: b for b in view.to_dict()["blocks"] if b["type"] == "input"}


def test_reject_asks_for_a_required_reason_and_remembers_the_request():
    d = deal("q1042-v3", account__name="Smith & <Sons>")
    view = reject_modal(REF, "manager-discount", d.quote)
    data = view.to_dict()
    assert data["type"] == "modal"
    assert data["callback_id"] == "approval.reject"
    assert data["private_metadata"] == "Q-1042#2/manager-discount"
    reason = inputs(view)["reject.reason"]
    assert not reason.get("optional")
    assert reason["element"]["type"] == "plain_text_input"
    assert reason["element"]["action_id"] == "reject.reason_input"
    assert "Smith &amp; &lt;Sons&gt;" in all_text(data["blocks"])
    assert_escaped(data["blocks"])


def test_reassign_asks_for_a_person_and_an_optional_comment():
    view = reassign_modal("Q-1042#2/manager-discount", "manager-discount")
    data = view.to_dict()
    assert data["callback_id"] == "approval.reassign"
    assert RequestRef.parse(data["private_metadata"]) == REF
    found = inputs(view)
    assert found["reassign.to"]["element"]["type"] == "users_select"
    assert not found["reassign.to"].get("optional")
    assert found["reassign.comment"]["optional"] is True
    assert_unique_ids(data["blocks"])


def test_every_input_has_its_own_action_id():
    views = [reject_modal(REF, "r"), reassign_modal(REF, "r"), ooo_modal()]
    ids = [i for view in views for i in action_ids(serialised(view))]
    assert len(ids) == len(set(ids))


def test_details_show_every_reason_and_the_whole_chain_this_request_first():
    d = deal("q1042-v1").later(10)
    d.approve("manager-discount", "marco")
    approval = d.sub.approval("payment-terms")
    descriptions = {r.name: r.description for r in policy().rules}
    view = details_modal(d.sub, approval, policy().people, descriptions=descriptions, now=d.now)
    data = view.to_dict()
    assert data["callback_id"] == "approval.details"
    assert "submit" not in data
    blocks = data["blocks"]
    assert_escaped(blocks)
    assert_unique_ids(blocks)
    assert blocks[2]["text"]["text"].startswith("*finance chain* (this request)")
    text = all_text(blocks)
    for a in d.sub.approvals:
        assert f"`{a.rule}`" in text
        for reason in a.reasons:
            assert reason["text"].replace(">", "&gt;") in text
    assert "approved by Marco Bellini at 2:10\u202fPM (UTC)" in text
    assert "Payment terms beyond Net 45" in text


def test_details_of_a_huge_submission_stay_within_a_views_limits():
    d = deal("q1042-v1")
    for i in range(150):
        extra = dict(vars(d.sub.approvals[0]))
        extra.update(rule=f"extra-{i}", chain=f"chain-{i}")
        d.sub.approvals.append(type(d.sub.approvals[0])(**extra))
    blocks = serialised(details_modal(d.sub, d.sub.approvals[0], policy().people))
    assert len(blocks) <= 100
    assert "more" in all_text(blocks[-1])


def test_the_ooo_modal_has_two_date_pickers_and_a_user_select_prefilled_when_known():
    view = ooo_modal(dt.date(2026, 12, 20), dt.date(2027, 1, 3), "U04DR9M3QXB")
    data = view.to_dict()
    assert data["callback_id"] == "home.ooo"
    found = inputs(view)
    assert found["ooo.start"]["element"] == {
        "type": "datepicker",
        "action_id": "ooo.start_date",
        "initial_date": "2026-12-20",
    }
    assert found["ooo.end"]["element"]["initial_date"] == "2027-01-03"
    assert found["ooo.delegate"]["element"]["initial_user"] == "U04DR9M3QXB"
    blank = ooo_modal().to_dict()
    assert "initial_date" not in inputs(ooo_modal())["ooo.start"]["element"]
    assert set(block_ids(blank["blocks"])) >= {"ooo.start", "ooo.end", "ooo.delegate"}


# ---------------------------------------------------------------- reading submissions


def state(**fields):
    values = {}
    for key, value in fields.items():
        block, action = getattr(view_ids, key)
        values[block] = {action: value}
    return values


def test_a_reason_is_read_trimmed_and_a_blank_one_is_an_error_on_its_block():
    assert read_reject(state(REJECT_REASON={"value": "  too deep \n"})) == "too deep"
    for blank in ({"value": "   "}, {"value": None}, {}):
        with pytest.raises(FormErrors) as caught:
            read_reject(state(REJECT_REASON=blank))
        assert set(caught.value.errors) == {"reject.reason"}


def test_a_reassignment_needs_a_person_and_may_have_a_comment():
    assert read_reassign(state(REASSIGN_TO={"selected_user": "U02OH1C4EOX"})) == ("U02OH1C4EOX", None)
    assert read_reassign(
        state(REASSIGN_TO={"selected_user": "U02OH1C4EOX"}, REASSIGN_COMMENT={"value": " back Monday "})
    ) == ("U02OH1C4EOX", "back Monday")
    with pytest.raises(FormErrors) as caught:
        read_reassign(state(REASSIGN_COMMENT={"value": "x"}))
    assert set(caught.value.errors) == {"reassign.to"}


def test_an_out_of_office_reads_two_dates_in_order_and_a_delegate():
    values = state(
        OOO_START={"selected_date": "2026-12-20"},
        OOO_END_DATE={"selected_date": "2027-01-03"},
        OOO_DELEGATE={"selected_user": "U04DR9M3QXB"},
    )
    assert read_ooo(values) == (dt.date(2026, 12, 20), dt.date(2027, 1, 3), "U04DR9M3QXB")
    values["ooo.end"] = {"ooo.end_date": {"selected_date": "2026-12-01"}}
    with pytest.raises(FormErrors) as caught:
        read_ooo(values)
    assert set(caught.value.errors) == {"ooo.end"}
    with pytest.raises(FormErrors) as caught:
        read_ooo({})
    assert set(caught.value.errors) == {"ooo.start", "ooo.end", "ooo.delegate"}
