"""Files of the raw landing zone: one Parquet file per object, upserted by Id.

An incremental load writes the window's records to a delta file, then DuckDB merges the
previous file, the delta and the deleted Ids into the new file, streaming record batches:
no object is ever held whole in Python memory, and the previous file is never modified
(the new landing zone is swapped in whole, or not at all).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from salesprep.catalog import SObject

BATCH_ROWS = 50_000
# DuckDB may spill to disk beyond this, so a large merge stays within a worker's memory.
MERGE_MEMORY_LIMIT = "512MB"


@dataclass(frozen=True)
class MergeResult:
    rows: int  # rows of the merged file
    removed: int  # rows of the previous file dropped as deleted in the org


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _column(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(work_dir: Path):
    import duckdb

    work_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{MERGE_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {_sql_path(work_dir / 'duckdb-spill')}")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    return con


def _write_query(con, sql: str, sobject: SObject, out: Path) -> int:
    """Stream the result of `sql` into `out` with the catalog schema; returns its rows."""
    schema = sobject.arrow_schema()
    rows = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
    with pq.ParquetWriter(out, schema) as writer:
        for batch in reader:
            table = pa.Table.from_batches([batch]).cast(schema)
            writer.write_table(table)
            rows += table.num_rows
    return rows


def merge_object(
    sobject: SObject,
    out: Path,
    *,
    previous: Path,
    delta: Path,
    gone: Path | None = None,
    live: Path | None = None,
    work_dir: Path,
) -> MergeResult:
    """Write `out` = the previous rows whose Id is not in `delta` (nor in `gone`, and, when
    `live` is given, still in `live`), plus the delta rows (the latest per Id)."""
    columns = ", ".join(_column(f.name) for f in sobject.fields)
    order = (
        f"{_column(sobject.cursor)} DESC NULLS LAST" if sobject.has_field(sobject.cursor) else "1"
    )
    delta_sql = (
        f"SELECT {columns} FROM read_parquet({_sql_path(delta)}) "
        f'QUALIFY row_number() OVER (PARTITION BY "Id" ORDER BY {order}) = 1'
    )
    kept = f"SELECT {', '.join('o.' + _column(f.name) for f in sobject.fields)} FROM "
    kept += f'read_parquet({_sql_path(previous)}) AS o ANTI JOIN delta AS d ON o."Id" = d."Id"'
    if gone is not None:
        kept += f' ANTI JOIN read_parquet({_sql_path(gone)}) AS g ON o."Id" = g."Id"'
    if live is not None:
        kept += f' SEMI JOIN read_parquet({_sql_path(live)}) AS l ON o."Id" = l."Id"'
    con = _connect(work_dir)
    try:
        con.execute(f"CREATE TEMP TABLE delta AS {delta_sql}")
        rows = _write_query(con, f"{kept} UNION ALL SELECT {columns} FROM delta", sobject, out)
        (delta_rows,) = con.execute("SELECT count(*) FROM delta").fetchone()
        (unreplaced,) = con.execute(
            f"SELECT count(*) FROM read_parquet({_sql_path(previous)}) AS o "
            'ANTI JOIN delta AS d ON o."Id" = d."Id"'
        ).fetchone()
    finally:
        con.close()
    return MergeResult(rows=rows, removed=unreplaced - (rows - delta_rows))


def join_field_groups(
    sobject: SObject, parts: list[tuple[Path, list[str]]], out: Path, *, work_dir: Path
) -> int:
    """Write `out` from field-group files (each with the catalog schema, holding the fields
    listed with it and Id), joined on Id. A record missing from a later group (edited
    between the group queries, so out of the window) is left for the next window."""
    owner: dict[str, int] = {}
    for index, (_path, names) in enumerate(parts):
        for name in names:
            owner.setdefault(name, index)
    selects = []
    for f in sobject.fields:
        if f.name == "Id":
            selects.append('p0."Id"')
        elif f.name in owner:
            selects.append(f"p{owner[f.name]}.{_column(f.name)}")
        else:
            selects.append(f"p0.{_column(f.name)}")
    sql = f"SELECT {', '.join(selects)} FROM read_parquet({_sql_path(parts[0][0])}) AS p0"
    for index, (path, _names) in enumerate(parts[1:], start=1):
        sql += f' JOIN read_parquet({_sql_path(path)}) AS p{index} ON p{index}."Id" = p0."Id"'
    con = _connect(work_dir)
    try:
        return _write_query(con, sql, sobject, out)
    finally:
        con.close()


def write_empty(sobject: SObject, out: Path) -> None:
    """An object the org lacks: a file with the full schema and no rows."""
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(sobject.arrow_schema().empty_table(), out)


def link_or_copy(source: Path, target: Path) -> None:
    """Put an unchanged file into the new landing zone: a hard link (no bytes copied) where
    the filesystem allows, a copy elsewhere. Landed files are never modified in place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def count_rows(path: Path) -> int:
    return pq.ParquetFile(path).metadata.num_rows


def count_deleted(path: Path) -> int:
    """Rows with IsDeleted = true, read one row group of one column at a time."""
    parquet = pq.ParquetFile(path)
    if "IsDeleted" not in parquet.schema_arrow.names:
        return 0
    total = 0
    for batch in parquet.iter_batches(columns=["IsDeleted"], batch_size=BATCH_ROWS):
        total += int(pc.sum(batch.column(0)).as_py() or 0)
    return total


class IdsWriter:
    """Ids streamed to a one-column Parquet file (deleted or live Ids of an object)."""

    schema = pa.schema([pa.field("Id", pa.string())])

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, self.schema)
        self.rows = 0

    def write(self, ids: list[str]) -> None:
        if ids:
            self._writer.write_table(pa.table({"Id": pa.array(ids, pa.string())}))
            self.rows += len(ids)

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> IdsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
