"""Every message, modal and Home view Greenlight builds, checked against Slack's own definitions:
compiled with `tsc --strict` against Slack's published TypeScript types (`@slack/types`, installed
by `scripts/ensure-slack-types` into scripts/slack-types), and held to Slack's documented limits.

The views are built from fixtures at the extremes: a 500-line quote, a 400-line order, 200
pending requests in App Home, and long non-ASCII names everywhere a name shows.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_kit import NOW, context, policy
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import views
from bot.orders_view import lines_modal, orders_message
from bot.views.home import ooo_modal
from domain import approvals as lifecycle
from domain.approvals import Delegation, Directory
from domain.events import Event, Kind
from domain.i18n import speaking
from domain.orders import plan_orders
from domain.policy import Policy
from domain.preview import build_preview
from domain.quote import parse_quote
from tests.support.quotes import example_quote_data

ROOT = Path(__file__).resolve().parents[2]
TYPES = ROOT / "scripts" / "slack-types"
LONG = "Zoë Ångström-Łukasiewicz Núñez de la Peña Øverby Çelik Đorđević 日本語の名前 " * 3


@pytest.fixture(scope="module")
def tsc() -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: Slack's TypeScript types cannot be fetched (scripts/ensure-slack-types)")
    done = subprocess.run([str(ROOT / "scripts" / "ensure-slack-types")], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip(f"Slack's TypeScript types could not be installed: {done.stderr.strip() or done.stdout.strip()}")
    return TYPES / "node_modules" / ".bin" / "tsc"


def long_named_policy() -> Policy:
    base = policy()
    people = {
        key: person.model_copy(update={"name": f"{LONG[:60]} {person.name or key}"})
        for key, person in base.people.items()
    }
    return base.model_copy(update={"people": people})


def big_quote(lines: int) -> dict[str, Any]:
    data = copy.deepcopy(example_quote_data("q1042-v1.json"))
    first = data["lines"][0]
    data["lines"] = [
        dict(copy.deepcopy(first), id=f"L{index}", sku=f"SKU-ÅÉÎ-{index}", delivery_date="2027-01-15")
        for index in range(lines)
    ]
    data["account"]["name"] = LONG
    data["net_total"] = sum(line["net_total"] for line in data["lines"])
    data["list_total"] = sum(line["list_total"] for line in data["lines"])
    data["discount_percent"] = round((1 - data["net_total"] / data["list_total"]) * 100, 1)
    return data


def every_view(p: Policy) -> Iterator[tuple[str, str, Any]]:
    """(name, TypeScript type, payload) for every view, at the extremes."""
    quote = parse_quote(big_quote(500))
    ctx = context(NOW, Directory([Delegation("marco", "vera", dt.date(2026, 11, 1), dt.date(2026, 11, 30), id=1)]))
    ctx = lifecycle.Context(p, ctx.evaluator.__class__(p), ctx.directory, NOW)
    sub, events = lifecycle.submit(ctx, quote, 1, None, justification=LONG * 10)
    for approval in sub.approvals:
        approval.escalated = True
        text, blocks = views.approval_request(
            sub,
            approval,
            None,
            p.people,
            views.decisions(sub, approval),
            description=LONG,
            now=NOW + dt.timedelta(days=3),
            acting_for=["marco", "vera"],
        )
        yield f"request {approval.rule}", "Message", {"text": text, "blocks": blocks}
        ref = views.RequestRef.of(sub, approval)
        for build in (views.reject_modal, views.reassign_modal, views.approve_comment_modal):
            yield f"{build.__name__} {approval.rule}", "ModalView", build(ref, approval.rule, quote)
        yield (
            f"details {approval.rule}",
            "ModalView",
            views.details_modal(sub, approval, p.people, descriptions={r.name: LONG for r in p.rules}, now=NOW),
        )
    yield "preview", "Message", message(views.preview_message(build_preview(ctx, quote), p, sub))
    yield "status", "Message", message(views.status_message(sub, quote, p.people, now=NOW))
    for event in events:
        line = views.rep_thread_update(event, sub, p.people, now=NOW)
        if line is not None:
            yield f"thread {event.kind}", "Message", {"text": line[0], "blocks": line[1]}
    waiting = [(sub, sub.approvals[0])] * 200
    windows = [Delegation("marco", "vera", dt.date(2026, 12, d), dt.date(2026, 12, d), id=d) for d in range(1, 29)]
    overview = views.approvers_overview(p, ctx.directory, NOW)
    home = views.app_home(
        "marco", waiting, [sub] * 60, windows[0], overview, people=p.people, now=NOW, ooo_windows=windows
    )
    yield "home", "HomeView", home
    paged = views.app_home(
        "marco",
        waiting[:10],
        [sub] * 60,
        windows[0],
        overview,
        people=p.people,
        now=NOW,
        ooo_windows=windows,
        waiting_total=10_000,
        page=500,
        pages=1_000,
    )
    yield "home, a middle page of requests", "HomeView", paged
    yield "ooo modal", "ModalView", ooo_modal(dt.date(2026, 12, 1), dt.date(2026, 12, 5), "U0VERA", replacing=7)
    yield "approvers", "Message", message(views.approvers_message(p, ctx.directory, NOW))
    yield "help", "Message", message(views.help_message())
    yield "windows", "Message", message(views.windows_message(windows, p.people))
    crowd = p.model_copy(update={"people": {f"p{i:03}": next(iter(p.people.values())) for i in range(600)}})
    yield "people", "Message", message(views.people_message(crowd, {"p001": {"email": "x@example.com"}}))
    for kind in (Kind.DELEGATION_SET, Kind.DELEGATION_ENDED, Kind.REPLACEMENT_SET):
        event = Event(
            kind,
            NOW,
            "",
            0,
            0,
            actor="dana",
            on_behalf_of="marco",
            people=("vera",),
            detail={"start": "2026-12-01", "end": "2026-12-31", "old": "marco", "new": "vera", "moved": 200},
        )
        text, blocks = views.notice(event, "vera", p.people)
        yield f"notice {kind}", "Message", {"text": text, "blocks": blocks}
    orders = plan_orders(p, parse_quote(big_quote(400)), dt.date(2026, 11, 3))
    assert any(len(o.lines) == 400 for o in orders), "one order of 400 lines"
    text, blocks = orders_message(orders, quote.id)
    yield "orders", "Message", {"text": text, "blocks": blocks}
    yield "order lines", "ModalView", lines_modal(orders[0])


def message(answer: tuple[str, list[Any]]) -> dict[str, Any]:
    return {"text": answer[0], "blocks": answer[1]}


def plain(value: Any) -> Any:
    if isinstance(value, View):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def limits_broken(name: str, kind: str, payload: dict[str, Any]) -> list[str]:
    """Slack's documented limits (Block Kit reference), as sentences for whatever is over."""
    out: list[str] = []
    blocks = payload.get("blocks") or []
    most = 50 if kind == "Message" else 100
    if len(blocks) > most:
        out.append(f"{name}: {len(blocks)} blocks > {most}")
    if kind == "Message" and not str(payload.get("text") or "").strip():
        out.append(f"{name}: no top-level text")
    if kind == "Message" and len(str(payload.get("text") or "")) > 40_000:
        out.append(f"{name}: top-level text over 40,000 characters")
    ids = [b.get("block_id") for b in blocks if b.get("block_id")]
    if len(ids) != len(set(ids)):
        out.append(f"{name}: repeated block_id")
    actions = [n["action_id"] for n in walk(blocks) if "action_id" in n]
    if len(actions) != len(set(actions)):
        out.append(f"{name}: repeated action_id")
    if kind == "ModalView":
        if len(payload["title"]["text"]) > 24:
            out.append(f"{name}: modal title over 24 characters")
        if len(payload.get("private_metadata") or "") > 3000:
            out.append(f"{name}: private_metadata over 3000 characters")
    for block in blocks:
        btype = block.get("type")
        if btype == "section" and len((block.get("text") or {}).get("text", "")) > 3000:
            out.append(f"{name}: section text over 3000 in {block.get('block_id')}")
        if btype == "section" and len(block.get("fields") or []) > 10:
            out.append(f"{name}: section with over 10 fields")
        if btype == "header" and len(block["text"]["text"]) > 150:
            out.append(f"{name}: header over 150 characters")
        if btype == "context" and len(block.get("elements") or []) > 10:
            out.append(f"{name}: context with over 10 elements")
        if btype == "context" and any(len(e.get("text", "")) > 2000 for e in block.get("elements") or []):
            out.append(f"{name}: context text over 2000 in {block.get('block_id')}")
        if btype == "actions" and len(block.get("elements") or []) > 25:
            out.append(f"{name}: actions with over 25 elements")
    for node in walk(blocks):
        if node.get("type") == "button" and (len(node["text"]["text"]) > 75 or len(node.get("value") or "") > 2000):
            out.append(f"{name}: button text over 75 or value over 2000")
        if "options" in node and len(node["options"]) > 100:
            out.append(f"{name}: over 100 options in a menu")
        for key in ("action_id", "block_id"):
            if len(str(node.get(key) or "")) > 255:
                out.append(f"{name}: {key} over 255 characters")
    return out


