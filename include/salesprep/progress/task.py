"""The progress interface: a `Reporter` hands out `Task`s, and a task tells its reporter when
it starts, moves and ends; the two reporters (`live`, `lines`) decide what to show."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType


class Task:
    """One piece of long work: `completed` out of `total` (None: not known yet) `unit`s, and
    a short `state` (a Bulk job's state, the last dbt node). Thread-safe: dbt reports from its
    worker threads."""

    def __init__(self, reporter: Reporter, description: str, total: int | None, unit: str) -> None:
        self.reporter = reporter
        self.description = description
        self.total = total
        self.unit = unit
        self.completed = 0
        self.state = ""
        self.started = reporter.clock()
        self.ended: float | None = None
        self.failed = False
        self.lock = threading.Lock()

    def advance(self, amount: int = 1, *, state: str | None = None) -> None:
        """`amount` more done (and the state now, if it changed)."""
        with self.lock:
            if self.ended is not None:
                return
            self.completed += amount
            if state is not None:
                self.state = state
            self.reporter.changed(self)

    def update(
        self, *, completed: int | None = None, total: int | None = None, state: str | None = None
    ) -> None:
        """Set what is known now: the count done, the total, the state."""
        with self.lock:
            if self.ended is not None:
                return
            if completed is not None:
                self.completed = completed
            if total is not None:
                self.total = total
            if state is not None:
                self.state = state
            self.reporter.changed(self)

    def close(self, *, failed: bool = False) -> None:
        """The work ended (once; later calls do nothing)."""
        with self.lock:
            if self.ended is not None:
                return
            self.ended = self.reporter.clock()
            self.failed = failed
            self.reporter.ended(self)

    @property
    def seconds(self) -> float:
        return (self.ended if self.ended is not None else self.reporter.clock()) - self.started

    def count(self) -> str:
        """`1,200/5,000 rows (24%)`, or `1,200 rows` without a total."""
        unit = f" {self.unit}" if self.unit else ""
        if self.total is None:
            return f"{self.completed:,}{unit}"
        share = f" ({self.completed / self.total:.0%})" if self.total else ""
        return f"{self.completed:,}/{self.total:,}{unit}{share}"

    def line(self) -> str:
        """The task now, as one line."""
        state = f", {self.state}" if self.state else ""
        return f"{self.description}: {self.count()}{state}"

    def end_line(self) -> str:
        """How the task ended, as one line."""
        outcome = "failed" if self.failed else "done"
        return f"{self.description}: {outcome}, {self.count()} in {self.seconds:.1f}s"

    def __enter__(self) -> Task:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(failed=kind is not None)


class Reporter:
    """What shows the tasks. The subclasses say how a task starts, moves and ends on screen;
    `clock` (monotonic seconds) is injectable so that throttling is tested without sleeping.
    A reporter is a context manager: a live display runs while it is entered."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock

    def task(self, description: str, *, total: int | None = None, unit: str = "") -> Task:
        started = Task(self, description, total, unit)
        self.started(started)
        return started

    def started(self, task: Task) -> None:
        """A task began (called once, before any change)."""

    def changed(self, task: Task) -> None:
        """A task moved (called with the task's lock held)."""

    def ended(self, task: Task) -> None:
        """A task ended (called once, with the task's lock held)."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None
