"""The dbt semantic layer (dbt_project/models/marts/semantic): `dbt parse` validates it with
MetricFlow's rules and publishes the metric dictionary's metrics, and MetricFlow's own query
engine, on the demo org's published warehouse, gives each rep and week the marts' numbers."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from salesprep.dbt_project import CHECKOUT_PROJECT_DIR

from .demo_builds import DEMO_WEEK, demo_full_build

pytestmark = pytest.mark.slow  # real dbt and MetricFlow processes

ACTIVITY_METRICS = (
    "calls",
    "emails",
    "meetings",
    "opportunities_created",
    "pipeline_created",
    "closed_won_count",
    "closed_won_amount",
    "closed_lost_count",
)
QUOTA_METRICS = ("quota_attainment", "pacing", "coverage")
# The marts' column of each quota metric.
QUOTA_COLUMNS = {"quota_attainment": "attainment", "pacing": "pacing", "coverage": "coverage"}
_BIN = Path(sys.executable).parent


def _run(command: list[str], project: Path, warehouse: Path | None = None) -> str:
    """A dbt or mf command in `project` (mf reads `<project>/target/semantic_manifest.json`),
    with the profile's DuckDB file at `warehouse`; fails the test with the command's output."""
    env = {**os.environ, "DBT_PROFILES_DIR": str(project), "SALESPREP_DBT_TARGET": "duckdb"}
    # dbt names the DuckDB database after the file, and the manifest's relations after the
    # database: parse and query against a file named like the published one (salesprep).
    env["SALESPREP_DBT_DUCKDB_PATH"] = str(warehouse or project / "target" / "salesprep.duckdb")
    done = subprocess.run(
        [str(_BIN / command[0]), *command[1:]],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def semantic_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the dbt project, parsed: its target/ holds the semantic manifest."""
    project = tmp_path_factory.mktemp("semantic") / "dbt_project"
    shutil.copytree(
        CHECKOUT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", ".user.yml")
    )
    _run(["dbt", "parse", "--no-send-anonymous-usage-stats", "--quiet"], project)
    return project


def test_dbt_parse_publishes_the_metric_dictionary(semantic_project: Path) -> None:
    manifest = json.loads(
        (semantic_project / "target" / "semantic_manifest.json").read_text(encoding="utf-8")
    )
    metrics = {m["name"]: m for m in manifest["metrics"]}
    assert set(ACTIVITY_METRICS + QUOTA_METRICS) <= set(metrics)
    # Each quotes the metric dictionary (the dbt doc blocks of models/_metrics__docs.md).
    for name in ACTIVITY_METRICS + QUOTA_METRICS:
        assert "docs/metrics.md" in metrics[name]["description"], name
    assert {metrics[name]["type"] for name in ACTIVITY_METRICS} == {"simple"}
    assert metrics["quota_attainment"]["type"] == "ratio"
    assert metrics["coverage"]["type"] == "ratio"
    assert metrics["pacing"]["type"] == "derived"

    models = {m["name"]: m for m in manifest["semantic_models"]}
    quota_measures = models["rep_quota_weekly"]["measures"]
    # Quota positions are weekly snapshots: over several weeks the latest one counts.
    assert all(m["non_additive_dimension"]["name"] == "quota_week" for m in quota_measures)
    (spine,) = manifest["project_configuration"]["time_spines"]
    assert spine["node_relation"]["alias"] == "dim_dates"
    assert spine["primary_column"] == {"name": "date_day", "time_granularity": "day"}


def _query(project: Path, warehouse: Path, metrics: str, group_by: str) -> list[dict[str, str]]:
    """`mf query` of `metrics` by `group_by` (comma-separated), its rows as written to CSV."""
    out = warehouse.parent / f"{group_by.replace(',', '-')}.csv"
    command = ["mf", "query", "--metrics", metrics, "--group-by", group_by, "--csv", str(out)]
    _run(command, project, warehouse)
    with out.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _number(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def _same(left: float | None, right: float | None) -> bool:
    if left is None or right is None:
        return left is right
    return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-9)


def test_metricflow_answers_with_the_marts_numbers(
    semantic_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`mf validate-configs` (the warehouse checks too) and `mf query` over the demo org's
    published warehouse: per rep and week every metric equals the mart's column (null where
    it is null); per manager, attainment and coverage are the ratios of the reps' sums."""
    demo = demo_full_build(tmp_path_factory)
    warehouse = tmp_path_factory.mktemp("semantic-warehouse") / "salesprep.duckdb"
    shutil.copyfile(demo.published, warehouse)

    _run(["mf", "validate-configs"], semantic_project, warehouse)

    metrics = ",".join(ACTIVITY_METRICS + QUOTA_METRICS)
    per_rep = _query(semantic_project, warehouse, metrics, "rep,metric_time__week")
    got = {(r["rep"], r["metric_time__week"][:10]): r for r in per_rep}
    marts = demo.rows(
        "select a.rep_id, cast(a.week_start as varchar), "
        + ", ".join(f"a.{m}" for m in ACTIVITY_METRICS)
        + ", "
        + ", ".join(f"q.{QUOTA_COLUMNS[m]}" for m in QUOTA_METRICS)
        + " from fct_rep_activity_weekly as a"
        " join fct_rep_quota_weekly as q using (rep_id, week)"
    )
    assert len(marts) > 20
    assert {(rep, week) for rep, week, *_ in marts} == set(got)
    compared = 0
    for rep, week, *values in marts:
        for name, value in zip(ACTIVITY_METRICS + QUOTA_METRICS, values, strict=True):
            assert _same(_number(got[(rep, week)][name]), value), (rep, week, name)
            compared += value is not None
    assert compared > len(marts) * 8  # quota numbers too, not only nulls

    per_manager = _query(
        semantic_project,
        warehouse,
        "quota_attainment,coverage",
        "rep__manager_name,metric_time__week",
    )
    got_team = {(r["rep__manager_name"], r["metric_time__week"][:10]): r for r in per_manager}
    team = demo.rows(
        "select r.manager_name, cast(q.week_start as varchar),"
        " sum(q.won_to_date) filter (where q.quota_amount is not null)"
        "   / sum(q.quota_amount),"
        " sum(q.open_pipeline) filter (where q.quota_amount > q.won_to_date)"
        "   / sum(q.quota_amount - q.won_to_date) filter (where q.quota_amount > q.won_to_date)"
        " from fct_rep_quota_weekly as q join dim_reps as r on r.user_id = q.rep_id"
        " where q.week = ? group by 1, 2",
        [DEMO_WEEK.label],
    )
    assert team
    for manager, week, attainment, coverage in team:
        row = got_team[(manager, week)]
        assert _same(_number(row["quota_attainment"]), attainment), manager
        assert _same(_number(row["coverage"]), coverage), manager
