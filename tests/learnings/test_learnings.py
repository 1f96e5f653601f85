"""The learnings loop's input: the file format, and loading from the shared folder."""

from __future__ import annotations

import json
from datetime import date

import fsspec
import pyarrow.parquet as pq
import pytest

from salesprep.learnings import LearningsFormatError, land_learnings, parse_learnings, read_entries
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


BAD_ENTRY = """
---
kind: action
id: demo
owner: boss
due: 2026-10-09
---
Book the demo.
"""

ACTIONS = """
---
kind: action
id: cfo-call
owner: manager
due: 2026-10-09
opportunity_id: 006000000000001AAA
shareable: yes
---
Join the CFO call.

---
kind: action
id: old-one
status: done
---
"""


def _read(text: str):
    return read_entries(text, week="2026-W40", manager_slug="m", rep_slug="r", source="x.md")


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
        ("no front matter", "an entry starts with a '---' line"),
        ("---\ntheme: x\nbody", "not closed"),
        ("---\ntheme: x\ncolour: red\n---\nbody\n", r"\(colour\): unknown key"),
        ("---\nkind: gossip\ntheme: x\n---\nbody\n", r"\(kind\): must be lesson, feedback or"),
        ("---\nkind: lesson\n---\nbody\n", r"\(theme\): is required"),
        ("---\ntheme: x\nshareable: maybe\n---\nbody\n", r"\(shareable\): must be yes or no"),
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


def test_load_reads_earlier_weeks_only_and_reports_bad_entries(shared_root, tmp_path):
    manifest = {
        "packets": [
            {"manager_slug": "ann", "rep_slug": "bob", "manager_id": "M1", "rep_id": "R1"},
        ]
    }
    _write(shared_root, "2026-W40/manifest.json", json.dumps(manifest))
    _write(shared_root, "learnings/2026-W40/ann/bob.md", TWO_ENTRIES + BAD_ENTRY + ACTIONS)
    _write(shared_root, "learnings/2026-W41/ann/eve.md", "---\ntheme: pricing\n---\nA lesson.\n")
    _write(shared_root, "learnings/2026-W41/ann/broken.md", "---\ntheme: x\n")
    _write(shared_root, "learnings/2026-W42/ann/bob.md", "---\ntheme: later\n---\nNot yet.\n")
    _write(shared_root, "learnings/not-a-week/ann/bob.md", "---\ntheme: x\n---\ny\n")

    out, rejected_out = tmp_path / "learnings.parquet", tmp_path / "rejected.parquet"
    report = land_learnings(shared_root, out, Week.parse("2026-W42"), rejected_path=rejected_out)

    rows = pq.read_table(out).to_pylist()
    lessons = [r for r in rows if r["kind"] != "action"]
    assert sorted(r["theme"] for r in lessons) == ["implementation timeline", "price", "pricing"]
    assert {r["week"] for r in rows} == {"2026-W40", "2026-W41"}
    bob = [r for r in rows if r["rep_slug"] == "bob"]
    assert {(r["manager_id"], r["rep_id"]) for r in bob} == {("M1", "R1")}
    # The good entries around the bad one are kept, with their place in the file.
    assert [r["entry_number"] for r in bob] == [1, 2, 4, 5]
    action = next(r for r in bob if r["action_id"] == "cfo-call")
    assert action["due_date"] == date(2026, 10, 9) and action["owner"] == "manager"
    assert report.entries == 5
    assert sorted(s["path"] for s in report.skipped) == ["learnings/not-a-week/ann/bob.md"]
    rejected = pq.read_table(rejected_out).to_pylist()
    assert [(r["source_path"], r["entry_number"], r["key"]) for r in rejected] == [
        ("learnings/2026-W40/ann/bob.md", 3, "owner"),
        ("learnings/2026-W41/ann/broken.md", 1, None),
        ("learnings/not-a-week/ann/bob.md", None, None),
    ]
    assert (rejected[0]["manager_id"], rejected[0]["rep_id"]) == ("M1", "R1")
    assert rejected[0]["week"] == "2026-W40"
    assert report.summary()["learnings_rejected"][0] == (
        "learnings/2026-W40/ann/bob.md entry 3 (owner): must be rep or manager, not 'boss';"
        " fix: write owner: rep or owner: manager"
    )
    assert report.unmatched_pairs == [
        "learnings/2026-W41/ann/broken.md",
        "learnings/2026-W41/ann/eve.md",
    ]


