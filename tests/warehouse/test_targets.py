"""The dbt project on the other inputs it must handle: the demo generator's org (the whole
project, deal marts included) and the Postgres target (the same numbers as DuckDB)."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import psycopg
import pytest

from salesprep.config import PostgresSettings, Settings, load_settings
from salesprep.warehouse import build_warehouse
from salesprep.warehouse.postgres import conninfo

from .conftest import REP_MARTS, TinyWarehouse, tiny_settings
from .demo_builds import DEMO_WEEK, EMPTY_IN_DEMO, MART_KEYS, demo_full_build, land_demo
from .tiny_org import WEEK, org_to_raw, write_tiny_org

pytestmark = pytest.mark.slow


def test_demo_org_builds_the_whole_project(tmp_path_factory: pytest.TempPathFactory) -> None:
    demo = demo_full_build(tmp_path_factory)

    assert demo.result.success
    ids = {n.unique_id for n in demo.result.nodes}
    assert "model.salesprep.fct_deal_movement_weekly" in ids
    assert "source.salesprep.salesforce.Opportunity" in ids  # freshness ran first
    # Production settings: data tests run, dbt's unit tests are CI's (decision 15).
    kinds = {n.resource_type for n in demo.result.nodes}
    assert "test" in kinds
    assert "unit_test" not in kinds
    (pairs,) = demo.rows("select count(*) from dim_sales_pairs")[0]
    per_pair = demo.rows(
        "select count(distinct metric), count(*) from rpt_pair_metrics_weekly"
        " where week = ? group by pair_id",
        [DEMO_WEEK.label],
    )
    assert pairs >= 4
    assert set(per_pair) == {(8, 8)}
    assert len(per_pair) == pairs


def _postgres_or_skip(target: PostgresSettings | None = None) -> PostgresSettings:
    target = target or load_settings().postgres
    try:
        with psycopg.connect(conninfo(target, "postgres"), connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {target.host}:{target.port}: {exc}")
    return target


def _rows_close(left: list[tuple], right: list[tuple]) -> bool:
    def same(a, b) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
        return a == b

    return len(left) == len(right) and all(
        len(x) == len(y) and all(same(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(left, right, strict=True)
    )


_COMPARED = {
    "dim_sales_pairs": "select pair_id, manager_id, rep_id, rep_name from {} order by pair_id",
    "fct_rep_activity_weekly": (
        "select rep_id, week, calls, emails, meetings, opportunities_created, pipeline_created,"
        " closed_won_count, closed_won_amount, closed_lost_count from {} order by rep_id, week"
    ),
    "rpt_pair_metrics_weekly": (
        "select pair_id, week, metric, this_week, prior_week, avg_4w, team_median from {}"
        " order by pair_id, week, metric"
    ),
    "fct_rep_quota_weekly": (
        "select rep_id, week, quarter_start, quota_amount, won_to_date, attainment, elapsed,"
        " pacing, open_pipeline, coverage, performance_conversation_recommended from {}"
        " order by rep_id, week"
    ),
}


def test_postgres_target_gives_the_same_rep_marts(
    tmp_path: Path, tiny_warehouse: TinyWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The target from the settings (here as a YAML file or the command line would give it),
    not only from the variables profiles.yml reads: the raw load and dbt both use it."""
    database = f"salesprep_test_{uuid.uuid4().hex[:10]}"
    for name in PostgresSettings.env_names().values():
        monkeypatch.delenv(name, raising=False)
    settings = tiny_settings(
        tmp_path, dbt_target="postgres", postgres={"database": database, "schema_name": "marts"}
    )
    target = _postgres_or_skip(settings.postgres)
    org_to_raw(write_tiny_org(tmp_path / "org"), settings.raw_root)
    try:
        result = build_warehouse(settings, WEEK, select=REP_MARTS)
        assert result.success
        assert result.warehouse_path is None
        with psycopg.connect(conninfo(target)) as conn:
            for table, sql in _COMPARED.items():
                on_postgres = [tuple(r) for r in conn.execute(sql.format(f"marts.{table}"))]
                on_duckdb = tiny_warehouse.query(sql.format(table))
                assert on_postgres, table
                assert _rows_close(on_postgres, on_duckdb), table
    finally:
        with psycopg.connect(conninfo(target, "postgres"), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{database}" with (force)')


def test_postgres_target_gives_the_same_rows_for_every_mart(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole project on Postgres from the demo org's landing zone, last week then this week
    (the second run incremental): every mart, every row and column, equals the DuckDB full
    build (weekly models and snapshots included)."""
    database = f"salesprep_test_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("SALESPREP_DBT_POSTGRES_DATABASE", database)
    monkeypatch.setenv("SALESPREP_DBT_POSTGRES_SCHEMA", "marts")
    target = _postgres_or_skip()
    duck = demo_full_build(tmp_path_factory)
    settings = land_demo(tmp_path_factory.mktemp("demo-postgres"), tmp_path_factory)
    settings = Settings(data_dir=settings.data_dir, dbt_target="postgres")
    try:
        build_warehouse(settings, DEMO_WEEK.shift(-1))
        result = build_warehouse(settings, DEMO_WEEK)
        assert result.success
        with psycopg.connect(conninfo(target)) as conn:
            for mart, key in MART_KEYS.items():
                sql = "select * from {} order by " + key
                on_postgres = [tuple(r) for r in conn.execute(sql.format(f"marts.{mart}"))]
                on_duckdb = duck.rows(sql.format(mart))
                assert on_duckdb or mart in EMPTY_IN_DEMO, mart
                assert _rows_close(on_postgres, on_duckdb), mart
    finally:
        with psycopg.connect(conninfo(target, "postgres"), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{database}" with (force)')


def test_bi_marts_have_contracts_grain_column_docs_and_exposures(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from salesprep.packets.marts import MART_COLUMNS

    demo = demo_full_build(tmp_path_factory)
    manifest_path = demo.settings.data_dir / "warehouse" / "dbt" / "target" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    for name in MART_KEYS:
        node = models[name]
        assert node["config"]["contract"]["enforced"], name
        assert node["description"].startswith("One row per"), name  # the grain comes first
        undocumented = [c for c, v in node["columns"].items() if not v["description"].strip()]
        assert undocumented == [], name
        columns = demo.rows(
            "select column_name from information_schema.columns"
            " where table_schema = 'main' and table_name = ?",
            [name],
        )
        assert {c for (c,) in columns} == set(node["columns"]), name
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    packets = exposures["prep_packets"]["depends_on"]["nodes"]
    assert {f"model.salesprep.{name}" for name in MART_COLUMNS} == set(packets)
    dashboard = exposures["sales_team_weekly_dashboard"]["depends_on"]["nodes"]
    assert "model.salesprep.rpt_pair_prep_weekly" in dashboard
