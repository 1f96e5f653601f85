"""The weekly run as plain steps: the Airflow DAG, the CLI and the tests all call these.

Each step takes the week and the settings, reads its input from and writes its output to the
data directory or the shared folder, and returns a small JSON-able summary (fit for XCom).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
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
    """Where render_packets writes the week before publish_packets copies it out."""
    return settings.data_dir / "rendered" / week.label


def extract_raw(week: Week, settings: Settings, *, reset_history: bool = False) -> Summary:
    """Pull every object from Salesforce into the raw landing zone.

    The data directory keeps one org's history: a run connected to another org stops here,
    before anything is extracted, unless `reset_history` drops the old org's history first
    (`salesprep.warehouse.history`)."""
    from salesprep.salesforce.client import session_org_id
    from salesprep.salesforce.connection import connect
    from salesprep.salesforce.extract import extract_org
    from salesprep.warehouse.history import check_org, landed_organization, record_org, same_org

    sf = connect(settings)
    org_id = session_org_id(sf)
    removed = check_org(settings, org_id, reset=reset_history)
    report = extract_org(sf, settings.raw_root, settings=settings)
    landed_id, name = landed_organization(settings.raw_root)
    record_org(settings, landed_id if landed_id and same_org(landed_id, org_id) else org_id, name)
    summary = report.summary()
    if reset_history:
        summary["reset_history"] = [str(p) for p in removed]
    return summary


def check_raw(week: Week, settings: Settings) -> Summary:
    """Great Expectations raw checkpoint: fails the run before anything is built or published."""
    from salesprep.quality.raw_checkpoint import validate_raw

    result = validate_raw(
        settings.raw_root, quality_dir(settings, week, "raw"), settings=settings, week=week
    )
    return result.summary()


def load_learnings(week: Week, settings: Settings) -> Summary:
    """Read the lessons and feedback pairs recorded before this week (the learnings loop)."""
    from salesprep.learnings import load_learnings as load

    report = load(settings.shared_folder_url, settings.learnings_path, week)
    return report.summary()


def build_marts(week: Week, settings: Settings) -> Summary:
    """dbt build (models and tests) into the build warehouse, which BI never reads."""
    from salesprep.warehouse import build_warehouse

    result = build_warehouse(settings, week)
    return result.summary()


def check_marts(week: Week, settings: Settings) -> Summary:
    """Great Expectations marts checkpoint on the built warehouse, then the dbt docs and the
    dbt stage of the week's quality report (staged with the packets by render_packets); a
    failure stops the run before anything is published."""
    from salesprep.quality.marts_checkpoint import validate_marts
    from salesprep.quality.report import dbt_docs_dir, write_build_report
    from salesprep.warehouse import generate_docs

    result = validate_marts(
        settings.build_warehouse_path,
        quality_dir(settings, week, "marts"),
        settings=settings,
        week=week,
    )
    generate_docs(settings, week, dbt_docs_dir(settings, week))
    write_build_report(week, settings)
    return result.summary()


def publish_marts(week: Week, settings: Settings) -> Summary:
    """Swap the built warehouse in for BI readers, atomically."""
    from salesprep.warehouse import publish_warehouse

    path = publish_warehouse(settings.build_warehouse_path, settings.published_warehouse_path)
    return {"published_warehouse": str(path)}


def render_packets(week: Week, settings: Settings) -> Summary:
    """Render one packet per pair, plus the week's indexes, from the published marts; the
    week's Data Docs go with them (`quality/`, published in the same swap)."""
    from salesprep.orchestration.quality_docs import stage_quality_docs
    from salesprep.packets import render_week
    from salesprep.packets.batch import EXTRA_DIR
    from salesprep.quality.report import quality_root

    out_dir = rendered_dir(settings, week)
    result = render_week(week, settings, out_dir=out_dir)
    staged = stage_quality_docs(quality_root(settings, week), out_dir / EXTRA_DIR, week.label)
    return {**result.summary(), "quality_docs": len(staged)}


def publish_packets(week: Week, settings: Settings) -> Summary:
    """Publish the rendered week into the shared folder, atomically per week."""
    from salesprep.packets.publish import publish_rendered_week

    manifest = publish_rendered_week(rendered_dir(settings, week), settings.shared_folder_url, week)
    return manifest.summary()


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Week, Settings], Summary]
    doc: str


STEPS: tuple[Step, ...] = (
    Step("extract", extract_raw, "extract Salesforce into the raw landing zone"),
    Step("check_raw", check_raw, "validate the raw data (Great Expectations)"),
    Step("load_learnings", load_learnings, "read the learnings recorded by pairs"),
    Step("build_marts", build_marts, "build and test the marts (dbt)"),
    Step("check_marts", check_marts, "validate the marts (Great Expectations)"),
    Step("publish_marts", publish_marts, "publish the warehouse for BI"),
    Step("render_packets", render_packets, "render the prep packets"),
    Step("publish_packets", publish_packets, "publish the packets to the shared folder"),
)


def run_week(
    week: Week,
    settings: Settings,
    *,
    progress: Callable[[str], None] = log.info,
    reset_history: bool = False,
) -> dict[str, Summary]:
    """Run every step for `week` in order; the first failure stops the run. `reset_history`
    lets a data directory change orgs (`extract_raw`)."""
    summaries: dict[str, Summary] = {}
    for step in STEPS:
        progress(f"{week.label}: {step.doc} ...")
        started = time.perf_counter()
        try:
            if step.run is extract_raw:
                summaries[step.name] = extract_raw(week, settings, reset_history=reset_history)
            else:
                summaries[step.name] = step.run(week, settings)
        except Exception as exc:  # re-raised: only the quality report is added on the way out
            url = report_failure(week, exc, step.name, settings)
            if url:
                progress(f"{week.label}: {step.name} failed; quality report: {url}")
            raise
        progress(f"{week.label}: {step.name} done in {time.perf_counter() - started:.1f}s")
    return summaries


def report_failure(
    week: Week, error: BaseException | str, step: str, settings: Settings | None = None
) -> str | None:
    """Publish the quality report of a run that stopped at `step` (nothing else is published:
    last week's packets and warehouse stay) and return its URL. Never raises: a report that
    cannot be written is logged, so it does not hide the failure it describes."""
    from salesprep.config import ConfigError, load_settings
    from salesprep.quality.report import QualityReportError, publish_failed_quality_report

    try:
        settings = settings or load_settings()
        return publish_failed_quality_report(week, settings, error, failed_step=step)
    except (ConfigError, QualityReportError, OSError) as exc:
        log.error("could not publish the failed-run quality report for %s: %s", week, exc)
        return None


def run_step(name: str, week: str) -> Summary:
    """Run one step by name for the week label, with settings read now (inside the task)."""
    from salesprep.config import load_settings

    steps = {step.name: step for step in STEPS}
    if name not in steps:
        raise KeyError(f"unknown step {name!r}; steps: {', '.join(steps)}")
    return steps[name].run(Week.parse(week), load_settings())
