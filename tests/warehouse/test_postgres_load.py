"""The raw landing zone into Postgres by binary COPY of Arrow batches (ADBC): every value
arrives as it is in the Parquet, a reload keeps dbt's views on the raw tables, a table whose
columns changed is recreated, and a failed load leaves the previous load whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from postgres_db import throwaway_database

from salesprep.catalog import OBJECTS
from salesprep.config import PostgresSettings
from salesprep.warehouse.postgres import RAW_SCHEMA, RawLoadError, conninfo, load_raw_postgres

from .tiny_org import org_to_raw, write_tiny_org


@pytest.fixture
def target() -> Iterator[PostgresSettings]:
    with throwaway_database("load") as target:
        yield target


@pytest.fixture
def raw_root(tmp_path: Path) -> Path:
    return org_to_raw(write_tiny_org(tmp_path / "org"), tmp_path / "raw")


def _pg_rows(target: PostgresSettings, name: str, columns: list[str]) -> list[tuple]:
    listed = ", ".join(f'"{c.lower()}"' for c in columns)
    with psycopg.connect(conninfo(target)) as conn:
        rows = conn.execute(f'select {listed} from {RAW_SCHEMA}."{name}"').fetchall()
    return sorted((tuple(row) for row in rows), key=_key)


def _key(row: tuple) -> str:
    return str(row[0])


def test_every_value_arrives_as_in_the_parquet_and_a_reload_keeps_views(
    target: PostgresSettings, raw_root: Path
) -> None:
    counts = load_raw_postgres(raw_root, target)
    assert counts == {
        s.name: pq.read_metadata(raw_root / s.name / f"{s.name}.parquet").num_rows for s in OBJECTS
    }
    # Every Arrow type the catalog uses (text, boolean, double, bigint, date, timestamptz).
    for sobject in OBJECTS:
        table = pq.read_table(raw_root / sobject.name)
        columns = [f.name for f in sobject.fields if f.name in table.column_names]
        expected = sorted(zip(*(table[c].to_pylist() for c in columns), strict=True), key=_key)
        assert _pg_rows(target, sobject.name, columns) == expected, sobject.name
    with psycopg.connect(conninfo(target), autocommit=True) as conn:
        conn.execute(
            f'create view public.users_seen as select count(*) as n from {RAW_SCHEMA}."User"'
        )
    assert load_raw_postgres(raw_root, target) == counts  # truncated and refilled, not appended
    with psycopg.connect(conninfo(target)) as conn:
        (seen,) = conn.execute("select n from public.users_seen").fetchone()
    assert seen == counts["User"]


def test_a_bad_batch_leaves_the_previous_load_whole(
    target: PostgresSettings, raw_root: Path
) -> None:
    counts = load_raw_postgres(raw_root, target)
    # The last object of the catalog gets a value Postgres refuses (text with a NUL byte), so
    # the failure comes after every other object was already truncated and refilled.
    last = OBJECTS[-1]
    path = raw_root / last.name / f"{last.name}.parquet"
    table = pq.read_table(path)
    text = next(f.name for f in last.fields if f.arrow_type == pa.string())
    bad = (
        table.set_column(
            table.column_names.index(text), text, pa.array(["bad\x00value"] * table.num_rows)
        )
        if table.num_rows
        else pa.table({text: ["bad\x00value"]})
    )
    pq.write_table(bad, path)
    with pytest.raises(RawLoadError, match=target.database):
        load_raw_postgres(raw_root, target)
    with psycopg.connect(conninfo(target)) as conn:
        for sobject in OBJECTS:
            (n,) = conn.execute(f'select count(*) from {RAW_SCHEMA}."{sobject.name}"').fetchone()
            assert n == counts[sobject.name], sobject.name
