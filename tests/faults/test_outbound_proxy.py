"""Behind a corporate proxy: outbound HTTP honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY.

A forward proxy on loopback (tests/support/proxy.py) records every absolute-form request it forwards.
aiohttp applies the variables to 127.0.0.1 like any other host (no loopback exemption), so the stand-ins
need no hostname tricks. With HTTP_PROXY set and NO_PROXY naming other hosts, the signed ERP webhook of a
released order, the CRM webhook and the Slack Web API calls all go through the proxy, and the ERP gets
the order once. With NO_PROXY naming 127.0.0.1, the same traffic goes direct and the proxy sees nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from sandbox.crm_receiver import CrmReceiver
from sandbox.erp import ErpStandIn
from sandbox.slack_api import SlackStandIn
from store.models import OrderRow
from tests.support.clock import Clock
from tests.support.proxy import ForwardProxy, forward_proxy

from .conftest import Greenlight, Start, request_ref, slack_stand_in
from .kit import ERP_SECRET, REP_SLACK, policy_text

APPROVERS = ["a01"]
HOOK_SECRET = "proxy-tests-crm-hook-secret"


@dataclass
class Outside:
    proxy: ForwardProxy
    erp: ErpStandIn
    crm: CrmReceiver
    slack: SlackStandIn
    gl: Greenlight


@asynccontextmanager
async def released_behind(
    greenlight: Start, clock: Clock, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> AsyncIterator[Outside]:
    """Greenlight started with HTTP_PROXY and NO_PROXY set; a quote approved and its order released."""
    erp = ErpStandIn(secret=ERP_SECRET, clock=clock.timestamp)
    crm = CrmReceiver(secret=HOOK_SECRET, clock=clock.timestamp)
    async with forward_proxy() as proxy, erp, crm, slack_stand_in(APPROVERS) as slack:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", no_proxy)
        environment = {
            "GREENLIGHT_ERP_URL": erp.url,
            "GREENLIGHT_ERP_SECRET": ERP_SECRET,
            "GREENLIGHT_CRM_WEBHOOK_URL": crm.url,
            "GREENLIGHT_CRM_WEBHOOK_SECRET": HOOK_SECRET,
        }
        async with greenlight(policy_text(APPROVERS, generate="auto"), slack, **environment) as gl:
            await gl.submit("Q-P01", delivery=gl.clock().date())
            assert (await gl.click_approve("a01", request_ref("Q-P01", "a01"))).status == 200
            await gl.settle("slack", "crm", "orders", "release", "erp", "slack", "crm")
            yield Outside(proxy, erp, crm, slack, gl)


async def test_webhooks_and_slack_calls_go_through_http_proxy_and_the_erp_gets_the_order_once(
    greenlight: Start, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    async with released_behind(greenlight, clock, monkeypatch, no_proxy="erp.corp.example,.internal") as out:
        numbers = [o.number for o in await OrderRow.filter(quote_id="Q-P01")]
        assert len(numbers) == 1 and out.erp.delivered() == {f"{numbers[0]}:released": 1}

        through = out.proxy.to(out.erp.url)
        assert [(s.status, "Greenlight-Signature" in s.headers) for s in through] == [(200, True)]
        assert through[0].body and numbers[0].encode() in through[0].body, "the proxy saw the signed order"

        hooks = out.proxy.to(out.crm.url)
        assert hooks and len(hooks) == len(out.crm.received), "every CRM webhook went through the proxy"
        assert out.proxy.to(out.slack.api_url + "chat.postMessage"), "the Slack client used the proxy"
        assert out.proxy.direct == []


async def test_no_proxy_naming_the_host_sends_the_same_traffic_direct(
    greenlight: Start, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    async with released_behind(greenlight, clock, monkeypatch, no_proxy="erp.corp.example,127.0.0.1") as out:
        numbers = [o.number for o in await OrderRow.filter(quote_id="Q-P01")]
        assert out.erp.delivered() == {f"{numbers[0]}:released": 1}
        assert out.crm.received, "the CRM got its webhooks"
        assert out.slack.dm_history(REP_SLACK), "the Slack client reached Slack"
        assert out.proxy.seen == [] and out.proxy.direct == []
