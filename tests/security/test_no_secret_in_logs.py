"""No secret ever appears in logs (slack-v1 §1), nor in what start-up prints when a setting is bad.

The real app logs through `configure_logging` (its `HideSecrets` filter included) at DEBUG into a
`StringIO`, through a realistic day: the CRM sends quotes (one badly signed), reps submit, Slack
fails once, approvers click (one who may not, one forged), Farah decides from her email link and
tries it again, someone tampers with a link. Then every value of `settings.secrets()`, and every
link token (a credential too), is searched for in what was logged.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from greenlight.cli import main
from greenlight.servecli import configure_logging
from greenlight.settings import Settings
from sandbox.driver import BAD_SIGNATURE, STALE_TIMESTAMP
from sandbox.slack_api import Fault
from tests.support.loopback import PROXY_VARIABLES
from tests.support.pages import links_in
from tests.support.quotes import EXAMPLES, ROOT, example_quote_data

from .conftest import API_SECRET, BOT_TOKEN, LINK_SECRET, REF, SIGNING_SECRET, SMTP_PASSWORD, App, backdated_quote


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    scheduler = logging.getLogger("apscheduler").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(scheduler)


@pytest.fixture
def logged(before_start: list[Callable[[Settings], None]], restore_logging: None) -> io.StringIO:
    """What the app logs, as `greenlight serve --verbose` would write it."""
    stream = io.StringIO()
    before_start.append(lambda settings: configure_logging(settings, logging.DEBUG, stream))
    # the stand-ins are not Greenlight: their own debug lines (SMTP AUTH included) are not the app's
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return stream


def leaks(text: str, secrets: list[str]) -> list[str]:
    """The secrets found in TEXT, as they are or URL-encoded (shown by their first four characters)."""
    found = [secret for secret in secrets if secret in text or quote(secret, safe="") in text]
    return [secret[:4] + "…" for secret in found]


async def test_a_day_of_traffic_logs_no_secret_and_no_link_token(logged: io.StringIO, app: App) -> None:
    secrets = app.runtime.settings.secrets()
    assert set(secrets) >= {BOT_TOKEN, SIGNING_SECRET, LINK_SECRET, API_SECRET, SMTP_PASSWORD}

    # the CRM: two quotes, one request badly signed
    assert (await app.post_quote(json.dumps(example_quote_data("q1042-v1.json"))))[0] == 200
    assert (await app.post_quote(json.dumps(backdated_quote())))[0] == 200
    assert (await app.post_quote(json.dumps(backdated_quote()), secret="a-guess-at-the-api-secret"))[0] == 401
    # reps submit; Slack refuses the first message once
    app.slack.script("chat.postMessage", [Fault.api_error("invalid_auth")])
    await app.deal("ava", "submit Q-1042")
    await app.deal("ava", "submit Q-7001")
    await app.settle("slack", "email")
    await app.settle("slack", "email")
    # clicks: a good one, one by someone who may not, a forged and a stale one
    message = app.request("marco", REF)
    await app.driver.click(app.slack_id("hank"), "approval.approve", message=message)
    assert (
        await app.driver.click(app.slack_id("marco"), "approval.approve", message=message, signing=BAD_SIGNATURE)
    ).status == 401
    assert (
        await app.driver.click(app.slack_id("marco"), "approval.approve", message=message, signing=STALE_TIMESTAMP)
    ).status == 401
    await app.driver.click(app.slack_id("marco"), "approval.approve", message=message)
    await app.settle("slack", "email")
    # Farah, by email: opens, confirms, tries again; someone tampers with the other link
    [arrived] = await app.inbox.wait_for(1)
    mail = arrived.message
    found = links_in(mail)
    page = await app.get(found["approve"])
    assert (await app.post(found["approve"], {"csrf": page.csrf, "verdict": "approve"})).status == 200
    assert (await app.post(found["approve"], {"csrf": page.csrf, "verdict": "approve"})).status == 409
    assert (await app.get(found["reject"][:-4] + "AAAA")).status == 403
    await app.settle("slack", "email")

    text = logged.getvalue()
    assert "quote API request refused" in text and "/a/<token>" in text, "the log saw the traffic"
    assert leaks(text, secrets) == []
    tokens = [url.rpartition("/")[2] for url in found.values()]
    assert [token[:8] for token in tokens if token in text] == [], "a link token is a credential"


def test_a_secret_in_a_logged_exception_is_hidden_like_one_in_the_message(restore_logging: None) -> None:
    """HideSecrets promises "every configured secret in log lines, whatever logged it": tracebacks too."""
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, api_secret=API_SECRET)
    stream = io.StringIO()
    configure_logging(settings, logging.INFO, stream)

    try:
        raise RuntimeError(f"the API answered 401 for Authorization: Bearer {BOT_TOKEN}")
    except RuntimeError:
        logging.getLogger("greenlight.slack").exception("a call to %s failed", "chat.postMessage")
    logging.getLogger("greenlight.slack").info("signed with %s", SIGNING_SECRET, stack_info=True)

    assert "a call to chat.postMessage failed" in stream.getvalue()
    assert leaks(stream.getvalue(), settings.secrets()) == []


def test_json_lines_hide_secrets_in_message_traceback_stack_and_extra_fields(
    restore_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GREENLIGHT_LOG_FORMAT=json (python-json-logger): one object a line, the same promise as text lines."""
    monkeypatch.setenv("GREENLIGHT_LOG_FORMAT", "json")
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, api_secret=API_SECRET)
    stream = io.StringIO()
    configure_logging(settings, logging.INFO, stream)
    log = logging.getLogger("greenlight.slack")

    try:
        raise RuntimeError(f'the API answered 401 for "Bearer {BOT_TOKEN}"')
    except RuntimeError:
        log.exception("a call to %s failed", "chat.postMessage")
    log.info("signed with %s", SIGNING_SECRET, stack_info=True, extra={"header": f"Bearer {API_SECRET}"})

    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in entries] == [
        ("error", "greenlight.slack", "a call to chat.postMessage failed"),
        ("info", "greenlight.slack", "signed with [secret]"),
    ]
    assert "RuntimeError" in entries[0]["exception"] and "[secret]" in entries[0]["exception"]
    assert entries[1]["header"] == "Bearer [secret]" and "stack_info" in entries[1]
    assert all(e["time"].endswith("+00:00") for e in entries)
    assert leaks(stream.getvalue(), settings.secrets()) == []


