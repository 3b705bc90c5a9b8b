"""The errors Greenlight raises, as one small tree callers can catch.

    GreenlightError
    ├── InvalidInput          a file, request or command that cannot be accepted (has .problems)
    │   ├── PolicyError
    │   ├── QuoteError
    │   └── ScenarioError
    ├── NotAllowed            the person may not do this
    ├── StaleRequest          the thing acted on has moved on (decided, revoked, newer version)
    ├── NotFound              an unknown quote, approval or person
    └── Conflict              the request contradicts the stored state
        └── StaleVersion      a quote version lower than, or equal to and different from, the stored one

The edges (CLI, Slack, HTTP) turn them into exit codes, ephemeral messages and 4xx answers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, and where it is."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class GreenlightError(Exception):
    """Base of every error Greenlight raises on purpose."""


class InvalidInput(GreenlightError):
    def __init__(self, problems: list[Problem] | str, source: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(str(p) for p in problems))


class PolicyError(InvalidInput):
    pass


class QuoteError(InvalidInput):
    pass


class ScenarioError(InvalidInput):
    pass


class NotAllowed(GreenlightError):
    pass


class StaleRequest(GreenlightError):
    pass


class NotFound(GreenlightError):
    pass


class Conflict(GreenlightError):
    pass


class StaleVersion(Conflict):
    """A quote version that lost to the stored one (crm-v1 §3); `stored` is the version kept."""

    def __init__(self, quote_id: str, version: int, stored: int) -> None:
        self.quote_id = quote_id
        self.version = version
        self.stored = stored
        super().__init__(f"{quote_id} version {version} is stale: version {stored} is stored")
