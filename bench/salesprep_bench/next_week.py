"""The org a week later, for the weekly run end to end: a copy of a generated org folder with
one week of changes in it, stamped now.

The generator cannot give this itself: an org generated to week W+1 keeps the Ids of the org
generated to week W but not their rows (the whole history is drawn again), so against the
landing zone of week W every record would have changed. Instead, the week W+1 repeats week W:

- every record created in week W (Accounts, Contacts, Opportunities and their contact roles,
  histories, Tasks and Events) is created again in week W+1 under a new Id, with its dates
  and datetimes seven days later, and its references to records cloned with it pointing to
  the clones;
- every older record modified in week W is modified again (its SystemModstamp moves);
- users, quotas and setup objects do not change.

The extraction reads by the cursor field (SystemModstamp, or CreatedDate where an object has
no SystemModstamp), and the emulator's clock is the real one while the org's dates end in
week W: so the changes are stamped with the real time `now` (after the previous extraction's
watermark), in the cursor field only. The one object whose cursor is CreatedDate
(OpportunityFieldHistory) gets `now` as its clones' CreatedDate, so those rows fall in the
real week, not in W+1: the report notes it.
"""

from __future__ import annotations

import csv
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from salesprep.catalog import get_object
from salesprep.demo_org.ids import BASE62, checksum
from salesprep.weeks import Week

log = logging.getLogger(__name__)

# The objects users change week to week; the rest (users, quotas, setup) stay as they are.
CHANGING_OBJECTS = (
    "Account",
    "Contact",
    "Opportunity",
    "OpportunityContactRole",
    "OpportunityHistory",
    "OpportunityFieldHistory",
    "Task",
    "Event",
)
# Characters 4-6 of the clones' Ids: a pod the generator never uses, so no Id can collide.
_CLONE_POD = "8d1"
_SHIFT = timedelta(days=7)


class NextWeekError(RuntimeError):
    """The org folder cannot be advanced a week (missing folder or object file)."""


@dataclass
class NextWeek:
    """What changed: records created and records modified, per object."""

    week: str
    stamped_at: str
    created: dict[str, int] = field(default_factory=dict)
    modified: dict[str, int] = field(default_factory=dict)

    @property
    def changed_rows(self) -> int:
        return sum(self.created.values()) + sum(self.modified.values())

    def to_dict(self) -> dict[str, object]:
        return {
            "week": self.week,
            "stamped_at": self.stamped_at,
            "created": self.created,
            "modified": self.modified,
            "changed_rows": self.changed_rows,
        }


def write_next_week_org(
    org_dir: Path, out_dir: Path, week: Week, *, now: datetime | None = None
) -> NextWeek:
    """Write into `out_dir` (replaced) the org folder `org_dir`, generated to `week`, as it is
    one week later; changes are stamped `now` (default: one second ago)."""
    org_dir, out_dir = Path(org_dir), Path(out_dir)
    if not (org_dir / "Organization.csv").is_file():
        raise NextWeekError(f"{org_dir} is not an org folder (no Organization.csv)")
    now = (now or datetime.now(UTC) - timedelta(seconds=1)).astimezone(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    start, end = _iso(week.start()), _iso(week.end())
    result = NextWeek(week=week.shift(1).label, stamped_at=stamp)
    id_map: dict[str, str] = {}
    con = duckdb.connect()
    try:
        for source in sorted(org_dir.iterdir()):
            name = source.stem
            if source.suffix != ".csv" or name not in CHANGING_OBJECTS:
                _copy(source, out_dir / source.name)
                continue
            created, modified = _advance(con, source, out_dir / source.name, start, end, stamp)
            result.created[name] = len(created)
            result.modified[name] = modified
            for row in created:
                id_map[row["Id"]] = _clone_id(row["Id"], len(id_map) + 1)
        # Clones refer to their cloned parents; written after every Id is known.
        for name in CHANGING_OBJECTS:
            path = out_dir / f"{name}.csv"
            if path.exists() and result.created.get(name):
                _append_clones(con, org_dir / f"{name}.csv", path, start, end, stamp, id_map)
    finally:
        con.close()
    log.info(
        "next week %s: %s records created, %s modified (stamped %s)",
        result.week,
        f"{sum(result.created.values()):,}",
        f"{sum(result.modified.values()):,}",
        stamp,
    )
    return result


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)


