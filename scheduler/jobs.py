"""Every timed job Greenlight runs, in one place: what each does, how often, and what it wakes.

APScheduler only triggers the jobs (`scheduler.sweeps.Sweeps`); the database holds what is due.
Each job is a small async function of what it needs, given the time by a clock, returning how
much it did. When a job did something, the jobs named in its `wakes` run at once instead of on
their next tick: a release queues ERP messages and announcements, so it wakes `erp` and `slack`.

| job         | every                 | runs                                                   | wakes              |
|-------------|-----------------------|--------------------------------------------------------|--------------------|
| `release`   | `Intervals.release`   | `release_due`: due orders released, their ERP messages | `slack`, `erp`     |
| `approvals` | `Intervals.approvals` | `approvals_tick`: reminders, escalations, delegates    | `slack`            |
| `slack`     | `Intervals.outbox`    | `deliver`: Slack messages (email for who Slack misses) |                    |
| `orders`    | `Intervals.outbox`    | `deliver`: orders generated on approval                | `slack`, `release` |
| `erp`       | `Intervals.outbox`    | `deliver`: signed ERP webhooks                         | `slack`            |
| `email`     | `Intervals.outbox`    | `deliver`: email                                       | `slack`            |
| `delegations` | `Intervals.delegations` | `prune_delegations`: windows ended 90 days ago deleted (audit kept) |  |
| `renewals`  | `Intervals.renewals`  | `remind_renewals`: contracts ending within the notice  | `slack`            |

Each outbox topic (`domain.reactions.Topic`) has its job when its worker is given: `erp` only with
an ERP configured, `email` only with email on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from domain.order_service import Orders
from domain.reactions import Topic
from domain.service import Approvals

from .sweeps import Sweeps

Clock = Callable[[], dt.datetime]


class Worker(Protocol):
    """What drains one outbox topic (`notifications.worker.Worker`, given by the composition root)."""

    async def sweep(self) -> int: ...


async def release_due(orders: Orders, clock: Clock) -> int:
    """Release every order due now (orders-v1 §2); how many were released."""
    return await orders.release_due(clock())


async def approvals_tick(approvals: Approvals, clock: Clock) -> int:
    """Reminders, escalations and delegates whose window opened (policy-v1 §3.9, §3.11); how many events."""
    return len(await approvals.tick(clock()))


async def prune_delegations(approvals: Approvals, clock: Clock) -> int:
    """Delete delegation windows that ended long ago, so that reads of the current ones stay small."""
    return await approvals.prune_delegations(clock())


async def remind_renewals(orders: Orders, clock: Clock) -> int:
    """Contracts whose end is within the policy's `orders.renewal_notice_days`: their owner is told once."""
    return await orders.remind_renewals(clock())


async def deliver(worker: Worker) -> int:
    """One pass of an outbox topic's worker; how many rows it finished (sent, or dead letters)."""
    return await worker.sweep()


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], Awaitable[int]]
    every: dt.timedelta
    wakes: tuple[str, ...] = ()
    settle: float = 0.0
    """Seconds a kicked run waits for more kicks (`scheduler.sweeps`)."""


@dataclass(frozen=True)
class Intervals:
    outbox: dt.timedelta = dt.timedelta(seconds=5)
    settle: float = 0.05
    """How long a kicked outbox worker gathers: the clicks of a busy moment share its batches."""
    approvals: dt.timedelta = dt.timedelta(seconds=60)
    release: dt.timedelta = dt.timedelta(seconds=30)
    delegations: dt.timedelta = dt.timedelta(hours=1)
    renewals: dt.timedelta = dt.timedelta(hours=1)


# What a topic's delivery makes due elsewhere: generated orders may be due at once, everything else
# is announced in Slack.
_WAKES = {
    Topic.SLACK: (),
    Topic.ORDERS: ("slack", "release"),
    Topic.ERP: ("slack",),
    Topic.EMAIL: ("slack",),
    Topic.CRM: ("slack",),
}


def timed_jobs(
    orders: Orders,
    approvals: Approvals,
    clock: Clock,
    workers: Mapping[Topic, Worker],
    intervals: Intervals = Intervals(),
) -> list[Job]:
    """Every job, with the workers of the outbox topics that are on."""
    jobs = [
        Job("release", partial(release_due, orders, clock), intervals.release, ("slack", "erp", "crm")),
        Job("approvals", partial(approvals_tick, approvals, clock), intervals.approvals, ("slack",)),
        Job("delegations", partial(prune_delegations, approvals, clock), intervals.delegations),
        Job("renewals", partial(remind_renewals, orders, clock), intervals.renewals, ("slack",)),
    ]
    for topic in Topic:
        if topic in workers:
            run = partial(deliver, workers[topic])
            jobs.append(Job(topic.value, run, intervals.outbox, _WAKES[topic], settle=intervals.settle))
    return jobs


def schedule(sweeps: Sweeps, jobs: Iterable[Job]) -> None:
    """Add each job to the sweeps; a job that did something wakes the jobs it names."""
    for job in jobs:
        sweeps.add(job.name, partial(_run, sweeps, job), job.every, settle=job.settle)


async def _run(sweeps: Sweeps, job: Job) -> int:
    done = await job.run()
    if done:
        for name in job.wakes:
            sweeps.kick(name)
    return done
