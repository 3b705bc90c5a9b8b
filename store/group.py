"""Group commit on SQLite: concurrent transactions of one process share one commit (one fsync).

A transaction asks for a turn. One writer task holds a single database transaction open (write
lock taken at once) and gives turns one at a time, in order of arrival; each turn runs inside a
savepoint of its own, so a turn that fails (its compare-and-set lost, a refusal) rolls back alone
and the others carry on. When nobody else waits (or `LIMIT` turns ran), the writer commits, and
only then does each turn return: every caller's change is durable before it answers, as if it had
committed on its own. A failed commit fails every turn of its group (the callers retry).

Other users of the connection (the outbox workers, the sweeps) keep taking tortoise's own lock
between groups, and `LIMIT` bounds how long a group holds it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from itertools import count
from typing import Any, TypeVar

from tortoise.connection import get_connections
from tortoise.transactions import in_transaction

from .sqlite import as_tortoise as _as_tortoise
from .sqlite import on_sqlite

T = TypeVar("T")

LIMIT = 64
"""Turns per group at most: the write lock is given back to others at least that often."""

RUN_FOR = 0.05
"""Seconds the driver's thread keeps committing groups of jobs in one hand-off while more keep coming;
then tortoise's other users of the connection (the outbox workers, the sweeps) have their turn."""

TAKE_WRITE_LOCK = "UPDATE request_key SET answer = answer WHERE 0"
"""Like BEGIN IMMEDIATE: a deferred transaction that reads first fails with "database is locked"
when another process writes meanwhile."""


@dataclass
class _Turn:
    started: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    finished: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    committed: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    job: Callable[[sqlite3.Connection], Any] | None = None
    """A turn run whole in the driver's thread (`GroupCommit.run`); then what it returned or raised."""
    outcome: Any = None
    error: BaseException | None = None


@dataclass
class Counts:
    """What the group committer did (commits is the number of fsyncs it asked for)."""

    commits: int = 0
    turns: int = 0
    largest: int = 0


