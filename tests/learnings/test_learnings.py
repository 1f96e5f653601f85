"""The learnings loop's input: the file format, and loading from the shared folder."""

from __future__ import annotations

import json

import fsspec
import pyarrow.parquet as pq
import pytest

from salesprep.learnings import LearningsFormatError, land_learnings, parse_learnings
from salesprep.weeks import Week

TWO_ENTRIES = """---
kind: lesson
theme: Implementation Timeline
tags: [Healthcare, multi-threading]
shareable: yes
stage: Negotiation/Review
industry: Healthcare
---
Bring the services lead to the second call | it <b>works</b> 🚀.

---
kind: feedback
theme: price
shareable: no
---
Three prospects said the price is fine but the rollout is too slow.
"""


def _parse(text: str):
    return parse_learnings(text, week="2026-W40", manager_slug="m", rep_slug="r", source="x.md")


def test_parses_every_entry_with_its_front_matter():
    lesson, feedback = _parse(TWO_ENTRIES)
    assert lesson.kind == "lesson" and lesson.theme == "implementation timeline"
    assert lesson.tags == ("healthcare", "multi-threading")
    assert lesson.shareable is True and lesson.stage == "Negotiation/Review"
    assert lesson.body.startswith("Bring the services lead") and "🚀" in lesson.body
    assert feedback.kind == "feedback" and feedback.shareable is False
    assert lesson.learning_id != feedback.learning_id


def test_private_by_default():
    (entry,) = _parse("---\ntheme: pricing\n---\nKeep discounts for the last call.\n")
    assert entry.shareable is False and entry.kind == "lesson"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "must start with a '---'"),
        ("---\ntheme: x\nbody", "not closed"),
        ("---\ntheme: x\ncolour: red\n---\nbody\n", "unknown keys colour"),
        ("---\nkind: gossip\ntheme: x\n---\nbody\n", "kind must be lesson or feedback"),
        ("---\nkind: lesson\n---\nbody\n", "theme is required"),
        ("---\ntheme: x\nshareable: maybe\n---\nbody\n", "shareable must be yes or no"),
        ("---\ntheme: x\n---\n\n", "has no text"),
        ("---\ntheme: [unclosed\n---\nbody\n", "not valid YAML"),
    ],
)
def test_malformed_entries_name_the_problem(text, message):
    with pytest.raises(LearningsFormatError, match=message):
        _parse(text)


@pytest.fixture(params=["local", "memory"])
def shared_root(request, tmp_path):
    if request.param == "local":
        yield str(tmp_path / "shared")
        return
    root = f"memory://learnings-test-{id(request)}"
    yield root
    fsspec.filesystem("memory").rm(root, recursive=True)


def _write(root: str, path: str, text: str) -> None:
    with fsspec.open(f"{root}/{path}", "w", encoding="utf-8") as handle:
        handle.write(text)


def test_load_reads_earlier_weeks_only_and_reports_bad_files(shared_root, tmp_path):
    manifest = {
        "packets": [
            {"manager_slug": "ann", "rep_slug": "bob", "manager_id": "M1", "rep_id": "R1"},
        ]
    }
    _write(shared_root, "2026-W40/manifest.json", json.dumps(manifest))
    _write(shared_root, "learnings/2026-W40/ann/bob.md", TWO_ENTRIES)
    _write(shared_root, "learnings/2026-W41/ann/eve.md", "---\ntheme: pricing\n---\nA lesson.\n")
    _write(shared_root, "learnings/2026-W41/ann/broken.md", "---\ntheme: x\n")
    _write(shared_root, "learnings/2026-W42/ann/bob.md", "---\ntheme: later\n---\nNot yet.\n")
    _write(shared_root, "learnings/not-a-week/ann/bob.md", "---\ntheme: x\n---\ny\n")

    out = tmp_path / "learnings.parquet"
    report = land_learnings(shared_root, out, Week.parse("2026-W42"))

    rows = pq.read_table(out).to_pylist()
    assert sorted(r["theme"] for r in rows) == ["implementation timeline", "price", "pricing"]
    assert {r["week"] for r in rows} == {"2026-W40", "2026-W41"}
    bob = [r for r in rows if r["rep_slug"] == "bob"]
    assert {(r["manager_id"], r["rep_id"]) for r in bob} == {("M1", "R1")}
    assert report.entries == 3
    assert sorted(s["path"] for s in report.skipped) == [
        "learnings/2026-W41/ann/broken.md",
        "learnings/not-a-week/ann/bob.md",
    ]
    assert report.unmatched_pairs == ["learnings/2026-W41/ann/eve.md"]


def test_load_with_no_learnings_writes_an_empty_table(tmp_path):
    out = tmp_path / "learnings.parquet"
    report = land_learnings(str(tmp_path / "shared"), out, Week.parse("2026-W42"))
    assert report.entries == 0
    table = pq.read_table(out)
    assert table.num_rows == 0 and "theme" in table.column_names
