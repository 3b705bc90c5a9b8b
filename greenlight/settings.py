"""Greenlight's settings (slack-v1 §1), read once from the environment and a `.env` file.

`Settings.from_env()` is the only place that reads the environment. Every bad value is reported,
all at once, as one sentence naming its variable (`SettingsError`); secrets are `SecretStr` and
never appear in `repr`, `str`, dumps, logs or error messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.errors import GreenlightError, Problem
from notifications.email import MailSettings
from notifications.smtp import SmtpSettings

MIN_OWN_SECRET_LENGTH = 16
_NEW_SECRET_HINT = "python -c 'import secrets; print(secrets.token_hex(32))'"
_OWN_PREFIX = "GREENLIGHT_"
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SettingsError(GreenlightError):
    """Start-up cannot go on: each problem is one sentence naming its variable (`where`)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(problem.message for problem in problems))


def _split(name: str, value: str, schemes: tuple[str, ...], example: str) -> SplitResult:
    """A URL with a known scheme; the value itself is never echoed (it may carry a password)."""
    allowed = " or ".join(f"{scheme}://" for scheme in schemes)
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError(f"{name} is not a valid URL: write it like {example}.") from None
    if not url.scheme or "://" not in value:
        raise ValueError(f"{name} is not a URL: write it like {example}.")
    if url.scheme.lower() not in schemes:
        raise ValueError(f"{name} has the unknown scheme {url.scheme!r}: it must start with {allowed}.")
    return url


def _web_url(name: str, value: Any, example: str) -> str:
    text = str(value).strip()
    url = _split(name, text, ("http", "https"), example)
    if not url.hostname:
        raise ValueError(f"{name} has no host: write it like {example}.")
    return text


def _secret(name: str, value: Any, *, min_length: int = 1) -> SecretStr | None:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"{name} must be text.")
    text = text.strip()
    if not text:
        return None
    if len(text) < min_length:
        raise ValueError(
            f"{name} is too short: use at least {min_length} random characters (for example from {_NEW_SECRET_HINT})."
        )
    return SecretStr(text)


