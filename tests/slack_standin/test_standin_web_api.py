"""The stand-in answers the real slack_sdk AsyncWebClient the way Slack does."""

import json
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack_api import SlackStandIn

from .support import ALICE, BOB, BOT_TOKEN


def approval_blocks(approval_id: str = "A-1") -> list[Any]:
    return [
        SectionBlock(text="*Acme Corp* · Q-1042 · 120,000 EUR · 18% discount"),
        ActionsBlock(
            elements=[
                ButtonElement(text="Approve", action_id="approval.approve", value=approval_id),
                ButtonElement(text="Reject", action_id="approval.reject", value=approval_id),
            ]
        ),
    ]


def reject_modal(blocks: int = 1) -> View:
    return View(
        type="modal",
        callback_id="approval.reject",
        title="Reject Q-1042",
        submit="Reject",
        blocks=[
            InputBlock(
                block_id=f"reason-{n}",
                label="Reason",
                element=PlainTextInputElement(action_id=f"text-{n}"),
            )
            for n in range(blocks)
        ],
    )


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


async def test_posted_message_is_kept_and_updated_in_place(slack: SlackStandIn, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(
        channel="C0DEALS", text="Q-1042 needs your approval", blocks=approval_blocks()
    )
    await client.chat_update(
        channel="C0DEALS",
        ts=posted["ts"],
        text="Q-1042 approved by Bob",
        blocks=[SectionBlock(text="Approved by Bob")],
    )

    [message] = slack.messages("C0DEALS")
    assert posted["channel"] == "C0DEALS"
    assert message.ts == posted["ts"]
    assert message.text == "Q-1042 approved by Bob"
    assert message.action_ids() == []
    assert message.edits == 1


async def test_update_without_blocks_keeps_the_blocks(slack: SlackStandIn, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0DEALS", text="Q-1042 needs you", blocks=approval_blocks())
    await client.chat_update(channel="C0DEALS", ts=posted["ts"], text="Q-1042 still needs you")

    assert slack.message("C0DEALS", posted["ts"]).action_ids() == [
        "approval.approve",
        "approval.reject",
    ]


async def test_each_post_gets_its_own_ts(client: AsyncWebClient) -> None:
    first = await client.chat_postMessage(channel="C0DEALS", text="one")
    second = await client.chat_postMessage(channel="C0DEALS", text="two")

    assert first["ts"] != second["ts"]
    assert float(first["ts"]) < float(second["ts"])


async def test_message_to_a_user_id_lands_in_a_stable_dm(slack: SlackStandIn, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=ALICE, text="Q-1042 submitted")
    await client.chat_postMessage(channel=posted["channel"], thread_ts=posted["ts"], text="Approved by Bob")
    opened = await client.conversations_open(users=ALICE)

    assert posted["channel"].startswith("D")
    assert opened["channel"]["id"] == posted["channel"] == slack.dm_channel(ALICE)
    assert opened["already_open"] is True
    assert [m.text for m in slack.dm_history(ALICE)] == ["Q-1042 submitted", "Approved by Bob"]
    assert [m.text for m in slack.thread(posted["channel"], posted["ts"])] == ["Approved by Bob"]


async def test_update_needs_the_dm_channel_not_the_user_id(client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=ALICE, text="Q-1042 needs you")

    error = await api_error(client.chat_update(channel=ALICE, ts=posted["ts"], text="Done"))
    assert error.response["error"] == "channel_not_found"


async def test_update_of_a_missing_message_is_message_not_found(client: AsyncWebClient) -> None:
    error = await api_error(client.chat_update(channel="C0DEALS", ts="1.000001", text="Done"))

    assert error.response["error"] == "message_not_found"


async def test_message_to_an_unknown_user_is_channel_not_found(client: AsyncWebClient) -> None:
    error = await api_error(client.chat_postMessage(channel="U0NOBODY", text="hello"))

    assert error.response["error"] == "channel_not_found"


async def test_message_without_text_is_refused(slack: SlackStandIn, client: AsyncWebClient) -> None:
    # slack_sdk only warns about a missing text; the stand-in refuses it.
    with pytest.warns(UserWarning, match="top-level `text`"):
        error = await api_error(client.chat_postMessage(channel="C0DEALS", blocks=approval_blocks()))

    assert error.response["error"] == "no_text"
    assert slack.messages("C0DEALS") == []


@pytest.mark.parametrize("method", ["chat.postMessage", "chat.postEphemeral", "chat.update"])
async def test_blank_text_is_refused_on_every_message_method(client: AsyncWebClient, method: str) -> None:
    posted = await client.chat_postMessage(channel="C0DEALS", text="Q-1042 needs you")
    args = {"channel": "C0DEALS", "user": ALICE, "ts": posted["ts"], "text": "   "}

    error = await api_error(client.api_call(method, json=args))
    assert error.response["error"] == "no_text"


async def test_more_than_fifty_blocks_are_refused(slack: SlackStandIn, client: AsyncWebClient) -> None:
    fifty = [SectionBlock(text=f"line {n}") for n in range(50)]
    await client.chat_postMessage(channel="C0DEALS", text="fifty lines", blocks=fifty)

    error = await api_error(
        client.chat_postMessage(channel="C0DEALS", text="51 lines", blocks=[*fifty, SectionBlock(text="one more")])
    )
    assert error.response["error"] == "invalid_blocks"
    assert [m.text for m in slack.messages("C0DEALS")] == ["fifty lines"]


async def test_duplicate_action_id_in_one_message_is_refused(client: AsyncWebClient) -> None:
    # Slack itself only wants action ids unique per block; bolt routes on action_id alone.
    blocks = [*approval_blocks("A-1"), *approval_blocks("A-2")[1:]]

    error = await api_error(client.chat_postMessage(channel="C0DEALS", text="two", blocks=blocks))
    assert error.response["error"] == "invalid_blocks"
    assert "approval.approve" in error.response["errors"][0]


async def test_duplicate_block_id_in_one_message_is_refused(client: AsyncWebClient) -> None:
    blocks = [SectionBlock(block_id="quote", text="one"), SectionBlock(block_id="quote", text="2")]

    error = await api_error(client.chat_postMessage(channel="C0DEALS", text="two", blocks=blocks))
    assert error.response["error"] == "invalid_blocks"


async def test_wrong_or_missing_token_is_refused(slack: SlackStandIn) -> None:
    wrong = AsyncWebClient(token="xoxb-not-ours", base_url=slack.api_url)
    none = AsyncWebClient(base_url=slack.api_url)

    assert (await api_error(wrong.auth_test())).response["error"] == "invalid_auth"
    assert (await api_error(none.auth_test())).response["error"] == "not_authed"


async def test_token_may_come_as_an_argument(slack: SlackStandIn) -> None:
    tokenless = AsyncWebClient(base_url=slack.api_url)

    answer = await tokenless.api_call("auth.test", data={"token": BOT_TOKEN})
    assert answer["ok"] is True
    assert "token" not in slack.calls("auth.test")[0].args


async def test_query_form_and_json_arguments_are_all_read(slack: SlackStandIn, client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "form"}}]
    await client.api_call(
        "chat.postMessage",
        data={"channel": "C0DEALS", "text": "form", "blocks": json.dumps(blocks)},
    )
    await client.api_call("chat.postMessage", params={"channel": "C0DEALS", "text": "query"})
    await client.chat_postMessage(channel="C0DEALS", text="json")

    messages = slack.messages("C0DEALS")
    assert [m.text for m in messages] == ["form", "query", "json"]
    assert messages[0].blocks[0]["text"]["text"] == "form"


