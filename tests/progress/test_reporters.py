"""The progress interface and its two displays: log lines throttled to one per task every 10
seconds (a clock is injected: nothing sleeps), a live display chosen only for a terminal, and
the dbt callback fed with dbt's own event objects. The live display in a real terminal is
tested end to end in `tests/robustness/test_status.py` (a run in a pseudo-terminal)."""

from __future__ import annotations

import io
import logging
import os

import pytest
from dbt.events.types import ConcurrencyLine, NodeFinished
from dbt_common.events.base_types import msg_from_base_event

from salesprep import progress
from salesprep.progress.lines import LogReporter
from salesprep.progress.live import LiveReporter
from salesprep.warehouse.runner import dbt_progress


class Clock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def lines(clock: Clock, caplog: pytest.LogCaptureFixture):
    """A log reporter on the injected clock, and the lines it logged so far."""
    caplog.set_level(logging.INFO, logger="salesprep.progress")
    reporter = LogReporter(clock=clock)

    def logged() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "salesprep.progress"]

    return reporter, logged


def test_log_lines_start_and_end_and_at_most_one_every_ten_seconds_between(clock, lines):
    reporter, logged = lines
    with reporter.task("extract Opportunity", total=5000, unit="rows") as bar:
        for _ in range(25):  # a page of 200 rows every 2 seconds for 50 seconds
            clock.now += 2
            bar.advance(200, state="Bulk job InProgress")
    assert logged() == [
        "extract Opportunity: started (5,000 rows)",
        "extract Opportunity: 1,000/5,000 rows (20%), Bulk job InProgress",
        "extract Opportunity: 2,000/5,000 rows (40%), Bulk job InProgress",
        "extract Opportunity: 3,000/5,000 rows (60%), Bulk job InProgress",
        "extract Opportunity: 4,000/5,000 rows (80%), Bulk job InProgress",
        "extract Opportunity: 5,000/5,000 rows (100%), Bulk job InProgress",
        "extract Opportunity: done, 5,000/5,000 rows (100%) in 50.0s",
    ]


def test_a_burst_of_changes_logs_nothing_until_ten_seconds_passed(clock, lines):
    reporter, logged = lines
    bar = reporter.task("dbt build 2026-W47", unit="nodes")
    for _ in range(300):
        bar.advance()
    clock.now += 9.9
    bar.update(total=323)
    assert logged() == ["dbt build 2026-W47: started"]
    clock.now += 0.1
    bar.advance(state="dim_reps success")
    assert logged()[-1] == "dbt build 2026-W47: 301/323 nodes (93%), dim_reps success"
    bar.close()
    bar.advance()  # after the end: ignored
    assert logged()[-1] == "dbt build 2026-W47: done, 301/323 nodes (93%) in 10.0s"
    assert len(logged()) == 3


def test_each_task_is_throttled_on_its_own(clock, lines):
    reporter, logged = lines
    objects = reporter.task("extract objects", total=2, unit="objects")
    clock.now += 8
    rows = reporter.task("extract Task", total=100, unit="rows")
    clock.now += 3
    objects.advance()  # 11 s after its start: a line
    rows.advance(50)  # 3 s after its start: none
    clock.now += 7
    rows.advance(50)  # 10 s after its start: a line
    assert logged()[2:] == [
        "extract objects: 1/2 objects (50%)",
        "extract Task: 100/100 rows (100%)",
    ]


def test_a_task_that_fails_says_so_in_a_warning(clock, caplog, lines):
    reporter, logged = lines
    with pytest.raises(RuntimeError), reporter.task("render packets 2026-W47", total=6) as bar:
        bar.advance(2)
        clock.now += 1.5
        raise RuntimeError("template error")
    assert logged()[-1] == "render packets 2026-W47: failed, 2/6 (33%) in 1.5s"
    assert caplog.records[-1].levelno == logging.WARNING


def test_track_counts_what_it_yields_and_the_current_display_gets_the_task(clock, lines):
    reporter, logged = lines
    with progress.reporting(reporter):
        assert progress.reporter() is reporter
        seen = list(progress.track(["a", "b", "c"], "render packets", unit="packets"))
        with pytest.raises(ValueError):
            for item in progress.track(iter([1, 2]), "generate", unit="sellers"):
                raise ValueError(item)
    assert progress.reporter() is not reporter
    assert seen == ["a", "b", "c"]
    assert logged() == [
        "render packets: started (3 packets)",
        "render packets: done, 3/3 packets (100%) in 0.0s",
        "generate: started",
        "generate: failed, 0 sellers in 0.0s",
    ]


def test_a_live_display_only_for_a_terminal():
    assert isinstance(progress.for_stream(io.StringIO()), LogReporter)
    reader, writer = os.pipe()
    with os.fdopen(writer, "w") as pipe:
        assert isinstance(progress.for_stream(pipe), LogReporter)
    os.close(reader)
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as terminal:
        assert isinstance(progress.for_stream(terminal), LiveReporter)
    os.close(leader)


def test_dbt_events_count_nodes_done_out_of_the_total(clock):
    seen = []

    class Recording(LogReporter):
        def changed(self, task):
            seen.append((task.completed, task.total, task.state))

    bar = Recording(clock=clock).task("dbt build 2026-W47", unit="nodes")
    on_event = dbt_progress(bar)
    total = ConcurrencyLine(num_threads=1, target_name="duckdb", node_count=2)
    on_event(msg_from_base_event(total))
    for name, status in (("stg_salesforce__users", "success"), ("unique_dim_reps_rep_id", "pass")):
        node = {"unique_id": f"model.salesprep.{name}", "node_name": name, "node_status": status}
        on_event(msg_from_base_event(NodeFinished(node_info=node, run_result={})))
    assert seen == [
        (0, 2, ""),
        (1, 2, "stg_salesforce__users success"),
        (2, 2, "unique_dim_reps_rep_id pass"),
    ]
