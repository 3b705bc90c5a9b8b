"""Rule descriptions given once or per language (policy-v1, issue 18): each reader sees theirs,
else the policy's language; a policy written before languages existed loads unchanged."""

from __future__ import annotations

import pytest

from domain import i18n
from domain.errors import PolicyError
from domain.policy import load_policy
from tests.support.quotes import example_policy

PEOPLE = "people: {vera: {slack: U0VERA}}\n"


def rules(locale: str, description: str) -> str:
    return (
        f"fallback_approver: vera\nlocale: {locale}\n{PEOPLE}"
        f"rules:\n  - {{name: deep, approver: vera, description: {description}}}\n"
    )


def test_a_description_per_language_is_read_in_the_readers_language() -> None:
    policy = load_policy(rules("en", "{en: Deep discount, fr: Remise importante}"))
    with i18n.speaking("fr"):
        assert policy.rules[0].description == "Remise importante"
    with i18n.speaking("en"):
        assert policy.rules[0].description == "Deep discount"


def test_a_language_the_description_lacks_falls_back_to_the_policys_language() -> None:
    policy = load_policy(rules("fr", "{fr: Remise importante, en: Deep discount}"))
    only_french = load_policy(rules("fr", "{fr: Remise importante}"))
    with i18n.speaking("en"):
        assert policy.rules[0].description == "Deep discount"
        assert only_french.rules[0].description == "Remise importante"


def test_a_description_given_once_reads_the_same_in_every_language() -> None:
    policy = load_policy(rules("en", "Deep discount"))
    with i18n.speaking("fr"):
        assert policy.rules[0].description == "Deep discount"


def test_a_description_in_a_language_greenlight_does_not_speak_is_refused() -> None:
    with pytest.raises(PolicyError, match="not a language Greenlight speaks"):
        load_policy(rules("en", "{en: Deep discount, tlh: Qapla}"))
    with pytest.raises(PolicyError, match="names no language"):
        load_policy(rules("en", "{}"))


def test_the_example_policy_gives_a_french_description_and_keeps_the_english_one() -> None:
    rule = example_policy().rule("manager-discount")
    assert rule is not None
    assert rule.description == "Discount above the rep's 10% authority"
    with i18n.speaking("fr"):
        assert rule.description == "Remise au-delà des 10\u00a0% que le commercial peut accorder seul"