def _read(path: Path) -> str:
    return f"read_csv('{_sql_path(path)}', all_varchar = true, header = true)"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _advance(
    con: duckdb.DuckDBPyConnection, source: Path, target: Path, start: str, end: str, stamp: str
) -> tuple[list[dict[str, str]], int]:
    """Copy `source` to `target` with the older records modified in [start, end) re-stamped;
    return the rows created in [start, end) (to clone) and how many were modified."""
    sobject = get_object(source.stem)
    columns = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM {_read(source)}").fetchall()]
    lower = {c.lower(): c for c in columns}
    created_col = lower.get("createddate")
    modified_col = lower.get("lastmodifieddate")
    cursor_col = lower.get(sobject.cursor.lower())
    if created_col is None or cursor_col is None:
        _copy(source, target)
        return [], 0
    modified = 0
    if modified_col is not None and cursor_col != created_col:
        touched = (
            f"\"{modified_col}\" >= '{start}' AND \"{modified_col}\" < '{end}' "
            f"AND \"{created_col}\" < '{start}'"
        )
        modified = con.execute(f"SELECT count(*) FROM {_read(source)} WHERE {touched}").fetchone()[
            0
        ]
        select = ", ".join(
            f'CASE WHEN {touched} THEN \'{stamp}\' ELSE "{c}" END AS "{c}"'
            if c == cursor_col
            else f'"{c}"'
            for c in columns
        )
        con.execute(
            f"COPY (SELECT {select} FROM {_read(source)}) TO '{_sql_path(target)}' "
            "(HEADER, DELIMITER ',')"
        )
    else:
        _copy(source, target)
    rows = con.execute(
        f'SELECT "Id" FROM {_read(source)} WHERE "{created_col}" >= ? AND "{created_col}" < ?',
        [start, end],
    ).fetchall()
    return [{"Id": r[0]} for r in rows], modified


def _append_clones(
    con: duckdb.DuckDBPyConnection,
    source: Path,
    target: Path,
    start: str,
    end: str,
    stamp: str,
    id_map: dict[str, str],
) -> None:
    sobject = get_object(source.stem)
    cursor = con.execute(
        f'SELECT * FROM {_read(source)} WHERE "CreatedDate" >= ? AND "CreatedDate" < ?',
        [start, end],
    )
    columns = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    kinds = {}
    for column in columns:
        declared = next((f for f in sobject.fields if f.name.lower() == column.lower()), None)
        kinds[column] = declared.type if declared else "string"
    cursor_name = sobject.cursor.lower()
    with target.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for row in rows:
            out = []
            for column, value in zip(columns, row, strict=True):
                kind = kinds[column]
                if value is None or value == "":
                    out.append("")
                elif column.lower() == cursor_name:
                    out.append(stamp)
                elif kind in ("id", "reference"):
                    out.append(id_map.get(value, value))
                elif kind == "date":
                    out.append((date.fromisoformat(value[:10]) + _SHIFT).isoformat())
                elif kind == "datetime":
                    out.append(_shift_datetime(value))
                else:
                    out.append(value)
            writer.writerow(out)


def _shift_datetime(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) + _SHIFT
    return _iso(moment)


def _clone_id(original: str, number: int) -> str:
    digits = []
    for _ in range(9):
        number, rest = divmod(number, 62)
        digits.append(BASE62[rest])
    id15 = original[:3] + _CLONE_POD + "".join(reversed(digits))
    return id15 + checksum(id15)
