"""App Home (slack-v1 §4) for an approver, a rep and an admin, and with very long lists."""

import datetime as dt

from bot_kit import NOW, action_ids, all_text, assert_escaped, assert_unique_ids, buttons, deal, policy, serialised

from bot.views import RequestRef, action_kind, app_home, approvers_overview
from domain.approvals import Delegation, Directory
from domain.i18n import speaking

PEOPLE = policy().people


def home(person, waiting=(), quotes=(), ooo=None, admin=None, **paging):
    view = app_home(person, list(waiting), list(quotes), ooo, admin, people=PEOPLE, now=NOW, **paging)
    data = view.to_dict()
    assert data["type"] == "home"
    blocks = data["blocks"]
    assert 1 <= len(blocks) <= 100
    assert_unique_ids(blocks)
    assert_escaped(blocks)
    return blocks


def headers(blocks):
    return [b["text"]["text"] for b in blocks if b["type"] == "header"]


def test_an_approver_finds_what_waits_on_them_with_the_same_buttons():
    first, second = deal("q1042-v3"), deal("q1200-v1")
    waiting = [
        (first.sub, first.sub.approval("manager-discount")),
        (second.sub, second.sub.approval("manager-discount")),
    ]
    blocks = home("marco", waiting)
    assert headers(blocks) == ["Waiting on you (2)", "Your quotes", "Out of office"]
    body = all_text(blocks)
    assert "*Meridian Freight Lines* · Q-1042 v3 · *$383,280.00 at 36% discount*" in body
    assert "*Cascade Cold Storage* · Q-1200 v1" in body
    assert "• quote discount 36% &gt; 10%" in body
    request_buttons = [b for b in buttons(blocks) if b["action_id"].startswith("approval.")]
    assert [action_kind(b["action_id"]) for b in request_buttons] == [
        "approval.approve",
        "approval.approve_comment",
        "approval.reject",
        "approval.reassign",
        "approval.details",
    ] * 2
    assert [b.get("style") for b in request_buttons[:5]] == ["primary", None, "danger", None, None]
    assert {RequestRef.parse(b["value"]) for b in request_buttons} == {
        RequestRef("Q-1042", 1, "manager-discount"),
        RequestRef("Q-1200", 1, "manager-discount"),
    }


def test_a_rep_sees_where_each_of_their_quotes_stands():
    pending, rejected, approved = deal("q1042-v3"), deal("q1500-v1").later(5), deal("q1001-v1")
    rejected.reject("vp-deep-discount", "vera", "Needs a Strategic sponsor")
    blocks = home("ava", quotes=[pending.sub, rejected.sub, approved.sub])
    body = all_text(blocks)
    assert "Nothing is waiting on you." in body
    assert (
        "pending: with Marco Bellini (manager-discount); both of Fiona Gallagher, Carl Jensen (payment-terms)" in body
    )
    assert "rejected 2:05\u202fPM (UTC): Needs a Strategic sponsor" in body
    assert "approved 2:00\u202fPM (UTC)" in body
    assert "Approvers (admin)" not in headers(blocks)


def test_the_out_of_office_button_opens_the_modal_and_an_active_one_can_be_ended():
    blocks = home("vera")
    assert [b["action_id"] for b in buttons(blocks)] == ["home.ooo"]
    assert "You are not out of office." in all_text(blocks)
    away = Delegation("vera", "omar", dt.date(2026, 11, 1), dt.date(2026, 11, 20), id=1)
    blocks = home("vera", ooo=away)
    assert [b["action_id"] for b in buttons(blocks)] == ["home.ooo", "home.ooo_off"]
    assert "You are out of office from 1 Nov 2026 to 20 Nov 2026: Omar Haddad decides for you." in all_text(blocks)
    later = Delegation("vera", "omar", dt.date(2026, 12, 20), dt.date(2027, 1, 3), id=2)
    assert "You will be out of office from 20 Dec 2026" in all_text(home("vera", ooo=later))


