"""Hostile edits of an org folder (a Salesforce Data Export of `<Object>.csv` files), each the
kind of dirt a real export or a hand-edited copy carries."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

Rows = list[dict[str, str]]


def read_rows(org: Path, name: str) -> tuple[list[str], Rows]:
    with (org / f"{name}.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(org: Path, name: str, header: list[str], rows: Rows, **options: str) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n", **options)
    writer.writeheader()
    writer.writerows(rows)
    (org / f"{name}.csv").write_text(buffer.getvalue(), encoding="utf-8")


def edit_rows(org: Path, name: str, change: Callable[[Rows], Rows | None]) -> None:
    """Rewrite `<name>.csv` with `change(rows)` (which may edit the rows in place)."""
    header, rows = read_rows(org, name)
    result = change(rows)
    write_rows(org, name, header, rows if result is None else result)


def edit_bytes(org: Path, name: str, change: Callable[[bytes], bytes]) -> None:
    path = org / f"{name}.csv"
    path.write_bytes(change(path.read_bytes()))


def live(rows: Rows) -> Rows:
    return [row for row in rows if row.get("IsDeleted", "false") != "true"]


def users(org: Path) -> tuple[dict[str, dict[str, str]], dict[str, list[str]]]:
    """Users by Id, and the active reps of each manager."""
    _, rows = read_rows(org, "User")
    by_id = {row["Id"]: row for row in rows}
    reports: dict[str, list[str]] = {}
    for row in rows:
        if row["IsActive"] == "true" and row["ManagerId"]:
            reports.setdefault(row["ManagerId"], []).append(row["Id"])
    return by_id, reports
