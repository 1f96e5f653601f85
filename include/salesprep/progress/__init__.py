"""Progress of long work (extraction, the dbt build, rendering, generating an org): one small
interface that the work reports to, shown live in a terminal (`progress.live`, rich) and as
log lines at most every 10 seconds per task elsewhere (`progress.lines`: Airflow task logs,
pipes).

Work asks for a task and reports to it; it never knows which display is on:

    with progress.task(f"extract {name}", total=count, unit="rows") as bar:
        for page in pages:
            bar.advance(len(page))

    for ctx in progress.track(contexts, "render packets", unit="packets"):
        render_packet(ctx)

The display is chosen once per process (`reporting(for_stream(sys.stdout))` in the CLI); without
one, tasks report as log lines, which is what an Airflow task needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import IO, TypeVar

from salesprep.progress.lines import LogReporter
from salesprep.progress.task import Reporter, Task

__all__ = [
    "LogReporter", "Reporter", "Task", "for_stream", "reporter", "reporting", "task", "track",
]  # fmt: skip

T = TypeVar("T")

_current: Reporter | None = None


def reporter() -> Reporter:
    """The display tasks report to now: the one `reporting` set, else log lines."""
    global _current
    if _current is None:
        _current = LogReporter()
    return _current


@contextlib.contextmanager
def reporting(display: Reporter) -> Iterator[Reporter]:
    """Report every task of this process to `display` while the block runs (a live display
    is started and stopped with it), then to the previous one."""
    global _current
    previous = _current
    _current = display
    try:
        with display:
            yield display
    finally:
        _current = previous


def for_stream(stream: IO[str]) -> Reporter:
    """A live display on `stream` when it is a terminal, else log lines (a pipe, a file, an
    Airflow task log)."""
    from salesprep.progress.live import LiveReporter, is_terminal

    return LiveReporter(stream) if is_terminal(stream) else LogReporter()


def task(description: str, *, total: int | None = None, unit: str = "") -> Task:
    """A task of the current display; use it as a context manager so that it ends (and says
    whether it failed) whatever happens."""
    return reporter().task(description, total=total, unit=unit)


def track(
    items: Iterable[T], description: str, *, total: int | None = None, unit: str = ""
) -> Iterator[T]:
    """`items`, one at a time, counted as a task of the current display (the total is
    `len(items)` when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with task(description, total=total, unit=unit) as bar:
        for item in items:
            yield item
            bar.advance()
