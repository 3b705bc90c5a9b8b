"""`greenlight crm salesforce` against a local Salesforce REST stand-in over HTTPS (crm-v1 §7):
quotes in review are pulled through the intake and submitted, outcomes are written back to the
record, an expired session logs in again, and thousands of changed quotes page through unlost."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from greenlight.salesforce import Mapping, epoch_ms
from store import crm as store_crm
from store.crm import watermark
from store.models import QuoteRow, SubmissionRow
from tests.faults.conftest import request_ref
from tests.support.clock import Clock
from tests.support.salesforce import LINES, QUOTE, SalesforceStandIn

from .conftest import Crm, Open

MAPPING = "examples/crm/salesforce-cpq.yaml"


def record(n: int, owner: str = "rep@example.com") -> dict[str, Any]:
    return {
        "Name": f"Q-SF{n:05d}",
        "SBQQ__Status__c": "In Review",
        "SBQQ__SalesRep__r": {"attributes": {"type": "User"}, "Email": owner},
        "CurrencyIsoCode": "USD",
        "SBQQ__StartDate__c": "2027-01-01",
        "SBQQ__SubscriptionTerm__c": 12,
        "SBQQ__PaymentTerms__c": "Net 30",
        "SBQQ__AverageCustomerDiscount__c": 5,
        "SBQQ__NetAmount__c": 950,
        "SBQQ__ListAmount__c": 1000,
        "SBQQ__Account__c": "001A000001",
        "SBQQ__Account__r": {"attributes": {"type": "Account"}, "Name": "Acme GmbH", "Greenlight_Time_Zone__c": "UTC"},
        "SBQQ__ShippingName__c": "Berlin HQ",
        "Greenlight_Status__c": None,
        "Greenlight_Comment__c": None,
    }


LINE = {
    "Name": "QL-0001",
    "SBQQ__ProductCode__c": "SKU-1",
    "SBQQ__ProductFamily__c": "Hardware",
    "SBQQ__Quantity__c": 1,
    "SBQQ__ListPrice__c": 1000,
    "SBQQ__NetPrice__c": 950,
    "SBQQ__Discount__c": 5,
    "SBQQ__NetTotal__c": 950,
    "SBQQ__ListTotal__c": 1000,
    "SBQQ__SubscriptionPricing__c": None,
    "SBQQ__StartDate__c": "2027-01-15",
    "Ship_To__c": "Berlin HQ",
}


@pytest.fixture
def org(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> SalesforceStandIn:
    SalesforceStandIn.trust(monkeypatch)
    return SalesforceStandIn(clock=clock)


@asynccontextmanager
async def connected(crm: Open, org: SalesforceStandIn, mapping: str | Path = MAPPING) -> AsyncIterator[Crm]:
    async with org:
        environment = {
            "GREENLIGHT_SALESFORCE_LOGIN_URL": org.url,
            "GREENLIGHT_SALESFORCE_CLIENT_ID": org.client_id,
            "GREENLIGHT_SALESFORCE_CLIENT_SECRET": org.client_secret,
            "GREENLIGHT_SALESFORCE_MAPPING": str(mapping),
        }
        async with crm(**environment) as c:
            yield c


def store_only(tmp_path: Path) -> Path:
    """The shipped mapping, but quotes are only stored (not submitted): paging is what is tested."""
    path = tmp_path / "store-only.yaml"
    path.write_text(Path(MAPPING).read_text().replace("submit: true", "submit: false"))
    return path


def add_quotes(org: SalesforceStandIn, clock: Clock, count: int, start: int = 1) -> None:
    for n in range(start, start + count):
        org.put_quote(f"a0Q{n:012d}", record(n), [LINE], clock() - dt.timedelta(minutes=10) + dt.timedelta(seconds=n))


async def test_a_quote_in_review_is_pulled_approved_in_slack_and_its_record_holds_the_status_and_comment(
    crm: Open, org: SalesforceStandIn, clock: Clock
) -> None:
    add_quotes(org, clock, 1)
    record_id = "a0Q000000000001"
    async with connected(crm, org) as c:
        await c.gl.settle("salesforce")  # the timer job `serve` runs when the connector is configured
        stored = await QuoteRow.get(id="Q-SF00001")
        assert stored.owner == "rep", "the rep's email became the directory key"
        assert stored.data["crm_record_id"] == record_id
        assert stored.version == epoch_ms(org.quote(record_id)["LastModifiedDate"]) or stored.version > 0
        await c.deliver()
        assert org.quote(record_id)["Greenlight_Status__c"] == "In Review"

        for person in ("a01", "a02"):
            answer = await c.gl.click_approve(person, request_ref("Q-SF00001", person))
            assert answer.status == 200
        await c.deliver()

        assert org.quote(record_id)["Greenlight_Status__c"] == "Approved"
        assert org.quote(record_id)["Greenlight_Comment__c"] == "Approved by a01, a02"
        assert c.receiver.types("Q-SF00001")[-1] == "quote.approved", "the webhooks go out too"

        # Our own write-back changed the record's stamp: the next pull sees it and changes nothing.
        submissions = await SubmissionRow.all().count()
        await c.gl.settle("salesforce")
        assert await SubmissionRow.all().count() == submissions
        assert (await QuoteRow.get(id="Q-SF00001")).version == stored.version


async def test_a_session_that_expires_mid_run_logs_in_again_and_loses_no_page(
    crm: Open, org: SalesforceStandIn, clock: Clock, tmp_path: Path
) -> None:
    org.page_size = 50
    add_quotes(org, clock, 180)
    org.expire_after_queries = 2  # the third page finds the session expired
    async with connected(crm, org, store_only(tmp_path)) as c:
        await c.gl.settle("salesforce")

        assert await QuoteRow.all().count() == 180
        assert org.logins == 2, "one login, and one more when the session expired"
        assert org.calls["query"] >= 4, "four pages of 50"
        assert await watermark("salesforce") == org.quote("a0Q000000000180")["LastModifiedDate"].replace("+0000", "Z")


async def test_two_thousand_changed_quotes_page_through_without_loss_and_the_watermark_moves(
    crm: Open, org: SalesforceStandIn, clock: Clock, tmp_path: Path
) -> None:
    add_quotes(org, clock, 2000)
    async with connected(crm, org, store_only(tmp_path)) as c:
        await c.gl.settle("salesforce")
        assert await QuoteRow.all().count() == 2000
        assert org.calls["query"] >= 10, "ten pages of 200"
        assert await watermark("salesforce") == org.quote("a0Q000000002000")["LastModifiedDate"].replace("+0000", "Z")

        add_quotes(org, clock, 3, start=2001)
        connector = c.gl.runtime.salesforce
        assert connector is not None
        again = await connector.pull()
        assert (again.read, again.stored, again.pages) == (3, 3, 1), "only what changed since the watermark"
        assert await QuoteRow.all().count() == 2003


async def test_a_quote_whose_owner_is_nobody_is_not_taken_and_says_why(
    crm: Open, org: SalesforceStandIn, clock: Clock
) -> None:
    org.put_quote("a0Q000000000009", record(9, owner="stranger@example.com"), [LINE], clock())
    async with connected(crm, org) as c:
        connector = c.gl.runtime.salesforce
        assert connector is not None
        await c.gl.settle("salesforce")
        await store_crm.set_watermark("salesforce", "2000-01-01T00:00:00.000Z", clock())
        pulled = await connector.pull()
        assert pulled.stored == 0 and await QuoteRow.all().count() == 0
        ((name, why),) = pulled.refused
        assert name == "Q-SF00009" and "owner 'stranger@example.com' matches nobody" in why


def test_the_shipped_mapping_reads_and_asks_for_quotes_in_review_with_their_lines() -> None:
    mapping = Mapping.read(MAPPING)
    soql = mapping.soql("2026-12-01T09:00:00.000Z")
    assert f"FROM {LINES})" in soql and f"FROM {QUOTE} WHERE" in soql
    assert "(SBQQ__Status__c = 'In Review') AND LastModifiedDate > 2026-12-01T09:00:00.000Z" in soql
