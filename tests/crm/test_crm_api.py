"""The CRM's routes over real HTTP (crm-v1 §1-§5): two ways to authenticate, people as a CRM knows
them, and the status document from GET, submit, recall and preview."""

from __future__ import annotations

import pytest

from domain.approvals import Context, Directory
from domain.preview import build_preview
from domain.quote import parse_quote
from domain.rules import Evaluator
from store.models import AuditRow, QuoteRow
from tests.faults.kit import API_SECRET

from .conftest import CRM_KEY, REP_CRM_ID, SCRIPT_KEY, Open, changes, quote

# ---- who is calling --------------------------------------------------------------------------------


async def test_every_route_answers_a_bearer_key_and_the_hmac_signature_alike(crm: Open) -> None:
    async with crm() as c:
        for auth in ({"key": CRM_KEY}, {"key": None, "hmac_secret": API_SECRET}):
            quote_id = "Q-B01" if auth.get("key") else "Q-H01"
            assert (await c.client.send(quote(quote_id), **auth)).status == 200
            assert (await c.client.status(quote_id, **auth)).status == 200
            assert (await c.client.preview(quote(quote_id), **auth)).status == 200
            assert (await c.client.submit(quote_id, **auth)).status == 200
            assert (await c.client.recall(quote_id, **auth)).status == 200
            assert (await c.client.status(quote_id, **auth)).body["status"] == "recalled"


