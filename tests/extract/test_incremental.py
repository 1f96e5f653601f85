"""Incremental loads: the first run backfills, later runs read only their window, upsert by
Id, drop records deleted for good, and leave the same raw state when repeated."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from extract.conftest import make_settings, serve_org
from extract.org_changes import (
    assert_landed_equals_org,
    assert_same_landing,
    assert_unique_ids,
    change_org,
    files,
    landed,
)
from extract.sample_org import sample_rows, write_sample_org
from salesprep.catalog import OBJECTS
from salesprep.salesforce.extract import extract_org, state_path
from salesprep.salesforce.report import load_report
from salesprep.salesforce.state import load_state, save_state

PRESENT = len(OBJECTS)
# An unchanged org costs one composite call of describes plus the composite calls carrying
# the COUNT()s (5 queries per call) and the delete-log requests.
UNCHANGED_RUN_CALLS = 1 + -(-PRESENT // 5)


def _extract(org_dir: Path, settings, **kwargs):
    with serve_org(org_dir, settings) as served:
        return extract_org(served.sf, settings.raw_root, settings=settings, **kwargs)


def test_second_run_over_an_unchanged_org_reads_nothing(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org")
    settings = make_settings(tmp_path / "data")
    first = _extract(org_dir, settings)
    state_after_first = load_state(state_path(settings))
    landed_before = files(settings.raw_root)

    second = _extract(org_dir, settings)

    assert first.mode == "full" and second.mode == "incremental"
    assert first.api_calls == 1 + -(-PRESENT // 5) + PRESENT
    assert second.api_calls == UNCHANGED_RUN_CALLS == 5
    assert {o.mode for o in second.objects.values()} == {"unchanged"}
    assert second.fetched_rows == 0 and second.rows == first.rows
    # Unchanged objects are the same files (hard links), not rewritten copies.
    after = files(settings.raw_root)
    for path, content in landed_before.items():
        if path.suffix == ".parquet":
            assert after[path] == content
    state = load_state(state_path(settings))
    assert state.run_id == second.run_id != state_after_first.run_id
    opportunity = state.objects["Opportunity"]
    assert opportunity.cursor == "SystemModstamp"
    assert opportunity.watermark_at >= state_after_first.objects["Opportunity"].watermark_at
    assert state.objects["OpportunityFieldHistory"].cursor == "CreatedDate"
    window = second.objects["Opportunity"]
    assert datetime.fromisoformat(window.window_from) == (
        state_after_first.objects["Opportunity"].watermark_at - timedelta(minutes=10)
    )


def test_incremental_run_lands_what_a_full_run_would(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org")
    settings = make_settings(tmp_path / "data")
    _extract(org_dir, settings)
    changes = change_org(org_dir)

    report = _extract(org_dir, settings)

    assert_landed_equals_org(settings.raw_root, org_dir)
    assert_unique_ids(settings.raw_root)
    opportunity = report.objects["Opportunity"]
    assert opportunity.mode == "incremental" and opportunity.method == "rest"
    assert opportunity.fetched_rows == len(changes.edited) + len(changes.added) + 1
    assert opportunity.hard_deleted_rows == 2
    assert report.objects["Task"].hard_deleted_rows == 1
    assert report.objects["Task"].fetched_rows == 0
    assert report.objects["OpportunityFieldHistory"].fetched_rows == 1
    assert report.objects["Account"].mode == "unchanged"
    rows = {r["Id"]: r for r in landed(settings.raw_root, "Opportunity").to_pylist()}
    assert all(rows[i]["StageName"] == "Closed Won" for i in changes.edited)
    assert rows[changes.soft_deleted[0]]["IsDeleted"] is True
    assert not set(changes.purged["Opportunity"]) & set(rows)
    # The same org read in full, into another data directory, lands the same records.
    full = make_settings(tmp_path / "full")
    _extract(org_dir, full)
    assert_same_landing(settings.raw_root, full.raw_root)
    on_disk = json.loads((settings.raw_root / "_extract_report.json").read_text())
    assert on_disk["totals"]["hard_deleted_rows"] == 3


def test_rerunning_a_window_leaves_the_same_raw_state(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org")
    settings = make_settings(tmp_path / "data")
    _extract(org_dir, settings)
    first_state = load_state(state_path(settings))
    change_org(org_dir)
    second = _extract(org_dir, settings)
    after_second = {o.name: landed(settings.raw_root, o.name) for o in OBJECTS}

    # Rewind the watermarks to the first run's (keeping the landing zone's run id): the
    # next run reads the same window again and upserts the same records.
    first_state.run_id = second.run_id
    save_state(state_path(settings), first_state)
    third = _extract(org_dir, settings)

    assert third.objects["Opportunity"].fetched_rows == second.objects["Opportunity"].fetched_rows
    assert_unique_ids(settings.raw_root)
    for sobject in OBJECTS:
        again = landed(settings.raw_root, sobject.name)
        assert again.sort_by("Id").equals(after_second[sobject.name].sort_by("Id")), sobject.name
    assert_landed_equals_org(settings.raw_root, org_dir)


@pytest.mark.parametrize(("lookback", "caught"), [(10, True), (0, False)])
def test_lookback_catches_a_late_commit(tmp_path: Path, lookback: float, caught: bool):
    org_dir = write_sample_org(tmp_path / "org")
    settings = make_settings(tmp_path / "data", lookback_minutes=lookback)
    _extract(org_dir, settings)
    watermark = load_state(state_path(settings)).objects["Opportunity"].watermark_at
    # A transaction that started before the last run but committed after it: its
    # SystemModstamp is before the watermark.
    change_org(org_dir, now=watermark - timedelta(minutes=5))

    report = _extract(org_dir, settings)

    edited = report.objects["Opportunity"].fetched_rows > 0
    assert edited is caught
    if caught:
        assert_landed_equals_org(settings.raw_root, org_dir)


def test_a_field_the_org_gains_reloads_that_object_in_full(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org", drop_fields={"Opportunity": ("NextStep",)})
    settings = make_settings(tmp_path / "data")
    first = _extract(org_dir, settings)
    assert first.objects["Opportunity"].missing_fields == ["NextStep"]
    write_sample_org(org_dir)

    report = _extract(org_dir, settings)

    opportunity = report.objects["Opportunity"]
    assert opportunity.mode == "full" and opportunity.missing_fields == []
    assert any("fields changed" in note for note in opportunity.notes)
    assert report.objects["Account"].mode == "unchanged"
    assert_landed_equals_org(settings.raw_root, org_dir)


def test_state_of_another_landing_zone_or_org_means_a_backfill(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org")
    settings = make_settings(tmp_path / "data")
    _extract(org_dir, settings)

    # Another org (the emulator logs in as the folder's Organization) with the same data dir.
    organization = {**sample_rows()["Organization"][0], "Id": "00D000000000043EAA"}
    other = write_sample_org(
        tmp_path / "other-org", opportunities=30, overrides={"Organization": [organization]}
    )
    report = _extract(other, settings)
    assert report.mode == "full"
    assert_landed_equals_org(settings.raw_root, other)

    # A landing zone replaced behind extraction's back (e.g. restored from a backup).
    raw_report = load_report(settings.raw_root)
    raw_report.run_id = "restored"
    raw_report.write(settings.raw_root)
    assert _extract(other, settings).mode == "full"


def test_full_mode_reads_everything_again(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org")
    settings = make_settings(tmp_path / "data")
    first = _extract(org_dir, settings)
    again = _extract(org_dir, settings, mode="full")
    assert again.mode == "full" and again.fetched_rows == first.fetched_rows
    assert load_state(state_path(settings)).run_id == again.run_id


def test_corrupt_state_is_ignored_with_a_backfill(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org")
    settings = make_settings(tmp_path / "data")
    _extract(org_dir, settings)
    state_path(settings).write_text("{not json", encoding="utf-8")
    report = _extract(org_dir, settings)
    assert report.mode == "full"
    assert load_state(state_path(settings)).run_id == report.run_id
    assert datetime.now(UTC) - load_state(state_path(settings)).objects[
        "Account"
    ].watermark_at < timedelta(minutes=5)
