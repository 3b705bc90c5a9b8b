"""The driver talks to a real bolt AsyncApp over HTTP like Slack, and the app's calls land in the
stand-in."""

from typing import Any

import pytest
from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks.basic_components import Option
from slack_sdk.models.views import View

from sandbox.driver import BAD_SIGNATURE, STALE_TIMESTAMP, Signing, SlackDriver
from sandbox.slack_api import RESPONSE_URL, Call, SlackStandIn

from .support import ALICE, BOB


async def post_approval_request(app: AsyncApp, user_id: str) -> None:
    await app.client.chat_postMessage(
        channel=user_id,
        text="Acme Corp's quote Q-1042 needs your approval",
        blocks=[
            SectionBlock(text="*Acme Corp* · Q-1042 · 18% discount"),
            ActionsBlock(
                elements=[
                    ButtonElement(text="Approve", action_id="approval.approve", value="A-1"),
                    ButtonElement(text="Reject", action_id="approval.reject", value="A-1"),
                ]
            ),
        ],
    )


def reject_modal(approval_id: str) -> View:
    return View(
        type="modal",
        callback_id="approval.reject",
        title="Reject Q-1042",
        submit="Reject",
        private_metadata=approval_id,
        blocks=[
            InputBlock(
                block_id="reason",
                label="Reason",
                element=PlainTextInputElement(action_id="text"),
            ),
            InputBlock(
                block_id="severity",
                label="Severity",
                element=StaticSelectElement(
                    action_id="pick",
                    options=[Option(text="Low", value="low"), Option(text="High", value="high")],
                ),
            ),
        ],
    )


def to(url: str | None) -> Any:
    return lambda call: call.url == url


