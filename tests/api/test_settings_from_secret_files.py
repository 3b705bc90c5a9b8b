"""Secrets from files (Docker and Kubernetes secrets): NAME_FILE names a file holding NAME."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenlight.settings import Settings, SettingsError

BASE = {"SLACK_BOT_TOKEN": "xoxb-from-env"}


def test_a_secret_is_read_from_the_file_its_file_variable_names(tmp_path: Path):
    (tmp_path / "signing").write_text("signing-secret-from-a-file\n")
    (tmp_path / "db").write_text("postgres://greenlight:p%40ss@db:5432/greenlight")
    settings = Settings.from_env(
        {
            **BASE,
            "SLACK_SIGNING_SECRET_FILE": str(tmp_path / "signing"),
            "GREENLIGHT_DATABASE_URL_FILE": str(tmp_path / "db"),
        },
        env_file=None,
    )
    assert settings.slack_signing_secret is not None
    assert settings.slack_signing_secret.get_secret_value() == "signing-secret-from-a-file"
    assert settings.database_url.get_secret_value().startswith("postgres://greenlight:")
    assert not any("_FILE" in notice for notice in settings.notices())


def test_a_missing_secret_file_or_both_ways_at_once_stop_start_up_with_a_sentence(tmp_path: Path):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({**BASE, "SLACK_SIGNING_SECRET_FILE": str(tmp_path / "absent")}, env_file=None)
    assert "SLACK_SIGNING_SECRET_FILE names" in str(refused.value) and "cannot be read" in str(refused.value)
    (tmp_path / "s").write_text("x" * 20)
    with pytest.raises(SettingsError, match="both set"):
        Settings.from_env(
            {**BASE, "SLACK_SIGNING_SECRET": "y" * 20, "SLACK_SIGNING_SECRET_FILE": str(tmp_path / "s")}, env_file=None
        )
