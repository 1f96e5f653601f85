"""A small generated demo org and its warehouse builds, made once per test session and shared by
the warehouse, marts-checkpoint and follow-through tests (a dbt build is the expensive part of
these tests): a full build of DEMO_WEEK, and the weeks up to DEMO_WEEK built one by one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from salesprep.config import Settings
from salesprep.demo_org.generator import generate_org
from salesprep.warehouse import BuildResult, build_warehouse, publish_warehouse
from salesprep.warehouse.runner import dbt_work_dir
from salesprep.weeks import Week

from .tiny_org import org_to_raw

DEMO_WEEK = Week.parse("2026-W10")
DEMO_WEEKS = 12
# Every mart BI or the packets read, with its key (the order rows are compared in).
MART_KEYS: dict[str, str] = {
    "dim_reps": "user_id",
    "dim_sales_pairs": "pair_id",
    "dim_opportunity_stages": "stage_name",
    "fct_opportunity_stage_intervals": "stage_run_key",
    "fct_rep_activity_weekly": "rep_id, week",
    "rpt_pair_metrics_weekly": "pair_id, week, metric",
    "fct_rep_quota_weekly": "rep_id, week",
    "fct_deal_movement_weekly": "opportunity_id, week",
    "fct_fast_movers_weekly": "opportunity_id, week",
    "fct_large_deals_weekly": "opportunity_id, week",
    "rpt_feedback_mentions_weekly": "week, mention_key",
    "rpt_rep_feedback_themes_weekly": "rep_id, week, theme_key",
    "rpt_feedback_escalations_weekly": "week, theme_key",
    "fct_pipeline_waterfall_weekly": "rep_week_key",
    "rpt_pair_prep_weekly": "pair_id, week",
    "rpt_stuck_deal_followups_weekly": "opportunity_id, week",
    "rpt_manager_team_weekly": "pair_id, week",
    "rpt_manager_team_trend_weekly": "manager_id, week",
    "rpt_manager_feedback_themes_weekly": "manager_id, week, theme_key",
    "fct_opportunity_snapshots_weekly": "opportunity_week_key",
    "dim_organization": "corporate_currency",
    "fct_unconverted_amounts_weekly": "rep_id, week, amount_kind, record_id",
}
# Marts the single-currency demo org leaves empty (it has no amount without a rate).
EMPTY_IN_DEMO = frozenset({"fct_unconverted_amounts_weekly"})
WEEKLY_MARTS = tuple(
    name for name, key in MART_KEYS.items() if "week" in key and name not in EMPTY_IN_DEMO
)

_CACHE: dict[str, object] = {}


@dataclass(frozen=True)
class DemoBuild:
    """A built (and published) warehouse of the demo org."""

    settings: Settings
    org_dir: Path
    result: BuildResult
    published: Path

    def rows(self, sql: str, params: list | None = None, *, path: Path | None = None) -> list:
        return mart_rows(path or self.published, sql, params)


def mart_rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def demo_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The org folder (6 reps under 2 managers, 12 weeks to 2026-W10), generated once."""
    if "org" not in _CACHE:
        root = tmp_path_factory.mktemp("demo-org")
        generate_org(
            root / "org", reps=6, managers=2, weeks=DEMO_WEEKS, seed=11, end_week=DEMO_WEEK
        )
        org_to_raw(root / "org", root / "raw")
        _CACHE["org"] = root
    return _CACHE["org"] / "org"  # type: ignore[operator]


def land_demo(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A data dir whose landing zone is the demo org's (copied, so tests may alter it)."""
    org = demo_org(tmp_path_factory)
    settings = Settings(data_dir=data_dir)
    shutil.copytree(org.parent / "raw", settings.raw_root)
    return settings


def demo_full_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The whole project built from scratch for DEMO_WEEK and published, once per session."""
    if "full" not in _CACHE:
        settings = land_demo(tmp_path_factory.mktemp("demo-full"), tmp_path_factory)
        result = build_warehouse(settings, DEMO_WEEK)
        published = publish_warehouse(
            settings.build_warehouse_path, settings.published_warehouse_path
        )
        _CACHE["full"] = DemoBuild(settings, demo_org(tmp_path_factory), result, published)
    return _CACHE["full"]  # type: ignore[return-value]


OUTSIDE_WINDOW = DEMO_WEEK.shift(-6)  # the last run rebuilds DEMO_WEEK - 4 .. DEMO_WEEK
INSIDE_WINDOW = DEMO_WEEK.shift(-2)
MARKER = 1000

# Polls the published warehouse read-only until told to stop: every read must succeed and see
# whole weeks (each week of rpt_pair_prep_weekly has one row per pair of dim_sales_pairs).
_READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    published, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    reads, errors, incomplete, last_weeks = 0, [], [], []
    started = Path(str(out) + ".started")
    while not stop.exists():
        try:
            with duckdb.connect(str(published), read_only=True) as conn:
                pairs = conn.execute("select count(*) from dim_sales_pairs").fetchone()[0]
                weeks = conn.execute(
                    "select week, count(*) from rpt_pair_prep_weekly group by week order by week"
                ).fetchall()
            reads += 1
            started.touch()
            bad = [(w, n) for w, n in weeks if n != pairs]
            if bad or not weeks:
                incomplete.append({"pairs": pairs, "bad": bad})
            if not last_weeks or last_weeks[-1] != weeks[-1][0]:
                last_weeks.append(weeks[-1][0])
        except Exception as exc:  # the test fails on any error, so keep them all
            errors.append(f"{type(exc).__name__}: {exc}")
            started.touch()
        time.sleep(0.02)
    out.write_text(json.dumps({
        "reads": reads, "errors": errors, "incomplete": incomplete, "last_weeks": last_weeks,
    }))
    """
)


