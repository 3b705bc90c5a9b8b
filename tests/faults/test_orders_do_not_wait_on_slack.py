"""Slack refusing every call does not hold up the orders of an approved quote.

With `orders.generate: auto`, the last approval queues order generation on its own outbox topic
(`domain.reactions`), so Slack answering 503 for good, or `account_inactive` (a refusal retrying
will not fix), leaves the Slack rows waiting or dead while the orders are generated, released on
their date and handed to the ERP exactly once.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sandbox.erp import ErpStandIn
from sandbox.slack_api import Fault
from store.models import OrderRow, OutboxRow
from tests.support.clock import Clock

from .conftest import Start, request_ref, slack_stand_in
from .kit import ERP_SECRET, policy_text

APPROVERS = ["a01"]
DAY = dt.timedelta(days=1)


@pytest.mark.parametrize(
    "refusal",
    [Fault.http_status(503), Fault.api_error("account_inactive")],
    ids=["slack-answers-503", "slack-says-account-inactive"],
)
async def test_slack_refusing_every_call_still_generates_releases_and_syncs_the_orders(
    greenlight: Start, clock: Clock, refusal: Fault
) -> None:
    erp = ErpStandIn(secret=ERP_SECRET, clock=clock.timestamp)  # fresh signatures in simulated time
    async with erp, slack_stand_in(APPROVERS) as slack:
        environment = {"GREENLIGHT_ERP_URL": erp.url, "GREENLIGHT_ERP_SECRET": ERP_SECRET}
        async with greenlight(policy_text(APPROVERS, generate="auto"), slack, **environment) as gl:
            today = gl.clock().date()
            await gl.submit("Q-S01", delivery=today + 2 * DAY, lines=2)  # two ship-to addresses: two orders
            await gl.settle("slack")

            slack.start_outage(refusal)
            assert (await gl.click_approve("a01", request_ref("Q-S01", "a01"))).status == 200
            await gl.settle("slack", "orders", "release", "erp")
            assert await OutboxRow.filter(topic="slack").exclude(status="sent").count() > 0, "Slack was not refusing"

            orders = await OrderRow.filter(quote_id="Q-S01").order_by("number")
            assert [o.status for o in orders] == ["scheduled", "scheduled"], "the orders were not generated"
            assert erp.received == [], "an order went to the ERP before its date"

            await gl.later("release", "erp", days=2)
            orders = await OrderRow.filter(quote_id="Q-S01").order_by("number")
            assert [o.status for o in orders] == ["synced", "synced"]
            assert erp.delivered() == {f"{o.number}:released": 1 for o in orders}
            assert slack.calls() and await OutboxRow.filter(topic="slack").exclude(status="sent").count() > 0
