"""The deal-movement marts built by real dbt on a hand-made org: movements and stuck reasons
against hand-computed values, every week against the METRICS.md oracle, and Postgres against
DuckDB."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest

from salesprep.config import Settings
from salesprep.warehouse import build_warehouse, publish_warehouse
from salesprep.weeks import Week

from .deals_org import WEEK, opp_id, org_to_raw, write_deals_org

REPO = Path(__file__).resolve().parents[2]
# The deal marts and everything upstream; stg_salesforce__users for the rep_id relationships.
DEAL_MARTS = "+path:models/marts/deals stg_salesforce__users"
MARTS = {
    "fct_deal_movement_weekly": "opportunity_id, week",
    "fct_fast_movers_weekly": "opportunity_id, week",
    "fct_pipeline_waterfall_weekly": "rep_week_key",
    "fct_opportunity_stage_intervals": "stage_run_key",
    "dim_opportunity_stages": "stage_name",
}

pytestmark = pytest.mark.slow


def _build(data_dir: Path, *, with_activity: bool = True, **settings: Any) -> tuple[Path, Path]:
    """The scenario org written, landed and built by `dbt build` (models, data and unit tests)
    through salesprep.warehouse, which passes Settings.metrics as dbt vars."""
    org = write_deals_org(data_dir / "org", with_activity=with_activity)
    config = Settings(data_dir=data_dir, **{"dbt_unit_tests": True, **settings})
    org_to_raw(org, config.raw_root)
    build_warehouse(config, Week.parse(WEEK), select=DEAL_MARTS)
    if config.dbt_target != "duckdb":
        return org, config.build_warehouse_path
    # Read the published copy: dbt ran in this process and still holds the build file open.
    return org, publish_warehouse(config.build_warehouse_path, config.published_warehouse_path)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The scenario org and its DuckDB warehouse (published copy)."""
    return _build(tmp_path_factory.mktemp("deals"))


