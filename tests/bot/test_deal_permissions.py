"""Who may run which `/deal` subcommand (slack-v1 §3), as a table."""

import datetime as dt

import pytest

from bot.commands import (
    Account,
    Approvers,
    Delegate,
    Help,
    Orders,
    OutOfOffice,
    OutOfOfficeOff,
    Preview,
    Recall,
    Replace,
    Status,
    Submit,
    UserRef,
    allowed,
    refusal_text,
)

A, B = UserRef(name="a"), UserRef(name="b")
DAY = dt.date(2026, 12, 1)
COMMANDS = {
    "help": Help(),
    "preview": Preview("Q-1042"),
    "submit": Submit("Q-1042"),
    "status": Status("Q-1042"),
    "recall": Recall("Q-1042"),
    "orders": Orders("Q-1042"),
    "account": Account("A-77"),
    "ooo": OutOfOffice(DAY, DAY, A),
    "ooo off": OutOfOfficeOff(),
    "delegate": Delegate(A, B, DAY, DAY),
    "replace": Replace(A, B),
    "approvers": Approvers(),
}

# who:        owner   approver  admin   someone else   not in the policy
TABLE = {
    "help": (True, True, True, True, True),
    "preview": (True, False, True, False, False),
    "submit": (True, False, False, False, False),
    "status": (True, True, True, False, False),
    "recall": (True, False, False, False, False),
    "orders": (True, False, True, False, False),
    "account": (True, True, True, True, True),
    "ooo": (True, True, True, True, True),
    "ooo off": (True, True, True, True, True),
    "delegate": (False, False, True, False, False),
    "replace": (False, False, True, False, False),
    "approvers": (False, False, True, False, False),
}
WHO = {
    "owner": dict(person="ava", quote_owner="ava"),
    "approver": dict(person="marco", quote_owner="ava", is_approver=True),
    "admin": dict(person="dana", quote_owner="ava", is_admin=True),
    "someone else": dict(person="ben", quote_owner="ava"),
    "not in the policy": dict(person=None, quote_owner="ava"),
}


@pytest.mark.parametrize("name", TABLE)
@pytest.mark.parametrize("who", list(WHO))
def test_permission_table(name, who):
    expected = TABLE[name][list(WHO).index(who)]
    assert allowed(COMMANDS[name], **WHO[who]) is expected


def test_an_admin_who_owns_the_quote_may_submit_it_as_its_owner():
    assert allowed(Submit("Q-1"), "dana", quote_owner="dana", is_admin=True)


def test_a_quote_nobody_owns_gives_no_owner_rights():
    assert not allowed(Recall("Q-1"), "ava", quote_owner=None)


def test_a_refusal_names_who_may_run_the_command():
    assert refusal_text(Preview("Q-1042")) == "Only the quote's owner or an admin can preview Q-1042."
    assert refusal_text(Status("Q-1")) == "Only the quote's owner, its approvers or an admin can see where Q-1 stands."
    assert refusal_text(Replace(A, B)) == "Only an admin can replace an approver."
