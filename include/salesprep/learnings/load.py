"""Read every learnings file recorded before a week from the shared folder into Parquet, the
dbt source `learnings`. A malformed file is skipped and reported, never silently dropped."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from salesprep.learnings.entries import Learning, LearningsFormatError, parse_learnings
from salesprep.shared_folder import join
from salesprep.weeks import InvalidWeekError, Week

log = logging.getLogger(__name__)

LEARNINGS_DIR = "learnings"
SCHEMA = pa.schema(
    [
        ("learning_id", pa.string()),
        ("week", pa.string()),
        ("manager_slug", pa.string()),
        ("rep_slug", pa.string()),
        ("manager_id", pa.string()),
        ("rep_id", pa.string()),
        ("kind", pa.string()),
        ("theme", pa.string()),
        ("body", pa.string()),
        ("shareable", pa.bool_()),
        ("tags", pa.string()),
        ("stage", pa.string()),
        ("industry", pa.string()),
        ("opportunity_id", pa.string()),
        ("source_path", pa.string()),
    ]
)


@dataclass
class LearningsReport:
    """What one load found: entries read, files skipped with the reason."""

    entries: int = 0
    files: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    unmatched_pairs: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "learnings": self.entries,
            "learnings_files": self.files,
            "learnings_skipped": self.skipped,
            "learnings_unmatched_pairs": self.unmatched_pairs,
        }


def _pair_ids(
    fs: fsspec.AbstractFileSystem, root: str, week: str
) -> dict[tuple[str, str], tuple[str, str]]:
    """(manager slug, rep slug) → (manager id, rep id), from that week's published manifest."""
    path = join(root, week, "manifest.json")
    if not fs.exists(path):
        return {}
    manifest = json.loads(fs.cat_file(path))
    pairs = {}
    for packet in manifest.get("packets", []):
        pairs[(packet["manager_slug"], packet["rep_slug"])] = (
            packet["manager_id"],
            packet["rep_id"],
        )
    return pairs


def read_learnings(
    shared_folder_url: str, before: Week
) -> tuple[list[tuple[Learning, str | None, str | None]], LearningsReport]:
    """Every entry recorded for a week before `before`, with the pair's ids where known."""
    fs, root = fsspec.core.url_to_fs(shared_folder_url)
    root = root.rstrip("/")
    report = LearningsReport()
    rows: list[tuple[Learning, str | None, str | None]] = []
    pattern = join(root, LEARNINGS_DIR, "*", "*", "*.md")
    for path in sorted(fs.glob(pattern)):
        relative = path[len(root) + 1 :] if path.startswith(root) else path
        week_label, manager_slug, file_name = relative.split("/")[-3:]
        try:
            week = Week.parse(week_label)
        except InvalidWeekError as exc:
            report.skipped.append({"path": relative, "error": str(exc)})
            continue
        if week >= before:  # recorded later: a re-run of an older week must not see it
            continue
        rep_slug = file_name[: -len(".md")]
        report.files += 1
        try:
            text = fs.cat_file(path).decode("utf-8")
            entries = parse_learnings(
                text, week=week.label, manager_slug=manager_slug, rep_slug=rep_slug, source=relative
            )
        except (LearningsFormatError, UnicodeDecodeError) as exc:
            log.warning("skipped learnings file %s: %s", relative, exc)
            report.skipped.append({"path": relative, "error": str(exc)})
            continue
        ids = _pair_ids(fs, root, week.label).get((manager_slug, rep_slug))
        if ids is None:
            report.unmatched_pairs.append(relative)
        for entry in entries:
            rows.append((entry, *(ids or (None, None))))
    report.entries = len(rows)
    return rows, report


def land_learnings(shared_folder_url: str, out_path: Path, week: Week) -> LearningsReport:
    """Land the learnings recorded before `week` in `out_path` (Parquet, the dbt source
    `learnings`), atomically; the pipeline step `load_learnings` calls it."""
    rows, report = read_learnings(shared_folder_url, week)
    records = []
    for entry, manager_id, rep_id in rows:
        record = entry.as_row()
        record.update(manager_id=manager_id, rep_id=rep_id)
        records.append(record)
    table = pa.Table.from_pylist(records, schema=SCHEMA)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_suffix(".parquet.partial")
    pq.write_table(table, partial)
    os.replace(partial, out_path)
    log.info(
        "loaded %d learnings from %d files (%d skipped)",
        report.entries,
        report.files,
        len(report.skipped),
    )
    return report
