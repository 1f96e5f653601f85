"""The org folder: one `<Object>.csv` per Salesforce object, API field names as headers, values
formatted as Salesforce's Data Export writes them. Read into typed Arrow tables, and written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from salesprep.catalog import Field, SObject, get_object


class OrgFolderError(ValueError):
    """An org folder, object file or value that cannot be read or served; one line naming the
    file, the problem and the fix."""


@dataclass
class OrgObject:
    """One object read from an org folder, typed by the catalog."""

    sobject: SObject
    table: pa.Table
    present: bool
    missing_fields: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)


def format_value(value: Any, type_: str) -> str:
    """A Python value as Data Export writes it: true/false, ISO dates, `...T..:..:..000Z`."""
    if value is None:
        return ""
    if type_ == "boolean":
        return "true" if value else "false"
    if type_ == "datetime":
        if isinstance(value, str):
            return value
        value = value.astimezone(UTC) if value.tzinfo else value
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if type_ == "date":
        return value if isinstance(value, str) else value.isoformat()
    if type_ in ("currency", "double", "percent"):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return str(value)


def parse_value(text: str, f: Field) -> Any:
    """One CSV cell as the Python value of the field's type; empty means null."""
    if text == "":
        return None
    try:
        if f.type == "boolean":
            lowered = text.strip().lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise ValueError(f"not a boolean: {text!r}")
        if f.type in ("currency", "double", "percent"):
            return float(text)
        if f.type == "int":
            return int(float(text))
        if f.type == "date":
            return date.fromisoformat(text.strip()[:10])
        if f.type == "datetime":
            return parse_datetime(text)
    except ValueError as exc:
        raise OrgFolderError(f"field {f.name} ({f.type}): {exc}") from exc
    return text


def parse_datetime(text: str) -> datetime:
    """A Salesforce datetime (`...T09:30:00.000Z` or a `+0000` offset) as an aware UTC value."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    elif len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        value = value[:-2] + ":" + value[-2:]
    if "T" not in value and " " not in value:
        value += "T00:00:00+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def object_path(org_dir: Path, name: str) -> Path | None:
    """The CSV of object `name` in `org_dir`, matching the file name case-insensitively."""
    wanted = f"{name}.csv".lower()
    for candidate in sorted(org_dir.iterdir()):
        if candidate.is_file() and candidate.name.lower() == wanted:
            return candidate
    return None


def read_object(org_dir: Path, name: str) -> OrgObject:
    """Read object `name` from the org folder into a table with every declared field.

    A missing file gives an empty table (`present=False`); missing columns become nulls and are
    listed in `missing_fields`; extra columns are ignored and listed. Headers match
    case-insensitively; a UTF-8 BOM and quoted newlines are accepted.
    """
    sobject = get_object(name)
    org_dir = Path(org_dir)
    if not org_dir.is_dir():
        raise OrgFolderError(f"org folder {org_dir} does not exist or is not a folder")
    path = object_path(org_dir, sobject.name)
    if path is None:
        return OrgObject(
            sobject,
            sobject.arrow_schema().empty_table(),
            present=False,
            missing_fields=sobject.field_names,
        )
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:  # an empty file: the object exists but has no rows
            return OrgObject(sobject, sobject.arrow_schema().empty_table(), present=True)
        positions: dict[str, int] = {}
        extra: list[str] = []
        for index, column in enumerate(header):
            column = column.strip()
            if sobject.has_field(column):
                positions.setdefault(sobject.field(column).name, index)
            elif column:
                extra.append(column)
        columns: dict[str, list[Any]] = {f.name: [] for f in sobject.fields}
        for line_number, row in enumerate(reader, start=2):
            if not row or (len(row) == 1 and row[0] == ""):
                continue
            for f in sobject.fields:
                index = positions.get(f.name)
                cell = row[index] if index is not None and index < len(row) else ""
                try:
                    columns[f.name].append(parse_value(cell, f))
                except OrgFolderError as exc:
                    raise OrgFolderError(f"{path.name} line {line_number}: {exc}") from exc
    table = pa.table(
        {f.name: pa.array(columns[f.name], type=f.arrow_type) for f in sobject.fields},
        schema=sobject.arrow_schema(),
    )
    missing = [f.name for f in sobject.fields if f.name not in positions]
    return OrgObject(sobject, table, present=True, missing_fields=missing, extra_columns=extra)


def write_object(
    org_dir: Path, name: str, rows: Iterable[Mapping[str, Any]], fields: list[str] | None = None
) -> Path:
    """Write rows of object `name` as `<Object>.csv` in Data Export format; returns the path."""
    sobject = get_object(name)
    names = fields or sobject.field_names
    types = {n: sobject.field(n).type for n in names}
    path = Path(org_dir) / f"{sobject.name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([format_value(row.get(n), types[n]) for n in names])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
