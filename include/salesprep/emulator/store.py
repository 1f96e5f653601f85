"""The org folder's data in DuckDB: each `<Object>.csv` is loaded once, lazily, with catalog types.

Reading keeps `salesprep.org_folder`'s semantics (header names match case-insensitively, a UTF-8
BOM and quoted newlines are accepted, missing columns are simply not served, extra columns are
served as text) but parses with DuckDB's CSV reader, which is fast enough for tens of millions
of rows. Datetimes are stored as naive UTC timestamps.

Hard deletes: an optional `_deleted/<Object>.csv` (columns `Id,DeletedDate`) lists records that
were deleted and purged from the recycle bin. They are not served by query/queryAll, and the
`sobjects/<Object>/deleted/` resource reports them (with soft-deleted rows, `IsDeleted = true`,
dated by their SystemModstamp) between a start and an end.
"""

from __future__ import annotations

import csv
import io
import logging
import random
import shutil
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from salesprep.catalog import KEY_PREFIXES, OBJECTS, SObject, UnknownObjectError, get_object
from salesprep.emulator.permissions import Permissions
from salesprep.emulator.schema import (
    SQL_TYPES,
    FieldInfo,
    ObjectSchema,
    quote_identifier,
    quote_literal,
)
from salesprep.org_folder import object_path
from salesprep.runs.atomic_swap import owned_temp_dir

log = logging.getLogger(__name__)

DELETED_FOLDER = "_deleted"
DELETED_COLUMNS = ("Id", "DeletedDate")


class StoreError(RuntimeError):
    """The org folder or one of its files cannot be served; the message names which."""


class NoSuchObjectError(LookupError):
    """An object that is not in the catalog or has no CSV in the org folder."""


def _conversion(raw: str, info: FieldInfo, file_name: str) -> str:
    """SQL turning the raw text column `raw` into the field's type, failing on bad values."""
    type_ = info.type
    blank = f"({raw} IS NULL OR {raw} = '')"

    def failing(kind: str) -> str:
        message = quote_literal(f"{file_name}: field {info.name} ({type_}): not a {kind}: ")
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


# The emulator's private copy of an org in the system temp folder (see atomic_swap).
WORK_DIR_PREFIX = "salesprep-emulator-"