async def test_the_audit_names_the_key_that_acted_and_crm_for_the_shared_secret(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-A01"), key=SCRIPT_KEY)
        await c.client.submit("Q-A01", key=CRM_KEY)
        await c.client.send(quote("Q-A02"), key=None, hmac_secret=API_SECRET)

        actors = {(row.quote_id, row.kind): (row.actor, row.on_behalf_of) for row in await AuditRow.all()}
        assert actors[("Q-A01", "quote_received")] == ("crm:script", None)
        assert actors[("Q-A01", "submitted")] == ("crm:salesforce", "rep")
        assert actors[("Q-A02", "quote_received")] == ("crm", None)


@pytest.mark.parametrize(
    ("why", "headers", "key"),
    [
        ("a wrong key", {}, "crm-key-wrong-0123456789abcdef0123456789"),
        ("no credentials at all", {}, None),
        ("a key for nothing (empty)", {"Authorization": "Bearer "}, None),
        ("another scheme", {"Authorization": f"Basic {CRM_KEY}"}, None),
        ("a key one character short", {}, CRM_KEY[:-1]),
    ],
)
async def test_a_key_that_is_wrong_missing_or_for_nothing_gets_401_on_every_route_and_changes_nothing(
    crm: Open, why: str, headers: dict[str, str], key: str | None
) -> None:
    async with crm() as c:
        assert (await c.client.send(quote("Q-K01"))).status == 200
        before = await changes()
        calls = [
            c.client.send(quote("Q-K01", version=2), key=key, headers=headers),
            c.client.send(quote("Q-K02"), key=key, headers=headers),
            c.client.status("Q-K01", key=key, headers=headers),
            c.client.submit("Q-K01", key=key, headers=headers),
            c.client.recall("Q-K01", key=key, headers=headers),
            c.client.preview(quote("Q-K01"), key=key, headers=headers),
        ]
        for call in calls:
            answer = await call
            assert answer.status == 401, (why, answer)
            assert answer.body["error"].endswith("."), answer.body
            assert CRM_KEY not in answer.body["error"]
        assert await changes() == before


async def test_a_get_signed_with_hmac_signs_the_empty_body_and_a_forged_one_is_401(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-G01"))
        assert (await c.client.status("Q-G01", key=None, hmac_secret=API_SECRET)).status == 200
        forged = await c.client.status("Q-G01", key=None, hmac_secret="not-the-secret-0123456789abcdef")
        assert forged.status == 401


# ---- people as the CRM knows them ----------------------------------------------------------------------


@pytest.mark.parametrize("owner", ["rep", "U0REP", "rep@example.com", "REP@Example.com", REP_CRM_ID])
async def test_an_owner_given_as_key_slack_id_email_or_crm_id_is_stored_as_the_directory_key(
    crm: Open, owner: str
) -> None:
    async with crm() as c:
        assert (await c.client.send(quote("Q-P01", owner=owner))).status == 200
        assert (await QuoteRow.get(id="Q-P01")).owner == "rep"
        assert (await c.client.submit("Q-P01")).status == 200, "the rep owns it: the CRM submits for the rep"


@pytest.mark.parametrize(
    ("owner", "says"),
    [
        ("nobody@example.com", "owner 'nobody@example.com' matches nobody in the directory"),
        ("twins@example.com", "owner 'twins@example.com' matches 2 people (twin1, twin2)"),
        ("rep@example.com ", "white space at its start or end"),
    ],
)
async def test_an_owner_who_is_nobody_or_two_people_is_a_422_naming_the_field_and_changes_nothing(
    crm: Open, owner: str, says: str
) -> None:
    async with crm() as c:
        before = await changes()
        answer = await c.client.send(quote("Q-P02", owner=owner))
        assert answer.status == 422
        assert [p["where"] for p in answer.body["problems"]] == ["$.owner"]
        assert says in answer.body["problems"][0]["message"]
        assert await changes() == before
        preview = await c.client.preview(quote("Q-P02", owner=owner))
        assert preview.status == 422 and preview.body["problems"][0]["where"] == "$.owner"


# ---- the status document ---------------------------------------------------------------------------------


async def test_a_stored_quote_reads_as_a_draft_and_an_unknown_one_is_404(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-S01"))
        answer = await c.client.status("Q-S01")
        assert answer.status == 200
        document = answer.body
        assert set(document) == {
            "quote",
            "version",
            "status",
            "submission",
            "submitted_at",
            "decided_at",
            "comment",
            "approvals",
            "orders",
            "policy_version",
        }
        assert (document["quote"], document["version"], document["status"]) == ("Q-S01", 1, "draft")
        assert (document["submission"], document["approvals"], document["orders"]) == (None, [], [])
        missing = await c.client.status("Q-NONE")
        assert missing.status == 404 and "Q-NONE" in missing.body["error"]


async def test_submit_on_behalf_of_the_owner_answers_the_approvals_needed(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-S02"))
        answer = await c.client.submit("Q-S02", body={"version": 1, "comment": "Customer signs Friday"})

        assert answer.status == 200
        document = answer.body
        assert (document["status"], document["submission"], document["comment"]) == (
            "pending",
            1,
            "Customer signs Friday",
        )
        assert document["submitted_at"].endswith("+00:00")
        assert {(a["rule"], a["status"], tuple(a["approvers"])) for a in document["approvals"]} == {
            ("rule-a01", "requested", ("a01",)),
            ("rule-a02", "requested", ("a02",)),
        }
        assert (await c.client.status("Q-S02")).body == document


async def test_submit_refuses_a_version_that_is_not_the_latest_and_a_quote_already_pending(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-S03", version=7))
        stale = await c.client.submit("Q-S03", version=6)
        assert stale.status == 409 and "version 7 is stored" in stale.body["error"]
        assert (await c.client.submit("Q-S03", version=7)).status == 200
        before = await changes()
        again = await c.client.submit("Q-S03", version=7)
        assert again.status == 409 and "already pending" in again.body["error"]
        assert await changes() == before


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "version"),
        ({"version": "1"}, "version"),
        ({"version": True}, "version"),
        ({"version": 0}, "version"),
        ({"version": 2**53}, "version"),
        ({"version": 1, "comment": 7}, "comment"),
        ({"version": 1, "urgent": True}, "urgent"),
    ],
)
async def test_a_submit_body_that_is_wrong_is_a_422_naming_the_field(crm: Open, body: dict, where: str) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-S04"))
        before = await changes()
        answer = await c.client.submit("Q-S04", body=body)
        assert answer.status == 422 and where in [p["where"] for p in answer.body["problems"]]
        assert await changes() == before


async def test_recall_answers_the_recalled_document_and_409_when_nothing_is_pending(crm: Open) -> None:
    async with crm() as c:
        await c.client.send(quote("Q-R01"))
        nothing = await c.client.recall("Q-R01")
        assert nothing.status == 409 and "nothing is pending" in nothing.body["error"]
        await c.client.submit("Q-R01")
        answer = await c.client.recall("Q-R01", {"comment": "Customer asked for a new term"})
        assert answer.status == 200
        assert (answer.body["status"], answer.body["comment"]) == ("recalled", "Customer asked for a new term")
        assert {a["status"] for a in answer.body["approvals"]} == {"revoked"}
        assert (await c.client.recall("Q-R01")).status == 409
        assert (await c.client.recall("Q-NONE")).status == 404


async def test_preview_answers_what_the_command_line_preview_prints_and_stores_nothing(crm: Open) -> None:
    async with crm() as c:
        before = await changes()
        answer = await c.client.preview(quote("Q-V01", owner="rep@example.com"))
        assert answer.status == 200
        policy = c.gl.policy
        ctx = Context(policy, Evaluator(policy), Directory(), c.gl.clock())
        expected = build_preview(ctx, parse_quote(quote("Q-V01"))).as_dict()
        assert answer.body == expected
        assert await changes() == before
        broken = await c.client.preview({"id": "Q-V02"})
        assert broken.status == 422 and broken.body["problems"]
        empty = await c.client.call("POST", "/api/preview", b"")
        assert empty.status == 422 and empty.body["error"] == "The body is empty: send the quote as JSON."


async def test_a_server_with_keys_only_refuses_the_hmac_scheme_with_a_sentence_that_says_to_send_a_key(
    crm: Open,
) -> None:
    async with crm(GREENLIGHT_API_SECRET="") as c:
        before = await changes()
        answer = await c.client.send(quote("Q-O01"), key=None, hmac_secret=API_SECRET)
        assert answer.status == 401 and "send 'Authorization: Bearer <key>'" in answer.body["error"]
        assert await changes() == before
        assert (await c.client.send(quote("Q-O01"))).status == 200
