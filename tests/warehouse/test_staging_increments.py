"""Incremental staging of Task and Event (macros/staging_increments.sql): a weekly build stages
only the rows changed since the last build, and what it stages equals a full refresh after the
landing zone changed every way extraction changes it (edits, soft deletes, Ids removed, new
rows, a row that landed with a stamp older than the window)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from salesprep.config import Settings
from salesprep.warehouse import build_warehouse

from .demo_builds import DEMO_WEEK, MART_KEYS, land_demo, mart_rows
from .test_incremental import _same

pytestmark = pytest.mark.slow

STAGED = {
    "Task": ("stg_salesforce__tasks", "task_id"),
    "Event": ("stg_salesforce__events", "event_id"),
}
MARKER = "staged before, not touched since"


@dataclass(frozen=True)
class Builds:
    incremental: Path  # the weekly build after the landing zone changed
    full_refresh: Path  # the same landing zone, built whole
    marker_kept: dict[str, int]  # per object: staged rows of the untouched marker left as they were
    changed: dict[str, dict[str, str]]  # per object: what happened to which Id


def _rewrite(path: Path, sql: str) -> None:
    """Rewrite a landing-zone Parquet file from a query over it (`src`), as extraction would."""
    new = path.with_suffix(".new.parquet")
    with duckdb.connect() as conn:
        conn.execute(f"create view src as select * from read_parquet('{path}')")
        conn.execute(f"copy ({sql}) to '{new}' (format parquet)")
    new.replace(path)


def _change_landing_zone(raw: Path, name: str, date_column: str) -> dict[str, str]:
    """Edits, soft-deletes, removes, adds and late-lands rows dated in the last weeks (so the
    weekly marts' window covers every change) and returns which Id had what done to it."""
    path = raw / name / f"{name}.parquet"
    window_start = DEMO_WEEK.shift(-3).start_date.isoformat()
    with duckdb.connect() as conn:
        rows = conn.execute(
            f"select Id from read_parquet('{path}') where not coalesce(IsDeleted, false)"
            f" and cast({date_column} as date) >= date '{window_start}'"
            f" and cast({date_column} as date) < date '{DEMO_WEEK.end_date.isoformat()}'"
            " order by Id limit 5"
        ).fetchall()
        (newest,) = conn.execute(
            f"select max(SystemModstamp) from read_parquet('{path}')"
        ).fetchone()
        (oldest,) = conn.execute(
            f"select min(SystemModstamp) from read_parquet('{path}')"
        ).fetchone()
    assert len(rows) == 5, name
    edited, deleted, vanished, copied, late = (r[0] for r in rows)
    prefix = edited[:3]
    fresh = f"'{newest.isoformat(sep=' ')}'::timestamptz + interval 1 minute"
    old = f"'{oldest.isoformat(sep=' ')}'::timestamptz"
    _rewrite(
        path,
        f"""
        select * replace (
            case when Id = '{edited}' then 'edited in the org' else Subject end as Subject,
            Id = '{deleted}' or coalesce(IsDeleted, false) as IsDeleted,
            case when Id in ('{edited}', '{deleted}') then {fresh} else SystemModstamp end
                as SystemModstamp
        )
        from src where Id <> '{vanished}'
        union all
        select * replace ('{prefix}NEWNEWNEW000001' as Id, {fresh} as SystemModstamp)
        from src where Id = '{copied}'
        union all
        select * replace ('{prefix}LATELATE0000001' as Id, {old} as SystemModstamp)
        from src where Id = '{late}'
        """,
    )
    return {
        "edited": edited,
        "deleted": deleted,
        "vanished": vanished,
        "new": f"{prefix}NEWNEWNEW000001",
        "late": f"{prefix}LATELATE0000001",
    }


def _staged(path: Path, name: str) -> list[tuple]:
    table, key = STAGED[name]
    return mart_rows(path, f"select * from staging.{table} order by {key}")


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    settings: Settings = land_demo(tmp_path_factory.mktemp("staging-increments"), tmp_path_factory)
    build = settings.build_warehouse_path
    build_warehouse(settings, DEMO_WEEK.shift(-1))

    # A staged row outside every change: an incremental build leaves it as it is.
    markers = {}
    with duckdb.connect(str(build)) as conn:
        for name, (table, key) in STAGED.items():
            (marker,) = conn.execute(f"select min({key}) from staging.{table}").fetchone()
            conn.execute(
                f"update staging.{table} set subject = ? where {key} = ?", [MARKER, marker]
            )
            markers[name] = marker
    changed = {
        "Task": _change_landing_zone(settings.raw_root, "Task", "ActivityDate"),
        "Event": _change_landing_zone(settings.raw_root, "Event", "StartDateTime"),
    }
    for name, ids in changed.items():
        assert markers[name] not in ids.values(), name

    assert build_warehouse(settings, DEMO_WEEK).success
    work = tmp_path_factory.mktemp("staging-builds")
    incremental = work / "incremental.duckdb"
    shutil.copyfile(build, incremental)
    marker_kept = {}
    with duckdb.connect(str(incremental)) as conn:
        for name, (table, _key) in STAGED.items():
            (marker_kept[name],) = conn.execute(
                f"select count(*) from staging.{table} where subject = ?", [MARKER]
            ).fetchone()
    assert build_warehouse(settings, DEMO_WEEK, full_refresh=True).success
    # Put the marked rows back as the org has them, to compare with the full build.
    with (
        duckdb.connect(str(build), read_only=True) as conn,
        duckdb.connect(str(incremental)) as inc,
    ):
        for name, (table, key) in STAGED.items():
            (subject,) = conn.execute(
                f"select subject from staging.{table} where {key} = ?", [markers[name]]
            ).fetchone()
            inc.execute(
                f"update staging.{table} set subject = ? where {key} = ?", [subject, markers[name]]
            )
    return Builds(incremental, build, marker_kept, changed)


@pytest.mark.parametrize("name", list(STAGED))
def test_a_weekly_build_restages_only_changed_rows(builds: Builds, name: str) -> None:
    assert builds.marker_kept[name] == 1


@pytest.mark.parametrize("name", list(STAGED))
def test_incremental_staging_equals_a_full_refresh(builds: Builds, name: str) -> None:
    staged = _staged(builds.incremental, name)
    assert staged == _staged(builds.full_refresh, name)
    table, key = STAGED[name]
    ids = {row[0] for row in mart_rows(builds.incremental, f"select {key} from staging.{table}")}
    changed = builds.changed[name]
    assert changed["edited"] in ids and changed["new"] in ids and changed["late"] in ids
    assert changed["deleted"] not in ids and changed["vanished"] not in ids
    if name == "Task":
        (subject,) = mart_rows(
            builds.incremental,
            f"select subject from staging.{table} where {key} = ?",
            [changed["edited"]],
        )[0]
        assert subject == "edited in the org"


@pytest.mark.parametrize("mart", [m for m in MART_KEYS if "week" in MART_KEYS[m]])
def test_weekly_marts_after_changed_activity_equal_a_full_refresh(
    builds: Builds, mart: str
) -> None:
    sql = f"select * from main.{mart} order by {MART_KEYS[mart]}"
    assert _same(mart_rows(builds.incremental, sql), mart_rows(builds.full_refresh, sql)), mart
