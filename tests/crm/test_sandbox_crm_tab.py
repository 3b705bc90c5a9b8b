"""The sandbox's CRM tab lists the webhooks Greenlight sent the CRM (as the ERP tab lists orders)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from sandbox.demo import Demo


async def test_the_crm_tab_shows_each_webhook_the_demo_sent_with_its_checked_signature(tmp_path: Path) -> None:
    async with Demo.running(data_dir=tmp_path / "demo") as demo, aiohttp.ClientSession() as session:
        ava = demo.policy.people["ava"].slack
        assert ava is not None
        answer = await demo.driver.command(ava, "/deal", "submit Q-1042")
        assert answer.status == 200
        await demo.settle("crm")

        async with session.get(demo.url + "api/crm") as response:
            assert response.status == 200
            shown = await response.json()
        (hook,) = [h for h in shown["webhooks"] if h["quote"] == "Q-1042"]
        assert (hook["type"], hook["status"], hook["attempts"]) == ("quote.submitted", "pending", 1)
        assert demo.crm.receiver is not None and demo.crm.receiver.forged == 0


async def test_the_salesforce_demo_brings_a_quote_in_review_to_slack_and_its_approval_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)  # the demo sets it for its own org
    async with Demo.running(data_dir=tmp_path / "demo", salesforce=True) as demo, aiohttp.ClientSession() as session:
        assert demo.salesforce is not None
        await demo.settle("salesforce", "slack", "crm")
        service = demo.runtime.service
        sub = await service.latest("Q-SF-2001")
        assert sub is not None and sub.status == "pending" and sub.owner == "ava"
        assert demo.salesforce.quote("a0Q5e000000SF01")["Greenlight_Status__c"] == "In Review"

        for _ in range(10):  # every approver approves, step by step
            sub = await service.latest("Q-SF-2001")
            assert sub is not None
            if sub.status != "pending":
                break
            for approval in [a for a in sub.approvals if a.status == "requested"]:
                person = next(seat.holder for seat in approval.seats if seat.vote is None)
                await service.decide("Q-SF-2001", approval.rule, person, "approve", demo.clock())
        await demo.settle("slack", "crm")

        record = demo.salesforce.quote("a0Q5e000000SF01")
        assert record["Greenlight_Status__c"] == "Approved"
        assert record["Greenlight_Comment__c"].startswith("Approved by ")
        async with session.get(demo.url + "api/crm") as response:
            shown = await response.json()
        assert shown["salesforce"] == [
            {
                "id": "a0Q5e000000SF01",
                "name": "Q-SF-2001",
                "status": "Approved",
                "comment": record["Greenlight_Comment__c"],
            }
        ]