async def test_signed_command_reaches_bolt_and_its_reply_is_recorded(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    @app.command("/deal")
    async def deal(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(f"{command['user_name']} asked: {command['text']}")

    answer = await driver.command(ALICE, "/deal", "submit Q-1042")

    assert answer.status == 200
    reply = await slack.wait_for(RESPONSE_URL, to(answer.response_url))
    assert reply.args["text"] == "alice asked: submit Q-1042"
    assert [e.text for e in slack.ephemerals(ALICE)] == ["alice asked: submit Q-1042"]


async def test_ack_text_is_shown_to_the_user_like_slack_does(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    @app.command("/deal")
    async def deal(ack: Any, command: dict[str, Any]) -> None:
        if command["text"] == "help":
            await ack("Usage: /deal submit Q-1042")
        else:
            await ack(text="Unknown subcommand", blocks=[SectionBlock(text="Try `/deal help`")])

    plain = await driver.command(ALICE, "/deal", "help")
    rich = await driver.command(ALICE, "/deal", "frobnicate")

    # bolt answers a text-only ack as text/plain and anything richer as JSON.
    assert plain.headers["Content-Type"].startswith("text/plain")
    assert rich.json()["text"] == "Unknown subcommand"
    shown = slack.ephemerals(ALICE)
    assert [(e.text, e.via) for e in shown] == [
        ("Usage: /deal submit Q-1042", "ack"),
        ("Unknown subcommand", "ack"),
    ]
    assert shown[1].blocks[0]["text"]["text"] == "Try `/deal help`"


async def test_bolt_asks_auth_test_once_and_adds_team_id_to_calls(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    @app.command("/deal")
    async def deal(ack: Any, command: dict[str, Any], client: Any) -> None:
        await ack()
        await client.chat_postMessage(channel=command["user_id"], text="Q-1042 submitted")

    await driver.command(ALICE, "/deal", "submit Q-1042")
    await driver.command(BOB, "/deal", "submit Q-1043")

    second = await slack.wait_for("chat.postMessage", count=2)
    assert len(slack.calls("auth.test")) == 1
    assert second.args["team_id"] == slack.team_id
    assert [m.text for m in slack.dm_history(BOB)] == ["Q-1042 submitted"]


@pytest.mark.parametrize("signing", [BAD_SIGNATURE, STALE_TIMESTAMP], ids=["bad-signature", "stale-timestamp"])
async def test_badly_signed_requests_get_401_and_reach_no_listener(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn, signing: Signing
) -> None:
    heard: list[str] = []

    @app.command("/deal")
    async def deal(ack: Any, command: dict[str, Any]) -> None:
        heard.append(command["text"])
        await ack()

    @app.event("app_home_opened")
    async def home(event: dict[str, Any]) -> None:
        heard.append(event["type"])

    command = await driver.command(ALICE, "/deal", "submit Q-1042", signing=signing)
    event = await driver.app_home_opened(ALICE, signing=signing)

    assert (command.status, event.status) == (401, 401)
    assert heard == []
    assert slack.calls() == []


async def test_click_reaches_the_action_listener_which_replaces_the_message(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    @app.action("approval.approve")
    async def approve(ack: Any, action: dict[str, Any], body: dict[str, Any], respond: Any) -> None:
        await ack()
        who = body["user"]["name"]
        await respond(replace_original=True, text=f"Approved {action['value']} by {who}")

    await post_approval_request(app, ALICE)
    [request] = slack.dm_history(ALICE)

    answer = await driver.click(ALICE, "approval.approve", message=request)

    assert answer.status == 200
    await slack.wait_for(RESPONSE_URL, to(answer.response_url))
    updated = slack.message(request.channel, request.ts)
    assert updated.text == "Approved A-1 by alice"
    assert updated.action_ids() == []
    with pytest.raises(LookupError):
        await driver.click(ALICE, "approval.approve", message=updated)


async def test_click_on_a_stale_copy_still_reaches_the_app(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    clicks: list[str] = []

    @app.action("approval.approve")
    async def approve(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        clicks.append(body["message"]["text"])
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="Approved by alice")

    await post_approval_request(app, ALICE)
    [seen_before] = slack.dm_history(ALICE)
    await driver.click(ALICE, "approval.approve", message=seen_before)
    await slack.wait_for("chat.update")

    await driver.click(ALICE, "approval.approve", message=seen_before)

    assert clicks == [seen_before.text, seen_before.text]
    assert slack.dm_history(ALICE)[0].text == "Approved by alice"


async def test_modal_opened_from_a_click_is_submitted_with_values(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    submitted: list[tuple[str, str, str]] = []

    @app.action("approval.reject")
    async def reject(ack: Any, action: dict[str, Any], body: dict[str, Any], client: Any) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=reject_modal(action["value"]))

    @app.view("approval.reject")
    async def rejected(ack: Any, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        reason = values["reason"]["text"]["value"]
        if not reason.strip():
            await ack(response_action="errors", errors={"reason": "Say why"})
            return
        severity = values["severity"]["pick"]["selected_option"]["value"]
        submitted.append((view["private_metadata"], reason, severity))
        await ack()

    await post_approval_request(app, ALICE)
    [request] = slack.dm_history(ALICE)
    await driver.click(ALICE, "approval.reject", message=request)
    await slack.wait_for("views.open", lambda call: call.ok)
    [modal] = slack.open_views(ALICE)

    refused = await driver.submit_view(ALICE, modal, {"reason": {"text": " "}})
    accepted = await driver.submit_view(
        ALICE, modal, {"reason": {"text": "Discount too deep"}, "severity": {"pick": "high"}}
    )

    assert refused.json() == {"response_action": "errors", "errors": {"reason": "Say why"}}
    assert accepted.status == 200
    assert submitted == [("A-1", "Discount too deep", "high")]
    assert slack.open_views(ALICE) == []


async def test_app_home_opened_event_publishes_the_home_view(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: Any) -> None:
        await client.views_publish(
            user_id=event["user"],
            view=View(type="home", blocks=[SectionBlock(text="Waiting on you: Q-1042")]),
        )

    answer = await driver.app_home_opened(ALICE)

    assert answer.status == 200
    published: Call = await slack.wait_for("views.publish", lambda call: call.ok)
    assert published.args["user_id"] == ALICE
    home_view = slack.home_view(ALICE)
    assert home_view is not None
    assert home_view["blocks"][0]["text"]["text"] == "Waiting on you: Q-1042"


async def test_delete_original_removes_the_message(app: AsyncApp, driver: SlackDriver, slack: SlackStandIn) -> None:
    @app.action("approval.approve")
    async def approve(ack: Any, respond: Any) -> None:
        await ack()
        await respond(delete_original=True)

    await post_approval_request(app, ALICE)
    [request] = slack.dm_history(ALICE)

    answer = await driver.click(ALICE, "approval.approve", message=request)

    await slack.wait_for(RESPONSE_URL, to(answer.response_url))
    assert slack.dm_history(ALICE) == []


async def test_buttons_in_an_ephemeral_reply_can_replace_it(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    @app.command("/deal")
    async def orders(ack: Any, respond: Any) -> None:
        await ack()
        await respond(
            text="Orders of Q-1042",
            blocks=[ActionsBlock(elements=[ButtonElement(text="Release", action_id="order.release", value="O-7")])],
        )

    @app.action("order.release")
    async def release(ack: Any, action: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(replace_original=True, text=f"Order {action['value']} released")

    listed = await driver.command(ALICE, "/deal", "orders Q-1042")
    await slack.wait_for(RESPONSE_URL, to(listed.response_url))
    [orders_list] = slack.ephemerals(ALICE)

    clicked = await driver.click(ALICE, "order.release", message=orders_list)

    await slack.wait_for(RESPONSE_URL, to(clicked.response_url))
    assert [e.text for e in slack.ephemerals(ALICE)] == ["Order O-7 released"]


async def test_click_on_the_home_tab_carries_the_view(app: AsyncApp, driver: SlackDriver, slack: SlackStandIn) -> None:
    seen: list[tuple[str, str | None]] = []

    @app.action("ooo.set")
    async def set_ooo(ack: Any, body: dict[str, Any]) -> None:
        seen.append((body["container"]["type"], body.get("response_url")))
        await ack()

    await app.client.views_publish(
        user_id=ALICE,
        view=View(
            type="home",
            blocks=[ActionsBlock(elements=[ButtonElement(text="Set out of office", action_id="ooo.set")])],
        ),
    )
    home = slack.home_view(ALICE)
    assert home is not None

    await driver.click(ALICE, "ooo.set", view=home)

    assert seen == [("view", None)]


async def test_modal_answered_with_update_stays_open_with_the_new_content(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    @app.view("approval.reject")
    async def rejected(ack: Any) -> None:
        thanks = View(type="modal", title="Thanks", blocks=[SectionBlock(text="Rejected.")])
        await ack(response_action="update", view=thanks)

    trigger_id = slack.issue_trigger_id(ALICE)
    await app.client.views_open(trigger_id=trigger_id, view=reject_modal("A-1"))
    [modal] = slack.open_views(ALICE)

    await driver.submit_view(ALICE, modal, {"reason": {"text": "Too deep"}})

    [shown] = slack.open_views(ALICE)
    assert shown["id"] == modal["id"]
    assert shown["title"]["text"] == "Thanks"


async def test_submitting_a_field_the_modal_does_not_have_is_a_test_error(
    app: AsyncApp, driver: SlackDriver, slack: SlackStandIn
) -> None:
    await app.client.views_open(trigger_id=slack.issue_trigger_id(ALICE), view=reject_modal("A-1"))
    [modal] = slack.open_views(ALICE)

    with pytest.raises(KeyError, match="comment"):
        await driver.submit_view(ALICE, modal, {"comment": {"text": "hi"}})
