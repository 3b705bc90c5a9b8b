"""Money, numbers and moments as each reader writes them (Babel's CLDR data is the reference)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import i18n
from domain.errors import PolicyError
from domain.policy import load_policy

NNBSP, NBSP = "\u202f", "\xa0"


def test_money_in_french_and_english_follows_each_locale() -> None:
    with i18n.speaking("fr"):
        assert i18n.money(Decimal("1234567.5"), "EUR") == f"1{NNBSP}234{NNBSP}567,50{NBSP}€"
    with i18n.speaking("en"):
        assert i18n.money(Decimal("1234567.5"), "EUR") == "€1,234,567.50"
        assert i18n.money(4256, "JPY") == "¥4,256"


@given(cents=st.integers(min_value=-(10**12), max_value=10**12), currency=st.sampled_from(["USD", "EUR", "JPY", "GBP"]))
def test_no_amount_is_ever_shown_as_a_float_repr(cents: int, currency: str) -> None:
    amount = cents / 100  # a float, as a quote's JSON gives it
    for language in ("en", "fr"):
        with i18n.speaking(language):
            text = i18n.money(amount, currency)
        assert "e+" not in text and "e-" not in text
        assert not any(run in text for run in ("0000000001", "9999999"))


def test_a_slack_locale_tag_picks_the_language_and_unknown_ones_fall_back() -> None:
    assert i18n.normalize("fr-FR") == "fr"
    assert i18n.normalize("fr_CA.UTF-8") == "fr"
    assert i18n.normalize("en-US") == "en"
    assert i18n.normalize("zz-!!") is None
    assert i18n.normalize("") is None
    assert i18n.choose(None, "fr-FR", "en") == "fr"
    assert i18n.choose("tlh", None, "en") == "en"


def test_speaking_sets_the_language_only_inside_the_block() -> None:
    with i18n.speaking("fr"):
        assert i18n.current() == "fr"
        with i18n.speaking("en"):
            assert i18n.current() == "en"
        assert i18n.current() == "fr"
    assert i18n.current() == i18n.DEFAULT_LOCALE


def test_the_same_moment_reads_the_same_in_paris_for_everyone_and_is_labelled() -> None:
    at = dt.datetime(2026, 12, 3, 17, 27, tzinfo=dt.UTC)
    paris = ZoneInfo("Europe/Paris")
    with i18n.speaking("fr"):
        french = i18n.moment(at, paris, now=at)
        assert i18n.date(at.date()) == "3 décembre 2026"
    with i18n.speaking("en"):
        english = i18n.moment(at, paris, now=at)
    assert french == "18:27 (Paris)"
    assert english == f"6:27{NNBSP}PM (Paris)"


def test_one_instant_written_twice_in_two_zones_and_languages_keeps_each_zone_and_language() -> None:
    at = dt.datetime(2026, 12, 3, 17, 27, tzinfo=dt.UTC)
    paris, new_york = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
    for _ in range(2):  # the second round is answered from what the first one formatted
        with i18n.speaking("en"):
            assert i18n.moment(at, paris) == "Dec 3, 2026, 6:27\u202fPM (Paris)"
            assert i18n.moment(at, new_york) == "Dec 3, 2026, 12:27\u202fPM (New York)"
            assert i18n.moment(at, new_york, now=at, label=False) == "12:27\u202fPM"
        with i18n.speaking("fr"):
            assert i18n.moment(at, paris, now=at) == "18:27 (Paris)"
            assert i18n.money(Decimal("1234.5"), "EUR") == f"1{NNBSP}234,50{NBSP}€"
        with i18n.speaking("en"):
            assert i18n.money(Decimal("1234.5"), "EUR") == "€1,234.50"


def test_a_slack_moment_carries_the_timestamp_and_a_labelled_fallback() -> None:
    at = dt.datetime(2026, 12, 3, 17, 27, tzinfo=dt.UTC)
    with i18n.speaking("fr"):
        token = i18n.slack_moment(at, ZoneInfo("America/New_York"))
    assert token.startswith(f"<!date^{int(at.timestamp())}^")
    assert token.endswith("12:27 (New York)>")


def test_policy_texts_given_per_language_fall_back_to_the_default() -> None:
    text = {"en": "Deep discount", "fr": "Remise importante"}
    with i18n.speaking("fr"):
        assert i18n.localized(text) == "Remise importante"
        assert i18n.localized({"en": "Only English"}) == "Only English"
        assert i18n.localized("Plain") == "Plain"


def test_a_policy_naming_a_language_greenlight_does_not_speak_is_refused() -> None:
    with pytest.raises(PolicyError, match="not a language Greenlight speaks"):
        load_policy("fallback_approver: vera\nlocale: tlh\npeople: {vera: {slack: U0VERA}}\n")


def test_a_persons_language_comes_from_the_policy_then_slack_then_the_default() -> None:
    policy = load_policy(
        "fallback_approver: vera\nlocale: fr\npeople: {vera: {slack: U0VERA, locale: en}, mike: {slack: U0MIKE}}\n"
    )
    assert policy.person_locale("vera", "fr-FR") == "en"
    assert policy.person_locale("mike", "en-US") == "en"
    assert policy.person_locale("mike") == "fr"
    assert policy.person_locale(None) == "fr"
