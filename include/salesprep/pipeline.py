"""The weekly run as plain steps: the Airflow DAG, the CLI and the tests all call these.

Each step takes the week and the settings, reads its input from and writes its output to the
data directory or the shared folder, and returns a small JSON-able summary (fit for XCom).
With `storage.url` set, what one step hands the next goes through it (`salesprep.storage`):
a step copies its inputs down into its worker's data directory and its outputs up.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesprep.weeks import Week

if TYPE_CHECKING:
    # The DAG file imports STEPS at parse time: pydantic-settings and YAML load inside tasks.
    from salesprep.config import Settings

log = logging.getLogger(__name__)

Summary = dict[str, Any]


def resolve_week(
    requested: str | None, scheduled_at: datetime | None, org_timezone: str = "UTC"
) -> Week:
    """The week a run prepares: the requested one, else the last week complete at the run's
    scheduled instant (a Monday-morning run prepares the week that just ended)."""
    if requested:
        return Week.parse(requested)
    if scheduled_at is None:
        raise ValueError("a run needs a week: pass week=YYYY-Www or give the run a scheduled time")
    return Week.last_complete(scheduled_at, org_timezone)


def quality_dir(settings: Settings, week: Week, stage: str) -> Path:
    """Where one checkpoint stage (`raw`, `marts`) of the week writes its results."""
    from salesprep.quality.report import quality_root

    return quality_root(settings, week) / stage


def rendered_dir(settings: Settings, week: Week) -> Path:
    """Where render_packets writes the week before publish copies it out."""
    return settings.data_dir / "rendered" / week.label


def check_week(week: Week, settings: Settings, *, republish: bool = False) -> Summary:
    """Before any work: the settings a run needs are usable (preflight; a republish needs no
    Salesforce connection), what dead runs left is swept, and the week has ended (week guard);
    a refusal is one line naming the fix."""
    from salesprep.runs.preflight import check_settings
    from salesprep.runs.week_guard import check_week_ended

    check_settings(settings, check_connection=not republish)
    swept = sweep_leftovers(settings)
    now = datetime.now(UTC)
    check_week_ended(
        week, now, settings.org_timezone, allow_partial=settings.guards.allow_partial_week
    )
    return {"week": week.label, "checked_at": now.isoformat(timespec="seconds"), "swept": swept}


def sweep_leftovers(settings: Settings) -> list[str]:
    """Remove what runs that died left in the data dir, the warehouse's folder, the shared
    folder and the system temp folder (staging folders, set-aside copies, emulator copies of
    an org); the run lease makes this run the only writer of all of them."""
    import fsspec

    from salesprep import storage
    from salesprep.emulator.store import WORK_DIR_PREFIX
    from salesprep.quality.report import FAILED_RUNS_DIR
    from salesprep.runs.atomic_swap import sweep, sweep_remote, sweep_temp_dirs
    from salesprep.shared_folder import join

    data = Path(settings.data_dir)
    weeks = [p for base in (data / "rendered", data / "quality") for p in base.glob("*")]
    folders = {
        data,
        data / "state",
        data / "state" / "runs",
        data / "warehouse",
        Path(settings.published_warehouse_path).parent,
        data / "learnings",
        data / "rendered",
        data / "quality",
        *(p for p in weeks if p.is_dir()),
        *(p / sub for p in weeks for sub in ("extra", "dbt", "raw", "marts") if p.is_dir()),
    }
    swept = [str(path) for folder in sorted(folders) for path in sweep(folder)]
    fs, root = fsspec.core.url_to_fs(settings.shared_folder_url)
    for folder in (root.rstrip("/") or "/", join(root, FAILED_RUNS_DIR)):
        swept += sweep_remote(fs, folder)
    swept += [str(path) for path in sweep_temp_dirs(WORK_DIR_PREFIX)]
    swept += storage.sweep(settings)
    return swept


def extract_raw(week: Week, settings: Settings, *, reset_history: bool = False) -> Summary:
    """Pull every object from Salesforce into the raw landing zone.

    Before anything is read: the data directory keeps one org's history, so a run connected
    to another org stops, unless `reset_history` drops the old org's history first
    (`salesprep.warehouse.history`); and the org's data span must cover the week (week guard,
    decision 18)."""
    from salesprep import storage
    from salesprep.runs.week_guard import coverage_path, judge_coverage, save_coverage
    from salesprep.salesforce.client import ApiClient, session_org_id
    from salesprep.salesforce.connection import connect
    from salesprep.salesforce.data_span import org_data_span
    from salesprep.salesforce.extract import extract_org
    from salesprep.salesforce.report import REPORT_FILE
    from salesprep.warehouse.history import check_org, landed_organization, record_org, same_org

    sf = connect(settings)
    org_id = session_org_id(sf)
    # The shared extraction state and landing zone are the truth, not this worker's copies.
    for name in storage.STATE_FILES:
        storage.pull_file(settings, f"state/{name}", settings.state_dir / name)
    storage.pull(settings, "raw", settings.raw_root, marker=REPORT_FILE)
    removed = check_org(settings, org_id, reset=reset_history)
    span = org_data_span(ApiClient(sf, settings.salesforce))
    guards = settings.guards
    coverage = judge_coverage(
        week,
        span,
        datetime.now(UTC),
        settings.org_timezone,
        allow_partial=guards.allow_partial_week,
        grace_hours=guards.data_grace_hours,
    )
    save_coverage(settings.data_dir, coverage)
    report = extract_org(sf, settings.raw_root, settings=settings)
    landed_id, name = landed_organization(settings.raw_root)
    record_org(settings, landed_id if landed_id and same_org(landed_id, org_id) else org_id, name)
    # The landing zone first (its report last), then the watermarks that describe it.
    storage.push(settings, settings.raw_root, "raw", last=REPORT_FILE)
    for name in storage.STATE_FILES:
        storage.push_file(settings, settings.state_dir / name, f"state/{name}")
    covered = coverage_path(settings.data_dir, week)
    storage.push_file(settings, covered, f"state/{covered.name}")
    # The org's first and freshest records (UTC): `salesprep status` shows how fresh it was.
    data_span = {k: v.isoformat() if v else None for k, v in vars(span).items()}
    summary = {**report.summary(), "coverage": coverage.to_dict(), "data_span": data_span}
    if reset_history:
        summary["reset_history"] = [str(p) for p in removed]
    return summary


def check_raw(week: Week, settings: Settings) -> Summary:
    """Great Expectations raw checkpoint: fails the run before anything is built or published."""
    from salesprep import storage
    from salesprep.quality.raw_checkpoint import validate_raw
    from salesprep.quality.report import quality_root

    week_quality = quality_root(settings, week)
    storage.pull(settings, f"quality/{week.label}", week_quality)
    try:
        result = validate_raw(
            settings.raw_url, quality_dir(settings, week, "raw"), settings=settings, week=week
        )
    finally:  # a failed checkpoint's pages too: the failed-run report shows them
        storage.push(settings, week_quality, f"quality/{week.label}")
    return result.summary()


def load_learnings(week: Week, settings: Settings) -> Summary:
    """Read the lessons, feedback and actions pairs recorded before this week (the learnings
    loop); a bad entry is rejected with its reason, never a failure of the run."""
    from salesprep import storage
    from salesprep.learnings import land_learnings

    report = land_learnings(
        settings.shared_folder_url,
        settings.learnings_path,
        week,
        rejected_path=settings.learnings_rejected_path,
    )
    storage.push(settings, settings.learnings_path.parent, "learnings")
    return report.summary()


def build_marts(week: Week, settings: Settings, *, full_refresh: bool = False) -> Summary:
    """dbt build (models and tests) into the build warehouse, which BI never reads;
    `full_refresh` rebuilds every incremental model from scratch (`dbt build --full-refresh`,
    once after upgrading a data directory from an older version)."""
    from salesprep import storage
    from salesprep.quality.report import build_results_path
    from salesprep.warehouse import build_warehouse

    storage.pull(settings, "learnings", settings.learnings_path.parent)
    results = build_results_path(settings, week)
    try:
        result = build_warehouse(settings, week, full_refresh=full_refresh)
    finally:  # a failed build's results too: the quality report lists the failures
        storage.push_file(settings, results, f"state/{results.name}")
    return result.summary() | ({"full_refresh": True} if full_refresh else {})


def check_marts(week: Week, settings: Settings) -> Summary:
    """Great Expectations marts checkpoint on the built marts (with who got no packet and
    which of last week's pairs vanished), then the dbt docs and the dbt stage of the week's
    quality report (staged with the packets by render_packets); a failure stops the run
    before anything is published."""
    from salesprep import storage
    from salesprep.quality.gx import QualityError
    from salesprep.quality.marts_checkpoint import validate_marts
    from salesprep.quality.report import (
        build_results_path,
        dbt_docs_dir,
        quality_root,
        write_build_report,
    )
    from salesprep.warehouse import generate_docs
    from salesprep.warehouse.connection import WarehouseReadError, open_marts

    week_quality = quality_root(settings, week)
    storage.pull(settings, f"quality/{week.label}", week_quality)
    results = build_results_path(settings, week)
    storage.pull_file(settings, f"state/{results.name}", results)
    try:
        try:
            marts = open_marts(settings, "build")
        except WarehouseReadError as exc:
            raise QualityError(f"marts checkpoint: {exc}") from exc
        with marts:
            result = validate_marts(
                marts, quality_dir(settings, week, "marts"), settings=settings, week=week
            )
        generate_docs(settings, week, dbt_docs_dir(settings, week))
        write_build_report(week, settings)
    finally:
        storage.push(settings, week_quality, f"quality/{week.label}")
    return result.summary()


def render_packets(week: Week, settings: Settings) -> Summary:
    """Render one packet per pair, plus the week's indexes, from the checked build warehouse
    (nothing is published yet); the week's Data Docs go with them (`quality/`), and the users
    who got no packet go to the week index."""
    from salesprep import storage
    from salesprep.packets.layout import EXTRA_DIR
    from salesprep.packets.render import render_week, write_unpaired
    from salesprep.quality.data_docs import stage_quality_docs
    from salesprep.quality.pair_coverage import unpaired_users
    from salesprep.quality.report import quality_root
    from salesprep.runs.week_guard import coverage_path, load_coverage
    from salesprep.warehouse.connection import open_marts

    covered = coverage_path(settings.data_dir, week)
    storage.pull_file(settings, f"state/{covered.name}", covered)
    storage.pull(settings, f"quality/{week.label}", quality_root(settings, week))
    out_dir = rendered_dir(settings, week)
    coverage = load_coverage(settings.data_dir, week)
    data_to = coverage.data_to if coverage is not None and coverage.partial else None
    result = render_week(week, settings, out_dir=out_dir, which="build", data_to=data_to)
    with open_marts(settings, "build") as marts:
        unpaired = [user.as_dict() for user in unpaired_users(marts)]
    write_unpaired(out_dir, unpaired)
    staged = stage_quality_docs(quality_root(settings, week), out_dir / EXTRA_DIR, week.label)
    storage.push(settings, out_dir, f"rendered/{week.label}")
    summary = {**result.summary(), "quality_docs": len(staged), "unpaired_users": unpaired}
    return summary | ({"partial_week_data_to": data_to} if data_to else {})


def publish(week: Week, settings: Settings) -> Summary:
    """Publish the week as one unit: stage the warehouse copy for BI and the packets in the
    shared folder, check both, then swap them in together (the warehouse first: putting it
    back is one local rename, or on Postgres one transaction repointing BI's views). If the
    packets' swap fails, the warehouse swap is rolled back, so BI and the shared folder always
    show the same week."""
    from salesprep import storage
    from salesprep.packets.publish import stage_rendered_week
    from salesprep.runs.atomic_swap import commit_together
    from salesprep.warehouse import finish_for_bi, stage_for_bi

    storage.pull(settings, f"rendered/{week.label}", rendered_dir(settings, week))
    warehouse = stage_for_bi(settings)
    try:
        rendered = rendered_dir(settings, week)
        packets = stage_rendered_week(rendered, settings.shared_folder_url, week)
    except BaseException:
        warehouse.discard()
        raise
    commit_together([warehouse, packets])
    published = finish_for_bi(settings, warehouse)
    return {**packets.manifest.summary(), "published_warehouse": published}


def refusal_types() -> tuple[type[Exception], ...]:
    """The errors that refuse a run for a reason a retry cannot change: a bad setting, a week
    that must not be prepared, the data dir held by another run."""
    from salesprep.config import ConfigError
    from salesprep.runs.lease import LeaseBusyError
    from salesprep.runs.preflight import PreflightError
    from salesprep.runs.week_guard import WeekRefusedError
    from salesprep.salesforce.connection import SalesforceConnectionError

    return (
        ConfigError,
        RunOptionsError,
        PreflightError,
        WeekRefusedError,
        SalesforceConnectionError,
        LeaseBusyError,
    )


class RunOptionsError(ValueError):
    """Manual actions of a run that contradict each other; the message says which."""


@dataclass(frozen=True)
class RunOptions:
    """The manual actions one run may take (the DAG's trigger-form params, `salesprep run`'s
    flags; docs/operations.md): `full_extract` re-pulls every object ignoring the saved
    watermarks; `full_refresh` rebuilds every incremental dbt model; `republish` skips the
    extraction and rebuilds, renders and publishes the week from the landing zone as the last
    extraction left it; `allow_partial_week` labels a week that has not ended or that the data
    does not reach; `reset_history` lets the data directory change orgs."""

    full_extract: bool = False
    full_refresh: bool = False
    republish: bool = False
    allow_partial_week: bool = False
    reset_history: bool = False

    def __post_init__(self) -> None:
        if self.republish and (self.full_extract or self.reset_history):
            extra = "a full extract" if self.full_extract else "a history reset"
            raise RunOptionsError(
                f"republish publishes the week without extracting: it cannot be combined with "
                f"{extra}; run one, then the other"
            )

    def apply(self, settings: Settings) -> Settings:
        """The settings with the actions that are settings turned on."""
        if self.allow_partial_week:
            guards = settings.guards.model_copy(update={"allow_partial_week": True})
            settings = settings.model_copy(update={"guards": guards})
        if self.full_extract:
            salesforce = settings.salesforce.model_copy(update={"extract_mode": "full"})
            settings = settings.model_copy(update={"salesforce": salesforce})
        return settings

    def skip_reason(self, step: str) -> str | None:
        """Why this run skips `step`, None when it runs it."""
        if self.republish and step == "extract":
            return (
                "republish: nothing is extracted; the landing zone of the last extraction is used"
            )
        return None


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[..., Summary]
    doc: str
    # The RunOptions this step takes as keyword arguments.
    options: tuple[str, ...] = ()

    def __call__(self, week: Week, settings: Settings, options: RunOptions) -> Summary:
        """Run the step for `week` with the settings `options` already applied to."""
        from salesprep import storage

        storage.use_options(settings)
        return self.run(week, settings, **{name: getattr(options, name) for name in self.options})


STEPS: tuple[Step, ...] = (
    Step(
        "check_week", check_week, "check the settings and that the week has ended", ("republish",)
    ),
    Step(
        "extract", extract_raw, "extract Salesforce into the raw landing zone", ("reset_history",)
    ),
    Step("check_raw", check_raw, "validate the raw data (Great Expectations)"),
    Step("load_learnings", load_learnings, "read the learnings recorded by pairs"),
    Step("build_marts", build_marts, "build and test the marts (dbt)", ("full_refresh",)),
    Step("check_marts", check_marts, "validate the marts (Great Expectations)"),
    Step("render_packets", render_packets, "render the prep packets"),
    Step("publish", publish, "publish the warehouse and the packets together"),
)


def run_week(
    week: Week,
    settings: Settings,
    *,
    progress: Callable[[str], None] = log.info,
    options: RunOptions | None = None,
    run_id: str | None = None,
) -> dict[str, Summary]:
    """Run every step for `week` in order, as `options` say; the first failure stops the run.
    The run's record (`salesprep status`) is written under `run_id` (the lease holder), as
    the run goes."""
    from salesprep.runs.record import RunRecorder

    options = options or RunOptions()
    settings = options.apply(settings)
    run_id = run_id or f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}"
    record = RunRecorder(settings.data_dir, run_id, week.label, launcher="salesprep run")
    summaries: dict[str, Summary] = {}
    for step in STEPS:
        skipped = options.skip_reason(step.name)
        if skipped:
            progress(f"{week.label}: {step.name} skipped ({skipped})")
            summaries[step.name] = {"skipped": skipped}
            record.step_skipped(step.name, skipped)
            continue
        progress(f"{week.label}: {step.doc} ...")
        started = time.perf_counter()
        record.step_started(step.name)
        try:
            summaries[step.name] = step(week, settings, options)
        except BaseException as exc:  # re-raised; a Ctrl-C is recorded, but reports nothing
            failed = isinstance(exc, Exception)
            url = report_failure(week, exc, step.name, settings) if failed else None
            record.step_failed(step.name, exc, refused=is_refusal(exc), quality_report=url)
            if url:
                progress(f"{week.label}: {step.name} failed; quality report: {url}")
            raise
        record.step_succeeded(step.name, summaries[step.name], last=step is STEPS[-1])
        progress(f"{week.label}: {step.name} done in {time.perf_counter() - started:.1f}s")
    return summaries


def is_refusal(error: BaseException) -> bool:
    """Whether `error` (or an error it was raised from) refused the run: nothing a retry
    can change (`refusal_types`)."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, refusal_types()):
        cause = cause.__cause__
    return cause is not None


def report_failure(
    week: Week, error: BaseException | str, step: str, settings: Settings | None = None
) -> str | None:
    """Publish the quality report of a run that stopped at `step` (nothing else is published:
    last week's packets and warehouse stay) and return its URL. A refusal (a bad setting, a
    week that must not be prepared) publishes nothing: it stopped the run before any work, and
    its one line says all. Never raises: a report that cannot be written is logged, so it does
    not hide the failure it describes."""
    from salesprep.config import ConfigError, load_settings
    from salesprep.quality.report import QualityReportError, publish_failed_quality_report

    if isinstance(error, BaseException) and is_refusal(error):
        log.info("%s was refused at %s: no quality report is published", week, step)
        return None
    from salesprep import storage
    from salesprep.quality.report import quality_root

    try:
        settings = settings or load_settings()
        storage.use_options(settings)
        storage.pull(settings, f"quality/{week.label}", quality_root(settings, week))
        return publish_failed_quality_report(week, settings, error, failed_step=step)
    except (ConfigError, QualityReportError, OSError) as exc:
        log.error("could not publish the failed-run quality report for %s: %s", week, exc)
        return None


class StepSkipped(Exception):
    """This run skips the step (e.g. `extract` when republishing); the message says why."""


def run_step(name: str, week: str, options: RunOptions | None = None) -> Summary:
    """Run one step by name for the week label, with settings read now (inside the task) and
    `options` (the DAG's params) applied; raises StepSkipped when the options skip it."""
    from salesprep.config import load_settings

    steps = {step.name: step for step in STEPS}
    if name not in steps:
        raise KeyError(f"unknown step {name!r}; steps: {', '.join(steps)}")
    options = options or RunOptions()
    skipped = options.skip_reason(name)
    if skipped:
        raise StepSkipped(skipped)
    return steps[name](Week.parse(week), options.apply(load_settings()), options)