class Settings(BaseModel):
    """Every setting of slack-v1 §1, typed; each field's alias is its environment variable."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True, hide_input_in_errors=True
    )

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    database_url: SecretStr = Field(SecretStr("sqlite://greenlight.db"), alias="GREENLIGHT_DATABASE_URL")
    policy_file: Path = Field(Path("policy.yaml"), alias="GREENLIGHT_POLICY")
    public_url: str = Field("http://127.0.0.1:3000", alias="GREENLIGHT_PUBLIC_URL")
    port: int = Field(3000, alias="GREENLIGHT_PORT")
    host: str = Field("127.0.0.1", alias="GREENLIGHT_HOST")
    smtp: SmtpSettings | None = Field(None, alias="GREENLIGHT_SMTP_URL")
    mail_from: str = Field("greenlight@localhost", alias="GREENLIGHT_MAIL_FROM")
    secret: SecretStr | None = Field(None, alias="GREENLIGHT_SECRET")
    api_secret: SecretStr | None = Field(None, alias="GREENLIGHT_API_SECRET")
    erp_url: str | None = Field(None, alias="GREENLIGHT_ERP_URL")
    erp_secret: SecretStr | None = Field(None, alias="GREENLIGHT_ERP_SECRET")
    # crm-v1: keys a caller sends as `Authorization: Bearer <key>`, and the CRM's webhook
    api_keys: tuple[tuple[str, SecretStr], ...] = Field((), alias="GREENLIGHT_API_KEYS")
    crm_webhook_url: str | None = Field(None, alias="GREENLIGHT_CRM_WEBHOOK_URL")
    crm_webhook_secret: SecretStr | None = Field(None, alias="GREENLIGHT_CRM_WEBHOOK_SECRET")
    # crm-v1 §7: the Salesforce CPQ connector (a connected app's client credentials)
    salesforce_login_url: str | None = Field(None, alias="GREENLIGHT_SALESFORCE_LOGIN_URL")
    salesforce_client_id: str | None = Field(None, alias="GREENLIGHT_SALESFORCE_CLIENT_ID")
    salesforce_client_secret: SecretStr | None = Field(None, alias="GREENLIGHT_SALESFORCE_CLIENT_SECRET")
    salesforce_mapping: Path = Field(Path("examples/crm/salesforce-cpq.yaml"), alias="GREENLIGHT_SALESFORCE_MAPPING")
    salesforce_every: int = Field(300, alias="GREENLIGHT_SALESFORCE_EVERY")

    _ignored: tuple[str, ...] = PrivateAttr(default=())

    # ---- reading -------------------------------------------------------------------------

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        """The environment variables Greenlight reads, in the order of slack-v1 §1."""
        return tuple(str(field.alias) for field in cls.model_fields.values())

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: str | Path | None = ".env",
        require_slack: bool = True,
    ) -> Settings:
        """Read the environment (default `os.environ`) over `env_file`; the real environment wins.

        A missing env file is not a problem. `require_slack=False` is for commands that do not
        talk to Slack (e.g. `policy check`). Raises `SettingsError` listing every problem.
        """
        environ = os.environ if environ is None else environ
        problems: list[Problem] = []
        from_file: dict[str, str] = {}
        if env_file is not None:
            from_file, file_problems = read_env_file(env_file)
            problems.extend(file_problems)
        merged = {**from_file, **environ}
        names = cls.variables()
        values = {name: merged[name] for name in names if name in merged and merged[name].strip()}
        ignored = tuple(sorted(key for key in merged if key.startswith(_OWN_PREFIX) and key not in names))

        present = set(values)
        problems.extend(Problem(name, message) for name, message in _missing(present, require_slack))
        try:
            settings = cls.model_validate(values)
        except ValidationError as error:
            for item in error.errors():
                if not item["loc"]:
                    continue  # the settings that go together: already in `problems`, from `_missing`
                name = str(item["loc"][0])
                message = _sentence(item["msg"])
                if name not in message:
                    message = f"{name} is not valid: {message}"
                problems.append(Problem(name, message))
            raise SettingsError(_in_order(problems, names)) from None
        if problems:
            raise SettingsError(_in_order(problems, names))
        settings._ignored = ignored
        return settings

    # ---- what the rest of Greenlight asks --------------------------------------------------

    @property
    def email_on(self) -> bool:
        return self.smtp is not None

    @property
    def erp_on(self) -> bool:
        return self.erp_url is not None and self.erp_secret is not None

    @property
    def api_on(self) -> bool:
        return self.api_secret is not None or bool(self.api_keys)

    @property
    def salesforce_on(self) -> bool:
        return (
            self.salesforce_login_url is not None
            and self.salesforce_client_id is not None
            and self.salesforce_client_secret is not None
        )

    @property
    def crm_webhooks_on(self) -> bool:
        return self.crm_webhook_url is not None and self.crm_webhook_secret is not None

    def secrets(self) -> list[str]:
        """Every secret value held (to check that none of them leaks into logs or messages)."""
        values = [
            secret.get_secret_value()
            for secret in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.secret,
                self.api_secret,
                self.erp_secret,
                self.crm_webhook_secret,
                self.salesforce_client_secret,
                *(key for _, key in self.api_keys),
            )
            if secret is not None
        ]
        if self.smtp is not None and self.smtp.password is not None:
            values.append(self.smtp.password.get_secret_value())
        database_password = urlsplit(self.database_url.get_secret_value()).password
        if database_password:
            values.append(unquote(database_password))
        return values

    def mail_settings(self) -> MailSettings:
        """What rendering an email needs; email links are signed, so GREENLIGHT_SECRET must be set."""
        if self.secret is None:
            raise ValueError("GREENLIGHT_SECRET is not set: it signs the approve and reject links of emails.")
        return MailSettings(self.mail_from, self.public_url.rstrip("/"), self.secret.get_secret_value())

    def notices(self) -> list[str]:
        """What start-up should say about features that are off or settings that were ignored."""
        notes: list[str] = []
        if self.slack_bot_token is None:
            notes.append("Slack is off: SLACK_BOT_TOKEN is not set")
        if self.smtp is None:
            notes.append("email is off: GREENLIGHT_SMTP_URL is not set")
        else:
            notes.append(f"email is on: sent through {self.smtp.url} from {self.mail_from}")
        if not self.api_on:
            notes.append("the CRM quote API answers 503: neither GREENLIGHT_API_SECRET nor GREENLIGHT_API_KEYS is set")
        elif self.api_keys:
            names = ", ".join(name for name, _ in self.api_keys)
            notes.append(f"the CRM API takes bearer keys from: {names}")
        if not self.crm_webhooks_on:
            notes.append("CRM webhooks are off: GREENLIGHT_CRM_WEBHOOK_URL is not set")
        if self.salesforce_on:
            notes.append(
                f"the Salesforce connector pulls every {self.salesforce_every} s from {self.salesforce_login_url} "
                f"(mapping {self.salesforce_mapping})"
            )
        if self.erp_url is None:
            notes.append("ERP sync is off: GREENLIGHT_ERP_URL is not set")
        notes.extend(f"{name} is not a Greenlight setting and is ignored (a typo?)" for name in self._ignored)
        return notes

    # ---- checks (each message is one sentence naming the variable) -----------------------

    @field_validator("slack_bot_token", mode="before")
    @classmethod
    def _check_bot_token(cls, value: Any) -> SecretStr | None:
        token = _secret("SLACK_BOT_TOKEN", value)
        if token is not None and not token.get_secret_value().startswith("xoxb-"):
            raise ValueError(
                "SLACK_BOT_TOKEN is not a bot token: it must start with xoxb- "
                "(the Bot User OAuth Token on the app's OAuth & Permissions page)."
            )
        return token

    @field_validator("slack_signing_secret", "erp_secret", mode="before")
    @classmethod
    def _check_given_secret(cls, value: Any, info: Any) -> SecretStr | None:
        return _secret(cls._env(info.field_name), value)

    @field_validator("secret", "api_secret", mode="before")
    @classmethod
    def _check_own_secret(cls, value: Any, info: Any) -> SecretStr | None:
        return _secret(cls._env(info.field_name), value, min_length=MIN_OWN_SECRET_LENGTH)

    @field_validator("crm_webhook_secret", mode="before")
    @classmethod
    def _check_crm_secret(cls, value: Any) -> SecretStr | None:
        return _secret("GREENLIGHT_CRM_WEBHOOK_SECRET", value, min_length=MIN_OWN_SECRET_LENGTH)

    @field_validator("crm_webhook_url", mode="before")
    @classmethod
    def _check_crm_url(cls, value: Any) -> str | None:
        if value is None or not str(value).strip():
            return None
        return _web_url("GREENLIGHT_CRM_WEBHOOK_URL", value, "https://crm.example.com/hooks/greenlight")

    @field_validator("salesforce_login_url", mode="before")
    @classmethod
    def _check_salesforce_url(cls, value: Any) -> str | None:
        if value is None or not str(value).strip():
            return None
        return _web_url("GREENLIGHT_SALESFORCE_LOGIN_URL", value, "https://login.salesforce.com").rstrip("/")

    @field_validator("salesforce_client_secret", mode="before")
    @classmethod
    def _check_salesforce_secret(cls, value: Any) -> SecretStr | None:
        return _secret("GREENLIGHT_SALESFORCE_CLIENT_SECRET", value)

    @field_validator("salesforce_every", mode="before")
    @classmethod
    def _check_salesforce_every(cls, value: Any) -> int:
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,6}", text) or not 10 <= int(text) <= 86400:
            raise ValueError(
                f"GREENLIGHT_SALESFORCE_EVERY must be a whole number of seconds from 10 to 86400, not {text[:20]!r}."
            )
        return int(text)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _check_api_keys(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return parse_api_keys(value)

    @field_validator("slack_api_url", mode="before")
    @classmethod
    def _check_slack_api_url(cls, value: Any) -> str:
        url = _web_url("SLACK_API_URL", value, "https://slack.com/api/")
        return url if url.endswith("/") else url + "/"

    @field_validator("public_url", mode="before")
    @classmethod
    def _check_public_url(cls, value: Any) -> str:
        return _web_url("GREENLIGHT_PUBLIC_URL", value, "https://greenlight.example.com").rstrip("/")

    @field_validator("erp_url", mode="before")
    @classmethod
    def _check_erp_url(cls, value: Any) -> str | None:
        if value is None or not str(value).strip():
            return None
        return _web_url("GREENLIGHT_ERP_URL", value, "https://erp.example.com/hooks/greenlight")

    @field_validator("database_url", mode="before")
    @classmethod
    def _check_database_url(cls, value: Any) -> SecretStr:
        name = "GREENLIGHT_DATABASE_URL"
        text = (value.get_secret_value() if isinstance(value, SecretStr) else str(value)).strip()
        example = "sqlite://greenlight.db or postgres://user:password@host:5432/greenlight"
        url = _split(name, text, ("sqlite", "postgres", "postgresql"), example)
        if url.scheme.lower() == "sqlite" and not (url.netloc + url.path):
            raise ValueError(f"{name} names no SQLite file: write it like sqlite://greenlight.db.")
        return SecretStr(text)

    @field_validator("policy_file", mode="before")
    @classmethod
    def _check_policy_file(cls, value: Any) -> Path:
        text = str(value).strip()
        if not text:
            raise ValueError("GREENLIGHT_POLICY is empty: name the policy file, e.g. policy.yaml.")
        return Path(text)

    @field_validator("port", mode="before")
    @classmethod
    def _check_port(cls, value: Any) -> int:
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"[0-9]{1,5}", text) or not 0 <= int(text) <= 65535:
            raise ValueError(
                f"GREENLIGHT_PORT must be a whole number from 0 (any free port) to 65535, not {text[:20]!r}."
            )
        return int(text)

    @field_validator("host", mode="before")
    @classmethod
    def _check_host(cls, value: Any) -> str:
        text = str(value).strip()
        if not text or any(char.isspace() or char in "/@" for char in text):
            raise ValueError(f"GREENLIGHT_HOST must be a host name or IP address such as 127.0.0.1, not {text[:60]!r}.")
        return text

    @field_validator("mail_from", mode="before")
    @classmethod
    def _check_mail_from(cls, value: Any) -> str:
        text = str(value).strip()
        _, address = parseaddr(text)
        if "@" not in address or address.startswith("@") or address.endswith("@") or any(c.isspace() for c in address):
            raise ValueError(
                "GREENLIGHT_MAIL_FROM must be an email address such as greenlight@example.com "
                "or 'Greenlight <greenlight@example.com>'."
            )
        return text

    @field_validator("smtp", mode="before")
    @classmethod
    def _check_smtp(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        name = "GREENLIGHT_SMTP_URL"
        text = value.strip()
        if not text:
            return None
        example = "smtp://user:password@mail.example.com:587, or smtps://user:password@mail.example.com for TLS"
        url = _split(name, text, ("smtp", "smtps"), example)
        if not url.hostname:
            raise ValueError(f"{name} has no host: write it like {example}.")
        if url.path not in ("", "/") or url.query or url.fragment:
            raise ValueError(f"{name} must be only scheme, credentials, host and port: write it like {example}.")
        tls = url.scheme.lower() == "smtps"
        password = unquote(url.password) if url.password else None
        return SmtpSettings(
            host=url.hostname,
            port=url.port or (465 if tls else 25),
            tls=tls,
            user=unquote(url.username) if url.username else None,
            password=SecretStr(password) if password else None,
        )

    @model_validator(mode="after")
    def _check_together(self) -> Settings:
        present = {
            str(field.alias) for name, field in type(self).model_fields.items() if getattr(self, name) is not None
        }
        missing = _missing(present, require_slack=False)
        if missing:
            raise ValueError(" ".join(message for _, message in missing))
        return self

    @classmethod
    def _env(cls, field_name: str | None) -> str:
        return str(cls.model_fields[str(field_name)].alias)


def _missing(present: set[str], require_slack: bool) -> list[tuple[str, str]]:
    """The settings that are required by another one (or by Slack), as (variable, sentence)."""
    missing: list[tuple[str, str]] = []
    if require_slack and "SLACK_BOT_TOKEN" not in present:
        missing.append(
            (
                "SLACK_BOT_TOKEN",
                "SLACK_BOT_TOKEN is not set: Greenlight needs the app's bot token (xoxb-...) to talk to Slack.",
            )
        )
    if require_slack and "SLACK_SIGNING_SECRET" not in present:
        missing.append(
            (
                "SLACK_SIGNING_SECRET",
                "SLACK_SIGNING_SECRET is not set: Greenlight needs it to verify requests from Slack "
                "(Basic Information page of the Slack app).",
            )
        )
    if "GREENLIGHT_SMTP_URL" in present and "GREENLIGHT_SECRET" not in present:
        missing.append(
            (
                "GREENLIGHT_SECRET",
                "GREENLIGHT_SECRET is not set: it is required when email is on (GREENLIGHT_SMTP_URL is set) "
                f"to sign the approve and reject links, e.g. from {_NEW_SECRET_HINT}.",
            )
        )
    if "GREENLIGHT_ERP_URL" in present and "GREENLIGHT_ERP_SECRET" not in present:
        missing.append(
            (
                "GREENLIGHT_ERP_SECRET",
                "GREENLIGHT_ERP_SECRET is not set: GREENLIGHT_ERP_URL and GREENLIGHT_ERP_SECRET go together "
                "(set both to turn ERP sync on, or neither).",
            )
        )
    salesforce = (
        "GREENLIGHT_SALESFORCE_LOGIN_URL",
        "GREENLIGHT_SALESFORCE_CLIENT_ID",
        "GREENLIGHT_SALESFORCE_CLIENT_SECRET",
    )
    if any(name in present for name in salesforce):
        for name in salesforce:
            if name not in present:
                missing.append(
                    (
                        name,
                        f"{name} is not set: the Salesforce connector needs {', '.join(salesforce)} "
                        "(set all three, or none).",
                    )
                )
    for url, secret in (("GREENLIGHT_CRM_WEBHOOK_URL", "GREENLIGHT_CRM_WEBHOOK_SECRET"),):
        if (url in present) != (secret in present):
            absent = secret if url in present else url
            missing.append(
                (
                    absent,
                    f"{absent} is not set: {url} and {secret} go together "
                    "(set both to send the CRM its webhooks, or neither).",
                )
            )
    if "GREENLIGHT_ERP_SECRET" in present and "GREENLIGHT_ERP_URL" not in present:
        missing.append(
            (
                "GREENLIGHT_ERP_URL",
                "GREENLIGHT_ERP_URL is not set: GREENLIGHT_ERP_URL and GREENLIGHT_ERP_SECRET go together "
                "(set both to turn ERP sync on, or neither).",
            )
        )
    return missing


MIN_API_KEY_LENGTH = 32
_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def parse_api_keys(text: str) -> tuple[tuple[str, SecretStr], ...]:
    """`name=key,name=key` (crm-v1 §1): each name a short word, each key at least 32 characters.

    Messages name the entry by position and name, never the key itself.
    """
    name_env = "GREENLIGHT_API_KEYS"
    keys: list[tuple[str, SecretStr]] = []
    seen_names: set[str] = set()
    seen_keys: set[str] = set()
    for position, item in enumerate(text.split(","), start=1):
        entry = item.strip()
        if not entry:
            continue
        name, equals, key = entry.partition("=")
        name, key = name.strip(), key.strip()
        if not equals or not _KEY_NAME.fullmatch(name):
            raise ValueError(
                f"{name_env} entry {position} is not name=key: write it like crm=<key>,script=<key> "
                "(a name of letters, digits, dots, dashes or underscores)."
            )
        if len(key) < MIN_API_KEY_LENGTH:
            raise ValueError(
                f"{name_env}: the key named {name} is too short: use at least {MIN_API_KEY_LENGTH} random "
                f"characters (for example from {_NEW_SECRET_HINT})."
            )
        if name in seen_names:
            raise ValueError(f"{name_env} names {name} twice: give each caller one name.")
        if key in seen_keys:
            raise ValueError(f"{name_env}: the key named {name} is also another caller's key: give each its own.")
        seen_names.add(name)
        seen_keys.add(key)
        keys.append((name, SecretStr(key)))
    return tuple(keys)


def _in_order(problems: list[Problem], names: tuple[str, ...]) -> list[Problem]:
    """Problems in the order of the settings table; those of the .env file itself first."""
    return sorted(problems, key=lambda problem: names.index(problem.where) + 1 if problem.where in names else 0)


def _sentence(message: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    return message


# ---- the .env file ----------------------------------------------------------------------------


def read_env_file(path: str | Path) -> tuple[dict[str, str], list[Problem]]:
    """KEY=VALUE lines; `#` comments; optional `export `; values optionally in '...' or "...".

    A missing file gives nothing. A line that cannot be read is a problem naming the file and the
    line number, never its content (it may hold a secret).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        return {}, [Problem(str(file), f"The settings file {file} cannot be read: {reason}.")]
    return parse_env(text, str(file))


def parse_env(text: str, source: str = ".env") -> tuple[dict[str, str], list[Problem]]:
    values: dict[str, str] = {}
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, equals, rest = line.partition("=")
        key = key.strip()
        if not equals or not _KEY.fullmatch(key):
            problems.append(
                Problem(f"{source}:{number}", f"Line {number} of {source} is not a KEY=VALUE setting or a # comment.")
            )
            continue
        value = _env_value(rest.strip())
        if value is None:
            problems.append(Problem(f"{source}:{number}", f"{key} on line {number} of {source} has an unclosed quote."))
            continue
        values[key] = value
    return values, problems


def _env_value(rest: str) -> str | None:
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        end = _closing_quote(rest, quote)
        if end is None:
            return None
        inner = rest[1:end]
        if quote == '"':
            inner = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), inner)
        return inner
    comment = re.search(r"\s#", rest)
    return (rest[: comment.start()] if comment else rest).strip()


def _closing_quote(rest: str, quote: str) -> int | None:
    index = 1
    while index < len(rest):
        if rest[index] == "\\" and quote == '"':
            index += 2
            continue
        if rest[index] == quote:
            return index
        index += 1
    return None
