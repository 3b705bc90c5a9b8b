"""The French screens keep within Slack's limits (French runs longer than English): every view is
serialised by slack_sdk, which refuses a text over its limit, and checked like the English ones."""

from zoneinfo import ZoneInfo

from bot_kit import all_text, assert_escaped, assert_unique_ids, assert_valid_message, deal, policy, serialised

from bot.views import (
    RequestRef,
    app_home,
    approval_request,
    approve_comment_modal,
    decisions,
    details_modal,
    ooo_modal,
    reassign_modal,
    reject_modal,
    request_state,
)
from bot.views.requests import reasons_of
from domain.i18n import speaking

PARIS = ZoneInfo("Europe/Paris")
REF = RequestRef("Q-1042", 1, "manager-discount")
NNBSP, NBSP = "\u202f", "\xa0"


def test_a_french_request_dm_is_valid_and_reads_french_money_and_moments():
    d = deal("q1042-v3").later(2)
    approval = d.sub.approval("manager-discount")
    with speaking("fr"):
        text, blocks = approval_request(
            d.sub, approval, d.quote, policy().people, decisions(d.sub, approval), zone=PARIS, now=d.now
        )
    data = assert_valid_message(text, blocks, limit=12)
    assert text.startswith(f"Approbation requise{NBSP}: Meridian Freight Lines, Q-1042 v3, 383{NNBSP}280,00{NBSP}$US")
    assert f"avec une remise de 36{NNBSP}%" in text
    assert f"demandée{NBSP}: 15:00 (Paris)" in all_text(data)


def test_a_french_outcome_names_the_moment_in_the_readers_zone():
    d = deal("q1042-v3").later(2)
    d.approve("manager-discount", "marco")
    approval = d.sub.approval("manager-discount")
    state = request_state(d.sub, approval, "marco", d.assignees("manager-discount"))
    with speaking("fr"):
        text, blocks = approval_request(
            d.sub, approval, d.quote, policy().people, decisions(d.sub, approval), state, zone=PARIS, now=d.now
        )
    assert_valid_message(text, blocks, limit=12)
    assert text.startswith("Approuvée par Marco Bellini, 15:02 (Paris) (manager-discount sur Meridian Freight Lines")


def test_every_french_modal_is_valid_with_titles_and_buttons_within_slacks_24_characters():
    d = deal("q1042-v3")
    with speaking("fr"):
        views = [
            reject_modal(REF, "manager-discount", d.quote),
            approve_comment_modal(REF, "manager-discount", d.quote),
            reassign_modal(REF, "manager-discount", d.quote),
            details_modal(d.sub, d.sub.approval("manager-discount"), policy().people, zone=PARIS, now=d.now),
            ooo_modal(),
        ]
    for view in views:
        data = view.to_dict()
        for part in ("title", "submit", "close"):
            if part in data:
                assert len(data[part]["text"]) <= 24, (part, data[part]["text"])
        assert_unique_ids(serialised(view))
        assert_escaped(serialised(view))
    titles = [v.to_dict()["title"]["text"] for v in views]
    assert titles == ["Refuser", "Approuver", "Réattribuer", "Détails de l’approbation", "Absence"]


def test_the_french_app_home_is_valid():
    d = deal("q1042-v3")
    approval = d.sub.approval("manager-discount")
    with speaking("fr"):
        view = app_home("marco", [(d.sub, approval)], [d.sub], None, None, people=policy().people, now=d.now)
    data = view.to_dict()
    assert 1 <= len(data["blocks"]) <= 100
    assert_unique_ids(data["blocks"])
    assert_escaped(data["blocks"])
    headers = [b["text"]["text"] for b in data["blocks"] if b["type"] == "header"]
    assert headers == ["En attente de vous (1)", "Vos devis", "Absence"]


def test_reasons_are_stored_in_english_and_read_in_each_readers_language():
    with speaking("fr"):  # a French rep submits: the evaluation runs in French
        d = deal("q1042-v3")
    approval = d.sub.approval("manager-discount")
    assert approval.reasons[0]["text"] == "quote discount 36% > 10%"
    assert reasons_of(approval) == ["quote discount 36% > 10%"]
    with speaking("fr"):
        assert reasons_of(approval) == [f"quote discount 36{NNBSP}% > 10{NNBSP}%"]