class OrgStore:
    """The objects of one org folder, served from a DuckDB database in a private work folder."""

    def __init__(
        self,
        org_dir: Path,
        *,
        work_dir: Path | None = None,
        permissions: Permissions | None = None,
    ) -> None:
        self.org_dir = Path(org_dir)
        if not self.org_dir.is_dir():
            raise StoreError(f"org folder {self.org_dir} does not exist or is not a folder")
        self._own_work_dir = work_dir is None
        # Named after this process, so the next run can sweep it if this one is killed.
        self.work_dir = owned_temp_dir(WORK_DIR_PREFIX) if work_dir is None else work_dir
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._db = duckdb.connect(str(self.work_dir / "org.duckdb"))
        self._lock = threading.Lock()
        self._load_locks: dict[str, threading.Lock] = {}
        self._schemas: dict[str, ObjectSchema] = {}
        self._paths: dict[str, Path] = {}
        self._columns: dict[str, list[FieldInfo | None]] = {}
        self._loaded: set[str] = set()
        # What the user cannot see: served as absent objects and fields.
        self.permissions = permissions or Permissions()

    # ------------------------------------------------------------------------ objects

    def object_names(self) -> list[str]:
        """Catalog objects that have a CSV in the org folder, in catalog order."""
        return [
            o.name
            for o in OBJECTS
            if object_path(self.org_dir, o.name) is not None
            and not self.permissions.hides_object(o.name)
        ]

    def schema(self, name: str) -> ObjectSchema:
        """The served shape of object `name` (case-insensitive), read from its CSV header, as
        the user sees it (hidden objects are absent, hidden fields left out)."""
        try:
            sobject = get_object(name)
        except UnknownObjectError as exc:
            raise NoSuchObjectError(name) from exc
        if self.permissions.hides_object(sobject.name):
            raise NoSuchObjectError(name)
        return self.permissions.visible(self._full_schema(sobject))

    def _full_schema(self, sobject: SObject) -> ObjectSchema:
        """Every column the CSV has, whatever the user may see."""
        with self._lock:
            cached = self._schemas.get(sobject.name)
        if cached is not None:
            return cached
        path = object_path(self.org_dir, sobject.name)
        if path is None:
            raise NoSuchObjectError(sobject.name)
        schema, columns = self._read_header(sobject, path)
        with self._lock:
            self._schemas.setdefault(sobject.name, schema)
            self._paths.setdefault(sobject.name, path)
            self._columns.setdefault(sobject.name, columns)
            self._load_locks.setdefault(sobject.name, threading.Lock())
            return self._schemas[sobject.name]

    def loaded_schema(self, name: str) -> ObjectSchema:
        """Like `schema`, after making sure the object's rows are in the database."""
        return self._ensure_loaded(self.schema(name))

    def _ensure_loaded(self, schema: ObjectSchema) -> ObjectSchema:
        if schema.name in self._loaded:
            return schema
        with self._load_locks[schema.name]:
            if schema.name not in self._loaded:
                self._load(self._schemas[schema.name])
                self._loaded.add(schema.name)
        return schema

    def organization(self) -> tuple[str, str | None] | None:
        """(Id, Name) of the org folder's Organization row, None without `Organization.csv`
        or without a row with an Id. The login reports the org to every user, also to one
        who may not query Organization."""
        try:
            schema = self._ensure_loaded(self._full_schema(get_object("Organization")))
        except NoSuchObjectError:
            return None
        id_field, name_field = schema.field("Id"), schema.field("Name")
        if id_field is None:
            return None
        name_sql = name_field.column if name_field is not None else "NULL"
        con = self.connect()
        try:
            row = con.execute(
                f"SELECT {id_field.column}, {name_sql} FROM {schema.table} "
                f"WHERE {id_field.column} IS NOT NULL ORDER BY rowid LIMIT 1"
            ).fetchone()
        finally:
            con.close()
        return (row[0], row[1]) if row else None

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
                self._load_deleted(con, schema)
                return
            raw = {f"c{i}": "VARCHAR" for i in range(len(columns))}
            struct = "{" + ", ".join(f"'{k}': '{v}'" for k, v in raw.items()) + "}"
            selects = [
                f"{_conversion(quote_identifier(f'c{i}'), info, path.name)} AS {info.column}"
                for i, info in enumerate(columns)
                if info is not None
            ]
            base = (
                f"read_csv({quote_literal(str(path))}, header = true, delim = ',', quote = '\"', "
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
            self._load_deleted(con, schema)
            rows = con.execute(f"SELECT count(*) FROM {schema.table}").fetchone()
            log.info("loaded %s rows of %s from %s", f"{rows[0]:,}", schema.name, path)
        finally:
            con.close()

    # ------------------------------------------------------------------------ deletes

    @staticmethod
    def _deleted_table(schema: ObjectSchema) -> str:
        return quote_identifier(f"deleted_{schema.name}")

    def _load_deleted(self, con: duckdb.DuckDBPyConnection, schema: ObjectSchema) -> None:
        """Load `_deleted/<Object>.csv` (if any) and drop those records from the object."""
        table = self._deleted_table(schema)
        folder = self.org_dir / DELETED_FOLDER
        path = object_path(folder, schema.name) if folder.is_dir() else None
        if path is None:
            con.execute(f"CREATE OR REPLACE TABLE {table} (Id VARCHAR, DeletedDate TIMESTAMP)")
            return
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                header = [c.strip().lower() for c in next(csv.reader(handle), [])]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise StoreError(f"cannot read the header of {path}: {exc}") from exc
        if not header:  # an empty file: nothing was deleted
            con.execute(f"CREATE OR REPLACE TABLE {table} (Id VARCHAR, DeletedDate TIMESTAMP)")
            return
        positions = {}
        for wanted in DELETED_COLUMNS:
            if wanted.lower() not in header:
                raise StoreError(
                    f"{path} must have the columns {', '.join(DELETED_COLUMNS)}; "
                    f"it has {', '.join(header)}"
                )
            positions[wanted] = header.index(wanted.lower())
        struct = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
        deleted_at = _conversion(
            quote_identifier(f"c{positions['DeletedDate']}"),
            FieldInfo("DeletedDate", "datetime"),
            f"{DELETED_FOLDER}/{path.name}",
        )
        id_column = quote_identifier(f"c{positions['Id']}")
        try:
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT "
                f"trim({id_column}) AS Id, {deleted_at} AS "
                f"DeletedDate FROM read_csv({quote_literal(str(path))}, header = true, "
                f"delim = ',', quote = '\"', escape = '\"', auto_detect = false, "
                f"columns = {struct}, null_padding = true, parallel = false)"
            )
        except duckdb.Error as exc:
            raise StoreError(f"cannot load {path}: {exc}") from exc
        id_field = schema.field("Id")
        if id_field is not None:
            con.execute(
                f"DELETE FROM {schema.table} WHERE {id_field.column} IN (SELECT Id FROM {table})"
            )

    def deleted_records(
        self, name: str, start: datetime, end: datetime
    ) -> list[tuple[str, datetime]]:
        """(Id, deleted at) of records deleted in [start, end] (naive UTC), oldest first:
        purged ones from `_deleted/`, and soft-deleted ones dated by their SystemModstamp."""
        schema = self.loaded_schema(name)
        parts = [f"SELECT Id, DeletedDate FROM {self._deleted_table(schema)} "]
        params: list[object] = [start, end]
        is_deleted, modstamp = schema.field("IsDeleted"), schema.field("SystemModstamp")
        id_field = schema.field("Id")
        if is_deleted is not None and modstamp is not None and id_field is not None:
            parts.append(
                f"SELECT {id_field.column}, {modstamp.column} FROM {schema.table} "
                f"WHERE coalesce({is_deleted.column}, false)"
            )
        sql = " UNION ALL ".join(
            f"SELECT * FROM ({part}) AS d(Id, DeletedDate) "
            "WHERE DeletedDate >= ? AND DeletedDate <= ?"
            for part in parts
        )
        params = params * len(parts)
        con = self.connect()
        try:
            return con.execute(f"{sql} ORDER BY 2, 1", params).fetchall()
        finally:
            con.close()

    # ------------------------------------------------------------------------ changes

    def modify_records(
        self, name: str, count: int, *, rng: random.Random, now: datetime | None = None
    ) -> list[str]:
        """Edit `count` records of `name` as a user would: a text field changes and
        LastModifiedDate/SystemModstamp move to `now`. Returns the Ids (for fault injection)."""
        schema = self.loaded_schema(name)
        id_field, modstamp = schema.field("Id"), schema.field("SystemModstamp")
        if id_field is None or modstamp is None or count <= 0:
            return []
        text = next(
            (
                f
                for f in schema.fields
                if f.declared and f.type in ("string", "textarea") and f.name != "Id"
            ),
            None,
        )
        stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        con = self.connect()
        try:
            ids = [
                r[0]
                for r in con.execute(
                    f"SELECT {id_field.column} FROM {schema.table} ORDER BY rowid"
                ).fetchall()
            ]
            chosen = sorted(rng.sample(ids, min(count, len(ids))))
            if not chosen:
                return []
            assignments = [f"{modstamp.column} = ?"]
            params: list[object] = [stamp]
            modified = schema.field("LastModifiedDate")
            if modified is not None:
                assignments.append(f"{modified.column} = ?")
                params.append(stamp)
            if text is not None:
                assignments.append(f"{text.column} = coalesce({text.column}, '') || ' (edited)'")
            marks = ", ".join("?" for _ in chosen)
            con.execute(
                f"UPDATE {schema.table} SET {', '.join(assignments)} "
                f"WHERE {id_field.column} IN ({marks})",
                [*params, *chosen],
            )
            return chosen
        finally:
            con.close()


def write_deleted_records(
    org_dir: Path, name: str, records: Iterable[tuple[str, datetime]]
) -> Path:
    """Write `<org_dir>/_deleted/<Object>.csv`: the records of `name` deleted for good."""
    sobject = get_object(name)
    path = Path(org_dir) / DELETED_FOLDER / f"{sobject.name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DELETED_COLUMNS)
    for record_id, deleted_at in records:
        at = deleted_at.astimezone(UTC)
        writer.writerow(
            [record_id, at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"]
        )
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
