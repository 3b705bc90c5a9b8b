"""The CRM's status document carries the rep's justification (its `comment` while the submission
is pending, crm-v1 §5) as sent with the submit."""

from __future__ import annotations

from .conftest import Open, quote


async def test_the_justification_sent_with_the_submit_is_in_the_status_document(crm: Open) -> None:
    async with crm() as c:
        assert (await c.client.send(quote("Q-J01"))).status == 200
        submitted = await c.client.submit("Q-J01", body={"version": 1, "comment": "Displacing a competitor"})
        assert submitted.status == 200, submitted.body

        pending = (await c.client.status("Q-J01")).body

        assert pending["status"] == "pending"
        assert pending["comment"] == "Displacing a competitor"
