"""The marts as a connection, not a file: every step that reads marts (the marts checkpoint,
the render, who got no packet, the manager notices) opens them here, on the DuckDB file dbt
built or on a schema of a SQL server (Postgres), picked by `settings.dbt_target`.

Readers write one SQL for both: `?` placeholders, marts named bare (they resolve to the marts
schema: `main` of the DuckDB file, the build or published schema on Postgres; other schemas,
such as `intermediate`, are named with it), and functions both engines have."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import psycopg

    from salesprep.config import PostgresSettings, Settings

log = logging.getLogger(__name__)

Which = Literal["build", "published"]
WHICH: tuple[str, ...] = ("build", "published")
DUCKDB_MARTS_SCHEMA = "main"


class WarehouseReadError(RuntimeError):
    """The marts could not be opened or read; the message names the warehouse and what failed."""


class Marts(ABC):
    """A read-only connection to the marts of one warehouse (`open_marts`). A context manager:
    `with open_marts(settings) as marts: rows = marts.query("select ... where week = ?", [w])`."""

    #: Where the marts are, for messages (a file, or a database and schema on a server).
    where: str
    #: The schema bare mart names resolve to.
    schema: str

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of `sql` with its `?` placeholders bound to `params`, in order."""

    @abstractmethod
    def query_with_names(
        self, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names and rows of `sql`."""

    @abstractmethod
    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """The result of `sql` as a pandas DataFrame (what Great Expectations validates)."""

    @abstractmethod
    def has_relation(self, name: str) -> bool:
        """Whether the marts schema holds a table or view `name`."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (a connection the caller passed in is left open)."""

    def dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The rows of `sql` as dicts keyed by column name."""
        names, rows = self.query_with_names(sql, params)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def missing(self, names: Sequence[str]) -> list[str]:
        """Those of `names` the marts schema lacks, in the given order."""
        return [name for name in names if not self.has_relation(name)]

    def __enter__(self) -> Marts:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class DuckDBMarts(Marts):
    """The marts of a DuckDB file, opened read-only (schema `main`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, where: str, *, owned: bool = True) -> None:
        self._con = con
        self._owned = owned
        self.where = where
        self.schema = DUCKDB_MARTS_SCHEMA

    @classmethod
    def open(cls, path: Path, *, what: str = "warehouse", fix: str | None = None) -> DuckDBMarts:
        """The DuckDB file at `path`, read-only; `what` and `fix` word the error when it
        does not exist."""
        import duckdb

        path = Path(path)
        if not path.is_file():
            raise WarehouseReadError(
                f"no {what} at {path}: {fix or 'run the warehouse build first'}"
            )
        try:
            return cls(duckdb.connect(str(path), read_only=True), str(path))
        except duckdb.Error as exc:
            raise WarehouseReadError(
                f"opening the warehouse {path} read-only failed: {exc}"
            ) from exc

    def _execute(self, sql: str, params: Sequence[Any]) -> duckdb.DuckDBPyConnection:
        import duckdb

        try:
            return self._con.execute(sql, list(params))
        except duckdb.Error as exc:
            raise WarehouseReadError(f"reading the warehouse {self.where} failed: {exc}") from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        import duckdb

        cursor = self._execute(sql, params)
        try:
            return cursor.fetchall()
        except duckdb.Error as exc:
            raise WarehouseReadError(f"reading the warehouse {self.where} failed: {exc}") from exc

    def query_with_names(
        self, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._execute(sql, params)
        names = [d[0] for d in cursor.description or []]
        return names, cursor.fetchall()

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        return self._execute(sql, params).df()

    def has_relation(self, name: str) -> bool:
        (found,) = self.query(
            "select count(*) from information_schema.tables"
            " where table_schema = ? and table_name = ?",
            [self.schema, name],
        )[0]
        return bool(found)

    def close(self) -> None:
        if self._owned:
            self._con.close()


class PostgresMarts(Marts):
    """The marts of one schema of a Postgres database: a read-only session (its own
    transaction, so one reader sees one state) whose search_path is that schema, in UTC."""

    def __init__(self, conn: psycopg.Connection, where: str, schema: str) -> None:
        self._conn = conn
        self.where = where
        self.schema = schema

    @classmethod
    def open(cls, target: PostgresSettings, schema: str) -> PostgresMarts:
        import psycopg

        from salesprep.warehouse.postgres import conninfo

        where = f"Postgres {target.host}:{target.port}/{target.database} schema {schema}"
        try:
            conn = psycopg.connect(conninfo(target), connect_timeout=10)
        except psycopg.Error as exc:
            raise WarehouseReadError(f"connecting to {where} failed: {exc}") from exc
        try:
            conn.read_only = True
            # One snapshot for the whole read: a publish between two queries is not seen.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.cursor() as cursor:
                # Bare mart names resolve to the schema; instants read as UTC, as on DuckDB.
                cursor.execute(
                    "select set_config('search_path', %s, false),"
                    " set_config('TimeZone', 'UTC', false)",
                    [_quote_ident(schema)],
                )
                cursor.execute(
                    "select 1 from pg_namespace where nspname = %s",
                    [schema],
                )
                exists = cursor.fetchone()
        except psycopg.Error as exc:
            conn.close()
            raise WarehouseReadError(f"opening {where} failed: {exc}") from exc
        if not exists:
            conn.close()
            raise WarehouseReadError(
                f"{where} does not exist: run the warehouse build first (and publish it, for "
                "the published schema)"
            )
        return cls(conn, where, schema)

    def query_with_names(
        self, sql: str, params: Sequence[Any] = ()
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        import psycopg

        try:
            with self._conn.cursor() as cursor:
                cursor.execute(to_format_params(sql), list(params))
                names = [d.name for d in cursor.description or []]
                return names, [tuple(row) for row in cursor.fetchall()]
        except psycopg.Error as exc:
            raise WarehouseReadError(f"reading {self.where} failed: {exc}") from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.query_with_names(sql, params)[1]

    def frame(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        import decimal

        import pandas as pd

        names, rows = self.query_with_names(sql, params)
        frame = pd.DataFrame.from_records(rows, columns=names)
        # numeric columns (a sum of doubles may come back as numeric) read as floats, as
        # DuckDB's DataFrames give them, so the checks compare numbers.
        for column in frame.columns:
            values = frame[column].dropna()
            if len(values) and all(isinstance(v, decimal.Decimal) for v in values):
                frame[column] = frame[column].astype("float64")
        return frame

    def has_relation(self, name: str) -> bool:
        (found,) = self.query(
            "select to_regclass(format('%I.%I', ?::text, ?::text)) is not null",
            [self.schema, name],
        )[0]
        return bool(found)

    def close(self) -> None:
        self._conn.close()


def open_marts(settings: Settings, which: Which = "build", *, path: Path | None = None) -> Marts:
    """The marts a step reads, on the settings' dbt target: the `build` the run just made and
    checks (DuckDB: `settings.build_warehouse_path`; Postgres: `settings.postgres.build_schema`)
    or the `published` copy BI reads (`settings.published_warehouse_path`;
    `settings.postgres.schema_name`). `path` names another DuckDB file (tests, a copy)."""
    if which not in WHICH:
        raise ValueError(f"which={which!r}: the marts are 'build' or 'published'")
    if path is not None:
        return DuckDBMarts.open(Path(path))
    target = settings.dbt_target
    if target == "duckdb":
        if which == "build":
            return DuckDBMarts.open(
                settings.build_warehouse_path,
                what="built warehouse",
                fix="build the marts first",
            )
        return DuckDBMarts.open(
            settings.published_warehouse_path,
            what="published warehouse",
            fix="publish a week first, or set SALESPREP_WAREHOUSE_PATH",
        )
    if target == "postgres":
        postgres = settings.postgres
        schema = postgres.build_schema if which == "build" else postgres.schema_name
        return PostgresMarts.open(postgres, schema)
    raise WarehouseReadError(
        f"setting dbt_target={target!r} (SALESPREP_DBT_TARGET): no marts reader for it; use "
        "'duckdb' or 'postgres'"
    )


def as_marts(source: Marts | duckdb.DuckDBPyConnection) -> Marts:
    """`source` as Marts: an open DuckDB connection is wrapped (and left open on close)."""
    if isinstance(source, Marts):
        return source
    return DuckDBMarts(source, "the open DuckDB connection", owned=False)


def to_format_params(sql: str) -> str:
    """`sql` with its `?` placeholders as psycopg's `%s` (a literal `%` doubled), leaving
    quoted strings and identifiers alone."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote:
            if char == quote:
                quote = None
            out.append("%%" if char == "%" else char)
        elif char in ("'", '"'):
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
