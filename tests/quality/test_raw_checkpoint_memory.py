"""The raw checkpoint reads no object whole: GX validates bounded batches, merged into the same
result and pages as one frame, and Id uniqueness is set-wise in DuckDB, so memory does not grow
with the org's history (docs/decisions.md 34)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from extract.sample_org import sample_rows, write_sample_org

from quality.landing import land_org
from salesprep.catalog import OBJECTS
from salesprep.config import Settings
from salesprep.quality import raw_checkpoint
from salesprep.quality.gx import QualityGateError
from salesprep.quality.raw_checkpoint import validate_raw
from salesprep.weeks import Week

WEEK = Week.parse("2026-W10")


def _bad_org(root: Path) -> tuple[Path, str]:
    """A landing zone whose Opportunity has a duplicated Id three rows apart (so batches of 3
    split the pair), an unknown stage and a negative amount."""
    rows = sample_rows()
    opportunities = rows["Opportunity"]
    opportunities[5]["Id"] = opportunities[2]["Id"]
    opportunities[4]["StageName"] = "Closed Wonn"
    opportunities[7]["Amount"] = -250.0
    write_sample_org(root / "org", overrides=rows)
    land_org(root / "org", root / "raw")
    return root / "raw", opportunities[2]["Id"]


def _run(raw: Path, report: Path, settings: Settings) -> QualityGateError:
    with pytest.raises(QualityGateError) as caught:
        validate_raw(raw, report, settings=settings, week=WEEK)
    return caught.value


def test_batches_give_the_same_result_and_pages_as_one_frame(tmp_path: Path, monkeypatch):
    raw, duplicated = _bad_org(tmp_path)
    path = raw / "Opportunity" / "Opportunity.parquet"
    pairs = pq.read_table(path, columns=["Id"]).column("Id").to_pylist()
    assert [i for i, v in enumerate(pairs) if v == duplicated] == [2, 5]
    batches = raw_checkpoint._batches(path, ["Id", "StageName"], batch_rows=3)
    sizes = [len(frame) for frame in batches.read()]
    assert len(sizes) > 2 and max(sizes) <= 3 and sum(sizes) == batches.rows == len(pairs)

    settings = Settings(data_dir=tmp_path / "data")
    whole = _run(raw, tmp_path / "whole", settings)
    monkeypatch.setattr(raw_checkpoint, "BATCH_ROWS", 3)
    batched = _run(raw, tmp_path / "batched", settings)

    # The duplicate pair lies in two batches: only the set-wise query sees it.
    assert str(batched).replace("batched", "whole") == str(whole)
    assert f"2 unexpected, e.g. '{duplicated}'" in str(batched)
    assert {(o.dataset, o.column) for o in batched.result.blocking_failures} == {
        ("Opportunity", "Id"),
        ("Opportunity", "StageName"),
        ("Opportunity", "Amount"),
    }
    reports = [tmp_path / name / "raw_checkpoint.json" for name in ("whole", "batched")]
    outcomes = [json.loads(path.read_text())["outcomes"] for path in reports]
    assert outcomes[0] == outcomes[1]
    assert batched.result.rows == whole.result.rows and batched.result.rows["Opportunity"] == 24
    # Byte for byte, but for the data's fingerprint (GX hashes the frame it saw; over batches
    # it is the hash of their hashes).
    pages = {name: _pages(tmp_path / name / "data_docs") for name in ("whole", "batched")}
    assert pages["whole"] and pages["whole"] == pages["batched"]
    opportunity = next(t for p, t in pages["batched"].items() if p.name == "raw-Opportunity.html")
    assert "pandas_data_fingerprint" in opportunity


def _pages(docs: Path) -> dict[Path, str]:
    fingerprint = re.compile(r"(pandas_data_fingerprint</span>.*?>)[0-9a-f]{32}<", re.S)
    return {
        path.relative_to(docs): fingerprint.sub(r"\1#<", path.read_text(encoding="utf-8"))
        for path in docs.rglob("*.html")
    }


CHILD = """
import json, sys
from pathlib import Path
from salesprep.config import Settings
from salesprep.quality import raw_checkpoint
from salesprep.quality.gx import QualityGateError

raw_checkpoint.BATCH_ROWS = 100_000
raw_checkpoint.DUCKDB_MEMORY_LIMIT = "64MB"
raw, report, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
try:
    result = raw_checkpoint.validate_raw(raw, report, settings=Settings(data_dir=report / "data"))
except QualityGateError as exc:
    result = exc.result
