"""The run record: every weekly run, from `salesprep run` or the DAG, writes what it did to
`<data_dir>/state/runs/<run>.json` as it goes (the week, when each step started, how long it
took, its small summary, and the step that failed with its one-line error), replaced
atomically at each step, so the record of a run killed half-way says how far it got.

A run is recorded once it holds the data dir lease (the lease makes it the only writer); a run
refused before that (a bad setting, a busy data dir) prints its one line and records nothing.
Writing a record never fails a run: a record that cannot be written is logged.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salesprep.runs.atomic_swap import write_text_atomic

log = logging.getLogger(__name__)

RUNS_DIR = "runs"
RECORD_VERSION = 1
# Records kept: a year of weekly runs with their retries and backfills, a few KiB each.
KEEP = 200
_ERROR_CHARS = 600
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
REFUSED = "refused"
# A step the run's options leave out (`extract` when republishing).
SKIPPED = "skipped"
# A record left `running` by a run that no longer holds the lease: killed without cleanup, or
# a DAG run whose later tasks never ran (the DAG's teardown closes it so).
INTERRUPTED = "interrupted"


@dataclass
class StepRecord:
    """One step of a run: when it started, how long it took, how it ended (running, succeeded,
    failed, refused, skipped), its summary."""

    name: str
    started_at: str
    outcome: str = RUNNING
    seconds: float | None = None
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunRecord:
    """One weekly run. `run_id` is its lease holder (`salesprep-cli/<host>-<pid>-<time>` or
    `<dag_id>/<dag run id>`); `outcome` is running, succeeded, failed, refused or interrupted."""

    run_id: str
    week: str
    launcher: str
    started_at: str
    outcome: str = RUNNING
    finished_at: str | None = None
    failed_step: str | None = None
    error: str | None = None
    quality_report: str | None = None
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        """From the start to the end of the run (None while it runs)."""
        if not self.finished_at:
            return None
        started = datetime.fromisoformat(self.started_at)
        return round((datetime.fromisoformat(self.finished_at) - started).total_seconds(), 1)

    def step(self, name: str) -> StepRecord | None:
        return next((s for s in self.steps if s.name == name), None)

    def summary_of(self, name: str) -> dict[str, Any] | None:
        """The summary a step returned, None when it did not succeed."""
        step = self.step(name)
        return step.summary if step is not None and step.outcome == SUCCEEDED else None

    def to_dict(self) -> dict[str, Any]:
        return {"version": RECORD_VERSION, **asdict(self), "seconds": self.seconds}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        if data.get("version") != RECORD_VERSION:
            raise ValueError(f"unknown run record version {data.get('version')!r}")
        values = {k: v for k, v in data.items() if k not in ("version", "seconds", "steps")}
        steps = [StepRecord(**step) for step in data.get("steps", [])]
        return cls(**values, steps=steps)


def runs_dir(data_dir: Path) -> Path:
    """Where a data directory keeps its run records."""
    return Path(data_dir) / "state" / RUNS_DIR


def record_path(data_dir: Path, run_id: str) -> Path:
    """The record file of one run: its id, made safe as a file name."""
    return runs_dir(data_dir) / f"{_UNSAFE.sub('_', run_id).strip('._') or 'run'}.json"


def read_record(path: Path) -> RunRecord:
    """One record; ValueError names the file when it is not a record salesprep wrote."""
    try:
        return RunRecord.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"run record {path} cannot be read: {exc}") from exc


def load_runs(data_dir: Path) -> list[RunRecord]:
    """Every readable run record of the data directory, the newest start first (a record that
    cannot be read is logged and left out)."""
    records = []
    for path in runs_dir(data_dir).glob("*.json"):
        try:
            records.append(read_record(path))
        except ValueError as exc:
            log.warning("%s", exc)
    return sorted(records, key=lambda r: (r.started_at, r.run_id), reverse=True)


class RunRecorder:
    """Writes one run's record as the run goes; every method logs, never raises, when the
    record cannot be written. Several processes may record one run (the DAG's tasks), one
    after another: each step reads the record its predecessor wrote."""

    def __init__(self, data_dir: Path, run_id: str, week: str, launcher: str) -> None:
        self.data_dir = Path(data_dir)
        self.run_id = run_id
        self.week = week
        self.launcher = launcher
        self.path = record_path(self.data_dir, run_id)

    def step_started(self, step: str) -> None:
        """`step` begins (again, on a retry: its earlier failure is forgotten)."""

        def change(record: RunRecord) -> None:
            record.steps = [s for s in record.steps if s.name != step]
            record.steps.append(StepRecord(step, _now()))
            record.outcome, record.finished_at = RUNNING, None
            record.failed_step = record.error = record.quality_report = None

        self._change(change)

    def step_succeeded(self, step: str, summary: dict[str, Any], *, last: bool = False) -> None:
        """`step` ended well with `summary`; with `last`, so did the run."""

        def change(record: RunRecord) -> None:
            done = _now()
            entry = self._entry(record, step)
            entry.outcome, entry.seconds = SUCCEEDED, _seconds(entry.started_at, done)
            entry.summary = json.loads(json.dumps(summary, default=str))
            if last:
                record.outcome, record.finished_at = SUCCEEDED, done

        self._change(change)

    def step_skipped(self, step: str, reason: str) -> None:
        """The run's options leave `step` out, for `reason`."""

        def change(record: RunRecord) -> None:
            record.steps = [s for s in record.steps if s.name != step]
            record.steps.append(StepRecord(step, _now(), SKIPPED, 0.0, summary={"skipped": reason}))

        self._change(change)

    def step_failed(
        self,
        step: str,
        error: BaseException | str,
        *,
        refused: bool = False,
        quality_report: str | None = None,
    ) -> None:
        """`step` stopped the run with `error` (`refused`: a refusal a retry cannot change)."""

        def change(record: RunRecord) -> None:
            done = _now()
            entry = self._entry(record, step)
            entry.outcome = REFUSED if refused else FAILED
            entry.seconds = _seconds(entry.started_at, done)
            entry.error = one_line(error)
            record.outcome, record.finished_at = entry.outcome, done
            record.failed_step, record.error = step, entry.error
            record.quality_report = quality_report

        self._change(change)

    def close_unfinished(self) -> None:
        """The run is over (the DAG's teardown): a record still `running` becomes
        `interrupted`. A run with no record is left without one."""

        def change(record: RunRecord) -> None:
            if record.outcome == RUNNING:
                record.outcome, record.finished_at = INTERRUPTED, _now()

        if self.path.is_file():
            self._change(change)

    def _entry(self, record: RunRecord, step: str) -> StepRecord:
        entry = record.step(step)
        if entry is None:
            entry = StepRecord(step, _now())
            record.steps.append(entry)
        return entry

    def _change(self, change: Any) -> None:
        try:
            record = self._load()
            change(record)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(record.to_dict(), indent=2, sort_keys=True) + "\n"
            write_text_atomic(self.path, text)
            _prune(self.path.parent)
        except (OSError, ValueError) as exc:
            log.warning("the run record %s cannot be written: %s", self.path, exc)

    def _load(self) -> RunRecord:
        if self.path.is_file():
            try:
                return read_record(self.path)
            except ValueError as exc:
                log.warning("%s: starting it afresh", exc)
        return RunRecord(self.run_id, self.week, self.launcher, _now())


def one_line(error: BaseException | str, limit: int = _ERROR_CHARS) -> str:
    """An error as the one line a person reads: its message's lines joined, cut at `limit`."""
    text = " ".join(part.strip() for part in str(error).splitlines() if part.strip())
    if isinstance(error, BaseException):
        text = text or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _prune(folder: Path) -> None:
    """Keep the newest KEEP records (by file time: a record is rewritten at every step)."""
    paths = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in paths[KEEP:]:
        stale.unlink(missing_ok=True)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _seconds(started_at: str, ended_at: str) -> float:
    delta = datetime.fromisoformat(ended_at) - datetime.fromisoformat(started_at)
    return round(delta.total_seconds(), 2)
