"""Read every learnings file recorded before a week from the shared folder into Parquet, the
dbt source `learnings`: the good entries, and beside them the rejected ones with the reason,
so that the packets can list them. A bad entry never fails the run or drops the rest of its
file; a file that cannot be read at all is rejected as a whole."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from salesprep.learnings.entries import EntryProblem, Learning, read_entries
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
        ("entry_number", pa.int32()),
        ("action_id", pa.string()),
        ("owner", pa.string()),
        ("due_date", pa.date32()),
        ("status", pa.string()),
    ]
)
# The entries (or whole files, entry_number null) the format rejected, one row each.
REJECTED_SCHEMA = pa.schema(
    [
        ("source_path", pa.string()),
        ("week", pa.string()),
        ("manager_slug", pa.string()),
        ("rep_slug", pa.string()),
        ("manager_id", pa.string()),
        ("rep_id", pa.string()),
        ("entry_number", pa.int32()),
        ("key", pa.string()),
        ("problem", pa.string()),
        ("fix", pa.string()),
        ("message", pa.string()),
    ]
)


@dataclass
class LearningsReport:
    """What one load found: entries read, files skipped whole, entries rejected (each with
    its row for the warehouse), files of no published pair."""

    entries: int = 0
    files: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    unmatched_pairs: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "learnings": self.entries,
            "learnings_files": self.files,
            "learnings_skipped": self.skipped,
            "learnings_rejected": [row["message"] for row in self.rejected],
            "learnings_unmatched_pairs": self.unmatched_pairs,
        }

    def reject(
        self,
        problem: EntryProblem,
        *,
        week: str | None = None,
        slugs: tuple[str | None, str | None] = (None, None),
        ids: tuple[str | None, str | None] | None = None,
    ) -> None:
        log.warning("rejected learnings entry: %s", problem.message)
        manager_id, rep_id = ids or (None, None)
        self.rejected.append(
            {
                "source_path": problem.source,
                "week": week,
                "manager_slug": slugs[0],
                "rep_slug": slugs[1],
                "manager_id": manager_id,
                "rep_id": rep_id,
                "entry_number": problem.entry,
                "key": problem.key,
                "problem": problem.problem,
                "fix": problem.fix,
                "message": problem.message,
            }
        )


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
    manifests: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}
    for path in sorted(fs.glob(pattern)):
        relative = path[len(root) + 1 :] if path.startswith(root) else path
        week_label, manager_slug, file_name = relative.split("/")[-3:]
        rep_slug = file_name[: -len(".md")]
        slugs = (manager_slug, rep_slug)
        try:
            week = Week.parse(week_label)
        except InvalidWeekError as exc:
            report.skipped.append({"path": relative, "error": str(exc)})
            fix = "move the file to the folder of the packet's week, like learnings/2026-W20/"
            report.reject(EntryProblem(relative, None, None, str(exc), fix), slugs=slugs)
            continue
        if week >= before:  # recorded later: a re-run of an older week must not see it
            continue
        report.files += 1
        if week.label not in manifests:
            manifests[week.label] = _pair_ids(fs, root, week.label)
        ids = manifests[week.label].get(slugs)
        try:
            text = fs.cat_file(path).decode("utf-8")
        except UnicodeDecodeError as exc:
            log.warning("skipped learnings file %s: %s", relative, exc)
            report.skipped.append({"path": relative, "error": str(exc)})
            problem = EntryProblem(
                relative, None, None, f"not UTF-8 text ({exc.reason})", "save the file as UTF-8"
            )
            report.reject(problem, week=week.label, slugs=slugs, ids=ids)
            continue
        entries, problems = read_entries(
            text, week=week.label, manager_slug=manager_slug, rep_slug=rep_slug, source=relative
        )
        for problem in problems:
            report.reject(problem, week=week.label, slugs=slugs, ids=ids)
        if ids is None:
            report.unmatched_pairs.append(relative)
        for entry in entries:
            rows.append((entry, *(ids or (None, None))))
    report.entries = len(rows)
    return rows, report


def _write(table: pa.Table, out_path: Path) -> None:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_suffix(".parquet.partial")
    pq.write_table(table, partial)
    os.replace(partial, out_path)


def land_learnings(
    shared_folder_url: str, out_path: Path, week: Week, *, rejected_path: Path
) -> LearningsReport:
    """Land the entries recorded before `week` in `out_path` (Parquet, the dbt source
    `learnings`), and the rejected ones in `rejected_path`, each atomically; the pipeline step
    `load_learnings` calls it."""
    rows, report = read_learnings(shared_folder_url, week)
    records = []
    for entry, manager_id, rep_id in rows:
        record = entry.as_row()
        record.update(manager_id=manager_id, rep_id=rep_id)
        records.append(record)
    _write(pa.Table.from_pylist(records, schema=SCHEMA), out_path)
    rejected = pa.Table.from_pylist(report.rejected, schema=REJECTED_SCHEMA)
    _write(rejected, rejected_path)
    log.info(
        "loaded %d learnings from %d files (%d entries rejected, %d files skipped)",
        report.entries,
        report.files,
        len(report.rejected),
        len(report.skipped),
    )
    return report
