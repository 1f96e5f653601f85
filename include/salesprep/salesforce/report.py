"""The extract report: what one extraction run landed, per object and in total.

Written as `<raw_root>/_extract_report.json` next to the Parquet files it describes, and read
back by the raw checkpoint and by dbt's callers to learn which fields the org lacked.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPORT_FILE = "_extract_report.json"


class ExtractReportError(ValueError):
    """An extract report that is missing or cannot be read; the message names the file."""


@dataclass
class ObjectReport:
    """One object's part of an extraction run.

    `rows` and `deleted_rows` (IsDeleted = true) describe the landed file; `fetched_rows` the
    records read from the org in this run, `hard_deleted_rows` the rows it dropped because the
    org deleted them for good. `mode` is `full`, `incremental`, `unchanged` or `absent`;
    `method` is `rest` or `bulk`.
    """

    name: str
    present: bool
    required: bool = False
    rows: int = 0
    deleted_rows: int = 0
    missing_fields: list[str] = field(default_factory=list)
    api_calls: int = 0
    pages: int = 0
    bytes: int = 0
    seconds: float = 0.0
    path: str = ""
    mode: str = "full"
    method: str = ""
    fetched_rows: int = 0
    hard_deleted_rows: int = 0
    window_from: str | None = None
    window_to: str | None = None
    downloaded_bytes: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class ExtractReport:
    """One extraction run: mode, API version, per-object reports and run totals."""

    mode: str = "full"
    api_version: str = ""
    started_at: str = ""
    objects: dict[str, ObjectReport] = field(default_factory=dict)
    api_calls: int = 0
    seconds: float = 0.0
    run_id: str = ""
    retries: int = 0
    relogins: int = 0
    downloaded_bytes: int = 0
    # The org's daily API usage (`used/limit`) before and after the run, when reported.
    api_usage_before: str = ""
    api_usage_after: str = ""

    @property
    def fetched_rows(self) -> int:
        return sum(o.fetched_rows for o in self.objects.values())

    @property
    def hard_deleted_rows(self) -> int:
        return sum(o.hard_deleted_rows for o in self.objects.values())

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.objects.values())

    @property
    def deleted_rows(self) -> int:
        return sum(o.deleted_rows for o in self.objects.values())

    @property
    def bytes(self) -> int:
        return sum(o.bytes for o in self.objects.values())

    @property
    def missing_objects(self) -> list[str]:
        return [name for name, o in self.objects.items() if not o.present]

    @property
    def missing_fields(self) -> dict[str, list[str]]:
        """Declared fields the org lacks, per present object."""
        objects = self.objects.items()
        return {n: o.missing_fields for n, o in objects if o.present and o.missing_fields}

    def summary(self) -> dict[str, Any]:
        """A small JSON-able summary (fit for XCom and the CLI)."""
        return {
            "mode": self.mode,
            "objects": len(self.objects),
            "rows": self.rows,
            "fetched_rows": self.fetched_rows,
            "deleted_rows": self.deleted_rows,
            "hard_deleted_rows": self.hard_deleted_rows,
            "api_calls": self.api_calls,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 1),
            "missing_objects": self.missing_objects,
            "missing_fields": self.missing_fields,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "api_version": self.api_version,
            "started_at": self.started_at,
            "run_id": self.run_id,
            "totals": {
                "objects": len(self.objects),
                "rows": self.rows,
                "fetched_rows": self.fetched_rows,
                "deleted_rows": self.deleted_rows,
                "hard_deleted_rows": self.hard_deleted_rows,
                "api_calls": self.api_calls,
                "retries": self.retries,
                "relogins": self.relogins,
                "api_usage_before": self.api_usage_before,
                "api_usage_after": self.api_usage_after,
                "bytes": self.bytes,
                "downloaded_bytes": self.downloaded_bytes,
                "seconds": round(self.seconds, 3),
                "missing_objects": self.missing_objects,
                "missing_fields": self.missing_fields,
            },
            "objects": {
                name: {**asdict(o), "seconds": round(o.seconds, 3)}
                for name, o in self.objects.items()
            },
        }

    def table(self) -> str:
        """The report as a plain-text table, one line per object (for logs)."""
        lines = [
            f"{'object':<24} {'mode':<11} {'method':<6} {'rows':>9} {'fetched':>8} "
            f"{'deleted':>7} {'purged':>6} {'calls':>5} {'bytes':>10} {'secs':>6}"
        ]
        for o in self.objects.values():
            lines.append(
                f"{o.name:<24} {o.mode:<11} {o.method:<6} {o.rows:>9,} {o.fetched_rows:>8,} "
                f"{o.deleted_rows:>7,} {o.hard_deleted_rows:>6,} {o.api_calls:>5} "
                f"{o.bytes:>10,} {o.seconds:>6.2f}"
            )
        lines.append(
            f"{'total':<24} {self.mode:<11} {'':<6} {self.rows:>9,} {self.fetched_rows:>8,} "
            f"{self.deleted_rows:>7,} {self.hard_deleted_rows:>6,} {self.api_calls:>5} "
            f"{self.bytes:>10,} {self.seconds:>6.2f}"
        )
        return "\n".join(lines)

    def write(self, raw_root: Path) -> Path:
        path = Path(raw_root) / REPORT_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExtractReport:
        totals = data.get("totals", {})
        objects = {name: ObjectReport(**values) for name, values in data["objects"].items()}
        return cls(
            mode=data.get("mode", "full"),
            api_version=data.get("api_version", ""),
            started_at=data.get("started_at", ""),
            objects=objects,
            api_calls=int(totals.get("api_calls", 0)),
            seconds=float(totals.get("seconds", 0.0)),
            run_id=str(data.get("run_id", "")),
            retries=int(totals.get("retries", 0)),
            relogins=int(totals.get("relogins", 0)),
            downloaded_bytes=int(totals.get("downloaded_bytes", 0)),
            api_usage_before=str(totals.get("api_usage_before", "")),
            api_usage_after=str(totals.get("api_usage_after", "")),
        )


def load_report(raw_root: Path) -> ExtractReport:
    """Read `<raw_root>/_extract_report.json`."""
    path = Path(raw_root) / REPORT_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ExtractReport.from_dict(data)
    except FileNotFoundError as exc:
        raise ExtractReportError(
            f"no extract report at {path}: run the extraction into {raw_root} first"
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExtractReportError(f"cannot read the extract report {path}: {exc}") from exc