DATABASE_PASSWORD = "Db@Pass-w0rd/9f8e7d"  # what password generators make: @ and / included
DATABASE_URL = f"postgres://greenlight:{quote(DATABASE_PASSWORD, safe='')}@127.0.0.1:1/greenlight"


def test_the_database_password_counts_as_a_secret() -> None:
    settings = Settings.from_env(
        environ={
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "GREENLIGHT_DATABASE_URL": DATABASE_URL,
        },
        env_file=None,
    )

    assert DATABASE_PASSWORD in settings.secrets()


def run_serve(tmp_path: Path, environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "GREENLIGHT_")) and key not in PROXY_VARIABLES
    }
    return subprocess.run(
        [sys.executable, "-m", "greenlight.cli", "serve", "--port", "0", *args],
        cwd=tmp_path,  # no .env here
        env={**clean, "PYTHONPATH": str(ROOT), **environ},
        capture_output=True,
        text=True,
        timeout=60,  # a guard against a hang, not a measure
    )


def test_serve_verbose_that_cannot_reach_its_database_logs_no_database_password(tmp_path: Path) -> None:
    done = run_serve(
        tmp_path,
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "GREENLIGHT_POLICY": str(EXAMPLES / "policy.yaml"),
            "GREENLIGHT_DATABASE_URL": DATABASE_URL,
        },
        "--verbose",
    )

    assert done.returncode != 0, "nothing listens on port 1"
    assert leaks(done.stdout + done.stderr, [DATABASE_PASSWORD, BOT_TOKEN, SIGNING_SECRET]) == []


def test_settings_errors_name_the_variable_and_never_echo_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    bad = {
        "SLACK_BOT_TOKEN": "xoxp-user-token-not-a-bot-token-4f2a9c",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "GREENLIGHT_SECRET": "short-secret-1",
        "GREENLIGHT_API_SECRET": "tiny-api-secret",
        "GREENLIGHT_SMTP_URL": f"smtp://mailer:{quote(SMTP_PASSWORD)}@mail.example.com:notaport",
        "GREENLIGHT_DATABASE_URL": f"mysql://greenlight:{quote(DATABASE_PASSWORD, safe='')}@db.example.com/greenlight",
        "GREENLIGHT_ERP_URL": "ftp://erp-user:erp-url-password-77aa@erp.example.com/hooks",
        "GREENLIGHT_ERP_SECRET": "erp-secret-value-0b1c2d",
    }
    for name in Settings.variables():
        monkeypatch.delenv(name, raising=False)
    for name, value in bad.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        f"GREENLIGHT_POLICY={EXAMPLES / 'policy.yaml'}\nTHIS LINE HAS NO EQUALS SIGN env-file-secret-c0ffee-1234\n"
    )

    assert main(["serve"]) != 0

    printed = capsys.readouterr()
    shown = printed.out + printed.err
    for variable in (
        "SLACK_BOT_TOKEN",
        "GREENLIGHT_SECRET",
        "GREENLIGHT_API_SECRET",
        "GREENLIGHT_SMTP_URL",
        "GREENLIGHT_DATABASE_URL",
        "GREENLIGHT_ERP_URL",
        "Line 2 of .env",
    ):
        assert variable in shown, (variable, shown)
    values = [*bad.values(), SMTP_PASSWORD, DATABASE_PASSWORD, "erp-url-password-77aa", "env-file-secret-c0ffee-1234"]
    assert leaks(shown, values) == []
    assert "Traceback" not in shown
