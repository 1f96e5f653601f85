"""The demo's sample learnings: valid entries (docs/learnings.md) for every published pair, with
actions on the rep's real open deals, chosen by what the org does the week after."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from salesprep.demo_org import generate_org
from salesprep.demo_org.sample_learnings import (
    SAMPLE_INITIATIVES,
    SampleLearningsError,
    write_sample_learnings,
)
from salesprep.learnings.entries import read_entries
from salesprep.packets.initiatives import load_initiatives
from salesprep.packets.layout import pair_slugs
from salesprep.weeks import Week

WEEK = Week.parse("2026-W20")


def _rows(org: Path, name: str) -> list[dict[str, str]]:
    with (org / f"{name}.csv").open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _publish_manifest(org: Path, shared: Path, week: Week) -> list[dict[str, str]]:
    """The manifest a publish of `week` writes, for the org's manager–rep pairs (the test
    stands in for the DAG here: only the pair ids and slugs matter to the sample)."""
    users = {u["Id"]: u for u in _rows(org, "User")}
    managers = {u["ManagerId"] for u in users.values() if u["ManagerId"]}
    pairs = [
        (u["ManagerId"], users[u["ManagerId"]]["Name"], u["Id"], u["Name"])
        for u in users.values()
        if u["ManagerId"] and u["Id"] not in managers and u["IsActive"] == "true"
    ]
    slugs = pair_slugs(pairs)
    packets = [
        {
            "manager_id": m,
            "rep_id": r,
            "manager_slug": slugs[(m, r)][0],
            "rep_slug": slugs[(m, r)][1],
        }
        for m, _, r, _ in pairs
    ]
    (shared / week.label).mkdir(parents=True)
    (shared / week.label / "manifest.json").write_text(json.dumps({"packets": packets}))
    return packets


def _entries(shared: Path, week: Week, packet: dict[str, str]):
    path = shared / "learnings" / week.label / packet["manager_slug"] / f"{packet['rep_slug']}.md"
    return read_entries(
        path.read_text(encoding="utf-8"),
        week=week.label,
        manager_slug=packet["manager_slug"],
        rep_slug=packet["rep_slug"],
        source=str(path),
    )


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("org")
    generate_org(folder, reps=6, managers=2, weeks=10, seed=7, end_week=WEEK.shift(2))
    return folder


def test_every_pair_records_valid_lessons_feedback_and_actions(org: Path, tmp_path: Path):
    shared = tmp_path / "shared"
    packets = _publish_manifest(org, shared, WEEK)
    summary = write_sample_learnings(shared, org, WEEK)
    assert summary.files == len(packets) >= 6
    assert summary.lessons == len(packets) and summary.feedback >= len(packets) // 2

    opportunities = {o["Id"]: o for o in _rows(org, "Opportunity")}
    next_week = WEEK.shift(1)
    touched = {
        h["OpportunityId"]
        for h in _rows(org, "OpportunityHistory")
        if next_week.start_date.isoformat()
        <= h["CreatedDate"][:10]
        < next_week.end_date.isoformat()
    } | {
        t["WhatId"]
        for t in _rows(org, "Task")
        if t["ActivityDate"]
        and next_week.start_date <= date.fromisoformat(t["ActivityDate"]) < next_week.end_date
    }
    kinds: dict[str, int] = {}
    statuses = set()
    for packet in packets:
        entries, problems = _entries(shared, WEEK, packet)
        assert problems == []
        for entry in entries:
            kinds[entry.kind] = kinds.get(entry.kind, 0) + 1
            if entry.opportunity_id:
                # A real deal of this rep, created before the week ended.
                deal = opportunities[entry.opportunity_id]
                assert deal["OwnerId"] == packet["rep_id"]
                assert deal["CreatedDate"][:10] < WEEK.end_date.isoformat()
            if entry.kind != "action":
                continue
            assert entry.action_id.endswith("-2026-w20") and entry.status == "open"
            if entry.action_id.startswith("follow-up-call"):
                # The CRM changes the deal the week after; due after that week's packet.
                assert entry.opportunity_id in touched
                assert entry.due_date >= next_week.end_date
                statuses.add("open, CRM changed")
            elif entry.action_id.startswith("next-step"):
                assert entry.opportunity_id not in touched
                assert entry.due_date < next_week.end_date
                statuses.add("overdue")
            else:
                assert entry.owner == "manager" and entry.opportunity_id is None
                assert entry.due_date < next_week.end_date
    assert statuses == {"open, CRM changed", "overdue"}
    assert kinds["lesson"] == len(packets) and kinds["action"] == summary.actions
    shared_lessons = [
        e
        for p in packets
        for e in _entries(shared, WEEK, p)[0]
        if e.kind == "lesson" and e.shareable
    ]
    assert shared_lessons, "some lessons reach other teams and the digest"


def test_a_third_week_marks_the_follow_up_done(org: Path, tmp_path: Path):
    shared = tmp_path / "shared"
    packets = _publish_manifest(org, shared, WEEK)
    write_sample_learnings(shared, org, WEEK)
    _publish_manifest(org, shared, WEEK.shift(1))
    write_sample_learnings(shared, org, WEEK.shift(1))
    done = []
    for packet in packets:
        first = {e.action_id for e in _entries(shared, WEEK, packet)[0] if e.kind == "action"}
        entries, problems = _entries(shared, WEEK.shift(1), packet)
        assert problems == []
        for entry in entries:
            if entry.status == "done":
                assert entry.action_id in first and entry.action_id.startswith("follow-up-call")
                done.append(entry.action_id)
    assert done


def test_the_sample_needs_the_published_week(org: Path, tmp_path: Path):
    with pytest.raises(SampleLearningsError, match=r"manifest\.json is missing: publish 2026-W20"):
        write_sample_learnings(tmp_path, org, WEEK)


def test_the_sample_initiatives_file_is_valid():
    initiatives = load_initiatives(SAMPLE_INITIATIVES).for_pair("any manager", "any rep")
    assert len(initiatives) >= 3 and all(i.scope == "all teams" for i in initiatives)