@dataclass(frozen=True)
class Sequence:
    """Weeks DEMO_WEEK-3 .. DEMO_WEEK built one after another in one data dir (the first a
    first build), the build file as the last incremental run left it, then the same data dir
    after a full refresh. Shared by the incremental and the weekly-build tests."""

    settings: Settings
    results: list[BuildResult]  # DEMO_WEEK-3 (first build) .. DEMO_WEEK, then the full refresh
    incremental: Path
    full_refresh: Path
    reader: dict
    marker_after_run: dict[str, int]
    # A copy of the data dir (build file, dbt's target) as the weekly run of DEMO_WEEK left it,
    # its marker taken out again, and what dbt logged during that run.
    weekly: Settings
    weekly_log: str


def _add_marker(build: Path, week: Week) -> None:
    with duckdb.connect(str(build)) as conn:
        conn.execute(
            "update fct_rep_activity_weekly set pipeline_created_null_amounts ="
            " pipeline_created_null_amounts + ? where week = ?",
            [MARKER, week.label],
        )


def _marked_rows(build: Path, week: Week) -> int:
    return mart_rows(
        build,
        "select count(*) from fct_rep_activity_weekly where week = ?"
        " and pipeline_created_null_amounts >= ?",
        [week.label, MARKER],
    )[0][0]


def demo_week_by_week(tmp_path_factory: pytest.TempPathFactory) -> Sequence:
    """The demo org built week by week (see Sequence), once per session: a reader in another
    process polls the published file through the last weekly run, its publication, a full
    refresh and its publication."""
    if "week_by_week" not in _CACHE:
        _CACHE["week_by_week"] = _week_by_week(tmp_path_factory)
    return _CACHE["week_by_week"]  # type: ignore[return-value]


def _week_by_week(tmp_path_factory: pytest.TempPathFactory) -> Sequence:
    settings = land_demo(tmp_path_factory.mktemp("demo-incremental"), tmp_path_factory)
    build, published = settings.build_warehouse_path, settings.published_warehouse_path
    results = []
    for back in (3, 2, 1):
        # Unit tests do not depend on the data: the last run and the full builds run them.
        results.append(build_warehouse(settings, DEMO_WEEK.shift(-back)))
        publish_warehouse(build, published)

    # A reader in another process polls the published file through the last weekly run, its
    # publication, a full refresh and its publication.
    work = tmp_path_factory.mktemp("reader")
    stop, out = work / "stop", work / "reader.json"
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(published), str(stop), str(out)])
    try:
        deadline = time.monotonic() + 60
        while not Path(str(out) + ".started").exists():
            assert reader.poll() is None, "the reader process died before its first read"
            assert time.monotonic() < deadline, "the reader never read the published file"
            time.sleep(0.05)

        # Marks rows the last run must not rebuild (outside its window) and rows it must.
        _add_marker(build, OUTSIDE_WINDOW)
        _add_marker(build, INSIDE_WINDOW)
        # dbt's log of this run alone: the earlier runs' logs move aside, and dbt rotates its
        # log at 10 MB (dbt.log.1, dbt.log), so the run's lines may span two files.
        logs = dbt_work_dir(settings) / "logs"
        (logs / "earlier").mkdir()
        for path in logs.glob("dbt.log*"):
            path.rename(logs / "earlier" / path.name)
        results.append(build_warehouse(settings, DEMO_WEEK))
        weekly_log = "".join(
            path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(logs.glob("dbt.log*"), key=lambda path: path.name, reverse=True)
        )
        publish_warehouse(build, published)
        marker_after_run = {
            "outside": _marked_rows(build, OUTSIDE_WINDOW),
            "inside": _marked_rows(build, INSIDE_WINDOW),
        }
        weekly = Settings(data_dir=work / "weekly")
        shutil.copytree(settings.data_dir, weekly.data_dir, symlinks=True)
        incremental = weekly.build_warehouse_path
        with duckdb.connect(str(incremental)) as conn:
            conn.execute(
                "update fct_rep_activity_weekly set pipeline_created_null_amounts ="
                " pipeline_created_null_amounts - ? where week = ?",
                [MARKER, OUTSIDE_WINDOW.label],
            )

        results.append(build_warehouse(settings, DEMO_WEEK, full_refresh=True))
        publish_warehouse(build, published)
        time.sleep(0.3)  # a few reads of the final file
    finally:
        stop.touch()
        reader.wait(timeout=60)
    return Sequence(
        settings=settings,
        results=results,
        incremental=incremental,
        full_refresh=build,
        reader=json.loads(out.read_text(encoding="utf-8")),
        marker_after_run=marker_after_run,
        weekly=weekly,
        weekly_log=weekly_log,
    )