async def test_auth_test_names_the_bot_and_lists_scopes_in_a_header(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    answer = await client.auth_test()

    assert answer["user_id"] == slack.bot_user_id
    assert answer["bot_id"] == slack.bot_id
    assert answer["team_id"] == slack.team_id
    assert "chat:write" in answer.headers["x-oauth-scopes"].split(",")


async def test_users_are_found_by_id_and_by_email(client: AsyncWebClient) -> None:
    by_id = await client.users_info(user=ALICE)
    by_email = await client.users_lookupByEmail(email="BOB@example.com")

    assert by_id["user"]["tz"] == "Europe/Paris"
    assert by_id["user"]["profile"]["email"] == "alice@example.com"
    assert by_email["user"]["name"] == "bob"
    missing = await api_error(client.users_lookupByEmail(email="carol@example.com"))
    assert missing.response["error"] == "users_not_found"
    assert (await api_error(client.users_info(user="U0NOBODY"))).response["error"] == ("user_not_found")


async def test_users_info_gives_the_locale_only_when_asked_as_slack_does(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    slack.set_locale(ALICE, "fr-FR")

    plain = await client.users_info(user=ALICE)
    asked = await client.users_info(user=ALICE, include_locale=True)

    assert "locale" not in plain["user"]
    assert asked["user"]["locale"] == "fr-FR"
    assert (await client.users_info(user=BOB, include_locale=True))["user"]["locale"] == "en-US"


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("chat.postMessage", {"text": "no channel"}),
        ("chat.update", {"channel": "C0DEALS", "text": "no ts"}),
        ("chat.postEphemeral", {"channel": "C0DEALS", "text": "no user"}),
        ("views.open", {"view": {"type": "modal", "title": {"type": "plain_text", "text": "x"}}}),
        ("views.open", {"trigger_id": "1.2.3"}),
        ("views.publish", {"view": {"type": "home", "blocks": []}}),
    ],
)
async def test_missing_required_arguments_are_invalid_arguments(
    client: AsyncWebClient, method: str, args: dict[str, Any]
) -> None:
    error = await api_error(client.api_call(method, json=args))

    assert error.response["error"] == "invalid_arguments"


