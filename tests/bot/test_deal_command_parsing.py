"""`/deal` text into commands (slack-v1 §3): every subcommand, every mention format, and a
usage line with every refusal."""

import datetime as dt

import pytest
from bot_kit import policy

from bot.commands import (
    USAGE,
    WHO_MAY,
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
    UsageError,
    UserRef,
    full_usage,
    help_text,
    parse,
    resolve_user,
)
from domain.errors import GreenlightError

D = dt.date
DEV = UserRef(slack_id="U04DR9M3QXB")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("help", Help()),
        ("", Help()),
        ("help ooo", Help("ooo")),
        ("preview Q-1042", Preview("Q-1042")),
        ("submit Q-1042", Submit("Q-1042")),
        ("status Q-1042", Status("Q-1042")),
        ("recall Q-1042", Recall("Q-1042")),
        ("orders Q-1042", Orders("Q-1042")),
        ("account A-77", Account("A-77")),
        ("account A-77 2027-03-01", Account("A-77", D(2027, 3, 1))),
        ("ooo 2026-12-20 2027-01-03 <@U04DR9M3QXB>", OutOfOffice(D(2026, 12, 20), D(2027, 1, 3), DEV)),
        ("ooo 2026-12-20 2026-12-20 @dev", OutOfOffice(D(2026, 12, 20), D(2026, 12, 20), UserRef(name="dev"))),
        ("ooo off", OutOfOfficeOff()),
        (
            "delegate <@U02CJ8F5CFO|carl> <@U03FG2C7CTL|fiona> 2026-12-01 2026-12-05",
            Delegate(UserRef("U02CJ8F5CFO", "carl"), UserRef("U03FG2C7CTL", "fiona"), D(2026, 12, 1), D(2026, 12, 5)),
        ),
        ("replace @leo @luis", Replace(UserRef(name="leo"), UserRef(name="luis"))),
        ("approvers", Approvers()),
    ],
)
def test_every_subcommand_parses_into_its_command(text, command):
    assert parse(text) == command


def test_subcommands_ignore_case_and_extra_spaces():
    assert parse("  SUBMIT   Q-1042  ") == Submit("Q-1042")
    assert parse("OOO Off") == OutOfOfficeOff()


@pytest.mark.parametrize(
    ("token", "ref"),
    [
        ("<@U04DR9M3QXB>", UserRef("U04DR9M3QXB", None)),
        ("<@U04DR9M3QXB|dev>", UserRef("U04DR9M3QXB", "dev")),
        ("<@W0ENTERPRISE|dev.raman>", UserRef("W0ENTERPRISE", "dev.raman")),
        ("@dev.raman", UserRef(None, "dev.raman")),
    ],
)
def test_people_arrive_as_escaped_mentions_or_plain_names(token, ref):
    assert parse(f"replace {token} @luis").old == ref


def test_a_mention_whose_name_has_a_space_stays_one_argument():
    command = parse("replace <@U04LF8C2LGL|Leo Fitzgerald> @luis")
    assert command == Replace(UserRef("U04LF8C2LGL", "Leo Fitzgerald"), UserRef(name="luis"))


def test_slack_escaped_text_is_unescaped():
    assert parse("account A-10&amp;42") == Account("A-10&42")


MALFORMED = [
    ("preview", "preview", "needs one quote id"),
    ("submit Q-1 Q-2", "submit", "one too many"),
    ("status", "status", "needs one quote id"),
    ("recall @ava", "recall", "is a person"),
    ("orders <@U05AB3R8AEN>", "orders", "is a person"),
    ("submit " + "Q" * 65, "submit", "at most 64"),
    ("account", "account", "needs an account id"),
    ("account A-77 yesterday", "account", "YYYY-MM-DD"),
    ("account A-77 2026-02-30", "account", "not a real date"),
    ("account A-77 2026-01-01 extra", "account", "too many"),
    ("account 2026-01-01", "account", "not an account id"),
    ("ooo cancel", "ooo", "needs the number of a window"),
    ("ooo cancel next", "ooo", "is not a window number"),
    ("ooo replace 3 2026-12-20", "ooo", "needs the new start date, end date and delegate"),
    ("ooo 2026-12-20", "ooo", "got 1 argument"),
    ("ooo 2026-12-20 2027-01-03", "ooo", "got 2 arguments"),
    ("ooo 20-12-2026 2027-01-03 @dev", "ooo", "YYYY-MM-DD"),
    ("ooo 2027-01-03 2026-12-20 @dev", "ooo", "before the start date"),
    ("ooo 2026-12-20 2027-01-03 dev", "ooo", "mention the delegate with @"),
    ("ooo 2026-12-20 2027-01-03 @dev @dana", "ooo", "one too many"),
    ("ooo off now", "ooo", "takes nothing more"),
    ("delegate @carl @fiona 2026-12-01", "delegate", "got 3 arguments"),
    ("delegate carl @fiona 2026-12-01 2026-12-05", "delegate", "mention the person who is away"),
    ("delegate @carl @carl 2026-12-01 2026-12-05", "delegate", "their own delegate"),
    ("delegate @carl @fiona 2026-12-05 2026-12-01", "delegate", "before the start date"),
    ("replace @leo", "replace", "got 1 argument"),
    ("replace @leo luis", "replace", "mention the new approver"),
    ("replace <@U04LF8C2LGL> <@U04LF8C2LGL|leo>", "replace", "changes nothing"),
    ("approvers all", "approvers", "one too many"),
]


@pytest.mark.parametrize(("text", "sub", "why"), MALFORMED)
def test_malformed_input_says_what_is_wrong_and_shows_the_usage_line(text, sub, why):
    with pytest.raises(UsageError) as caught:
        parse(text)
    error = caught.value
    assert why in error.problem
    assert error.usage == USAGE[sub]
    assert str(error).endswith(USAGE[sub])
    assert isinstance(error, GreenlightError)


@pytest.mark.parametrize("text", ["approve Q-1042", "sumbit Q-1042", "help nothing"])
def test_an_unknown_subcommand_shows_the_full_usage(text):
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert caught.value.usage == full_usage()
    for line in USAGE.values():
        assert line in str(caught.value)


def test_usage_and_permissions_cover_the_same_subcommands_as_the_contract():
    contract = {"help", "preview", "submit", "status", "recall", "orders", "account"}
    contract |= {"ooo", "delegate", "replace", "approvers"}
    # the contract's subcommands are all there; extensions (insights, policy diff...) may add more
    assert set(USAGE) == set(WHO_MAY)
    assert contract <= set(USAGE)


def test_help_lists_every_usage_line_and_who_may_run_it():
    text = help_text()
    for name, line in USAGE.items():
        for part in line.split(" · "):
            assert f"`{part}`" in text, name
    assert "(an admin)" in text
    assert "(anyone)" in text
    assert "<" not in text and ">" not in text
    assert help_text("submit").count("\n") == 0


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        (UserRef(slack_id="U04DR9M3QXB"), "dev"),
        (UserRef(slack_id="U0NOBODY", name="dana"), None),  # a mention's label is never trusted
        (UserRef(name="Dana"), "dana"),
        (UserRef(name="fiona.gallagher"), "fiona"),
        (UserRef(name="Chloé Durand"), "chloe"),
        (UserRef(name="farah"), "farah"),
        (UserRef(name="stranger"), None),
        (UserRef(slack_id="U0NOBODY"), None),
    ],
)
def test_a_user_reference_resolves_to_a_people_key(ref, key):
    assert resolve_user(ref, policy()) == key
