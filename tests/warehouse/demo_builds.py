"""A small generated demo org and its warehouse builds, made once per test session and shared by
the warehouse and marts-checkpoint tests (a dbt build is the expensive part of these tests)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from salesprep.config import Settings
from salesprep.demo_org.generator import generate_org
from salesprep.warehouse import BuildResult, build_warehouse, publish_warehouse
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
