"""The org folder's data in DuckDB: each `<Object>.csv` is loaded once, lazily, with catalog types.

Reading keeps `salesprep.org_folder`'s semantics (header names match case-insensitively, a UTF-8
BOM and quoted newlines are accepted, missing columns are simply not served, extra columns are
served as text) but parses with DuckDB's CSV reader, which is fast enough for tens of millions
of rows. Datetimes are stored as naive UTC timestamps.
"""

from __future__ import annotations

import csv
import logging
import shutil
import tempfile
import threading
from pathlib import Path

import duckdb

from salesprep.catalog import KEY_PREFIXES, OBJECTS, SObject, UnknownObjectError, get_object
from salesprep.emulator.schema import SQL_TYPES, FieldInfo, ObjectSchema, quote_identifier
from salesprep.org_folder import object_path

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The org folder or one of its files cannot be served; the message names which."""


class NoSuchObjectError(LookupError):
    """An object that is not in the catalog or has no CSV in the org folder."""


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _conversion(raw: str, info: FieldInfo, file_name: str) -> str:
    """SQL turning the raw text column `raw` into the field's type, failing on bad values."""
    type_ = info.type
    blank = f"({raw} IS NULL OR {raw} = '')"

    def failing(kind: str) -> str:
        message = _sql_string(f"{file_name}: field {info.name} ({type_}): not a {kind}: ")
        return f"error({message} || {raw})"

    if type_ == "boolean":
        lowered = f"lower(trim({raw}))"
        return (
            f"CASE WHEN {blank} THEN NULL WHEN {lowered} IN ('true', '1') THEN true "
            f"WHEN {lowered} IN ('false', '0') THEN false ELSE {failing('boolean')} END"
        )
    if type_ in ("currency", "double", "percent", "int"):
        number = f"TRY_CAST(trim({raw}) AS DOUBLE)"
        value = f"CAST(trunc({number}) AS BIGINT)" if type_ == "int" else number
        return (
            f"CASE WHEN {blank} THEN NULL WHEN {number} IS NULL THEN {failing('number')} "
            f"ELSE {value} END"
        )
    if type_ == "date":
        value = f"TRY_CAST(left(trim({raw}), 10) AS DATE)"
        return (
            f"CASE WHEN {blank} THEN NULL WHEN {value} IS NULL THEN {failing('date')} "
            f"ELSE {value} END"
        )
    if type_ == "datetime":
        # The loading connection runs with TimeZone=UTC, so naive values are read as UTC.
        value = f"(TRY_CAST(trim({raw}) AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"
        return (
            f"CASE WHEN {blank} THEN NULL WHEN {value} IS NULL THEN {failing('datetime')} "
            f"ELSE {value} END"
        )
    return f"NULLIF({raw}, '')"