def test_an_admin_also_gets_the_approvers_overview():
    overview = approvers_overview(policy(), Directory(), NOW)
    blocks = home("dana", admin=overview)
    assert headers(blocks)[-1] == "Approvers (admin)"
    assert "*`legal`* · 2 of 3: Lena Vogel, Leo Fitzgerald, Luis Ortega" in all_text(blocks)


def test_long_lists_are_cut_with_a_count_and_the_view_stays_within_a_hundred_blocks():
    d = deal("q1042-v3", account__name="Smith & <Sons>")
    waiting = [(d.sub, d.sub.approval("manager-discount"))] * 40
    quotes = [d.sub] * 60
    overview = [block for _ in range(10) for block in approvers_overview(policy(), Directory(), NOW)]
    for index, block in enumerate(overview):
        block.block_id = f"overview.{index}"
    blocks = home("dana", waiting, quotes, admin=overview)
    body = all_text(blocks)
    assert "Waiting on you (40)" in headers(blocks)
    assert "_and 30 more requests" in body
    assert "_and 48 more quotes" in body
    assert blocks[-1]["block_id"] == "home.admin.more"
    assert "Smith &amp; &lt;Sons&gt;" in body
    ids = action_ids(blocks)
    assert len(ids) == len(set(ids)) == 10 * 5 + 1


def test_the_home_view_serialises_through_slack_sdk_validation():
    d = deal("q1042-v3")
    view = app_home("marco", [(d.sub, d.sub.approval("manager-discount"))], [], None, None)
    assert serialised(view)


def page_of(blocks):
    (context,) = [b for b in blocks if b["block_id"] == "home.waiting.page"]
    (turns,) = [b for b in blocks if b["block_id"] == "home.waiting.pages"]
    return all_text(context), [(b["action_id"], b["text"]["text"], b["value"]) for b in turns["elements"]]


def test_a_middle_page_of_requests_says_where_it_is_and_turns_both_ways():
    d = deal("q1042-v3")
    waiting = [(d.sub, d.sub.approval("manager-discount"))] * 10

    blocks = home("marco", waiting, waiting_total=47, page=2, pages=5)

    assert "Waiting on you (47)" in headers(blocks)
    assert page_of(blocks) == (
        "Page 2 of 5",
        [("home.page_previous", "Previous page", "1"), ("home.page_next", "Next page", "3")],
    )
    assert "more requests" not in all_text(blocks), "the other pages are a click away, not 'more'"
    ids = [b["block_id"] for b in blocks]
    assert ids.index("home.waiting.9.actions") < ids.index("home.waiting.page") < ids.index("home.quotes.divider")


def test_the_first_page_only_turns_forward_and_the_last_only_back():
    d = deal("q1042-v3")
    waiting = [(d.sub, d.sub.approval("manager-discount"))]

    first = home("marco", waiting * 10, waiting_total=11, page=1, pages=2)
    last = home("marco", waiting, waiting_total=11, page=2, pages=2)

    assert page_of(first) == ("Page 1 of 2", [("home.page_next", "Next page", "2")])
    assert page_of(last) == ("Page 2 of 2", [("home.page_previous", "Previous page", "1")])


def test_one_page_of_requests_has_no_page_line_or_buttons():
    d = deal("q1042-v3")

    blocks = home("marco", [(d.sub, d.sub.approval("manager-discount"))], waiting_total=1)

    assert not [b for b in blocks if b["block_id"].startswith("home.waiting.page")]


def test_the_page_line_and_buttons_read_french():
    d = deal("q1042-v3")
    with speaking("fr"):
        blocks = home("marco", [(d.sub, d.sub.approval("manager-discount"))] * 10, waiting_total=30, page=2, pages=3)

    assert page_of(blocks) == (
        "Page 2 sur 3",
        [("home.page_previous", "Page précédente", "1"), ("home.page_next", "Page suivante", "3")],
    )