def test_every_view_at_the_extremes_keeps_within_slacks_documented_limits() -> None:
    broken: list[str] = []
    for name, kind, payload in every_view(long_named_policy()):
        broken += limits_broken(name, kind, plain(payload))
    assert broken == []


def test_every_view_at_the_extremes_compiles_against_slacks_published_types(tsc: Path, tmp_path: Path) -> None:
    lines = [
        'import type { HomeView, KnownBlock, ModalView } from "@slack/types";',
        "type Message = { text: string; blocks: KnownBlock[] };",
    ]
    count = 0
    for index, (name, kind, payload) in enumerate(every_view(long_named_policy())):
        data = plain(payload)
        if kind != "Message":
            data.pop("id", None)
        lines.append(f"// {name}")
        lines.append(f"export const view{index}: {kind} = {json.dumps(data, ensure_ascii=False)};")
        count += 1
    source = TYPES / f"views-{tmp_path.name}.ts"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        done = subprocess.run(
            [str(tsc), "--strict", "--noEmit", "--target", "ES2020", "--moduleResolution", "node", str(source)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=TYPES,
        )
    finally:
        source.unlink()
    assert count > 30
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_every_message_built_as_plain_dicts_is_what_slack_sdk_would_build_and_passes_its_checks() -> None:
    """The messages sent on every click are dicts (`bot.blockkit`), never checked as they are sent:
    parsed back into slack_sdk's models and serialised (which checks Slack's limits), each comes out
    exactly as built, in English and in French, at the extremes."""
    checked = 0
    for language in ("en", "fr"):
        with speaking(language):
            for name, _kind, payload in every_view(long_named_policy()):
                if not name.startswith(("request ", "status", "thread ")):
                    continue  # built with slack_sdk's models, checked as they are serialised
                for block in payload["blocks"]:
                    parsed = Block.parse(block)
                    assert parsed is not None, name
                    assert json.dumps(parsed.to_dict()) == json.dumps(block), name
                    checked += 1
    assert checked > 50
