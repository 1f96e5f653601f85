"""The status of a data directory and its shared folder, for BI and on-call people asking "is
this week's data there and right?": the published weeks and the newest one's pairs and the
reps it left out, the last run (its week, when, how long, how it ended, the step that failed,
its API calls), whether a run holds the data dir now, how fresh the source data is, and the
org the data belongs to. `to_dict()` is the stable `salesprep status --json` (docs/operations.md).

Everything is read, nothing written: the run records (`runs.record`), the shared folder's week
manifests, the org record (`state/org.json`), the run lease, and the dbt build results.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesprep.runs.record import (
    FAILED,
    INTERRUPTED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    RunRecord,
    load_runs,
)
from salesprep.weeks import InvalidWeekError, Week

if TYPE_CHECKING:
    from salesprep.config import Settings

log = logging.getLogger(__name__)

STATUS_VERSION = 1
_FAILED_SOURCE = frozenset({"warn", "error", "runtime error", "fail"})


class StatusError(RuntimeError):
    """Something status must read cannot be read; the message names it."""


@dataclass(frozen=True)
class LeftOut:
    """An active user the published week has no packet for, and why."""

    user_id: str
    name: str
    reason: str
    why: str


@dataclass(frozen=True)
class PublishedWeek:
    """The newest published week: where it is, its pairs, who it left out (None: unknown,
    when no run record of the run that published it is left)."""

    week: str
    url: str
    pairs_published: int
    left_out: list[LeftOut] | None


@dataclass(frozen=True)
class LastRun:
    """The newest run record, as status reports it."""

    run_id: str
    week: str
    launcher: str
    started_at: str
    finished_at: str | None
    seconds: float | None
    outcome: str
    failed_step: str | None
    error: str | None
    quality_report: str | None
    api_calls: int | None
    steps: list[dict[str, Any]]


@dataclass(frozen=True)
class Freshness:
    """How fresh the source data is: the last extraction that succeeded (when, for which week,
    the org's first and freshest records, how far the week's data reaches) and dbt's source
    freshness checks of the last build that wrote results."""

    extracted_at: str | None
    extracted_for_week: str | None
    first_record: str | None
    freshest_record: str | None
    partial_week: bool | None
    data_to: str | None
    dbt_week: str | None = None
    dbt_sources: dict[str, int] = field(default_factory=dict)
    dbt_problems: list[dict[str, str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Status:
    """What `salesprep status` shows."""

    data_dir: str
    shared_folder: str
    org: dict[str, str] | None
    published_weeks: list[str]
    newest_week: PublishedWeek | None
    last_run: LastRun | None
    running_now: dict[str, str] | None
    freshness: Freshness | None

    def to_dict(self) -> dict[str, Any]:
        return {"version": STATUS_VERSION, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_status(settings: Settings) -> Status:
    """The status of `settings`' data dir and shared folder, read now."""
    from salesprep import storage
    from salesprep.runs.lease import LeaseError, current_lease, lease_store
    from salesprep.warehouse.history import OrgHistoryError, recorded_org

    storage.use_options(settings)
    data_dir = Path(settings.data_dir)
    runs = load_runs(data_dir)
    try:
        lease = current_lease(lease_store(settings))
    except LeaseError as exc:
        raise StatusError(str(exc)) from exc
    holder = lease if lease is not None and lease.stale() is not True else None
    try:
        org = recorded_org(settings)
    except OrgHistoryError as exc:
        raise StatusError(str(exc)) from exc
    weeks = published_weeks(settings.shared_folder_url)
    return Status(
        data_dir=str(data_dir),
        shared_folder=settings.shared_folder_url,
        org=(
            {"org_id": org.org_id, "org_name": org.org_name, "recorded_at": org.recorded_at}
            if org is not None
            else None
        ),
        published_weeks=weeks,
        newest_week=_newest_week(settings, weeks[-1], runs) if weeks else None,
        last_run=_last_run(settings, runs[0], holder.owner if holder else None) if runs else None,
        running_now=(
            {"run_id": holder.owner, "holder": holder.describe(), "since": holder.since}
            if holder is not None
            else None
        ),
        freshness=_freshness(settings, runs),
    )


def published_weeks(shared_folder_url: str) -> list[str]:
    """The weeks the shared folder holds (a week folder with its manifest), oldest first."""
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(shared_folder_url)
        manifests = fs.glob(f"{root.rstrip('/')}/*/manifest.json")
    except (OSError, ValueError, ImportError) as exc:
        raise StatusError(
            f"cannot list the weeks of the shared folder {shared_folder_url}: {exc}"
        ) from exc
    weeks = []
    for label in {Path(str(path)).parent.name for path in manifests}:
        try:
            weeks.append(Week.parse(label))
        except InvalidWeekError:  # a folder named like a week that no calendar has
            continue
    return [week.label for week in sorted(weeks, key=lambda w: w.start_date)]