class GroupCommit:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.counts = Counts()
        self._waiting: deque[_Turn] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._names = count()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[Any]:
        """The shared transaction's connection, inside a savepoint of this turn's own; returns once
        the group that holds this turn has committed (raises what the turn raised, or the commit's error)."""
        async with self.deferred_turn() as (connection, savepoint):
            await on_sqlite(connection, savepoint.open)
            yield connection

    @asynccontextmanager
    async def deferred_turn(self) -> AsyncIterator[tuple[Any, Savepoint]]:
        """A turn whose savepoint its caller opens, in its first hand-off to the driver's thread, and
        may release in its last (`Savepoint`): two hand-offs fewer than `turn`, for the click's path.
        What the savepoint covers must not begin before it is opened."""
        turn = _Turn()
        self._waiting.append(turn)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        try:
            connection = await turn.started
        except BaseException:
            if turn in self._waiting:
                self._waiting.remove(turn)
            elif turn.started.done() and not turn.started.cancelled() and turn.started.exception() is None:
                turn.finished.set_result(True)  # given its turn as its caller gave up: it did nothing
            raise
        savepoint = Savepoint(f"turn_{next(self._names)}")
        token = get_connections().set(connection.connection_name, connection)
        ok = False
        try:
            try:
                yield connection, savepoint
            except BaseException:
                await on_sqlite(connection, savepoint.roll_back)
                ok = True  # rolled back alone: the group stays good
                raise
            await on_sqlite(connection, savepoint.release)
            ok = True
        finally:
            get_connections().reset(token)
            if not turn.finished.done():
                turn.finished.set_result(ok)
            # durable (or failed together) before the caller hears anything, even a refusal
            await asyncio.shield(turn.committed)

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """JOB run in the driver's thread with the sqlite3 connection, inside a savepoint of its own in
        the group's transaction, in one hand-off with the jobs queued beside it; returns what it
        returned, or raises what it raised (its savepoint rolled back: nothing of it kept), once the
        group has committed. JOB must not await anything: it is the whole turn."""
        turn = _Turn(job=job)
        self._waiting.append(turn)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        try:
            await asyncio.shield(turn.committed)
        except asyncio.CancelledError:
            with suppress(ValueError):  # not begun: it never will (taken meanwhile by the driver's thread: it runs)
                self._waiting.remove(turn)
            raise
        if turn.error is not None:
            error = _as_tortoise(turn.error)
            if error is turn.error:
                raise error
            raise error from turn.error
        return turn.outcome  # type: ignore[no-any-return]

    async def _write(self) -> None:
        while self._waiting:
            if self._waiting[0].job is not None:
                try:
                    await self._write_jobs()
                except BaseException as error:  # the hand-off itself failed: the jobs still in line hear why
                    stranded = []
                    while self._waiting and self._waiting[0].job is not None:
                        stranded.append(self._waiting.popleft())
                    self._answer(stranded, error)
                    if isinstance(error, asyncio.CancelledError):
                        raise
                continue
            group: list[_Turn] = []
            try:
                async with in_transaction() as connection:
                    await connection.execute_query(TAKE_WRITE_LOCK)
                    while self._waiting and len(group) < self.limit:
                        if self._waiting[0].job is not None:
                            jobs = []
                            while self._waiting and self._waiting[0].job is not None and len(group) < self.limit:
                                jobs.append(self._waiting.popleft())
                                group.append(jobs[-1])
                            await on_sqlite(connection, partial(self._run_jobs, jobs))
                            continue
                        turn = self._waiting.popleft()
                        if turn.started.done():  # its caller gave up while it waited
                            continue
                        group.append(turn)
                        turn.started.set_result(connection)
                        if not await turn.finished:
                            raise GroupFailed("a turn could not roll back its own changes")
            except BaseException as error:
                if not group:  # the transaction could not begin: every waiting turn hears why (and retries)
                    while self._waiting:
                        turn = self._waiting.popleft()
                        turn.started.set_exception(error)
                        turn.committed.set_exception(error)
                        _observed(turn)
                for turn in group:
                    if not turn.finished.done():
                        turn.finished.set_result(False)
                    turn.committed.set_exception(error)
                    _observed(turn)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            self._answer(group, None)

    async def _write_jobs(self) -> None:
        """The jobs first in line, committed in groups by the driver's thread in one hand-off
        (`_commit_groups`): each group is answered as it commits, while the next one runs."""
        db = get_connections().get("default")
        loop = asyncio.get_running_loop()
        async with db.acquire_connection():  # tortoise's lock: nobody else uses the connection meanwhile
            await on_sqlite(db, partial(self._commit_groups, loop))

    def _commit_groups(self, loop: asyncio.AbstractEventLoop, db: sqlite3.Connection) -> None:
        """In the driver's thread: group after group of the jobs first in line (BEGIN IMMEDIATE, each job
        in its savepoint, COMMIT), for as long as jobs keep coming, up to `RUN_FOR` seconds; each
        group's callers are answered through the event loop as soon as it committed. Stops at a turn
        that is not a job (the event loop's writer gives it its turn). The event loop only appends to
        `_waiting` meanwhile (and removes a job whose caller gave up, which this thread may have taken
        already: it then runs)."""
        until = time.monotonic() + RUN_FOR
        while time.monotonic() < until:
            jobs: list[_Turn] = []
            while len(jobs) < self.limit:
                try:
                    turn = self._waiting.popleft()
                except IndexError:
                    break
                if turn.job is None:
                    self._waiting.appendleft(turn)
                    break
                jobs.append(turn)
            if not jobs:
                return
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    self._run_jobs(jobs, db)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except Exception as error:  # every job of the group hears it (and retries)
                loop.call_soon_threadsafe(self._answer, jobs, _as_tortoise(error))
                continue
            except BaseException as error:
                loop.call_soon_threadsafe(self._answer, jobs, error)
                raise
            loop.call_soon_threadsafe(self._answer, jobs, None)

    def _answer(self, turns: list[_Turn], error: BaseException | None) -> None:
        """In the event loop: a group's turns committed (ERROR None), or failed as a whole."""
        for turn in turns:
            if error is None:
                turn.committed.set_result(None)
            else:
                turn.committed.set_exception(error)
                _observed(turn)
        if error is None:
            self.counts.commits += 1
            self.counts.turns += len(turns)
            self.counts.largest = max(self.counts.largest, len(turns))

    def _run_jobs(self, jobs: list[_Turn], db: sqlite3.Connection) -> None:
        """In the driver's thread: each job in a savepoint of its own, rolled back alone when it raises."""
        for turn in jobs:
            assert turn.job is not None
            savepoint = Savepoint(f"turn_{next(self._names)}")
            savepoint.open(db)
            try:
                turn.outcome = turn.job(db)
            except Exception as error:
                turn.error = error
                try:
                    savepoint.roll_back(db)
                except sqlite3.Error as failed:
                    raise GroupFailed(f"a turn could not roll back its own changes: {failed}") from failed
                continue
            savepoint.release(db)


@dataclass
class Savepoint:
    """A turn's savepoint. Its methods run in the driver's thread, each statement by itself (a script
    would commit the shared transaction first), so that a caller can open it in the same hand-off as
    its first statements and release it in the same hand-off as its last. The turn releases it, or
    rolls back to it, if its caller has not."""

    name: str
    opened: bool = False
    released: bool = False

    def open(self, db: sqlite3.Connection) -> None:
        if not self.opened:
            db.execute(f"SAVEPOINT {self.name}")
            self.opened = True

    def release(self, db: sqlite3.Connection) -> None:
        if self.opened and not self.released:
            db.execute(f"RELEASE {self.name}")
            self.released = True

    def roll_back(self, db: sqlite3.Connection) -> None:
        if self.opened and not self.released:
            db.execute(f"ROLLBACK TO {self.name}")
            db.execute(f"RELEASE {self.name}")
            self.released = True

    def opening(self, work: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
        """WORK with the savepoint opened first, in the same hand-off."""

        def opened(db: sqlite3.Connection) -> T:
            self.open(db)
            return work(db)

        return opened

    def releasing(self, write: Callable[[sqlite3.Connection], bool]) -> Callable[[sqlite3.Connection], bool]:
        """WRITE inside the savepoint (opened first if need be), which is released in the same hand-off
        when the write held (a write whose compare-and-set failed leaves it to the turn, which rolls
        back to it)."""

        def released(db: sqlite3.Connection) -> bool:
            self.open(db)
            saved = write(db)
            if saved:
                self.release(db)
            return saved

        return released


class GroupFailed(RuntimeError):
    """The group was rolled back as a whole: nothing of any of its turns was kept (retry them)."""


def _observed(turn: _Turn) -> None:
    """Mark the futures' exceptions as retrieved (a turn whose caller was cancelled never reads them)."""
    for future in (turn.started, turn.committed):
        if future.done() and not future.cancelled():
            with suppress(BaseException):
                future.exception()
