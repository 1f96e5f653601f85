"""The raw landing zone copied into Postgres (schema `raw_salesforce`), with the quota CSV and
the learnings files (`raw_sales_ops`, `raw_learnings`), so the dbt `postgres` target reads the
same sources that DuckDB reads in place from Parquet and CSV."""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import adbc_driver_postgresql.dbapi as adbc
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg import sql

from salesprep.catalog import OBJECTS, SObject
from salesprep.config import PostgresSettings

log = logging.getLogger(__name__)

RAW_SCHEMA = "raw_salesforce"
SALES_OPS_SCHEMA = "raw_sales_ops"
LEARNINGS_SCHEMA = "raw_learnings"
# salesprep's own bookkeeping in the warehouse database: which version BI reads, the run lease.
CONTROL_SCHEMA = "salesprep_state"
QUOTA_CSV_COLUMNS = ("rep_id", "quarter_start", "quota_amount")


class RawLoadError(RuntimeError):
    """The landing zone or quota CSV could not be copied into Postgres; names the object."""


def conninfo(target: PostgresSettings, database: str | None = None) -> str:
    """The libpq connection string of `target` (to `database`, default its own). It holds the
    password: pass it to psycopg, never to a log or a message."""
    password = target.password.get_secret_value()
    return psycopg.conninfo.make_conninfo(
        host=target.host,
        port=target.port,
        user=target.user,
        password=password or None,
        dbname=database or target.database,
    )


_PG_TYPES: dict[str, str] = {
    "string": "text",
    "bool": "boolean",
    "double": "double precision",
    "int32": "integer",
    "int64": "bigint",
    "date32[day]": "date",
    "timestamp[us, tz=UTC]": "timestamp with time zone",
}


def _pg_type(arrow_type: pa.DataType) -> str:
    try:
        return _PG_TYPES[str(arrow_type)]
    except KeyError as exc:
        raise RawLoadError(f"no Postgres type for Arrow type {arrow_type}") from exc


