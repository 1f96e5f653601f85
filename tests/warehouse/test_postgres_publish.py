"""Publishing on a Postgres warehouse (decision 47): the checked build schema becomes what BI
reads in one transaction, readers never see a half week nor wait past the lock timeout, and
the build schema keeps its tables (the incremental models' state) for next week's build."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import adbc_driver_postgresql.dbapi as adbc
import duckdb
import psycopg
import pytest
from postgres_db import throwaway_database

from salesprep.config import PostgresSettings, Settings
from salesprep.runs.atomic_swap import AtomicSwapError, Swap, commit_together
from salesprep.warehouse import WarehousePublishError, finish_for_bi, stage_for_bi
from salesprep.warehouse.postgres import CONTROL_SCHEMA, conninfo, ensure_database
from salesprep.warehouse.postgres_publish import PostgresPublish, stage_postgres_warehouse

from .conftest import TinyWarehouse
from .tiny_org import WEEK

pytestmark = pytest.mark.slow

MARTS = ("fct_rep_activity_weekly", "rpt_pair_metrics_weekly")
# The readers' bound: Postgres cancels a reader's statement that waits longer (statement_timeout),
# which fails the test. The swap's lock timeout is far below it; a swap that held its locks
# while waiting for a slow query (SLOW_READER_SECONDS) would be far above it.
READER_BOUND_SECONDS = 5
SLOW_READER_SECONDS = 8


@pytest.fixture
def target() -> Iterator[PostgresSettings]:
    with throwaway_database(
        "publish", schema_name="bi", publish_lock_timeout_seconds=0.2, publish_attempts=200
    ) as target:
        ensure_database(target)
        yield target


def _build(target: PostgresSettings, tiny: TinyWarehouse, through: str) -> None:
    """What the dbt build of week `through` leaves in the build schema: the marts' rows up to
    that week (from the tiny org's DuckDB build), replacing the previous build's."""
    with duckdb.connect(str(tiny.published), read_only=True) as duck:
        tables = {
            mart: duck.execute(f"select * from {mart} where week <= ?", [through]).to_arrow_table()
            for mart in MARTS
        }
    with adbc.connect(conninfo(target)) as conn, conn.cursor() as cur:
        cur.execute(f"create schema if not exists {target.build_schema}")
        for mart, table in tables.items():
            cur.adbc_ingest(mart, table, mode="replace", db_schema_name=target.build_schema)
        cur.execute(f"comment on table {target.build_schema}.{MARTS[0]} is 'one row per rep'")
        conn.commit()


def _observe(conn: psycopg.Connection) -> tuple:
    """One statement over both published marts: the rows of each, and of the new week."""
    return conn.execute(
        "select (select count(*) from bi.fct_rep_activity_weekly),"
        " (select count(*) from bi.fct_rep_activity_weekly where week = %(w)s),"
        " (select count(*) from bi.rpt_pair_metrics_weekly),"
        " (select count(*) from bi.rpt_pair_metrics_weekly where week = %(w)s),"
        " (select max(week) from bi.fct_rep_activity_weekly)",
        {"w": WEEK.label},
    ).fetchone()


def _publish(target: PostgresSettings) -> None:
    commit_together([stage_postgres_warehouse(target)])


def _schemas(target: PostgresSettings) -> list[str]:
    with psycopg.connect(conninfo(target)) as conn:
        rows = conn.execute(
            "select nspname from pg_namespace where nspname like 'bi%' order by 1"
        ).fetchall()
    return [name for (name,) in rows]


def test_readers_see_one_whole_week_or_the_next_and_never_wait_past_the_bound(
    target: PostgresSettings, tiny_warehouse: TinyWarehouse
) -> None:
    previous_week = WEEK.shift(-1).label
    _build(target, tiny_warehouse, previous_week)
    _publish(target)
    with psycopg.connect(conninfo(target)) as conn:
        old = _observe(conn)
    _build(target, tiny_warehouse, WEEK.label)  # next week's build, not yet published
    with psycopg.connect(conninfo(target)) as conn:
        assert _observe(conn) == old  # BI does not see a build before it is published
    assert old[1] == 0 and old[4] == previous_week

    published = threading.Event()
    slow_holds = threading.Event()
    seen: list[list[tuple]] = [[], []]
    failures: list[BaseException] = []

    def read(into: list[tuple]) -> None:
        try:
            with psycopg.connect(conninfo(target), autocommit=True) as conn:
                conn.execute(f"set statement_timeout = '{READER_BOUND_SECONDS}s'")
                while not published.is_set():
                    into.append(_observe(conn))
                into.append(_observe(conn))
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    def slow_read() -> None:
        # A BI query that holds the published views longer than the readers' bound.
        try:
            with psycopg.connect(conninfo(target)) as conn:
                _observe(conn)
                slow_holds.set()
                published.wait(SLOW_READER_SECONDS)
        except BaseException as exc:
            failures.append(exc)
        finally:
            slow_holds.set()

    threads = [threading.Thread(target=read, args=(into,)) for into in seen]
    threads.append(threading.Thread(target=slow_read))
    for thread in threads:
        thread.start()
    try:
        slow_holds.wait()
        _publish(target)
    finally:
        published.set()
        for thread in threads:
            thread.join()

    assert failures == []
    with psycopg.connect(conninfo(target)) as conn:
        new = _observe(conn)
    assert new[1] > 0 and new[3] > 0 and new[4] == WEEK.label
    for observed in seen:
        assert observed and set(observed) <= {old, new}
        # Once a reader saw the new week, it never sees the old one again.
        first_new = observed.index(new)
        assert all(o == new for o in observed[first_new:])
    # The build schema keeps its tables for next week's incremental build; one version stays.
    assert [s for s in _schemas(target) if "__v" not in s] == ["bi", "bi_build"]
    assert len([s for s in _schemas(target) if "__v" in s]) == 1
    with psycopg.connect(conninfo(target)) as conn:
        (built,) = conn.execute(
            f"select count(*) from bi_build.{MARTS[0]} where week = %s", [WEEK.label]
        ).fetchone()
        (comment,) = conn.execute(
            f"select obj_description('bi.{MARTS[0]}'::regclass, 'pg_class')"
        ).fetchone()
    assert built == new[1]
    assert comment == "one row per rep"  # dbt's docs reach BI's views


def test_when_the_packets_swap_fails_bi_reads_last_week_again(
    target: PostgresSettings, tiny_warehouse: TinyWarehouse, tmp_path
) -> None:
    _build(target, tiny_warehouse, WEEK.shift(-1).label)
    _publish(target)
    with psycopg.connect(conninfo(target)) as conn:
        old = _observe(conn)
    _build(target, tiny_warehouse, WEEK.label)
    # What pipeline.publish does: the dbt target picks the warehouse's stage.
    settings = Settings(data_dir=tmp_path, dbt_target="postgres", postgres=target)
    warehouse = stage_for_bi(settings)
    assert isinstance(warehouse, PostgresPublish)
    packets = Swap(tmp_path / "shared" / WEEK.label)
    packets.staging.rmdir()  # the shared folder lost the staged week
    with pytest.raises(AtomicSwapError, match=WEEK.label):
        commit_together([warehouse, packets])
    with psycopg.connect(conninfo(target)) as conn:
        assert _observe(conn) == old
    assert len([s for s in _schemas(target) if "__v" in s]) == 1  # the staged one is gone
    # The same, with the packets' swap going through: BI reads the new week.
    warehouse = stage_for_bi(settings)
    commit_together([warehouse, Swap(tmp_path / "shared" / WEEK.label)])
    assert finish_for_bi(settings, warehouse) == (
        f"postgresql://{target.host}:{target.port}/{target.database} schema bi"
    )
    with psycopg.connect(conninfo(target)) as conn:
        assert _observe(conn)[4] == WEEK.label


def test_an_empty_build_is_refused_and_bi_keeps_last_week(
    target: PostgresSettings, tiny_warehouse: TinyWarehouse
) -> None:
    _build(target, tiny_warehouse, WEEK.label)
    _publish(target)
    with psycopg.connect(conninfo(target), autocommit=True) as conn:
        before = _observe(conn)
        conn.execute("drop schema bi_build cascade")
        conn.execute("create schema bi_build")
    with pytest.raises(WarehousePublishError, match=r"'bi_build' .* has no tables"):
        stage_postgres_warehouse(target)
    with psycopg.connect(conninfo(target)) as conn:
        assert _observe(conn) == before


def test_marts_dbt_built_into_the_published_schema_before_are_replaced_by_views(
    target: PostgresSettings, tiny_warehouse: TinyWarehouse
) -> None:
    """A database from before decision 47 (dbt built straight into `schema_name`): the first
    publish moves those tables aside in the same transaction and drops them after, and a
    BI user's own table beside them stays."""
    _build(target, tiny_warehouse, WEEK.label)
    with psycopg.connect(conninfo(target), autocommit=True) as conn:
        conn.execute("create schema bi")
        for mart in MARTS:
            conn.execute(f"create table bi.{mart} as select * from bi_build.{mart} limit 1")
        conn.execute("create table bi.analyst_notes (note text)")
    _publish(target)
    with psycopg.connect(conninfo(target)) as conn:
        assert _observe(conn)[1] > 0
        kinds = dict(
            conn.execute(
                "select relname, relkind::text from pg_class"
                " where relnamespace = 'bi'::regnamespace and relkind in ('r', 'v')"
            ).fetchall()
        )
        (pointer,) = conn.execute(
            f"select version_schema from {CONTROL_SCHEMA}.published_versions"
        ).fetchone()
    assert kinds == {MARTS[0]: "v", MARTS[1]: "v", "analyst_notes": "r"}
    assert [s for s in _schemas(target) if "__v" in s] == [pointer]


def test_a_view_someone_made_on_a_version_keeps_it_and_publishing_goes_on(
    target: PostgresSettings, tiny_warehouse: TinyWarehouse
) -> None:
    _build(target, tiny_warehouse, WEEK.shift(-1).label)
    _publish(target)
    (first,) = [s for s in _schemas(target) if "__v" in s]
    with psycopg.connect(conninfo(target), autocommit=True) as conn:
        conn.execute("create schema analyst")
        conn.execute(f'create view analyst.pinned as select * from "{first}".{MARTS[0]}')
    _build(target, tiny_warehouse, WEEK.label)
    _publish(target)  # the old version cannot be dropped: kept, with a warning
    _publish(target)  # nor swept by the next publish, which still publishes
    with psycopg.connect(conninfo(target)) as conn:
        assert _observe(conn)[4] == WEEK.label
        (pinned,) = conn.execute("select max(week) from analyst.pinned").fetchone()
    assert pinned == WEEK.shift(-1).label
    assert first in _schemas(target) and len([s for s in _schemas(target) if "__v" in s]) == 2
