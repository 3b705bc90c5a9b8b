"""The sandbox's CRM tab lists the webhooks Greenlight sent the CRM (as the ERP tab lists orders)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

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
