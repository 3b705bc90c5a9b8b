"""manifest.yaml asks for exactly the scopes the code needs, and declares the /deal command, the
interactivity and the events the listeners handle, all on the one Request URL."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.commands import USAGE

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "greenlight", "notifications", "scheduler")
REQUEST_PATH = "/slack/events"

# Web API method -> the bot scope it needs (None: no scope). A method the code starts calling must
# be added here, which makes whoever adds it decide about the manifest too.
SCOPES: dict[str, str | None] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.lookupByEmail": "users:read.email",
    "views.open": None,
    "views.update": None,
    "views.push": None,
    "views.publish": None,
    "auth.test": None,
}
CLIENT_CALL = re.compile(r"\bclient\.([a-z]+)_([A-Za-z]+)\(")
API_CALL = re.compile(r"\.api_call\(\s*[\"']([a-z]+\.[A-Za-z.]+)[\"']")
EVENT_LISTENER = re.compile(r"\.event\(\s*[\"']([a-z_]+)[\"']")
COMMAND_LISTENER = re.compile(r"\.command\(\s*[\"'](/[a-z-]+)[\"']")


@cache
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text())


def source_files() -> list[Path]:
    return [path for folder in SOURCES for path in sorted((ROOT / folder).rglob("*.py"))]


def web_api_methods() -> dict[str, list[str]]:
    """Each Web API method the code calls, with where."""
    found: dict[str, list[str]] = {}
    for path in source_files():
        text = path.read_text()
        calls = [f"{a}.{b}" for a, b in CLIENT_CALL.findall(text)] + API_CALL.findall(text)
        for method in calls:
            found.setdefault(method, []).append(str(path.relative_to(ROOT)))
    return found


def listened(pattern: re.Pattern[str]) -> set[str]:
    return {name for path in source_files() for name in pattern.findall(path.read_text())}


def test_the_scan_finds_the_calls_greenlight_is_known_to_make() -> None:
    methods = web_api_methods()
    assert {"chat.postMessage", "chat.update", "conversations.open", "views.open", "views.publish"} <= set(methods)


def test_every_web_api_method_the_code_calls_has_a_known_scope() -> None:
    unknown = {m: where for m, where in web_api_methods().items() if m not in SCOPES}
    assert unknown == {}, "add these methods and their scopes to SCOPES (and to manifest.yaml)"


def test_bot_scopes_are_exactly_the_ones_the_code_needs() -> None:
    needed = {SCOPES[m] for m in web_api_methods() if SCOPES.get(m)}
    if listened(COMMAND_LISTENER):
        needed.add("commands")
    # Slack grants users:read.email only together with users:read (its scope reference says so)
    needed |= {"users:read"} if "users:read.email" in needed else set()
    asked = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert needed <= asked, f"missing scopes: {sorted(needed - asked)}"
    assert asked <= needed, f"scopes asked for but never used: {sorted(asked - needed)}"
    assert "user" not in manifest()["oauth_config"]["scopes"], "Greenlight needs no user token"


def test_deal_slash_command_is_declared_with_usage_and_escaping() -> None:
    commands = manifest()["features"]["slash_commands"]
    assert [c["command"] for c in commands] == sorted(listened(COMMAND_LISTENER)) == ["/deal"]
    deal = commands[0]
    assert deal["url"].endswith(REQUEST_PATH)
    assert deal["should_escape"] is True, "mentions arrive as <@U…|name>, which /deal parses"
    assert 0 < len(deal["description"]) <= 100
    assert 0 < len(deal["usage_hint"]) <= 1000
    for word in re.findall(r"(?:^|\| )([a-z]+)", deal["usage_hint"]):
        assert word in USAGE, f"usage_hint shows {word!r}, which /deal does not have"


def test_interactivity_and_events_reach_the_one_request_url() -> None:
    settings = manifest()["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith(REQUEST_PATH)
    assert settings["event_subscriptions"]["request_url"].endswith(REQUEST_PATH)
    assert set(settings["event_subscriptions"]["bot_events"]) == listened(EVENT_LISTENER) == {"app_home_opened"}
    assert settings.get("socket_mode_enabled") is False
    urls = {settings["interactivity"]["request_url"], settings["event_subscriptions"]["request_url"]}
    urls |= {c["url"] for c in manifest()["features"]["slash_commands"]}
    assert len(urls) == 1 and next(iter(urls)).startswith("https://")


def test_app_home_and_bot_user_are_enabled() -> None:
    features = manifest()["features"]
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["app_home"]["messages_tab_enabled"] is True
    assert features["bot_user"]["display_name"]


def test_display_information_fits_slacks_limits() -> None:
    info = manifest()["display_information"]
    assert 0 < len(info["name"]) <= 35
    assert len(info.get("description", "")) <= 140
    assert 175 <= len(info.get("long_description", "x" * 175)) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", info.get("background_color", "#000000"))


def test_manifest_says_the_example_url_must_be_replaced() -> None:
    text = (ROOT / "manifest.yaml").read_text()
    assert "greenlight.example.com" in text
    assert re.search(r"replace every https://greenlight\.example\.com", text)
