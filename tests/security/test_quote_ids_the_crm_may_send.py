"""A quote id travels in button values (`Q-1042#1/rule`) and in email link tokens: an id that they cannot
carry must be refused at intake, or else work through both. A stored quote nobody can decide is a
denial of service the CRM can cause by accident (`Q#1042/2026` is an ordinary id in some CRMs)."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.pages import links_in

from .conftest import App, backdated_quote

RULE = "backdated-start"


@pytest.mark.parametrize("quote_id", ["Q#7001/2026", "Q-7001/B#2"], ids=["hash-and-slash", "slash-and-hash"])
async def test_a_quote_id_is_refused_at_intake_or_can_be_decided_in_slack_and_by_email(app: App, quote_id: str) -> None:
    status, answer = await app.post_quote(json.dumps(backdated_quote(quote_id)))
    if status == 422:
        assert [problem["where"] for problem in answer["problems"]] == ["$.id"], answer
        return
    assert status == 200, answer

    await app.deal("ava", f"submit {quote_id}")
    await app.settle("slack", "email")
    rows = await app.outbox("email")
    assert [row.status for row in rows] == ["sent"], f"Farah's email was not sent: {[r.last_error for r in rows]}"
    [arrived] = await app.inbox.wait_for(1)
    mail = arrived.message
    page = await app.get(links_in(mail)["approve"])
    title = re.search(r"<h1>(.*?)</h1>", page.text)
    assert page.status == 200, f"Farah's link for {quote_id} shows {title.group(1) if title else page.status!r}"
    felix = app.slack_id("felix")
    answered = app.answered()
    await app.driver.click(felix, "approval.approve", message=app.request("felix", f"{quote_id}#1/{RULE}"))
    await app.settle("slack")
    shown = [e.text for e in app.slack.ephemerals(felix)]
    assert await app.approval_status(quote_id, RULE) == "approved", f"Felix's Approve was refused: {shown}"
    assert app.answered() == answered