def _rows(database: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(database), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _deals(database: Path, week: str = WEEK) -> dict[str, dict[str, Any]]:
    rows = _rows(database, f"select * from main.fct_deal_movement_weekly where week = '{week}'")
    return {row["opportunity_id"]: row for row in rows}


def test_movements_of_the_week(built: tuple[Path, Path]) -> None:
    deals = _deals(built[1])
    expected = {
        "won": "won",
        "lost": "lost",
        "new": "new",
        "sameweek": "won",  # created and closed in the same week: the close wins
        "reopened": "reopened",
        "advanced": "advanced",
        "regressed": "regressed",
        "aging": "unchanged",
        "na_ok": "unchanged",
        "na_old": "unchanged",
        "young": "unchanged",
    }
    assert {k: deals[opp_id(k)]["movement"] for k in expected} == expected
    # The Needs Analysis fillers closed weeks ago: closed at both instants, no row.
    assert set(deals) == {opp_id(k) for k in expected}
    assert deals[opp_id("won")]["cycle_days"] == 58  # 2025-03-05 - 2025-01-06
    assert deals[opp_id("lost")]["loss_reason"] == "Price"
    assert deals[opp_id("reopened")]["stage_start"] == "Closed Lost"


def test_stuck_reasons_with_evidence(built: tuple[Path, Path]) -> None:
    deals = _deals(built[1])
    aging = deals[opp_id("aging")]
    # Value Proposition since 2024-12-02 10:00; close-date edits in between keep the run.
    assert aging["days_in_stage"] == 97
    assert aging["stage_threshold_days"] == 30.0  # 0 Value Proposition exits: fallback
    # Pushed twice, recorded in both history objects: counted once each.
    assert aging["close_date_pushes_90d"] == 2
    assert aging["stuck_reasons"] == "stage_aging,no_activity,close_date_pushed"
    # Needs Analysis exits after 10, 12, 20, 30, 40 days: max(14, 1.5 x 20) = 30.
    na_ok, na_old = deals[opp_id("na_ok")], deals[opp_id("na_old")]
    assert (na_ok["days_in_stage"], na_ok["stage_threshold_days"]) == (28, 30.0)
    assert (na_ok["is_stuck"], na_ok["last_activity_date"].isoformat()) == (False, "2025-03-03")
    assert (na_old["days_in_stage"], na_old["stuck_reasons"]) == (32, "stage_aging")
    # A closed Task dated exactly week_end - 14 days is recent activity.
    assert (na_old["is_no_activity"], na_old["days_since_last_activity"]) == (False, 14)
    # 10 days old: no_activity needs more than 14; its open Task is not activity.
    young = deals[opp_id("young")]
    assert (young["is_no_activity"], young["last_activity_date"]) == (False, None)
    # Closed deals are never stuck, and the no_activity rule does not apply to them.
    assert deals[opp_id("lost")]["is_stuck"] is False
    assert deals[opp_id("lost")]["is_no_activity"] is None


def test_fast_movers(built: tuple[Path, Path]) -> None:
    rows = _rows(built[1], f"select * from main.fct_fast_movers_weekly where week = '{WEEK}'")
    movers = {r["opportunity_id"]: r for r in rows}
    # Won cycles as of week_end: 2 (sameweek) and 58 (won); continuous p25 = 2 + 0.25 x 56.
    assert set(movers) == {opp_id("sameweek"), opp_id("advanced")}
    assert movers[opp_id("sameweek")]["reason"] == "fast_cycle"
    assert movers[opp_id("sameweek")]["cycle_p25_days"] == 16.0
    assert (
        movers[opp_id("advanced")]["reason"],
        movers[opp_id("advanced")]["stages_advanced"],
    ) == (
        "stage_jump",
        5,
    )


def test_pipeline_waterfall_ties_out(built: tuple[Path, Path]) -> None:
    rows = _rows(built[1], "select * from main.fct_pipeline_waterfall_weekly")
    assert rows
    for r in rows:
        flows = r["new_amount"] + r["pulled_in_amount"] + r["increased_amount"]
        flows -= r["won_amount"] + r["lost_amount"] + r["decreased_amount"] + r["pushed_out_amount"]
        assert r["starting_pipeline"] + flows == pytest.approx(r["ending_pipeline"])
    week = next(r for r in rows if r["week"] == WEEK)
    # Q1 pipeline at 2025-03-03: won 5000, lost 700, advanced 4000, regressed/na_ok/na_old 1000.
    assert week["starting_pipeline"] == 12700.0
    assert (week["won_amount"], week["lost_amount"], week["pulled_in_amount"]) == (
        5000.0,
        700.0,
        2000.0,
    )
    assert week["ending_pipeline"] == 9000.0


def test_every_week_agrees_with_the_oracle(built: tuple[Path, Path]) -> None:
    sys.path.insert(0, str(REPO / "tests"))  # the oracle package lives in tests/oracle
    from oracle.metrics import load_org, recompute_week

    org_dir, database = built
    org = load_org(org_dir)
    weeks = [
        r["week"] for r in _rows(database, "select week from intermediate.int_weeks_enumerated")
    ]
    assert len(weeks) > 10
    compared = 0
    for week in weeks:
        expected = recompute_week(org, week)
        mine = _deals(database, week)
        assert set(mine) == set(expected.deals), week
        for oid, deal in expected.deals.items():
            row = mine[oid]
            got = {k: row[k] for k in ("stage_start", "stage_end", "movement", "days_in_stage")}
            got |= {
                "threshold": row["stage_threshold_days"],
                "no_activity": row["is_no_activity"],
                "pushes": row["close_date_pushes_90d"],
                "reasons": row["stuck_reasons"],
                "amount": row["amount"],
                "close_date": row["close_date"],
                "cycle_days": row["cycle_days"],
            }
            want = {k: deal[k] for k in ("stage_start", "stage_end", "movement", "days_in_stage")}
            want |= {
                "threshold": deal["stage_threshold_days"],
                "no_activity": deal["no_activity"],
                "pushes": deal["close_date_pushes_90d"],
                "reasons": ",".join(deal["stuck_reasons"]),
                "amount": deal["amount"],
                "close_date": deal["close_date"],
                "cycle_days": deal["cycle_days"],
            }
            assert got == want, (week, oid)
            compared += 1
        movers = _rows(
            database,
            f"select opportunity_id from main.fct_fast_movers_weekly where week = '{week}'",
        )
        assert {m["opportunity_id"] for m in movers} == expected.fast_movers, week
    assert compared > 50


def test_org_without_activity_data_switches_no_activity_off(tmp_path: Path) -> None:
    _, database = _build(tmp_path, with_activity=False)
    deals = _deals(database)
    assert all(d["is_no_activity"] is None for d in deals.values())
    assert deals[opp_id("aging")]["stuck_reasons"] == "stage_aging,close_date_pushed"


def test_postgres_builds_the_same_marts(
    built: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    psycopg = pytest.importorskip("psycopg")
    from salesprep.config import load_settings
    from salesprep.warehouse.postgres import RawLoadError, conninfo, ensure_database

    # A database of its own, dropped after: weekly marts are incremental, so a database left by
    # an earlier run would be built on, not rebuilt.
    database = f"salesprep_test_deals_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("SALESPREP_DBT_POSTGRES_DATABASE", database)
    target = load_settings().postgres
    try:
        ensure_database(target)
    except RawLoadError as exc:
        pytest.skip(f"Postgres at {target.host}:{target.port} is not usable: {exc}")
    try:
        _build(tmp_path, dbt_target="postgres")
        with psycopg.connect(conninfo(target)) as pg:
            for mart, key in MARTS.items():
                expected = _rows(built[1], f"select * from main.{mart} order by {key}")
                # The build schema: the build writes there, publishing is not part of this test.
                got = pg.execute(
                    f"select * from {target.build_schema}.{mart} order by {key}"
                ).fetchall()
                assert [tuple(r.values()) for r in expected] == [tuple(r) for r in got], mart
    finally:
        with psycopg.connect(conninfo(target, "postgres"), autocommit=True) as pg:
            pg.execute(f'drop database if exists "{database}" with (force)')