def ensure_database(target: PostgresSettings) -> None:
    """Create the target database if it does not exist (dbt does not create databases)."""
    try:
        with psycopg.connect(conninfo(target, "postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "select 1 from pg_database where datname = %s", (target.database,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(target.database)))
                log.info("created Postgres database %s", target.database)
    except psycopg.Error as exc:
        raise RawLoadError(
            f"cannot create Postgres database {target.database!r} on {target.host}:{target.port}: "
            f"{exc}"
        ) from exc


def has_relation(target: PostgresSettings, name: str, *, schema: str | None = None) -> bool:
    """Whether `schema` (default the target's schema) holds a table or view `name` (an earlier
    build's mart)."""
    schema = schema or target.schema_name
    try:
        with psycopg.connect(conninfo(target)) as conn:
            qualified = sql.Identifier(schema, name).as_string(conn)
            row = conn.execute("select to_regclass(%s) is not null", (qualified,)).fetchone()
    except psycopg.Error as exc:
        raise RawLoadError(
            f"cannot look up {schema}.{name} in Postgres database "
            f"{target.database!r} on {target.host}:{target.port}: {exc}"
        ) from exc
    return bool(row and row[0])


def _read_object(raw_root: Path, sobject: SObject) -> pa.Table:
    folder = raw_root / sobject.name
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise RawLoadError(
            f"{sobject.name}: no Parquet file in {folder}; the landing zone writes every object"
        )
    try:
        tables = [pq.read_table(f) for f in files]
    except (OSError, pa.ArrowException) as exc:
        raise RawLoadError(f"{sobject.name}: cannot read {folder}: {exc}") from exc
    table = pa.concat_tables(tables, promote_options="permissive")
    # Declared columns in catalog order, a missing one as nulls: the contract already promises
    # this, but a hand-made landing zone should degrade the same way, never fail dbt's compile.
    columns = []
    for f in sobject.fields:
        if f.name in table.column_names:
            columns.append(table[f.name].cast(f.arrow_type))
        else:
            columns.append(pa.nulls(table.num_rows, f.arrow_type))
    return pa.Table.from_arrays(columns, schema=sobject.arrow_schema())


COPY_BATCH_ROWS = 50_000


def _replace_table(cursor: Any, schema: str, name: str, table: pa.Table) -> None:
    """Truncate and refill the table, so dbt's staging views on it survive the reload; a table
    whose columns no longer match the catalog is dropped with its views (dbt recreates them).
    The rows go in as Arrow batches by binary COPY (ADBC): no Python work per row."""
    ident = sql.Identifier(schema, name).as_string(None)
    wanted = [(field.name.lower(), _pg_type(field.type)) for field in table.schema]
    cursor.execute(
        "select column_name, format_type(atttypid, atttypmod) from information_schema.columns"
        " join pg_attribute on attrelid = format('%I.%I', table_schema, table_name)::regclass"
        " and attname = column_name"
        " where table_schema = $1 and table_name = $2 order by ordinal_position",
        (schema, name),
    )
    existing = [tuple(row) for row in cursor.fetchall()]
    if existing and existing != wanted:
        cursor.execute(f"drop table {ident} cascade")
        existing = []
    if existing:
        cursor.execute(f"truncate table {ident}")
    else:
        columns = ", ".join(
            f"{sql.Identifier(column).as_string(None)} {type_}" for column, type_ in wanted
        )
        cursor.execute(f"create table {ident} ({columns})")
    # The table's columns are the catalog's names in lowercase: COPY names them.
    table = table.rename_columns([column for column, _ in wanted])
    batches = pa.RecordBatchReader.from_batches(
        table.schema, table.to_batches(max_chunksize=COPY_BATCH_ROWS)
    )
    cursor.adbc_ingest(name, batches, mode="append", db_schema_name=schema)


def load_raw_postgres(
    raw_root: Path,
    target: PostgresSettings,
    *,
    quota_csv: Path | None = None,
    learnings: Mapping[str, Path] | None = None,
) -> dict[str, int]:
    """Copy every catalog object of the landing zone into `raw_salesforce."<Object>"`
    (lowercase column names) of the `target` database (`settings.postgres`), the quota CSV
    into `raw_sales_ops.quotas` and the learnings Parquet files of the load_learnings step
    (`learnings`: table of the `learnings` source → file) into `raw_learnings.<table>`; one
    transaction, so dbt never sees a half-loaded zone. Returns rows loaded per table."""
    ensure_database(target)
    counts: dict[str, int] = {}
    try:
        with adbc.connect(conninfo(target)) as conn:  # not autocommit: one transaction
            with conn.cursor() as cursor:
                cursor.execute(f"create schema if not exists {_quoted(RAW_SCHEMA)}")
                for sobject in OBJECTS:  # one object in memory at a time
                    table = _read_object(Path(raw_root), sobject)
                    _replace_table(cursor, RAW_SCHEMA, sobject.name, table)
                    counts[sobject.name] = table.num_rows
                if quota_csv is not None:
                    cursor.execute(f"create schema if not exists {_quoted(SALES_OPS_SCHEMA)}")
                    quotas = _read_quota_csv(quota_csv)
                    _replace_table(cursor, SALES_OPS_SCHEMA, "quotas", quotas)
                    counts["quotas"] = quotas.num_rows
                if learnings:
                    cursor.execute(f"create schema if not exists {_quoted(LEARNINGS_SCHEMA)}")
                    for name, path in sorted(learnings.items()):
                        table = _read_parquet(Path(path), f"learnings {name}")
                        _replace_table(cursor, LEARNINGS_SCHEMA, name, table)
                        counts[f"learnings {name}"] = table.num_rows
            conn.commit()
    except adbc.Error as exc:
        raise RawLoadError(
            f"cannot load the landing zone {raw_root} into Postgres database "
            f"{target.database!r}: {exc}"
        ) from exc
    log.info(
        "loaded %s raw rows into Postgres %s.%s",
        f"{sum(counts.values()):,}",
        target.database,
        RAW_SCHEMA,
    )
    return counts


def _read_parquet(path: Path, what: str) -> pa.Table:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise RawLoadError(f"{what}: cannot read {path}: {exc}") from exc


def _quoted(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def _read_quota_csv(path: Path) -> pa.Table:
    """The sales-ops quota CSV as text columns; dbt casts and validates them in staging."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in QUOTA_CSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise RawLoadError(
                    f"quota CSV {path}: missing column(s) {', '.join(missing)}; "
                    f"expected a header {','.join(QUOTA_CSV_COLUMNS)}"
                )
            rows = [{c: (r[c] or None) for c in QUOTA_CSV_COLUMNS} for r in reader]
    except OSError as exc:
        raise RawLoadError(f"cannot read quota CSV {path}: {exc}") from exc
    return pa.Table.from_pylist(
        rows, schema=pa.schema([pa.field(c, pa.string()) for c in QUOTA_CSV_COLUMNS])
    )