def _newest_week(settings: Settings, label: str, runs: list[RunRecord]) -> PublishedWeek:
    import fsspec

    url = f"{settings.shared_folder_url.rstrip('/')}/{label}"
    try:
        with fsspec.open(f"{url}/manifest.json", "rb") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError) as exc:
        raise StatusError(f"cannot read the manifest of {label} in {url}: {exc}") from exc
    published = next((r for r in runs if r.week == label and r.outcome == SUCCEEDED), None)
    unpaired = published.summary_of("render_packets") if published is not None else None
    left_out = None
    if unpaired is not None:
        left_out = [
            LeftOut(str(u["user_id"]), str(u["name"]), str(u["reason"]), str(u["why"]))
            for u in unpaired.get("unpaired_users", [])
        ]
    return PublishedWeek(label, url, len(manifest.get("packets", [])), left_out)


def _last_run(settings: Settings, record: RunRecord, holder: str | None) -> LastRun:
    outcome = record.outcome
    if outcome == RUNNING and holder != record.run_id:
        # No live run holds the lease under this record's name: it died without cleanup.
        outcome = INTERRUPTED
    extract = record.summary_of("extract")
    skipped = (step := record.step("extract")) is not None and step.outcome == SKIPPED
    api_calls = int(extract["api_calls"]) if extract and "api_calls" in extract else None
    report = record.quality_report
    if outcome == FAILED and report is None:
        report = _failed_run_report(settings, record.week)
    return LastRun(
        run_id=record.run_id,
        week=record.week,
        launcher=record.launcher,
        started_at=record.started_at,
        finished_at=record.finished_at,
        seconds=record.seconds,
        outcome=outcome,
        failed_step=record.failed_step,
        error=record.error,
        quality_report=report,
        # A republish extracts nothing: no API calls.
        api_calls=0 if skipped else api_calls,
        steps=[{"name": s.name, "outcome": s.outcome, "seconds": s.seconds} for s in record.steps],
    )


def _failed_run_report(settings: Settings, week: str) -> str | None:
    """The failed-run quality report of `week` in the shared folder (the DAG's failure alert
    publishes it), if it is there."""
    import fsspec

    from salesprep.quality.report import FAILED_RUNS_DIR

    url = f"{settings.shared_folder_url.rstrip('/')}/{FAILED_RUNS_DIR}/{week}/index.html"
    try:
        fs, path = fsspec.core.url_to_fs(url)
        return url if fs.exists(path) else None
    except (OSError, ValueError, ImportError):
        return None


def _freshness(settings: Settings, runs: list[RunRecord]) -> Freshness | None:
    extracted = next((r for r in runs if r.summary_of("extract") is not None), None)
    built = next((r for r in runs if r.summary_of("build_marts") is not None), None)
    if extracted is None and built is None:
        return None
    values: dict[str, Any] = dict.fromkeys(
        ("extracted_at", "extracted_for_week", "first_record", "freshest_record",
         "partial_week", "data_to"),
    )  # fmt: skip
    if extracted is not None:
        summary = extracted.summary_of("extract") or {}
        step = extracted.step("extract")
        span = summary.get("data_span") or {}
        coverage = summary.get("coverage") or {}
        values.update(
            extracted_at=step.started_at if step else None,
            extracted_for_week=extracted.week,
            first_record=span.get("first"),
            freshest_record=span.get("freshest"),
            partial_week=coverage.get("partial"),
            data_to=coverage.get("data_to"),
        )
    if built is None:
        return Freshness(**values)
    sources, problems = _dbt_sources(settings, Week.parse(built.week))
    return Freshness(**values, dbt_week=built.week, dbt_sources=sources, dbt_problems=problems)


def _dbt_sources(
    settings: Settings, week: Week
) -> tuple[dict[str, int], list[dict[str, str | None]]]:
    """dbt source freshness of the week's build: how many sources per status, and the ones
    that warned or failed with dbt's message."""
    from salesprep.quality.report import build_results_path

    path = build_results_path(settings, week)
    try:
        results = json.loads(path.read_text(encoding="utf-8")).get("results", [])
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError) as exc:
        raise StatusError(f"cannot read the dbt build results {path}: {exc}") from exc
    counts: dict[str, int] = {}
    problems = []
    for node in results:
        if node.get("resource_type") != "source":
            continue
        status = str(node.get("status"))
        counts[status] = counts.get(status, 0) + 1
        if status in _FAILED_SOURCE:
            source = str(node.get("unique_id", "")).removeprefix("source.")
            problems.append({"source": source, "status": status, "message": node.get("message")})
    return dict(sorted(counts.items())), problems
