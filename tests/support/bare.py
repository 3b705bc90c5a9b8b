"""Settings for a runtime built without any outside service (no CRM, no ERP, no SMTP): a one-person
policy and a SQLite file under TMP_PATH; ENVIRON adds or overrides variables."""

from __future__ import annotations

from pathlib import Path

from greenlight.settings import Settings


def bare_settings(tmp_path: Path, **environ: str) -> Settings:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ntimezone: UTC\nadmins: [a]\nfallback_approver: a\npeople:\n  a: {name: A}\n")
    return Settings.from_env(
        environ={
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "GREENLIGHT_DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}",
            "GREENLIGHT_POLICY": str(policy),
            "GREENLIGHT_API_SECRET": "greenlight-test-api-secret-0123456789",
            **environ,
        },
        env_file=None,
    )
