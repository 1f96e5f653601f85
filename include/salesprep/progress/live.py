"""Progress as a live display in a terminal (rich): one bar per running task, with its count,
state and elapsed time; a task that ends leaves one line above the display.

While the display runs, what the process prints and logs to the terminal goes above it
(rich redirects stdout and stderr; the log handlers that wrote to them are pointed at the
redirection), so that log lines do not tear the bars.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Column
from rich.text import Text

from salesprep.progress.task import Reporter, Task


def is_terminal(stream: IO[str]) -> bool:
    """Whether `stream` is a terminal that can redraw a live display."""
    console = Console(file=stream)
    return console.is_terminal and not console.is_dumb_terminal


class LiveReporter(Reporter):
    """Tasks as rich progress bars on `stream` (default stdout)."""

    def __init__(
        self, stream: IO[str] | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(clock)
        self.console = Console(file=stream or sys.stdout)
        self.display = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            # A long state (a dbt test's name) is cut, never the bar or the count.
            TextColumn(
                "{task.fields[state]}",
                style="dim",
                table_column=Column(max_width=36, no_wrap=True, overflow="ellipsis"),
            ),
            TimeElapsedColumn(),
            console=self.console,
            redirect_stdout=True,
            redirect_stderr=True,
        )
        self._ids: dict[int, TaskID] = {}
        self._handlers: list[tuple[logging.StreamHandler, IO[str]]] = []

    def started(self, task: Task) -> None:
        self._ids[id(task)] = self.display.add_task(
            task.description, total=task.total, unit=task.unit, state=task.state
        )

    def changed(self, task: Task) -> None:
        task_id = self._ids.get(id(task))
        if task_id is not None:
            self.display.update(
                task_id, completed=task.completed, total=task.total, state=task.state
            )

    def ended(self, task: Task) -> None:
        task_id = self._ids.pop(id(task), None)
        if task_id is not None:
            self.display.remove_task(task_id)
            self.display.refresh()
        self.console.print(Text(task.end_line(), style="red" if task.failed else "green"))

    def __enter__(self) -> LiveReporter:
        streams = (sys.stdout, sys.stderr)
        self.display.start()
        # rich now redirects stdout and stderr; log handlers still hold the real streams.
        redirected = {id(streams[0]): sys.stdout, id(streams[1]): sys.stderr}
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler and id(handler.stream) in redirected:
                self._handlers.append((handler, handler.stream))
                handler.setStream(redirected[id(handler.stream)])
        return self

    def __exit__(self, *exc: object) -> None:
        for handler, stream in self._handlers:
            handler.setStream(stream)
        self._handlers.clear()
        self.display.stop()
