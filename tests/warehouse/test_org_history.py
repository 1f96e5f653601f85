"""One org per data directory: the first extraction records the org, a run connected to another
org stops before extracting anything (the pipeline step the DAG task runs, not only the CLI),
and `reset_history` drops exactly the old org's history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from extract.conftest import make_settings, serve_org
from extract.sample_org import ORG_ID, write_sample_org

from salesprep.config import Settings
from salesprep.pipeline import extract_raw
from salesprep.salesforce.extract import state_path
from salesprep.salesforce.state import ExtractState, save_state
from salesprep.warehouse.history import (
    OrgHistoryError,
    OrgMismatchError,
    check_org,
    full_org_id,
    org_path,
    record_org,
    recorded_org,
)
from salesprep.weeks import Week

OTHER = "00D8d0000000002EAA"
WEEK = "2026-W02"


def _fill_history(settings: Settings) -> dict[str, Path]:
    """Files a data directory holds after some weekly runs (contents do not matter here)."""
    data = Path(settings.data_dir)
    paths = {
        "raw": settings.raw_root / "Opportunity" / "Opportunity.parquet",
        "half_landed": data / ".raw.incoming-1a2b3c4d" / "Task" / "Task.parquet",
        "build": settings.build_warehouse_path,
        "build_wal": settings.build_warehouse_path.with_name("build.duckdb.wal"),
        "published": settings.published_warehouse_path,
        "results": data / "warehouse" / f"dbt_build_{WEEK}.json",
        "rendered": data / "rendered" / WEEK / "index.html",
        "quality": data / "quality" / WEEK / "raw" / "raw_checkpoint.json",
        # Kept: the lease of the running DAG run, the learnings (re-read from the shared
        # folder every run), dbt's compiled project.
        "lease": settings.state_dir / "run.lease",
        "learnings": settings.learnings_path,
        "dbt": data / "warehouse" / "dbt" / "target" / "manifest.json",
    }
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    save_state(state_path(settings), ExtractState(org_id=OTHER[:15], run_id="r1"))
    return paths


def test_a_fresh_data_directory_takes_any_org_and_records_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert recorded_org(settings) is None
    assert check_org(settings, ORG_ID[:15]) == []
    record_org(settings, ORG_ID[:15], "Sample Org")
    recorded = recorded_org(settings)
    assert recorded is not None
    assert (recorded.org_id, recorded.org_name) == (ORG_ID, "Sample Org")
    assert check_org(settings, ORG_ID) == [] and check_org(settings, ORG_ID[:15]) == []


def test_another_org_stops_with_one_line_naming_both_and_the_ways_out(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    paths = _fill_history(settings)
    record_org(settings, OTHER, "Old Org")
    with pytest.raises(OrgMismatchError) as caught:
        check_org(settings, ORG_ID[:15])
    message = str(caught.value)
    assert "\n" not in message
    assert f"org {OTHER} (Old Org)" in message and f"connected to org {ORG_ID}" in message
    assert "--data-dir" in message and "salesprep run --reset-history" in message
    assert str(settings.data_dir) in message
    assert all(p.exists() for p in paths.values())  # nothing touched


def test_a_data_directory_from_before_the_record_names_its_org_in_the_watermarks(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    _fill_history(settings)
    recorded = recorded_org(settings)
    assert recorded is not None and recorded.org_id == full_org_id(OTHER[:15]) == OTHER
    assert recorded.source == "extraction state"
    with pytest.raises(OrgMismatchError, match=f"Salesforce org {OTHER}, but"):
        check_org(settings, ORG_ID[:15])


def test_reset_drops_exactly_the_old_orgs_history(tmp_path: Path) -> None:
    # The published warehouse may live outside the data directory (BI's location).
    settings = Settings(data_dir=tmp_path / "data", warehouse_path=tmp_path / "bi" / "sp.duckdb")
    paths = _fill_history(settings)
    record_org(settings, OTHER, "Old Org")

    removed = check_org(settings, ORG_ID[:15], reset=True)

    gone = {"raw", "half_landed", "build", "build_wal", "published", "results", "rendered"}
    gone |= {"quality"}
    for name, path in paths.items():
        assert path.exists() == (name not in gone), name
    assert not state_path(settings).exists() and not org_path(settings).exists()
    assert settings.raw_root in removed and settings.published_warehouse_path in removed
    assert recorded_org(settings) is None  # the run records the new org when it extracts


def test_reset_never_drops_the_history_of_the_connected_org(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    paths = _fill_history(settings)
    record_org(settings, OTHER)
    assert check_org(settings, OTHER[:15], reset=True) == []
    assert all(p.exists() for p in paths.values())


def test_an_unreadable_record_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    org_path(settings).parent.mkdir(parents=True)
    org_path(settings).write_text("{not json", encoding="utf-8")
    with pytest.raises(OrgHistoryError, match=r"org\.json cannot be read"):
        check_org(settings, ORG_ID)
    org_path(settings).write_text(json.dumps({"version": 9, "org_id": OTHER}), encoding="utf-8")
    with pytest.raises(OrgHistoryError, match="unknown version 9"):
        recorded_org(settings)


def test_the_pipeline_step_records_the_org_then_stops_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run_pipeline_step` is what every DAG task runs: the check is in the extract step."""
    from salesprep.orchestration.tasks import run_pipeline_step

    first = write_sample_org(tmp_path / "first")
    # Another org, one that does not let the integration user read Organization.
    second = write_sample_org(tmp_path / "second", features=False, drop_objects=("Organization",))
    settings = make_settings(tmp_path / "data")
    monkeypatch.setenv("SALESPREP_DATA_DIR", str(settings.data_dir))
    with serve_org(first, settings):
        summary = run_pipeline_step("extract", WEEK)
    assert summary["rows"] > 0
    recorded = recorded_org(settings)
    assert recorded is not None
    assert (recorded.org_id, recorded.org_name) == (ORG_ID, 'Sample Org, "GmbH"')
    landed = {p: p.stat().st_mtime_ns for p in settings.raw_root.rglob("*")}

    with serve_org(second, settings), pytest.raises(OrgMismatchError) as caught:
        run_pipeline_step("extract", WEEK)
    assert f'org {ORG_ID} (Sample Org, "GmbH")' in str(caught.value)
    assert {p: p.stat().st_mtime_ns for p in settings.raw_root.rglob("*")} == landed

    with serve_org(second, settings) as served:
        second_id = served.handle.emulator.org_id
        summary = extract_raw(Week.parse(WEEK), settings, reset_history=True)
    assert str(settings.raw_root) in summary["reset_history"]
    assert summary["missing_objects"][0] == "Organization"
    recorded = recorded_org(settings)
    assert recorded is not None and (recorded.org_id, recorded.org_name) == (second_id, "")