class OrgStore:
    """The objects of one org folder, served from a DuckDB database in a private work folder."""

    def __init__(self, org_dir: Path, *, work_dir: Path | None = None) -> None:
        self.org_dir = Path(org_dir)
        if not self.org_dir.is_dir():
            raise StoreError(f"org folder {self.org_dir} does not exist or is not a folder")
        self._own_work_dir = work_dir is None
        self.work_dir = (
            Path(tempfile.mkdtemp(prefix="salesprep-emulator-")) if work_dir is None else work_dir
        )
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._db = duckdb.connect(str(self.work_dir / "org.duckdb"))
        self._lock = threading.Lock()
        self._load_locks: dict[str, threading.Lock] = {}
        self._schemas: dict[str, ObjectSchema] = {}
        self._paths: dict[str, Path] = {}
        self._columns: dict[str, list[FieldInfo | None]] = {}
        self._loaded: set[str] = set()

    # ------------------------------------------------------------------------ objects

    def object_names(self) -> list[str]:
        """Catalog objects that have a CSV in the org folder, in catalog order."""
        return [o.name for o in OBJECTS if object_path(self.org_dir, o.name) is not None]

    def schema(self, name: str) -> ObjectSchema:
        """The served shape of object `name` (case-insensitive), read from its CSV header."""
        try:
            sobject = get_object(name)
        except UnknownObjectError as exc:
            raise NoSuchObjectError(name) from exc
        with self._lock:
            cached = self._schemas.get(sobject.name)
        if cached is not None:
            return cached
        path = object_path(self.org_dir, sobject.name)
        if path is None:
            raise NoSuchObjectError(name)
        schema, columns = self._read_header(sobject, path)
        with self._lock:
            self._schemas.setdefault(sobject.name, schema)
            self._paths.setdefault(sobject.name, path)
            self._columns.setdefault(sobject.name, columns)
            self._load_locks.setdefault(sobject.name, threading.Lock())
            return self._schemas[sobject.name]

    def loaded_schema(self, name: str) -> ObjectSchema:
        """Like `schema`, after making sure the object's rows are in the database."""
        schema = self.schema(name)
        if schema.name in self._loaded:
            return schema
        with self._load_locks[schema.name]:
            if schema.name not in self._loaded:
                self._load(schema)
                self._loaded.add(schema.name)
        return schema

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A connection for one thread; close it when done."""
        with self._lock:
            con = self._db.cursor()
        con.execute("SET enable_progress_bar = false")
        # Queries without ORDER BY answer in file order, like Salesforce's Id order for exports.
        con.execute("SET preserve_insertion_order = true")
        return con

    def close(self) -> None:
        """Close the database and remove the work folder if the store created it."""
        with self._lock:
            self._db.close()
        if self._own_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # ------------------------------------------------------------------------ loading

    def _read_header(
        self, sobject: SObject, path: Path
    ) -> tuple[ObjectSchema, list[FieldInfo | None]]:
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                header = next(csv.reader(handle), None)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise StoreError(f"cannot read the header of {path}: {exc}") from exc
        if header is None:
            # An empty file: the object exists with all its declared fields and no rows.
            fields = [self._declared(f) for f in sobject.fields]
            return self._make_schema(sobject, fields), []
        columns: list[FieldInfo | None] = []
        served: dict[str, FieldInfo] = {}
        for column in header:
            column = column.strip()
            key = column.lower()
            if not column or key in served:
                columns.append(None)  # a blank or repeated header: the first one wins
                continue
            if sobject.has_field(column):
                info = self._declared(sobject.field(column))
            else:
                info = FieldInfo(column, "string", custom=column.endswith("__c"), declared=False)
            served[key] = info
            columns.append(info)
        declared = [served[f.name.lower()] for f in sobject.fields if f.name.lower() in served]
        extra = [f for f in served.values() if not f.declared]
        return self._make_schema(sobject, [*declared, *extra]), columns

    @staticmethod
    def _declared(f) -> FieldInfo:
        return FieldInfo(f.name, f.type, f.name.endswith("__c"), f.reference_to, declared=True)

    @staticmethod
    def _make_schema(sobject: SObject, fields: list[FieldInfo]) -> ObjectSchema:
        label = sobject.label or sobject.name
        return ObjectSchema(sobject.name, label, KEY_PREFIXES.get(sobject.name), tuple(fields))

    def _load(self, schema: ObjectSchema) -> None:
        path = self._paths[schema.name]
        columns = self._columns[schema.name]
        con = self.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            if not columns:
                definitions = ", ".join(f"{f.column} {SQL_TYPES[f.type]}" for f in schema.fields)
                con.execute(f"CREATE OR REPLACE TABLE {schema.table} ({definitions})")
                return
            raw = {f"c{i}": "VARCHAR" for i in range(len(columns))}
            struct = "{" + ", ".join(f"'{k}': '{v}'" for k, v in raw.items()) + "}"
            selects = [
                f"{_conversion(quote_identifier(f'c{i}'), info, path.name)} AS {info.column}"
                for i, info in enumerate(columns)
                if info is not None
            ]
            base = (
                f"read_csv({_sql_string(str(path))}, header = true, delim = ',', quote = '\"', "
                f"escape = '\"', auto_detect = false, columns = {struct}"
            )
            sql = f"CREATE OR REPLACE TABLE {schema.table} AS SELECT {', '.join(selects)} FROM "
            try:
                con.execute(sql + base + ")")
            except duckdb.Error:
                # Short rows need null padding, which DuckDB's parallel reader cannot combine
                # with quoted newlines; retry serially before giving up.
                try:
                    con.execute(sql + base + ", null_padding = true, parallel = false)")
                except duckdb.Error as exc:
                    raise StoreError(f"cannot load {path}: {exc}") from exc
            rows = con.execute(f"SELECT count(*) FROM {schema.table}").fetchone()
            log.info("loaded %s rows of %s from %s", f"{rows[0]:,}", schema.name, path)
        finally:
            con.close()