def test_load_with_no_learnings_writes_an_empty_table(tmp_path):
    out, rejected = tmp_path / "learnings.parquet", tmp_path / "rejected.parquet"
    report = land_learnings(
        str(tmp_path / "shared"), out, Week.parse("2026-W42"), rejected_path=rejected
    )
    assert report.entries == 0
    table = pq.read_table(out)
    assert table.num_rows == 0 and "theme" in table.column_names
    assert pq.read_table(rejected).num_rows == 0


def test_actions_and_their_done_markers():
    (action, done), problems = _read(ACTIONS)
    assert problems == []
    assert (action.kind, action.action_id, action.owner, action.status) == (
        "action",
        "cfo-call",
        "manager",
        "open",
    )
    assert action.due_date == date(2026, 10, 9) and action.shareable is True
    assert action.opportunity_id == "006000000000001AAA" and action.theme is None
    assert action.body == "Join the CFO call."
    # A marker needs only the id and status; its text is optional.
    assert (done.action_id, done.status, done.body, done.owner) == ("old-one", "done", "", None)
    private = "---\nkind: action\nid: a1\nowner: rep\ndue: '2026-10-09'\n---\nCall.\n"
    ((entry,), _) = _read(private)
    assert entry.shareable is False and entry.due_date == date(2026, 10, 9)


@pytest.mark.parametrize(
    ("front", "key", "problem"),
    [
        ("id: x\nowner: rep\ndue: 2026-10-09\nstatus: later", "status", "must be done"),
        ("owner: rep\ndue: 2026-10-09", "id", "must be a short name"),
        ("id: a b\nowner: rep\ndue: 2026-10-09", "id", "must be a short name"),
        ("id: x\ndue: 2026-10-09", "owner", "must be rep or manager"),
        ("id: x\nowner: rep", "due", "must be a date"),
        ("id: x\nowner: rep\ndue: next friday", "due", "must be a date"),
        ("id: x\nowner: rep\ndue: 2026-10-09 10:00:00", "due", "must be a date"),
        ("id: x\nowner: rep\ndue: 2026-10-09\nopportunity_id: 006ABC", "opportunity_id", "18"),
        ("id: x\nowner: rep\ndue: 2026-10-09\ntheme: pricing", "theme", "unknown key"),
        ("id: x\nowner: rep\ndue: 2026-10-09\nshareable: maybe", "shareable", "yes or no"),
    ],
)
def test_each_bad_action_gets_one_problem_and_the_rest_of_the_file_is_kept(front, key, problem):
    text = f"---\ntheme: first\n---\nKept.\n---\nkind: action\n{front}\n---\nDo it.\n"
    text += "---\ntheme: last\n---\nKept too.\n"
    entries, problems = _read(text)
    assert [e.theme for e in entries] == ["first", "last"]
    assert [e.entry_number for e in entries] == [1, 3]
    ((found,),) = [problems]
    assert (found.source, found.entry, found.key) == ("x.md", 2, key)
    assert problem in found.problem and found.fix
    assert found.message.startswith(f"x.md entry 2 ({key}): ")


def test_an_action_id_is_recorded_once_per_file_and_marked_done_later():
    twice = ACTIONS.replace("old-one", "cfo-call")
    entries, problems = _read(ACTIONS.split("---\nkind: action\nid: old-one")[0] * 2 + twice)
    assert [e.entry_number for e in entries] == [1]
    assert [(p.entry, p.key) for p in problems] == [(2, "id"), (3, "id"), (4, "status")]
    assert "already the id of entry 1" in problems[0].problem
    assert "later week" in problems[2].fix


def test_an_unclosed_last_entry_keeps_the_ones_before():
    entries, problems = _read("---\ntheme: kept\n---\nText.\n---\ntheme: lost\n")
    assert [e.theme for e in entries] == ["kept"]
    assert [(p.entry, p.problem) for p in problems] == [
        (2, "the front matter is not closed with '---'")
    ]
    entries, problems = _read("stray line\n---\ntheme: kept\n---\nText.\n")
    assert [e.theme for e in entries] == ["kept"] and problems[0].entry is None