async def test_modal_opens_with_a_fresh_trigger_once_and_can_be_updated(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    trigger_id = slack.issue_trigger_id(ALICE)
    opened = await client.views_open(trigger_id=trigger_id, view=reject_modal())
    view = opened["view"]
    await client.views_update(view_id=view["id"], hash=view["hash"], view=reject_modal(blocks=2))

    [shown] = slack.open_views(ALICE)
    assert [b["block_id"] for b in shown["blocks"]] == ["reason-0", "reason-1"]
    reused = await api_error(client.views_open(trigger_id=trigger_id, view=reject_modal()))
    assert reused.response["error"] == "exchanged_trigger_id"
    unknown = await api_error(client.views_open(trigger_id="1.2.3", view=reject_modal()))
    assert unknown.response["error"] == "invalid_trigger_id"
    stale = await api_error(client.views_update(view_id=view["id"], hash=view["hash"], view=reject_modal()))
    assert stale.response["error"] == "hash_conflict"


async def test_trigger_id_expires() -> None:
    async with SlackStandIn(bot_token=BOT_TOKEN, trigger_ttl=0.0) as slack:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        trigger_id = slack.issue_trigger_id(ALICE)

        error = await api_error(client.views_open(trigger_id=trigger_id, view=reject_modal()))
    assert error.response["error"] == "expired_trigger_id"


async def test_views_over_one_hundred_blocks_are_refused(slack: SlackStandIn, client: AsyncWebClient) -> None:
    # slack_sdk refuses to serialise such a View; a raw dict gets through to the API.
    modal = {**reject_modal().to_dict(), "blocks": [{"type": "divider"}] * 101}

    error = await api_error(client.views_open(trigger_id=slack.issue_trigger_id(ALICE), view=modal))
    assert error.response["error"] == "invalid_blocks"


async def test_home_view_is_published_per_user(slack: SlackStandIn, client: AsyncWebClient) -> None:
    home = View(type="home", blocks=[SectionBlock(text="Waiting on you: Q-1042")])
    first = await client.views_publish(user_id=ALICE, view=home)
    again = await client.views_publish(user_id=ALICE, view=home)

    shown = slack.home_view(ALICE)
    assert shown is not None
    assert shown["blocks"][0]["text"]["text"] == "Waiting on you: Q-1042"
    assert first["view"]["id"] == again["view"]["id"] == shown["id"]
    assert slack.home_view("U0BOB") is None


async def test_ephemeral_message_is_kept_for_its_user(slack: SlackStandIn, client: AsyncWebClient) -> None:
    answer = await client.chat_postEphemeral(channel="C0DEALS", user=ALICE, text="Only you")

    [ephemeral] = slack.ephemerals(ALICE)
    assert (ephemeral.ts, ephemeral.text, ephemeral.via) == (
        answer["message_ts"],
        "Only you",
        "chat.postEphemeral",
    )
    assert slack.messages("C0DEALS") == []


async def test_unknown_method_is_unknown_method(client: AsyncWebClient) -> None:
    error = await api_error(client.api_call("chat.frobnicate", json={"channel": "C0DEALS"}))

    assert error.response.status_code == 404
    assert error.response["error"] == "unknown_method"


async def test_conversation_with_several_users_is_one_stable_group_dm(
    client: AsyncWebClient,
) -> None:
    first = await client.conversations_open(users=[ALICE, BOB])
    again = await client.conversations_open(users=[BOB, ALICE])

    assert first["channel"]["id"].startswith("G")
    assert again["channel"]["id"] == first["channel"]["id"]
