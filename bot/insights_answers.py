"""The answers to `/deal insights` and `/deal policy diff` (admins only; `render.run_command` checked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.errors import GreenlightError

from . import commands as cmd
from .deps import Deps
from .render import answer
from .views.insights import insights_message, policy_diff_message

DAYS = 28


async def insights_answer(deps: Deps, command: cmd.Insights | cmd.PolicyDiff, person: str) -> dict[str, Any]:
    now = deps.clock()
    if isinstance(command, cmd.PolicyDiff):
        if deps.policy_diff is None:
            raise GreenlightError("the policy comparison is not available here: it needs the policy file and the store")
        result, source, same = await deps.policy_diff()
        return answer(*policy_diff_message(result, source, same))
    if deps.insights is None:
        raise GreenlightError("insights are not available here: they need the store")
    report = await deps.insights(now, now - dt.timedelta(days=DAYS))
    link = deps.insights_link(person, now) if deps.insights_link is not None else None
    return answer(*insights_message(report, deps.policy.people, link, DAYS))
