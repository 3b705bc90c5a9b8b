"""The sandbox switches the language a person reads: their Slack locale in the stand-in's
`users.info` (with `include_locale`, as Slack answers) and their `locale` in the policy in force, so
what Greenlight writes them next (here an email through the demo's SMTP mailbox) is in French."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.demo import Demo


async def test_a_person_switched_to_french_in_the_sandbox_reads_french_from_then_on(tmp_path: Path) -> None:
    async with Demo.running(data_dir=tmp_path / "demo") as demo, aiohttp.ClientSession() as session:
        async with session.get(demo.url + "api/meta") as response:
            meta = await response.json()
        assert {"tag": "fr", "name": "Français"} in meta["languages"]
        assert {p["key"]: p["language"] for p in meta["people"]}["felix"] == "en"

        for person in ("felix", "farah"):
            async with session.post(demo.url + f"api/people/{person}/language", json={"language": "fr"}) as response:
                assert response.status == 200
                assert (await response.json())["person"]["language"] == "fr"
        async with session.post(demo.url + "api/people/farah/language", json={"language": "tlh"}) as response:
            assert response.status == 400
            assert "'tlh' is not a language Greenlight speaks" in (await response.json())["error"]

        policy = demo.runtime.policy
        assert (policy.person_locale("felix"), policy.person_locale("farah"), policy.person_locale("ava")) == (
            "fr",
            "fr",
            "en",
        )
        felix = policy.people["felix"].slack
        client = AsyncWebClient(token=demo.slack.bot_token, base_url=demo.slack.api_url)
        assert (await client.users_info(user=felix, include_locale=True))["user"]["locale"] == "fr-FR"
        assert "locale" not in (await client.users_info(user=felix))["user"]

        # Q-1042: once payment-terms is approved, rev-rec-multi-year asks Farah (not on Slack) by email.
        ava = policy.people["ava"].slack
        assert (await demo.driver.command(ava, "/deal", "submit Q-1042")).status == 200
        service = demo.runtime.service
        for person in ("fiona", "carl"):
            await service.decide("Q-1042", "payment-terms", person, "approve", demo.clock())
        await demo.settle("slack", "email")
        mail = await demo.mailbox.wait_for(
            1, lambda m: "rev-rec-multi-year" in m.subject and any("farah" in a for a in m.rcpt_tos)
        )
    assert mail.subject.startswith("À approuver : Q-1042 v1")  # a header keeps plain spaces
    assert "sollicite votre approbation, Farah Siddiqui." in mail.text
    assert [link.label for link in mail.links] == ["Approuver", "Refuser"]
