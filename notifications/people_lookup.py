"""People listed by email: their Slack ids looked up (`users.lookupByEmail`, scope
`users:read.email`) and kept in the directory in memory, at start and every hour after, so a new
hire listed with only an email can approve and submit once they join Slack.

A person whose Slack id is in the policy keeps it; one Slack does not know (yet) stays reached
by email. Trouble with Slack is logged and tried again on the next round.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from domain.policy import Policy

log = logging.getLogger("greenlight.people")


async def look_up_slack_ids(client: AsyncWebClient, policy: Policy) -> list[str]:
    """Fill in the Slack id of everyone listed with an email and no Slack id; the keys found."""
    found: list[str] = []
    for key, person in list(policy.people.items()):
        if person.slack or not person.email:
            continue
        try:
            answer = await client.users_lookupByEmail(email=person.email)
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            if code != "users_not_found":
                log.warning("Slack id of %s not looked up: %s", key, code or error)
            continue
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("Slack id of %s not looked up: %r; trying again later", key, error)
            return found
        user_id = str((answer.get("user") or {}).get("id") or "")
        if user_id:
            policy.people[key] = person.model_copy(update={"slack": user_id})
            found.append(key)
            log.info("%s (listed by email) is Slack user %s", key, user_id)
    return found
