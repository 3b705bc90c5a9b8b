"""Each person reads Greenlight in their Slack language; a message several read is in the policy's.

The language comes from `users.info` with `include_locale` (the stand-in answers `locale` only
when asked, as Slack does), learnt once and kept: not a Web API call per message or click.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.slack_api import Fault
from tests.support.slack import STRANGER, blocks_of

from .conftest import Bot, action_ids
from .test_reject_asks_for_a_reason_in_a_modal import open_reject_modal, reason

REF = "Q-1042#1"
TOKEN = re.compile(r"<!date\^(\d+)\^[^|]*\|([^>]*)>")


def texts(node: Any) -> str:
    """Every text shown in blocks, joined."""
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return " ".join(own + [texts(v) for k, v in node.items() if not (k == "text" and isinstance(v, str))])
    if isinstance(node, list):
        return " ".join(texts(item) for item in node)
    return ""


def locale_lookups(bot: Bot, person: str) -> list[dict]:
    return [c.args for c in bot.slack.calls("users.info") if c.args.get("user") == bot.slack_id(person)]


async def test_a_french_approver_gets_the_request_and_the_reject_modal_in_french(bot: Bot) -> None:
    bot.slack.set_locale(bot.slack_id("marco"), "fr-FR")
    await bot.submit("q1042-v1.json")

    marco = bot.request("marco", f"{REF}/manager-discount")
    assert marco.text.startswith(
        "Approbation requise\xa0: Meridian Freight Lines, Q-1042 v1, 404\u202f580,00\xa0$US"
    ), marco.text
    assert "avec une remise de 32,4\u202f%" in marco.text
    buttons = [e["text"]["text"] for b in marco.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Approuver", "Approuver avec commentaire", "Refuser", "Réattribuer", "Détails"]
    assert "Pourquoi\xa0:" in texts(marco.blocks)
    assert "Remise au-delà des 10\xa0% que le commercial peut accorder seul" in texts(marco.blocks)
    assert "*Approbation requise\xa0: Meridian Freight Lines*" in texts(marco.blocks)
    sam = bot.request("sam", f"{REF}/services-discount")
    assert sam.text.startswith("Approval needed: Meridian Freight Lines, Q-1042 v1, $404,580.00"), sam.text

    view = await open_reject_modal(bot, "marco", "manager-discount")
    assert view["title"]["text"] == "Refuser"
    assert view["close"]["text"] == "Annuler"
    assert "Motif" in str(view["blocks"])
    await bot.driver.submit_view(bot.slack_id("marco"), view, reason("Trop bas pour nous."))
    await bot.settle()

    marco = bot.request("marco", f"{REF}/manager-discount")
    assert "approval.approve" not in action_ids(marco)
    assert marco.text.startswith("Refusée par Marco Bellini, 09:00 (New York)\xa0: Trop bas pour nous."), marco.text
    sam = bot.request("sam", f"{REF}/services-discount")
    assert sam.text.startswith("Closed: the quote was rejected by Marco Bellini"), sam.text

    asked = locale_lookups(bot, "marco")
    assert len(asked) == 1, "the locale is learnt once and kept, not asked per message or click"
    assert asked[0].get("include_locale") in ("true", "1", True)


async def test_the_reps_thread_is_in_the_policys_language_and_her_answers_in_hers(bot: Bot) -> None:
    bot.slack.set_locale(bot.slack_id("ava"), "fr-FR")
    await bot.submit("q1042-v1.json")
    await bot.approve("marco", f"{REF}/manager-discount")
    await bot.settle()

    thread = [m.text for m in bot.thread("ava")]
    assert any("Marco Bellini approved manager-discount on Q-1042 v1" in line for line in thread), thread

    answer = (await bot.deal("ava", "status Q-1042")).json()
    assert answer["text"].startswith("Q-1042 v1 est en attente\xa0: en attente de"), answer["text"]
    assert "404\u202f580,00\xa0$US" in texts(answer["blocks"])


async def test_someone_outside_the_directory_is_refused_in_their_language(bot: Bot) -> None:
    bot.slack.set_locale(STRANGER, "fr-FR")
    answer = await bot.driver.command(STRANGER, "/deal", "status Q-1042")
    assert answer.json()["text"] == (
        "Vous n’êtes pas dans l’annuaire de Greenlight\xa0: demandez à un administrateur d’ajouter votre "
        "identifiant Slack à la politique."
    )


async def test_the_paris_rep_and_the_paris_approver_see_the_same_local_time_labelled(bot: Bot) -> None:
    await bot.receive("q1042-v1.json", owner="chloe")
    await bot.deal("chloe", "submit Q-1042")
    await bot.settle()
    (elena_request,) = [c for c in bot.request_posts(f"{REF}/manager-discount", "elena")]
    assert elena_request.ok
    bot.clock.advance(hours=3, minutes=27)
    await bot.approve("elena", f"{REF}/manager-discount")
    await bot.settle()

    elena = bot.request("elena", f"{REF}/manager-discount")
    shown = re.search(r"Approved by Elena Marchetti at (\S+)\u202f([AP]M) \(Paris\)", elena.text)
    assert shown, elena.blocks
    lines = [m for m in bot.thread("chloe") if "Elena Marchetti approved manager-discount" in m.text]
    assert len(lines) == 1
    meta = next(b for b in lines[0].blocks if b["block_id"] == "thread.meta")
    stamp, fallback = TOKEN.search(str(meta)).groups()  # type: ignore[union-attr]
    paris = dt.datetime.fromtimestamp(int(stamp), ZoneInfo("Europe/Paris"))
    # Slack shows the token in each reader's zone: Chloé, in Paris, reads the Paris time Elena reads
    assert paris.strftime("%-I:%M %p") == f"{shown.group(1)} {shown.group(2)}"
    assert fallback.endswith("(New York)"), "the fallback names the policy's zone"
    assert blocks_of(elena_request)


async def test_app_home_is_published_in_the_readers_language(bot: Bot) -> None:
    bot.slack.set_locale(bot.slack_id("marco"), "fr-FR")
    await bot.submit("q1042-v1.json")

    await bot.driver.app_home_opened(bot.slack_id("marco"))
    await bot.slack.wait_for("views.publish")
    home = bot.slack.home_view(bot.slack_id("marco"))
    assert home is not None
    headers = [b["text"]["text"] for b in home["blocks"] if b["type"] == "header"]
    assert headers[:3] == ["En attente de vous (1)", "Vos devis", "Absence"]
    shown = texts(home["blocks"])
    assert "demandée\xa0: 09:00 (New York)" in shown
    assert "404\u202f580,00\xa0$US" in shown
    assert "Vous n’êtes pas absent. Désignez un délégué pour vos absences." in shown


async def test_deal_answers_and_refusals_are_in_the_readers_language(bot: Bot) -> None:
    bot.slack.set_locale(bot.slack_id("ava"), "fr-FR")
    missing = (await bot.deal("ava", "status Q-4040")).json()
    assert missing["text"] == (
        "Greenlight n’a pas de devis Q-4040\xa0: le CRM ne l’a pas envoyé (vérifiez l’identifiant)."
    )
    past = (await bot.deal("ava", f"ooo 2026-10-01 2026-10-02 <@{bot.slack_id('ben')}|ben>")).json()
    assert past["text"].startswith("La période du 2026-10-01 au 2026-10-02 est passée"), past["text"]
    typo = (await bot.deal("ava", "ooo 2026-13-01 2026-13-02 @ben")).json()
    assert typo["text"].startswith("Date de début\xa0: 2026-13-01 n’est pas une date réelle. Utilisation\xa0:"), typo
    helped = (await bot.deal("ava", "help")).json()
    assert "soumettre un devis pour approbation" in texts(helped["blocks"])
    await bot.submit("q1042-v1.json")
    recalled = (await bot.deal("ava", "recall Q-1042")).json()
    assert recalled["text"] == "Q-1042 est rappelé\xa0: ses approbateurs ont été prévenus."


async def test_when_slack_cannot_say_a_persons_language_they_read_the_policys_and_nothing_fails(bot: Bot) -> None:
    """users.info failing (a 503 page, not JSON) never fails the message: the default language is
    used, and Slack is asked again later rather than on every message."""
    bot.slack.set_locale(bot.slack_id("marco"), "fr-FR")
    bot.slack.script("users.info", [Fault.http_status(503)] * 50)
    await bot.submit("q1042-v1.json")

    marco = bot.request("marco", f"{REF}/manager-discount")
    assert marco.text.startswith("Approval needed: Meridian Freight Lines"), marco.text
    asked = [c for c in bot.slack.calls("users.info") if c.args.get("user") == bot.slack_id("marco")]
    assert asked and not any(c.ok for c in asked)
    assert len(asked) <= 2, "a failed lookup is not retried on every message"
