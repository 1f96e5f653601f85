"""The marts read interface (`salesprep.warehouse.connection`): one SQL, `?` placeholders and
bare mart names, read the same rows from a DuckDB file and from a Postgres schema; `build`
and `published` are two places on each target; what cannot be read is named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest
from postgres_db import throwaway_database

from salesprep.config import Settings
from salesprep.warehouse.connection import (
    DuckDBMarts,
    Marts,
    WarehouseReadError,
    as_marts,
    open_marts,
    to_format_params,
)
from salesprep.warehouse.postgres import conninfo, ensure_database

ROWS = [
    ("p1", "2026-W10", 3, 1.5, True, dt.date(2026, 3, 2), "50% off, isn't it?"),
    ("p2", "2026-W10", None, None, False, None, None),
    ("p3", "2026-W09", 7, 0.25, None, dt.date(2026, 2, 23), "o'brien"),
]
CREATE = (
    "create table {}dim_things (pair_id varchar, week varchar, calls bigint,"
    " ratio double precision, is_ok boolean, day date, note varchar)"
)
# Quoted `?` and `%` are text, not placeholders; `?` outside quotes are bound in order.
QUERY = (
    "select pair_id, calls, ratio, is_ok, day, note, 'a?b%' as literal from dim_things"
    " where week = ? and (note is null or note like '%' || ?) order by pair_id"
)


def test_placeholders_become_psycopg_ones_outside_quotes() -> None:
    assert to_format_params("select 1 where a = ? and b = '?%' and \"c?\" = ?") == (
        "select 1 where a = %s and b = '?%%' and \"c?\" = %s"
    )
    assert to_format_params("select 5 % 2") == "select 5 %% 2"


@pytest.fixture(scope="module")
def duck_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("marts-duckdb"))
    for path, pairs in (
        (settings.build_warehouse_path, ROWS),
        (settings.published_warehouse_path, ROWS[:1]),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(path)) as conn:
            conn.execute(CREATE.format(""))
            conn.executemany("insert into dim_things values (?, ?, ?, ?, ?, ?, ?)", pairs)
    return settings


@pytest.fixture(scope="module")
def pg_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with throwaway_database("marts", schema_name="bi") as target:
        ensure_database(target)
        with psycopg.connect(conninfo(target)) as conn:
            for schema, pairs in ((target.build_schema, ROWS), (target.schema_name, ROWS[:1])):
                conn.execute(f"create schema {schema}")
                conn.execute(CREATE.format(f"{schema}."))
                with conn.cursor() as cursor:
                    cursor.executemany(
                        f"insert into {schema}.dim_things values (%s, %s, %s, %s, %s, %s, %s)",
                        pairs,
                    )
        yield Settings(
            data_dir=tmp_path_factory.mktemp("marts-postgres"),
            dbt_target="postgres",
            postgres=target,
        )


def test_duckdb_and_postgres_read_the_same_rows(duck_settings: Settings, pg_settings: Settings):
    params = ["2026-W10", "off, isn't it?"]
    with open_marts(duck_settings) as duck, open_marts(pg_settings, "build") as pg:
        on_duckdb = duck.query(QUERY, params)
        on_postgres = pg.query(QUERY, params)
        names, _ = pg.query_with_names(QUERY, params)
        frame = pg.frame("select sum(ratio) as total, count(*) as n from dim_things")
        assert pg.dicts("select pair_id from dim_things where calls = ?", [7]) == [
            {"pair_id": "p3"}
        ]
    assert on_postgres == on_duckdb
    assert on_duckdb == [
        ("p1", 3, 1.5, True, dt.date(2026, 3, 2), "50% off, isn't it?", "a?b%"),
        ("p2", None, None, False, None, None, "a?b%"),
    ]
    assert names == ["pair_id", "calls", "ratio", "is_ok", "day", "note", "literal"]
    assert frame.to_dict("records") == [{"total": 1.75, "n": 3}]


@pytest.mark.parametrize("target", ["duck_settings", "pg_settings"])
def test_build_and_published_are_two_places(target: str, request: pytest.FixtureRequest):
    settings = request.getfixturevalue(target)
    with open_marts(settings, "build") as build, open_marts(settings, "published") as published:
        assert build.has_relation("dim_things") and published.has_relation("dim_things")
        assert build.missing(["dim_things", "dim_nothing"]) == ["dim_nothing"]
        counts = [m.query("select count(*) from dim_things")[0][0] for m in (build, published)]
        assert build.where != published.where
    assert counts == [3, 1]
    with pytest.raises(ValueError, match="'build' or 'published'"):
        open_marts(settings, "staging")  # type: ignore[arg-type]


def test_postgres_reader_sees_one_snapshot_and_cannot_write(pg_settings: Settings):
    target = pg_settings.postgres
    with open_marts(pg_settings, "published") as marts:
        before = marts.query("select count(*) from dim_things")
        with psycopg.connect(conninfo(target), autocommit=True) as writer:
            writer.execute(f"insert into {target.schema_name}.dim_things (pair_id) values ('x')")
        assert marts.query("select count(*) from dim_things") == before
        with pytest.raises(WarehouseReadError, match="read-only transaction"):
            marts.query("delete from dim_things")
    with psycopg.connect(conninfo(target), autocommit=True) as writer:
        writer.execute(f"delete from {target.schema_name}.dim_things where pair_id = 'x'")


def test_what_cannot_be_read_is_named(tmp_path: Path, pg_settings: Settings):
    with pytest.raises(WarehouseReadError, match=r"no built warehouse at .*build\.duckdb"):
        open_marts(Settings(data_dir=tmp_path))
    with pytest.raises(WarehouseReadError, match="publish a week first"):
        open_marts(Settings(data_dir=tmp_path), "published")
    absent = pg_settings.model_copy(
        update={"postgres": pg_settings.postgres.model_copy(update={"schema_name": "nowhere"})}
    )
    with pytest.raises(WarehouseReadError, match="schema nowhere_build does not exist"):
        open_marts(absent, "build")
    with open_marts(pg_settings) as marts, pytest.raises(WarehouseReadError) as err:
        marts.query("select * from dim_nothing")
    assert "dim_nothing" in str(err.value) and pg_settings.postgres.database in str(err.value)
    with pytest.raises(WarehouseReadError, match="dbt_target='sqlite'"):
        open_marts(Settings(data_dir=tmp_path, dbt_target="sqlite"))


def test_an_open_duckdb_connection_is_read_and_left_open(duck_settings: Settings):
    with duckdb.connect(str(duck_settings.build_warehouse_path), read_only=True) as conn:
        marts = as_marts(conn)
        assert isinstance(marts, DuckDBMarts) and as_marts(marts) is marts
        with marts:
            assert marts.query("select count(*) from dim_things") == [(3,)]
        assert conn.execute("select 1").fetchall() == [(1,)]
    with open_marts(duck_settings, "published", path=duck_settings.build_warehouse_path) as other:
        assert isinstance(other, Marts) and other.query("select count(*) from dim_things") == [(3,)]
