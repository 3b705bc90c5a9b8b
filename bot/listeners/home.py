"""App Home (slack-v1 §4): published when opened, its pages of requests turned, and the
out-of-office button, modal and switch-off."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from domain.errors import Conflict
from domain.i18n import _

from .. import views
from ..deps import Deps
from ..views import ids
from .acting import acting, speaking_to
from .replies import guarded, publish_home, refusing


def register(app: AsyncApp, deps: Deps) -> None:
    policy, service = deps.policy, deps.service

    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], context: AsyncBoltContext) -> None:
        if event.get("tab", "home") == "home":
            await guarded("views.publish", publish_home(deps, event["user"], context.get("person")))

    async def turn_page(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        person = context.get("person")
        value = str((body.get("actions") or [{}])[0].get("value") or "")
        if person is not None:
            deps.home_pages[person] = max(1, int(value)) if value.isdigit() else 1
        await guarded("views.publish", publish_home(deps, body["user"]["id"], person))

    app.action(ids.HOME_PAGE_PREVIOUS)(turn_page)
    app.action(ids.HOME_PAGE_NEXT)(turn_page)

    @app.action(ids.OOO_OPEN)
    async def ooo_button(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await ack()
        value = str((body.get("actions") or [{}])[0].get("value") or "")
        number = value.removeprefix("change:")
        with speaking_to(context):
            modal = views.ooo_modal(replacing=int(number) if number.isdigit() else None)
        await guarded("views.open", deps.client.views_open(trigger_id=body["trigger_id"], view=modal))

    @app.action(ids.OOO_END)
    @refusing(deps)
    async def ooo_off_button(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        person = acting(context)
        await service.end_delegation(person, person, deps.clock())
        await ack()
        await guarded("views.publish", publish_home(deps, body["user"]["id"], person))

    @app.view(ids.OOO_MODAL)
    @refusing(deps, field=ids.OOO_END_DATE[0])
    async def ooo_submitted(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        view = body["view"]
        start, end, slack_id = views.read_ooo(view["state"]["values"])
        delegate = policy.person_for(slack_id)
        if delegate is None:
            raise views.FormErrors({ids.OOO_DELEGATE[0]: _("Choose someone who is in Greenlight's directory.")})
        person = acting(context)
        metadata = str(view.get("private_metadata") or "")
        for_person = policy.person_for(metadata) or person
        number = metadata.removeprefix("replace:")
        replacing = int(number) if metadata.startswith("replace:") and number.isdigit() else None
        if delegate == for_person:
            raise views.FormErrors(
                {ids.OOO_DELEGATE[0]: _("You cannot be your own delegate: choose someone else to decide for you.")}
            )
        try:
            await service.delegate(for_person, delegate, start, end, person, deps.clock(), replacing=replacing)
        except Conflict as error:  # said under the field it is about
            words = str(error)
            field = ids.OOO_END_DATE[0]
            raise views.FormErrors({field: words}) from None
        await ack()
        deps.kick()
        await guarded("views.publish", publish_home(deps, body["user"]["id"], person))