status = Path("/proc/self/status").read_text()
hwm = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM"))
failed = [o.describe() for o in result.blocking_failures]
out.write_text(json.dumps({"hwm": hwm, "rows": result.rows["Task"], "failed": failed}))
"""


def _task_table(rows: int) -> pa.Table:
    """`rows` Tasks with the catalog schema: 18-character Ids, the last one a duplicate of the
    first (so the set-wise query has work and a finding), every other field empty."""
    schema = next(o for o in OBJECTS if o.name == "Task").arrow_schema()
    ids = [f"00T{i:012d}AAA" for i in range(rows - 1)] + ["00T000000000000AAA"]
    columns = {f.name: pa.array(ids) if f.name == "Id" else pa.nulls(rows, f.type) for f in schema}
    columns["IsDeleted"] = pa.array([False] * rows)
    return pa.table(columns, schema=schema)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_peak_memory_does_not_grow_with_the_size_of_an_object(tmp_path: Path):
    """Task at 100k and at 1.2M rows (12x): the checkpoint's peak RSS (VmHWM of its own
    process) grows by far less than reading Task's Ids whole would take."""
    write_sample_org(tmp_path / "org")
    # Both checkpoints run at once, each in its own process: VmHWM is per process, so neither
    # sees the other's memory, and the test takes the time of the larger one. Their output
    # goes to files (a pipe nobody reads yet would fill and stall the other run).
    children: dict[int, tuple[subprocess.Popen, Path]] = {}
    try:
        for rows in (100_000, 1_200_000):
            raw, report, out = (tmp_path / f"{name}-{rows}" for name in ("raw", "report", "out"))
            land_org(tmp_path / "org", raw)
            table = _task_table(rows)
            pq.write_table(table, raw / "Task" / "Task.parquet", row_group_size=100_000)
            del table
            logs = tmp_path / f"logs-{rows}"
            logs.mkdir()
            with (logs / "stdout").open("w") as stdout, (logs / "stderr").open("w") as stderr:
                child = subprocess.Popen(
                    [sys.executable, "-c", textwrap.dedent(CHILD), str(raw), str(report), str(out)],
                    stdout=stdout,
                    stderr=stderr,
                    text=True,
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                )
            children[rows] = (child, out)
        for child, _ in children.values():
            child.wait(timeout=900)
    finally:
        for child, _ in children.values():
            if child.poll() is None:
                child.kill()
                child.wait()
    peaks = {}
    for rows, (child, out) in children.items():
        stdout, stderr = ((tmp_path / f"logs-{rows}" / n).read_text() for n in ("stdout", "stderr"))
        assert child.returncode == 0, stderr[-3000:]
        assert "100%" not in stdout  # no DuckDB progress bar in the task's log
        measured = json.loads(out.read_text())
        assert measured["rows"] == rows
        assert measured["failed"] == [
            "Task.Id: Ids are unique (expect_column_values_to_be_unique): 2 unexpected, "
            "e.g. '00T000000000000AAA'"
        ]
        peaks[rows] = measured["hwm"]
    growth = peaks[1_200_000] - peaks[100_000]
    # Reading Task whole into pandas (the checkpoint before decision 37) grew by 435 MiB here,
    # 389 to 824 MiB. Batches of 100k rows and a 64 MB DuckDB limit keep the growth to DuckDB's
    # own working memory: about 64 MiB, at most a quarter of 435 MiB in this test.
    print(f"raw checkpoint peak RSS: {peaks} (growth {growth / 2**20:.0f} MiB)")
    assert growth < 108 * 2**20, f"peak RSS grew by {growth / 2**20:.0f} MiB: {peaks}"


def test_duplicate_ids_counts_every_row_of_a_shared_id_as_gx_does(tmp_path: Path):
    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"Id": ["a", "b", None, "c", "b", "a", "b", "d"]}), path)
    with raw_checkpoint._duckdb() as con:
        found = raw_checkpoint.duplicate_ids(con, path)
        clean = raw_checkpoint.duplicate_ids(con, _write(tmp_path / "clean.parquet", ["x", "y"]))
    assert found.element_count == 8 and found.missing_count == 1
    assert found.unexpected_count == 5
    assert found.partial_unexpected_list == ["a", "b", "b", "a", "b"]
    assert (clean.unexpected_count, clean.partial_unexpected_list) == (0, [])


def _write(path: Path, ids: list[str]) -> Path:
    pq.write_table(pa.table({"Id": ids}), path)
    return path
