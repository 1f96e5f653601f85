"""The dbt project on the other inputs it must handle: the demo generator's org (the whole
project, deal marts included) and the Postgres target (the same numbers as DuckDB; the whole
demo project on Postgres, every mart and its comments, is checked by the weekly run of
tests/e2e/test_postgres_run.py, which builds it anyway)."""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import psycopg
import pytest
from postgres_db import reachable_or_skip

from salesprep.config import PostgresSettings
from salesprep.warehouse import build_warehouse
from salesprep.warehouse.connection import open_marts
from salesprep.warehouse.postgres import conninfo

from .conftest import REP_MARTS, TinyWarehouse, tiny_settings
from .demo_builds import (
    DEMO_WEEK,
    MART_KEYS,
    DemoBuild,
    demo_full_build,
)
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
    target = reachable_or_skip(settings.postgres)
    org_to_raw(write_tiny_org(tmp_path / "org"), settings.raw_root)
    try:
        result = build_warehouse(settings, WEEK, select=REP_MARTS)
        assert result.success
        assert result.warehouse_path is None
        # dbt built the marts into the build schema, which the run's readers open.
        assert settings.postgres.build_schema == "marts_build"
        with open_marts(settings, "build") as marts:
            for table, sql in _COMPARED.items():
                on_postgres = marts.query(sql.format(table))
                on_duckdb = tiny_warehouse.query(sql.format(table))
                assert on_postgres, table
                assert _rows_close(on_postgres, on_duckdb), table
    finally:
        with psycopg.connect(conninfo(target, "postgres"), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{database}" with (force)')


def _manifest(demo: DemoBuild) -> dict:
    manifest_path = demo.settings.data_dir / "warehouse" / "dbt" / "target" / "manifest.json"
    return json.loads(manifest_path.read_text(encoding="utf-8"))


def _models(demo: DemoBuild) -> dict[str, dict]:
    nodes = _manifest(demo)["nodes"].values()
    return {n["name"]: n for n in nodes if n["resource_type"] == "model"}


# What BI tools read: every staging view (raw columns renamed) and every mart.
_COMMENTED_SCHEMAS = ("staging", "main", "marts_build")

Comments = dict[tuple[str, str | None], str | None]


def _documented(demo: DemoBuild, relations: Comments) -> Comments:
    """The manifest's descriptions of the relations named in `relations` (its keys'
    relation names), keyed like `_duckdb_comments`: (relation, None) for the relation's
    own description, (relation, column) for each column's."""
    models = _models(demo)
    wanted = {relation for relation, _ in relations}
    expected: Comments = {}
    for name in wanted:
        expected[(name, None)] = models[name]["description"]
        for column, spec in models[name]["columns"].items():
            expected[(name, column)] = spec["description"]
    return expected


def _said(comments: Comments) -> Comments:
    """Only the comments that say something: Postgres stores an empty one as none."""
    return {key: comment for key, comment in comments.items() if comment}


def _duckdb_comments(demo: DemoBuild) -> Comments:
    """Every staging and mart relation's comment and its columns' comments in the published
    DuckDB file, as a BI tool sees them (`duckdb_tables()`, `duckdb_views()`,
    `duckdb_columns()`)."""
    schemas = list(_COMMENTED_SCHEMAS)
    in_schemas = "schema_name in (?, ?, ?) and not internal"
    relations = demo.rows(
        f"select table_name, comment from duckdb_tables() where {in_schemas}"
        f" union all select view_name, comment from duckdb_views() where {in_schemas}",
        schemas * 2,
    )
    columns = demo.rows(
        f"select table_name, column_name, comment from duckdb_columns() where {in_schemas}",
        schemas,
    )
    comments: Comments = {(name, None): comment for name, comment in relations}
    comments.update({(name, column): comment for name, column, comment in columns})
    return comments


def _postgres_comments(conn: psycopg.Connection) -> Comments:
    """The same as `_duckdb_comments`, from Postgres' catalog (what BI tools read there)."""
    schemas = list(_COMMENTED_SCHEMAS)
    relations = conn.execute(
        "select c.relname, obj_description(c.oid, 'pg_class') from pg_class as c"
        " join pg_namespace as n on n.oid = c.relnamespace"
        " where n.nspname = any(%s) and c.relkind in ('r', 'v')",
        [schemas],
    ).fetchall()
    columns = conn.execute(
        "select c.relname, a.attname, col_description(c.oid, a.attnum) from pg_class as c"
        " join pg_namespace as n on n.oid = c.relnamespace"
        " join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped"
        " where n.nspname = any(%s) and c.relkind in ('r', 'v')",
        [schemas],
    ).fetchall()
    comments: Comments = {(name, None): comment for name, comment in relations}
    comments.update({(name, column): comment for name, column, comment in columns})
    return comments


def test_descriptions_are_comments_bi_tools_read(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """persist_docs: every staging view and mart carries its model description, and each of
    its columns its column description, as the database's comments; the published file keeps
    them. Staging documents every column it has (no comment missing, none left over)."""
    demo = demo_full_build(tmp_path_factory)
    comments = _duckdb_comments(demo)
    staging = {name for name, _ in comments if name.startswith("stg_")}
    assert len(staging) >= 20
    assert set(MART_KEYS) <= {name for name, _ in comments}
    assert _said(comments) == _said(_documented(demo, comments))
    assert all(comments[(name, None)].strip() for name in staging | set(MART_KEYS))
    undescribed = [key for key, comment in comments.items() if not (comment or "").strip()]
    assert [key for key in undescribed if key[0] in staging] == []


def test_bi_marts_have_contracts_grain_column_docs_and_exposures(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from salesprep.packets.marts import MART_COLUMNS

    demo = demo_full_build(tmp_path_factory)
    manifest = _manifest(demo)
    models = _models(demo)
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
