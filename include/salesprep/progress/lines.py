"""Progress as log lines, for wherever no one watches a terminal (Airflow task logs, pipes,
files): a line when a task starts and when it ends, and in between at most one line per task
every `interval` seconds, so a long backfill's log shows it is moving without flooding."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from salesprep.progress.task import Reporter, Task

INTERVAL_SECONDS = 10.0


class LogReporter(Reporter):
    """Tasks as INFO lines of `logger` (default `salesprep.progress`)."""

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock)
        self.log = logger or logging.getLogger("salesprep.progress")
        self.interval = interval
        self._last_line: dict[int, float] = {}

    def started(self, task: Task) -> None:
        self._last_line[id(task)] = task.started
        unit = f" {task.unit}" if task.unit else ""
        total = f" ({task.total:,}{unit})" if task.total is not None else ""
        self.log.info("%s: started%s", task.description, total)

    def changed(self, task: Task) -> None:
        now = self.clock()
        if now - self._last_line.get(id(task), task.started) >= self.interval:
            self._last_line[id(task)] = now
            self.log.info("%s", task.line())

    def ended(self, task: Task) -> None:
        self._last_line.pop(id(task), None)
        if task.failed:
            self.log.warning("%s", task.end_line())
        else:
            self.log.info("%s", task.end_line())
