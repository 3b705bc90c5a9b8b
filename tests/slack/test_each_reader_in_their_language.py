"""Each person reads Greenlight in their Slack language; a message several read is in the policy's.

The language comes from `users.info` with `include_locale` (the stand-in answers `locale` only
when asked, as Slack does), learnt once and kept: not a Web API call per message or click.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

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
    assert "avec une remise de 32,4\xa0%" in marco.text
    buttons = [e["text"]["text"] for b in marco.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["Approuver", "Approuver avec commentaire", "Refuser", "Réattribuer", "Détails"]
    assert "Pourquoi\xa0:" in texts(marco.blocks)
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
