"""The ERP down for a simulated day: dead letters, alerts, then delivery on Retry.

An approved quote's orders are released and handed to the ERP, which answers 503 to everything.
The runtime's clock moves through the day an hour at a time, the sweeps running at each step.
After 24 hours of retries each order's message is a dead letter, the order is `sync_failed` and
the admins get a Slack alert with a Retry button. The ERP comes back, an admin taps Retry (twice,
impatiently) and each order reaches the ERP exactly once.
"""

from __future__ import annotations

import dataclasses
import types

import pytest

import sandbox.erp
from sandbox.erp import ErpStandIn
from sandbox.slack_api import Message
from store.models import OrderRow, OutboxRow
from tests.support.clock import Clock

from .conftest import Start, request_ref, slack_stand_in
from .kit import ADMIN_SLACK, ERP_SECRET, REP_SLACK, policy_text

APPROVERS = ["a01"]


@pytest.fixture
def erp(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> ErpStandIn:
    """The ERP checks a signature's timestamp against its own clock: it lives in the simulated time too."""
    if "clock" in {f.name for f in dataclasses.fields(ErpStandIn)}:
        return ErpStandIn(secret=ERP_SECRET, clock=clock.timestamp)  # type: ignore[call-arg]
    monkeypatch.setattr(sandbox.erp, "time", types.SimpleNamespace(time=clock.timestamp))
    return ErpStandIn(secret=ERP_SECRET)


def alerts(slack, person: str) -> list[Message]:  # type: ignore[no-untyped-def]
    return [m for m in slack.dm_history(person) if "erp.retry" in m.action_ids()]


async def test_erp_down_for_a_day_dead_letters_alerts_then_retry_delivers_once(greenlight: Start, erp: ErpStandIn):
    async with erp, slack_stand_in(APPROVERS) as slack:
        environment = {"GREENLIGHT_ERP_URL": erp.url, "GREENLIGHT_ERP_SECRET": ERP_SECRET}
        async with greenlight(policy_text(APPROVERS, generate="auto"), slack, **environment) as gl:
            erp.refuse(503)
            today = gl.clock().date()
            await gl.submit("Q-R01", delivery=today, lines=2)  # two ship-to addresses: two orders
            assert (await gl.click_approve("a01", request_ref("Q-R01", "a01"))).status == 200
            await gl.settle("slack", "orders", "release", "erp", "slack")
            orders = await OrderRow.filter(quote_id="Q-R01").order_by("number")
            assert [o.status for o in orders] == ["released", "released"], "the orders were not released"
            numbers = [o.number for o in orders]
            assert sum(erp.attempts.values()) >= 2 and erp.delivered() == {}

            # The ERP is down for the whole day: retried with backoff, then given up after 24 hours.
            for _ in range(23):
                await gl.later("release", "erp", "slack", hours=1)
            assert await OutboxRow.filter(topic="erp", status="dead").count() == 0, "given up before 24 hours"
            assert alerts(slack, ADMIN_SLACK) == []
            for _ in range(2):
                await gl.later("release", "erp", "slack", hours=1)
            dead = await OutboxRow.filter(topic="erp", status="dead").order_by("key").values_list("key", flat=True)
            assert dead == [f"{number}:released" for number in numbers]
            assert [o.status for o in await OrderRow.filter(quote_id="Q-R01").order_by("number")] == ["sync_failed"] * 2
            assert sum(erp.attempts.values()) > 2 * 5, "the ERP was not retried through the day"
            shown = alerts(slack, ADMIN_SLACK)
            assert sorted(m.blocks[1]["elements"][0]["value"] for m in shown) == numbers, [m.text for m in shown]
            assert erp.delivered() == {}

            # The ERP is back; the admin taps Retry on each alert, twice.
            erp.refuse(None)
            for message in shown:
                for _ in range(2):
                    answer = await gl.driver.click(ADMIN_SLACK, "erp.retry", message=message)
                    assert answer.status == 200, answer.body
            await gl.settle("erp", "slack")
            for _ in range(3):  # what the 1-hour ERP backoff cap could still hold back
                await gl.later("erp", "slack", hours=1)
            assert erp.delivered() == {f"{number}:released": 1 for number in numbers}
            synced = await OrderRow.filter(quote_id="Q-R01").order_by("number")
            assert [o.status for o in synced] == ["synced", "synced"]
            assert all(o.erp_reference for o in synced)
            assert await OutboxRow.filter(topic="erp").exclude(status="sent").count() == 0
            assert await OutboxRow.filter(topic="slack").exclude(status="sent").count() == 0
            thread = [m.text for m in slack.dm_history(REP_SLACK)]
            said = {
                line: sum(line in text for text in thread)
                for line in ("was released on its date", "was sent to the ERP again by Dana Desk.", "The ERP received")
            }
            assert said == {
                "was released on its date": 2,
                "was sent to the ERP again by Dana Desk.": 2,
                "The ERP received": 2,
            }, thread
            assert sum("The ERP did not take order" in text for text in thread) == 2, thread
