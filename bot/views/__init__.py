"""Block Kit views as pure functions: data in, `slack_sdk.models` objects (and the top-level
text) out. No Slack client, no store, no clock: listeners pass what the view shows."""

from .forms import FormErrors, read_approve_comment, read_ooo, read_reassign, read_reject
from .home import MAX_WAITING as MAX_WAITING
from .home import WAITING_PER_PAGE as WAITING_PER_PAGE
from .home import app_home, ooo_modal
from .ids import RequestRef, action_kind, action_pattern, numbered
from .messages import (
    QUIET_KINDS,
    approvers_message,
    approvers_overview,
    help_message,
    preview_message,
    refusal,
    rep_thread_update,
    status_message,
    usage_message,
)
from .notices import notice, people_message, windows_message
from .requests import (
    OPEN,
    Decision,
    RequestState,
    approval_request,
    approve_comment_modal,
    decisions,
    details_modal,
    outcome_text,
    reassign_modal,
    reject_modal,
    request_state,
)
from .text import escape, top_text

__all__ = [
    "OPEN",
    "QUIET_KINDS",
    "Decision",
    "FormErrors",
    "RequestRef",
    "RequestState",
    "action_kind",
    "action_pattern",
    "app_home",
    "approval_request",
    "approve_comment_modal",
    "approvers_message",
    "approvers_overview",
    "decisions",
    "details_modal",
    "escape",
    "help_message",
    "notice",
    "numbered",
    "ooo_modal",
    "outcome_text",
    "people_message",
    "preview_message",
    "read_approve_comment",
    "read_ooo",
    "read_reassign",
    "read_reject",
    "reassign_modal",
    "refusal",
    "reject_modal",
    "rep_thread_update",
    "request_state",
    "status_message",
    "top_text",
    "usage_message",
    "windows_message",
]
