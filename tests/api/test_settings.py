"""Settings (slack-v1 §1): read once, every bad value one sentence naming its variable, secrets hidden."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.errors import GreenlightError
from greenlight.settings import Settings, SettingsError, parse_env

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1111-2222-abcdefghijkl", "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5"}
EVERYTHING = {
    **SLACK,
    "SLACK_API_URL": "http://127.0.0.1:8900/api",
    "GREENLIGHT_DATABASE_URL": "postgres://greenlight:db-password-771@db.internal:5432/greenlight",
    "GREENLIGHT_POLICY": "/etc/greenlight/policy.yaml",
    "GREENLIGHT_PUBLIC_URL": "https://deals.example.com/",
    "GREENLIGHT_PORT": "8080",
    "GREENLIGHT_HOST": "0.0.0.0",
    "GREENLIGHT_SMTP_URL": "smtps://bot%40example.com:mail-pass%2F99@mail.example.com:2465",
    "GREENLIGHT_MAIL_FROM": "Greenlight <deals@example.com>",
    "GREENLIGHT_SECRET": "link-secret-0123456789abcdef",
    "GREENLIGHT_API_SECRET": "api-secret-0123456789abcdef",
    "GREENLIGHT_ERP_URL": "https://erp.example.com/hooks/greenlight",
    "GREENLIGHT_ERP_SECRET": "erp-secret-42",
    "GREENLIGHT_CRM_WEBHOOK_URL": "https://crm.example.com/hooks/greenlight",
    "GREENLIGHT_CRM_WEBHOOK_SECRET": "crm-hook-secret-0123456789",
    "GREENLIGHT_API_KEYS": "salesforce=sf-key-0123456789abcdef0123456789abcdef",
}
SECRET_VALUES = [
    "crm-hook-secret-0123456789",
    "sf-key-0123456789abcdef0123456789abcdef",
    "xoxb-1111-2222-abcdefghijkl",
    "8f742231b10e8888abcd99yyyzzz85a5",
    "db-password-771",
    "mail-pass/99",
    "link-secret-0123456789abcdef",
    "api-secret-0123456789abcdef",
    "erp-secret-42",
]


def read(environ: dict[str, str], **kwargs: object) -> Settings:
    return Settings.from_env(environ, **{"env_file": None, **kwargs})  # type: ignore[arg-type]


def refusal(environ: dict[str, str], **kwargs: object) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        read(environ, **kwargs)
    return caught.value


# ---- defaults and sources ----------------------------------------------------------------------


def test_defaults_are_those_of_the_settings_table() -> None:
    settings = read(SLACK)

    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url.get_secret_value() == "sqlite://greenlight.db"
    assert settings.policy_file == Path("policy.yaml")
    assert settings.public_url == "http://127.0.0.1:3000"
    assert (settings.host, settings.port) == ("127.0.0.1", 3000)
    assert settings.mail_from == "greenlight@localhost"
    assert settings.smtp is None and settings.secret is None and settings.api_secret is None
    assert settings.erp_url is None and settings.erp_secret is None


def test_every_variable_is_read(tmp_path: Path) -> None:
    settings = read(EVERYTHING)

    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1111-2222-abcdefghijkl"
    assert settings.slack_api_url == "http://127.0.0.1:8900/api/"
    assert settings.policy_file == Path("/etc/greenlight/policy.yaml")
    assert settings.public_url == "https://deals.example.com"
    assert (settings.host, settings.port) == ("0.0.0.0", 8080)
    assert settings.mail_from == "Greenlight <deals@example.com>"
    assert settings.erp_url == "https://erp.example.com/hooks/greenlight"
    assert settings.email_on and settings.erp_on and settings.api_on


def test_the_smtp_url_is_parsed_into_host_port_tls_and_credentials() -> None:
    smtp = read(EVERYTHING).smtp

    assert smtp is not None and smtp.password is not None
    assert (smtp.host, smtp.port, smtp.tls, smtp.user) == ("mail.example.com", 2465, True, "bot@example.com")
    assert smtp.password.get_secret_value() == "mail-pass/99"


@pytest.mark.parametrize(
    ("url", "port", "tls"), [("smtp://mail.example.com", 25, False), ("smtps://mail.example.com", 465, True)]
)
def test_the_smtp_port_defaults_by_scheme(url: str, port: int, tls: bool) -> None:
    smtp = read({"GREENLIGHT_SMTP_URL": url, "GREENLIGHT_SECRET": "s" * 16}, require_slack=False).smtp

    assert smtp is not None
    assert (smtp.port, smtp.tls, smtp.user, smtp.password) == (port, tls, None, None)


def test_a_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(
        "# Greenlight on the sales VM\n"
        "\n"
        "SLACK_BOT_TOKEN=xoxb-from-the-file\n"
        "export SLACK_SIGNING_SECRET='signing # not a comment'\n"
        'GREENLIGHT_MAIL_FROM="Deal Desk <desk@example.com>"\n'
        "GREENLIGHT_PORT = 8181   # the VM's free port\n"
        "GREENLIGHT_SMTP_URL=\n",
        encoding="utf-8",
    )

    settings = Settings.from_env({}, env_file=env)

    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-the-file"
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == "signing # not a comment"
    assert settings.mail_from == "Deal Desk <desk@example.com>"
    assert settings.port == 8181
    assert settings.smtp is None


def test_the_real_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("GREENLIGHT_PORT=8181\nGREENLIGHT_HOST=0.0.0.0\n", encoding="utf-8")

    settings = Settings.from_env({"GREENLIGHT_PORT": "9090"}, env_file=env, require_slack=False)
    assert Settings.from_env({"GREENLIGHT_PORT": "0"}, env_file=None, require_slack=False).port == 0, (
        "0: any free port, like --port 0"
    )

    assert (settings.host, settings.port) == ("0.0.0.0", 9090)


def test_a_missing_dotenv_file_is_no_problem(tmp_path: Path) -> None:
    settings = Settings.from_env(SLACK, env_file=tmp_path / "absent.env")

    assert settings.port == 3000


def test_os_environ_is_read_when_no_mapping_is_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GREENLIGHT_HOST", "10.0.0.7")

    settings = Settings.from_env(env_file=tmp_path / "absent.env", require_slack=False)

    assert settings.host == "10.0.0.7"


def test_a_dotenv_line_that_is_not_a_setting_is_reported_without_its_content(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("SLACK_BOT_TOKEN=xoxb-ok\nxoxb-pasted-alone\nGREENLIGHT_SECRET='unclosed\n", encoding="utf-8")

    problems = refusal({}, env_file=env, require_slack=False).problems

    assert [problem.where for problem in problems] == [f"{env}:2", f"{env}:3"]
    assert problems[0].message == f"Line 2 of {env} is not a KEY=VALUE setting or a # comment."
    assert problems[1].message == f"GREENLIGHT_SECRET on line 3 of {env} has an unclosed quote."
    assert "pasted" not in str(problems) and "unclosed'" not in str(problems)


def test_parse_env_reads_escapes_in_double_quotes_only() -> None:
    values, problems = parse_env('A="line\\nnext \\"q\\""\nB=\'raw\\n\'\nC=plain#kept\n')

    assert problems == []
    assert values == {"A": 'line\nnext "q"', "B": "raw\\n", "C": "plain#kept"}


# ---- bad values: one sentence naming the variable ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-a-user-token", "SLACK_BOT_TOKEN is not a bot token: it must start with xoxb-"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL is not a URL"),
        ("SLACK_API_URL", "ftp://slack.com/api/", "SLACK_API_URL has the unknown scheme 'ftp'"),
        ("GREENLIGHT_DATABASE_URL", "mysql://u:p@db/greenlight", "GREENLIGHT_DATABASE_URL has the unknown scheme"),
        ("GREENLIGHT_DATABASE_URL", "greenlight.db", "GREENLIGHT_DATABASE_URL is not a URL"),
        ("GREENLIGHT_DATABASE_URL", "sqlite://", "GREENLIGHT_DATABASE_URL names no SQLite file"),
        ("GREENLIGHT_DATABASE_URL", "postgres://db:port/greenlight", "GREENLIGHT_DATABASE_URL is not a valid URL"),
        ("GREENLIGHT_PUBLIC_URL", "deals.example.com", "GREENLIGHT_PUBLIC_URL is not a URL"),
        ("GREENLIGHT_PUBLIC_URL", "https://", "GREENLIGHT_PUBLIC_URL has no host"),
        (
            "GREENLIGHT_PORT",
            "http",
            "GREENLIGHT_PORT must be a whole number from 0 (any free port) to 65535, not 'http'",
        ),
        ("GREENLIGHT_PORT", "65536", "GREENLIGHT_PORT must be a whole number from 0 (any free port) to 65535"),
        ("GREENLIGHT_PORT", "-1", "GREENLIGHT_PORT must be a whole number from 0 (any free port) to 65535"),
        ("GREENLIGHT_HOST", "http://0.0.0.0", "GREENLIGHT_HOST must be a host name or IP address"),
        ("GREENLIGHT_SMTP_URL", "mail.example.com:25", "GREENLIGHT_SMTP_URL is not a URL"),
        ("GREENLIGHT_SMTP_URL", "imap://mail.example.com", "GREENLIGHT_SMTP_URL has the unknown scheme 'imap'"),
        ("GREENLIGHT_SMTP_URL", "smtp://mail.example.com:smtp", "GREENLIGHT_SMTP_URL is not a valid URL"),
        ("GREENLIGHT_SMTP_URL", "smtp://:25", "GREENLIGHT_SMTP_URL has no host"),
        ("GREENLIGHT_MAIL_FROM", "deal desk", "GREENLIGHT_MAIL_FROM must be an email address"),
        ("GREENLIGHT_API_SECRET", "abc", "GREENLIGHT_API_SECRET is too short: use at least 16 random characters"),
        ("GREENLIGHT_ERP_URL", "erp.example.com/hook", "GREENLIGHT_ERP_URL is not a URL"),
    ],
)
def test_a_bad_value_stops_start_up_with_one_sentence_naming_the_variable(name: str, value: str, said: str) -> None:
    environ = {**SLACK, "GREENLIGHT_SECRET": "s" * 16, name: value}
    if name == "GREENLIGHT_ERP_URL":
        environ["GREENLIGHT_ERP_SECRET"] = "erp"

    error = refusal(environ)

    assert [problem.where for problem in error.problems] == [name]
    sentence = error.problems[0].message
    assert sentence.startswith(said)
    assert sentence.endswith(".") and sentence.count(". ") == 0
    assert str(error) == sentence
    assert isinstance(error, GreenlightError)


@pytest.mark.parametrize(
    ("environ", "name", "said"),
    [
        ({}, "SLACK_BOT_TOKEN", "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET", "SLACK_SIGNING_SECRET is not set"),
        ({**SLACK, "GREENLIGHT_SMTP_URL": "smtp://mail"}, "GREENLIGHT_SECRET", "GREENLIGHT_SECRET is not set"),
        ({**SLACK, "GREENLIGHT_ERP_URL": "https://erp"}, "GREENLIGHT_ERP_SECRET", "GREENLIGHT_ERP_SECRET is not set"),
        ({**SLACK, "GREENLIGHT_ERP_SECRET": "erp"}, "GREENLIGHT_ERP_URL", "GREENLIGHT_ERP_URL is not set"),
    ],
)
def test_a_missing_required_secret_is_named(environ: dict[str, str], name: str, said: str) -> None:
    problems = refusal(environ).problems

    assert name in [problem.where for problem in problems]
    assert any(problem.message.startswith(said) for problem in problems)


def test_slack_is_not_required_by_commands_that_do_not_talk_to_it() -> None:
    settings = read({}, require_slack=False)

    assert settings.slack_bot_token is None
    assert "Slack is off: SLACK_BOT_TOKEN is not set" in settings.notices()


def test_an_empty_value_counts_as_unset() -> None:
    settings = read({**SLACK, "GREENLIGHT_SMTP_URL": " ", "GREENLIGHT_PORT": ""})

    assert settings.smtp is None and settings.port == 3000


def test_every_problem_is_reported_at_once_each_as_its_own_sentence() -> None:
    error = refusal(
        {
            "SLACK_BOT_TOKEN": "xoxp-1",
            "GREENLIGHT_PORT": "eighty",
            "GREENLIGHT_SMTP_URL": "smtp://mail.example.com",
            "GREENLIGHT_ERP_URL": "erp",
        }
    )

    assert [problem.where for problem in error.problems] == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "GREENLIGHT_PORT",
        "GREENLIGHT_SECRET",
        "GREENLIGHT_ERP_URL",
        "GREENLIGHT_ERP_SECRET",
    ]
    assert str(error).splitlines() == [problem.message for problem in error.problems]


def test_no_secret_value_appears_in_an_error_message() -> None:
    environ = {
        "SLACK_BOT_TOKEN": "xoxp-user-token-do-not-show",
        "SLACK_SIGNING_SECRET": "signing",
        "GREENLIGHT_SMTP_URL": "smtpx://bot:mail-password-do-not-show@mail",
        "GREENLIGHT_DATABASE_URL": "mysql://app:db-password-do-not-show@db/x",
        "GREENLIGHT_API_SECRET": "do-not-show",
        "GREENLIGHT_SECRET": "x" * 16,
    }

    error = refusal(environ)

    assert len(error.problems) == 4
    assert "do-not-show" not in str(error) and "do-not-show" not in repr(error.problems)


# ---- secrets hidden ----------------------------------------------------------------------------


def test_secrets_never_show_in_repr_str_or_dumps(caplog: pytest.LogCaptureFixture) -> None:
    settings = read(EVERYTHING)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("greenlight").info("started with %s (%r)", settings, settings)

    shown = [
        repr(settings),
        str(settings),
        f"{settings}",
        settings.model_dump_json(),
        str(settings.model_dump()),
        repr(settings.smtp),
        caplog.text,
    ]

    for text in shown:
        for secret in SECRET_VALUES:
            assert secret not in text
    assert sorted(settings.secrets()) == sorted(SECRET_VALUES)


def test_settings_are_frozen() -> None:
    settings = read(SLACK)

    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


def test_settings_made_in_code_are_checked_too() -> None:
    assert Settings(api_secret="a" * 16, port="8080").port == 8080  # type: ignore[arg-type]

    with pytest.raises(ValidationError, match="GREENLIGHT_SECRET is not set"):
        Settings(smtp="smtp://mail.example.com")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="GREENLIGHT_PORT must be a whole number") as caught:
        Settings(port="x", api_secret="tiny")  # type: ignore[arg-type]
    assert "tiny" not in str(caught.value)


# ---- notices -----------------------------------------------------------------------------------


def test_notices_say_which_features_are_off() -> None:
    notices = read(SLACK).notices()

    assert notices == [
        "email is off: GREENLIGHT_SMTP_URL is not set",
        "the CRM quote API answers 503: neither GREENLIGHT_API_SECRET nor GREENLIGHT_API_KEYS is set",
        "CRM webhooks are off: GREENLIGHT_CRM_WEBHOOK_URL is not set",
        "ERP sync is off: GREENLIGHT_ERP_URL is not set",
    ]


def test_notices_say_where_email_goes_when_everything_is_on() -> None:
    notices = read(EVERYTHING).notices()

    assert notices == [
        "email is on: sent through smtps://mail.example.com:2465 from Greenlight <deals@example.com>",
        "the CRM API takes bearer keys from: salesforce",
    ]


def test_notices_point_out_greenlight_variables_that_mean_nothing(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("GREENLIGHT_SMTP_HOST=mail.example.com\n", encoding="utf-8")

    notices = Settings.from_env({**SLACK, "GREENLIGHT_API_SECERT": "x"}, env_file=env).notices()

    assert "GREENLIGHT_API_SECERT is not a Greenlight setting and is ignored (a typo?)" in notices
    assert "GREENLIGHT_SMTP_HOST is not a Greenlight setting and is ignored (a typo?)" in notices


# ---- the CRM (crm-v1 §1, §6, §7) ------------------------------------------------------------------


def test_api_keys_are_named_per_caller_and_hidden() -> None:
    key = "k" * 32
    settings = read({**SLACK, "GREENLIGHT_API_KEYS": f"salesforce={key}, script={'s' * 40}"})
    assert [name for name, _ in settings.api_keys] == ["salesforce", "script"]
    assert key not in repr(settings) and key in settings.secrets()
    assert "the CRM API takes bearer keys from: salesforce, script" in settings.notices()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("salesforce=" + "k" * 31, "GREENLIGHT_API_KEYS: the key named salesforce is too short: use at least 32"),
        ("k" * 40, "GREENLIGHT_API_KEYS entry 1 is not name=key"),
        (f"a={'k' * 32},a={'j' * 32}", "GREENLIGHT_API_KEYS names a twice"),
        (f"a={'k' * 32},b={'k' * 32}", "the key named b is also another caller's key"),
    ],
)
def test_a_bad_api_key_stops_start_up_with_a_sentence_that_never_shows_the_key(value: str, says: str) -> None:
    error = refusal({**SLACK, "GREENLIGHT_API_KEYS": value})
    assert [p.where for p in error.problems] == ["GREENLIGHT_API_KEYS"]
    assert says in str(error)
    assert "k" * 31 not in str(error)


def test_crm_webhooks_and_the_salesforce_connector_need_their_settings_together() -> None:
    assert "GREENLIGHT_CRM_WEBHOOK_SECRET is not set" in str(
        refusal({**SLACK, "GREENLIGHT_CRM_WEBHOOK_URL": "https://crm.example.com/hook"})
    )
    error = refusal({**SLACK, "GREENLIGHT_SALESFORCE_LOGIN_URL": "https://login.salesforce.com"})
    assert [p.where for p in error.problems] == [
        "GREENLIGHT_SALESFORCE_CLIENT_ID",
        "GREENLIGHT_SALESFORCE_CLIENT_SECRET",
    ]
    assert "GREENLIGHT_SALESFORCE_EVERY must be a whole number of seconds from 10 to 86400" in str(
        refusal({**SLACK, "GREENLIGHT_SALESFORCE_EVERY": "5"})
    )
