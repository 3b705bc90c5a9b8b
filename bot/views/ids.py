"""The ids Slack hands back to Greenlight: action ids, callback ids, block ids and request refs.

A request message (an approver's DM) carries exactly one set of approval buttons, with the
action ids of slack-v1 §4. App Home lists several requests in one view, where every action id
must be unique: there each button's id gets a `:<n>` suffix (`approval.approve:3`). Listeners
match both with `action_pattern(APPROVE)` and read which request from the button's `value`,
a `RequestRef` ("Q-1042#2/manager-discount"), never from the id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.approvals import Approval, Submission

# buttons on an approval request (DM, App Home)
APPROVE = "approval.approve"
REJECT = "approval.reject"
REASSIGN = "approval.reassign"
DETAILS = "approval.details"
APPROVE_COMMENT = "approval.approve_comment"
APPROVAL_ACTIONS = (APPROVE, REJECT, REASSIGN, DETAILS, APPROVE_COMMENT)

# modals (callback ids), opened by the button of the same name
REJECT_MODAL = "approval.reject"
REASSIGN_MODAL = "approval.reassign"
DETAILS_MODAL = "approval.details"
APPROVE_COMMENT_MODAL = "approval.approve_comment"
OOO_MODAL = "home.ooo"

# App Home buttons
OOO_OPEN = "home.ooo"
OOO_END = "home.ooo_off"
HOME_PAGE_PREVIOUS = "home.page_previous"  # the value is the page it turns to, from 1
HOME_PAGE_NEXT = "home.page_next"

# inputs: (block_id, action_id); Slack returns view.state.values[block_id][action_id]
REJECT_REASON = ("reject.reason", "reject.reason_input")
APPROVE_NOTE = ("approve.comment", "approve.comment_input")
REASSIGN_TO = ("reassign.to", "reassign.to_user")
REASSIGN_COMMENT = ("reassign.comment", "reassign.comment_input")
OOO_START = ("ooo.start", "ooo.start_date")
OOO_END_DATE = ("ooo.end", "ooo.end_date")
OOO_DELEGATE = ("ooo.delegate", "ooo.delegate_user")

_REF = re.compile(r"^(?P<quote>.+?)#(?P<number>\d+)/(?P<rule>.+)$")


def numbered(action_id: str, index: int) -> str:
    """The id of one of several same-kind buttons in a view: `approval.approve:3`."""
    return f"{action_id}:{index}"


def action_kind(action_id: str) -> str:
    """The action a (possibly numbered) action id stands for: `approval.approve:3` -> `approval.approve`."""
    return action_id.split(":", 1)[0]


def action_pattern(action_id: str) -> re.Pattern[str]:
    """Matches the action id itself and its numbered forms (for `app.action(...)`)."""
    return re.compile(rf"^{re.escape(action_id)}(?::\d+)?$")


@dataclass(frozen=True)
class RequestRef:
    """Which approval request a button or modal is about: quote, submission number and rule."""

    quote_id: str
    submission: int
    rule: str

    @classmethod
    def of(cls, sub: Submission, approval: Approval) -> RequestRef:
        return cls(sub.quote_id, sub.number, approval.rule)

    @classmethod
    def parse(cls, value: str) -> RequestRef:
        match = _REF.match(value or "")
        if not match:
            raise ValueError(f"{value!r} is not a request reference like Q-1042#2/manager-discount")
        return cls(match["quote"], int(match["number"]), match["rule"])

    @property
    def value(self) -> str:
        return f"{self.quote_id}#{self.submission}/{self.rule}"

    def __str__(self) -> str:
        return self.value
