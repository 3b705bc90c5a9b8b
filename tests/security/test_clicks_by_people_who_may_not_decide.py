"""Only an assignee, or the active delegate of one, decides. Everybody else who clicks, or submits a
modal, gets an ephemeral sentence (or the modal's error) and nothing in the store changes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sandbox.slack_api import Message
from tests.support.quotes import example_quote_data
from tests.support.slack import STRANGER

from .conftest import REF, App, backdated_quote


@pytest.fixture
async def submitted(app: App) -> App:
    await app.submit(example_quote_data("q1042-v1.json"))
    return app


async def refused_click(app: App, user_id: str, action_id: str, message: Message, **kwargs: Any) -> str:
    """`user_id` clicks `action_id` on `message`: a 200, an ephemeral refusal, nothing changed."""
    before, answered, modals = await app.snapshot(), app.answered(), len(app.slack.calls("views.open"))
    answer = await app.driver.click(user_id, action_id, message=message, **kwargs)
    assert answer.status == 200, answer.body
    text = await app.refusal(user_id, since=answered)
    assert await app.snapshot() == before
    assert len(app.slack.calls("views.open")) == modals, "a refused click opens no modal"
    return text


DECIDING_BUTTONS = ("approval.approve", "approval.reject", "approval.reassign")


async def test_a_stranger_outside_the_directory_is_refused_on_every_button(submitted: App) -> None:
    app = submitted
    for action_id in DECIDING_BUTTONS:
        text = await refused_click(app, STRANGER, action_id, app.request("marco", REF))
        assert "not in Greenlight's directory" in text, (action_id, text)


async def test_someone_in_the_directory_who_is_not_an_assignee_is_refused_on_every_button(submitted: App) -> None:
    app = submitted
    for action_id in DECIDING_BUTTONS:
        text = await refused_click(app, app.slack_id("hank"), action_id, app.request("marco", REF))
        assert "not an approver of manager-discount on Q-1042" in text, (action_id, text)


async def test_the_quote_owner_is_refused_on_every_button_of_their_own_quote(submitted: App) -> None:
    app = submitted
    for action_id in DECIDING_BUTTONS:
        text = await refused_click(app, app.slack_id("ava"), action_id, app.request("marco", REF))
        assert "own Q-1042: you cannot approve your own quote" in text, (action_id, text)


async def test_an_owner_who_belongs_to_the_approving_group_cannot_decide_their_own_quote(app: App) -> None:
    quote = backdated_quote("Q-7002", owner="dev", start_date="2027-01-01", term_months=6)
    quote["lines"][0]["term_months"] = 6  # a six-month pilot: the deal desk (Dana or Dev) decides
    await app.submit(quote, owner="dev")
    dana = app.request("dana", "Q-7002#1/short-pilot")

    text = await refused_click(app, app.slack_id("dev"), "approval.approve", dana)

    assert "own Q-7002" in text, text


async def test_details_of_a_request_are_refused_to_someone_not_involved(submitted: App) -> None:
    app = submitted
    text = await refused_click(app, app.slack_id("hank"), "approval.details", app.request("marco", REF))
    assert "only the owner, the approvers and admins can see Q-1042" in text, text


async def test_a_delegate_whose_delegation_has_ended_is_refused(submitted: App) -> None:
    app = submitted
    ben = app.slack_id("ben")
    await app.deal("marco", f"ooo 2026-11-02 2026-11-02 <@{ben}|ben>")
    await app.settle("slack")
    stale_copy = copy.deepcopy(app.request("ben", REF))  # Ben's client still shows the buttons
    app.clock.advance(days=2)
    await app.settle("approvals", "slack")

    text = await refused_click(app, ben, "approval.approve", stale_copy)

    assert "not an approver of manager-discount on Q-1042" in text, text
    assert await app.approval_status("Q-1042", "manager-discount") == "requested"


async def test_a_delegate_is_refused_once_the_person_away_turns_the_delegation_off(submitted: App) -> None:
    app = submitted
    ben = app.slack_id("ben")
    await app.deal("marco", f"ooo 2026-11-02 2026-11-06 <@{ben}|ben>")
    await app.settle("slack")
    stale_copy = copy.deepcopy(app.request("ben", REF))
    await app.deal("marco", "ooo off")
    await app.settle("approvals", "slack")

    text = await refused_click(app, ben, "approval.approve", stale_copy)

    assert "not an approver of manager-discount on Q-1042" in text, text


async def test_an_approver_who_reassigned_the_request_away_is_refused(submitted: App) -> None:
    app = submitted
    marco = app.slack_id("marco")
    stale_copy = copy.deepcopy(app.request("marco", REF))
    await app.driver.click(marco, "approval.reassign", message=app.request("marco", REF))
    await app.slack.wait_for("views.open")
    [modal] = app.slack.open_views(marco)
    answer = await app.driver.submit_view(
        marco,
        modal,
        {
            "reassign.to": {"reassign.to_user": app.slack_id("vera")},
            "reassign.comment": {"reassign.comment_input": "Vera knows this account."},
        },
    )
    assert answer.status == 200 and not answer.body, answer.body
    await app.settle("slack")

    text = await refused_click(app, marco, "approval.approve", stale_copy)

    assert "not an approver of manager-discount on Q-1042" in text, text


FORGED_VALUES = [
    ("Q-1042#1/legal-custom-terms", "not an approver of legal-custom-terms on Q-1042"),
    ("Q-1042#7/manager-discount", "earlier submission of Q-1042"),
    ("Q-9999#1/manager-discount", ""),
    ("<script>alert(1)</script>", "does not belong to a Greenlight request"),
    ("", "does not belong to a Greenlight request"),
    ("Q-1042#1/" + "x" * 5000, ""),
]


async def test_an_assignee_clicking_a_button_with_a_forged_value_is_refused(submitted: App) -> None:
    app = submitted
    message = app.request("marco", REF)
    for value, why in FORGED_VALUES:
        text = await refused_click(app, app.slack_id("marco"), "approval.approve", message, value=value)
        assert why in text and text.strip(), (value[:40], text)
    assert await app.approval_status("Q-1042", "manager-discount") == "requested"


# ---- modals submitted by someone who may not decide ------------------------------------------------


async def opened_modal(app: App, person: str, action_id: str) -> dict[str, Any]:
    user = app.slack_id(person)
    await app.driver.click(user, action_id, message=app.request(person, REF))
    await app.slack.wait_for("views.open")
    [modal] = app.slack.open_views(user)
    return modal


async def test_the_owner_submitting_the_approvers_reject_modal_is_refused(submitted: App) -> None:
    app = submitted
    modal = await opened_modal(app, "marco", "approval.reject")
    before = await app.snapshot()

    answer = await app.driver.submit_view(app.slack_id("ava"), modal, {"reject.reason": {"reject.reason_input": "No."}})

    assert answer.status == 200
    assert answer.json()["response_action"] == "errors"
    assert "own Q-1042" in answer.json()["errors"]["reject.reason"]
    assert await app.snapshot() == before


async def test_someone_else_reassigning_a_request_to_themselves_is_refused(submitted: App) -> None:
    app = submitted
    modal = await opened_modal(app, "marco", "approval.reassign")
    hank = app.slack_id("hank")
    before = await app.snapshot()

    answer = await app.driver.submit_view(hank, modal, {"reassign.to": {"reassign.to_user": hank}})

    assert answer.json()["response_action"] == "errors"
    assert "not an approver of manager-discount on Q-1042" in answer.json()["errors"]["reassign.to"]
    assert await app.snapshot() == before


async def test_an_out_of_office_modal_naming_someone_else_is_refused_to_a_non_admin(app: App) -> None:
    hank, marco = app.slack_id("hank"), app.slack_id("marco")
    await app.driver.app_home_opened(hank)
    await app.slack.wait_for("views.publish")
    await app.driver.click(hank, "home.ooo", view=app.slack.home_view(hank))
    await app.slack.wait_for("views.open")
    [modal] = app.slack.open_views(hank)
    forged = {**modal, "private_metadata": marco}  # "set Marco's delegation to me"
    before = await app.snapshot()

    answer = await app.driver.submit_view(
        hank,
        forged,
        {
            "ooo.start": {"ooo.start_date": "2026-11-02"},
            "ooo.end": {"ooo.end_date": "2026-11-30"},
            "ooo.delegate": {"ooo.delegate_user": hank},
        },
    )

    assert answer.json()["response_action"] == "errors"
    assert await app.snapshot() == before


async def test_deal_commands_by_someone_without_the_right_change_nothing(submitted: App) -> None:
    app = submitted
    before = await app.snapshot()
    ben, marco = app.slack_id("ben"), app.slack_id("marco")

    for who, text, why in [
        ("hank", "recall Q-1042", "/deal recall is for the quote's owner."),
        ("hank", "submit Q-1042", "/deal submit is for the quote's owner."),
        ("hank", f"delegate <@{marco}|marco> <@{ben}|ben> 2026-11-02 2026-11-30", "/deal delegate is for an admin."),
        ("hank", f"replace <@{marco}|marco> <@{ben}|ben>", "/deal replace is for an admin."),
        ("hank", "approvers", "/deal approvers is for an admin."),
        ("marco", "recall Q-1042", "/deal recall is for the quote's owner."),
    ]:
        answer = await app.deal(who, text)
        assert (answer.json()["response_type"], answer.json()["text"]) == ("ephemeral", why), (who, text)
    answer = await app.driver.command(STRANGER, "/deal", "submit Q-1042")
    assert "not in Greenlight's directory" in answer.json()["text"], answer.body

    assert await app.snapshot() == before
