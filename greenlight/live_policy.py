"""A policy change without a restart, in every replica (docs/operations.md, "Changing the policy").

The database holds the policy in force as numbered versions of its text (`store.policies`). A
reload (`SIGHUP`, `/deal policy reload`, `greenlight policy apply FILE`, or a start with a changed
file) validates the text first: an invalid one changes nothing and every located problem is
reported. A valid one becomes the next version; every replica polls the version number every
`POLL` and applies a newer one. Each submission records the version that evaluated it; open
submissions keep the approvals they were asked for.

`LivePolicy.check(text)` validates without applying, for whatever wants to compare before a reload
(`/deal policy diff`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from domain.errors import InvalidInput, Problem
from domain.policy import Policy, load_policy
from domain.sourcemap import read_text
from store import policies

log = logging.getLogger("greenlight.policy")

POLL = dt.timedelta(seconds=2)


@dataclass(frozen=True)
class Reload:
    """What a reload did: the version in force afterwards, or why nothing changed."""

    source: str
    version: int | None = None
    changed: bool = False
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def sentence(self) -> str:
        if self.problems:
            count = len(self.problems)
            listed = "\n".join(f"• {problem}" for problem in self.problems)
            return (
                f"The policy in {self.source} was not applied: {count} problem{'s' if count != 1 else ''} "
                f"(the policy in force is unchanged):\n{listed}"
            )
        if not self.changed:
            return f"The policy in {self.source} is already in force (version {self.version}): nothing changed."
        return (
            f"Policy version {self.version} (from {self.source}) is in force; every replica applies it within seconds."
        )


@dataclass
class LivePolicy:
    """The policy this process evaluates with, following the shared version in the database."""

    policy: Policy
    file: Path | None
    apply: Callable[[Policy, int | None], None]
    clock: Callable[[], dt.datetime]
    text: str | None = None
    version: int | None = None
    reloads: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def check(text: str, source: str) -> Policy:
        """The policy `text` describes; PolicyError (InvalidInput) with every located problem otherwise."""
        return load_policy(text, source)

    async def start(self) -> None:
        """On start: the file (if it changed) becomes the next version; then the newest version is applied."""
        if self.text is not None and self.file is not None:
            found, created = await policies.publish(self.text, str(self.file), "start", self.clock())
            if created:
                log.info("policy version %d published from %s at start", found.version, self.file)
        await self.follow()

    async def reload(self, by: str, text: str | None = None, source: str | None = None) -> Reload:
        """Validate and publish `text` (default: the policy file as it is now), then apply it here."""
        origin = source or str(self.file or "the policy")
        if text is None:
            try:
                if self.file is None:
                    problem = Problem("GREENLIGHT_POLICY", "this process was not started from a policy file")
                    raise InvalidInput([problem])
                text = read_text(self.file, "policy file")
            except InvalidInput as error:
                outcome = Reload(origin, self.version, problems=tuple(error.problems))
                self._count("invalid")
                log.error("%s", outcome.sentence())
                return outcome
        outcome = await publish(text, origin, by, self.clock())
        if outcome.ok:
            await self.follow()
            self._count("applied" if outcome.changed else "unchanged")
            log.info("%s (asked by %s)", outcome.sentence(), by)
        else:
            self._count("invalid")
            log.error("%s", outcome.sentence())
        return outcome

    async def follow(self) -> bool:
        """Apply the newest shared version if it is not the one in force here; True when it changed."""
        number = await policies.newest_number()
        if number == 0 or number == self.version:
            return False
        newest = await policies.newest()
        if newest is None:
            return False
        if self.version is None and newest.text == self.text:
            self.version = newest.version  # the policy this process started with: already in force
            self.apply(self.policy, newest.version)
            return False
        try:
            policy = self.check(newest.text, f"policy version {newest.version}")
        except InvalidInput as error:
            # valid when published; a release that reads policies differently could refuse it
            log.error("policy version %d cannot be applied here, the previous one stays: %s", newest.version, error)
            self.version = newest.version
            return False
        self.policy, self.text, self.version = policy, newest.text, newest.version
        self.apply(policy, newest.version)
        log.info("policy version %d (from %s, by %s) applied", newest.version, newest.source, newest.applied_by)
        return True

    def _count(self, result: str) -> None:
        self.reloads[result] = self.reloads.get(result, 0) + 1


async def publish(text: str, source: str, by: str, now: dt.datetime) -> Reload:
    """Validate `text`; if valid, make it the next shared version (every replica follows within `POLL`)."""
    try:
        LivePolicy.check(text, source)
    except InvalidInput as error:
        return Reload(source, problems=tuple(error.problems))
    found, created = await policies.publish(text, source, by, now)
    return Reload(source, found.version, changed=created)
