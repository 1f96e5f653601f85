"""build_warehouse on bad input: clear errors that name the problem and the failing nodes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from salesprep.warehouse import WarehouseBuildError, build_warehouse

from .conftest import tiny_settings
from .tiny_org import R1, WEEK, org_to_raw, write_tiny_org


def test_failing_data_test_raises_with_the_node_and_writes_the_results(tmp_path: Path) -> None:
    settings = tiny_settings(tmp_path)
    org_to_raw(write_tiny_org(tmp_path / "org"), settings.raw_root)
    users_file = settings.raw_root / "User" / "User.parquet"
    users = pq.read_table(users_file)
    duplicate = users.filter(pc.equal(users["Id"], R1))
    pq.write_table(pa.concat_tables([users, duplicate]), users_file)

    with pytest.raises(WarehouseBuildError) as caught:
        build_warehouse(settings, WEEK, select="stg_salesforce__users")

    message = str(caught.value)
    assert "test.salesprep.unique_stg_salesforce__users_user_id" in message
    assert [f.unique_id.rsplit(".", 1)[0] for f in caught.value.failures] == [
        "test.salesprep.unique_stg_salesforce__users_user_id"
    ]
    payload = json.loads(
        (tmp_path / "warehouse" / f"dbt_build_{WEEK.label}.json").read_text(encoding="utf-8")
    )
    assert payload["success"] is False
    failed = [r for r in payload["results"] if r["status"] == "fail"]
    assert [r["unique_id"].rsplit(".", 1)[0] for r in failed] == [
        "test.salesprep.unique_stg_salesforce__users_user_id"
    ]
    assert failed[0]["failures"] == 1


def test_missing_landing_zone_is_named(tmp_path: Path) -> None:
    with pytest.raises(WarehouseBuildError, match=r"raw landing zone .*raw does not exist"):
        build_warehouse(tiny_settings(tmp_path), WEEK)


def test_unknown_target_is_named(tmp_path: Path) -> None:
    with pytest.raises(WarehouseBuildError, match="dbt_target='snowflake'"):
        build_warehouse(tiny_settings(tmp_path, dbt_target="snowflake"), WEEK)


def test_missing_quota_csv_is_named(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    settings = tiny_settings(tmp_path, quota_csv=tmp_path / "quotas.csv")
    with pytest.raises(WarehouseBuildError, match=r"quota_csv=.*quotas.csv .*no such file"):
        build_warehouse(settings, WEEK)


def test_data_dir_with_a_quote_is_refused_before_dbt_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "o'brien"
    (data_dir / "raw").mkdir(parents=True)
    with pytest.raises(WarehouseBuildError, match="single quote"):
        build_warehouse(tiny_settings(data_dir), WEEK)
    assert not (data_dir / "warehouse").exists()


def test_a_landing_zone_older_than_the_run_week_stops_before_the_build(tmp_path: Path) -> None:
    """Freshness is measured against the end of the run week, not the wall clock: the tiny
    org's data ends in 2026-W10, so a run for 2026-W13 finds it 3 weeks stale."""
    settings = tiny_settings(tmp_path)
    org_to_raw(write_tiny_org(tmp_path / "org"), settings.raw_root)
    stale_week = WEEK.shift(3)

    with pytest.raises(WarehouseBuildError) as caught:
        build_warehouse(settings, stale_week)

    assert [f.unique_id for f in caught.value.failures] == [
        "source.salesprep.salesforce.Opportunity"
    ]
    message = str(caught.value)
    assert "days before the run week ends" in message
    assert "error after 14 days" in message
    payload = json.loads(
        (tmp_path / "warehouse" / f"dbt_build_{stale_week.label}.json").read_text(encoding="utf-8")
    )
    assert payload["success"] is False
    assert {r["resource_type"] for r in payload["results"]} == {"source"}  # nothing was built
    assert not settings.build_warehouse_path.exists() or not _tables(settings.build_warehouse_path)


def _tables(path: Path) -> list[str]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as conn:
        return [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        ]
