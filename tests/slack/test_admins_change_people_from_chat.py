"""Admins add or change a person from chat (`/deal people set`): validated like the policy file,
stored, audited, shown by `/deal people`, laid over the YAML after a restart, and exported back
to YAML by `greenlight people export`. Anybody else is refused; bad values change nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from store import people as people_store
from store.models import AuditRow, PersonChangeRow

from .conftest import Bot
from .kit17 import mention, write_policy


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    return write_policy(tmp_path)


async def test_an_admin_adds_a_new_hire_and_changes_a_manager_from_chat(bot: Bot) -> None:
    added = await bot.deal("dana", 'people set zoe email=zoe@example.com name="Zoë Ortega" timezone=Europe/Madrid')
    changed = await bot.deal("dana", f"people set ava manager={mention(bot, 'vera')}")

    assert (
        "Zoë Ortega (zoe) is saved: email zoe@example.com, name Zoë Ortega, timezone Europe/Madrid"
        in added.json()["text"]
    )
    assert "Ava Brooks (ava) is saved: manager vera" in changed.json()["text"]
    assert bot.policy.people["zoe"].email == "zoe@example.com"
    assert bot.policy.people["ava"].manager == "vera"
    audit = await AuditRow.filter(kind="person_changed").order_by("id").values_list("actor", "people", flat=False)
    assert [(actor, tuple(people)) for actor, people in audit] == [("dana", ("zoe",)), ("dana", ("ava",))]
    listing = (await bot.deal("dana", "people")).json()
    body = str(listing["blocks"])
    assert "12 people in Greenlight's directory; 2 changed from chat." in listing["text"]
    assert "Zoë Ortega" in body and "manager Vera Lindqvist" in body


async def test_chat_changes_survive_a_restart_and_export_back_to_yaml(bot: Bot, policy_file: Path) -> None:
    await bot.deal("dana", "people set noah timezone=Asia/Tokyo")
    fresh = yaml.safe_load(policy_file.read_text())
    from domain.policy import read_policy

    reread = read_policy(str(policy_file))
    assert reread.people["noah"].timezone is None, "the YAML itself is not rewritten"
    people_store.apply_changes(reread, await people_store.changes())
    assert reread.people["noah"].timezone == "Asia/Tokyo", "laid over the YAML again, as at start"

    url = bot.runtime.settings.database_url.get_secret_value()
    assert fresh["people"]["noah"].get("timezone") is None
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "greenlight"),
            "people",
            "export",
            "--db",
            url,
            "--policy",
            str(policy_file),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    exported = yaml.safe_load(done.stdout)
    assert exported["people"]["noah"] == {"email": "noah@example.com", "timezone": "Asia/Tokyo", "name": "Noah Park"}
    assert exported["people"]["ava"]["manager"] == "max", "the others as the YAML has them"


@pytest.mark.parametrize(
    ("person", "text", "said"),
    [
        ("ava", "people set ava timezone=Europe/Paris", "/deal people is for an admin"),
        ("dana", "people set ava email=not-an-address", "is not an email address"),
        ("dana", "people set ava timezone=Mars/Olympus", "timezone"),
        ("dana", "people set ava manager=nobody", "the manager 'nobody' is not in the directory"),
        ("dana", "people set ava colour=blue", "is not field=value with a field among"),
    ],
)
async def test_bad_changes_are_refused_with_a_sentence_and_nothing_is_stored(
    bot: Bot, person: str, text: str, said: str
) -> None:
    answer = (await bot.deal(person, text)).json()["text"]

    assert said in answer, answer
    assert await PersonChangeRow.all().count() == 0
    assert bot.policy.people["ava"].manager == "max"
