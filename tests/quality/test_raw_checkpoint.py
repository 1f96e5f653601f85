"""The raw checkpoint passes a good landing zone and blocks a bad one with a readable message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from extract.sample_org import sample_rows, write_sample_org

from quality.landing import land_org
from salesprep.catalog import OBJECTS
from salesprep.config import Settings
from salesprep.quality.gx import QualityError, QualityGateError
from salesprep.quality.raw_checkpoint import known_stages, validate_raw
from salesprep.salesforce.report import load_report


def test_good_org_passes_and_writes_reports(good_raw: Path, settings: Settings, tmp_path: Path):
    result = validate_raw(good_raw, tmp_path / "report", settings=settings)

    assert result.success, result.failure_message()
    assert not result.failures
    # Per object: Id not null, Id unique (the column list is compared when the file opens);
    # two stage columns, three amount columns, the required fields.
    assert len(result.outcomes) == len(OBJECTS) * 2 + 2 + 3 + 1
    summary = json.loads(result.report_path.read_text())
    assert summary["success"] is True
    assert summary["rows"]["Opportunity"] == 24
    assert set(summary["timings"]) == {
        "import_seconds",
        "setup_seconds",
        "validate_seconds",
        "docs_seconds",
    }
    index = result.data_docs_index
    assert index.is_file() and "Opportunity" in index.read_text()
    validations = list((index.parent / "validations").rglob("*.html"))
    assert len(validations) == len(OBJECTS) + 1
    print(
        f"raw checkpoint on a small org: {result.seconds:.1f}s (GX import "
        f"{result.import_seconds:.1f}s, setup {result.setup_seconds:.1f}s, validation "
        f"{result.validate_seconds:.1f}s, Data Docs {result.docs_seconds:.1f}s)"
    )


def test_objects_the_org_does_not_have_get_no_checks(settings: Settings, tmp_path: Path):
    write_sample_org(tmp_path / "org", features=False)
    land_org(tmp_path / "org", tmp_path / "raw")
    result = validate_raw(tmp_path / "raw", tmp_path / "report", settings=settings)
    assert result.success, result.failure_message()
    checked = {o.dataset for o in result.outcomes}
    assert checked == {o.name for o in OBJECTS if not o.feature} | {"required_fields"}
    assert "Organization" in checked


def test_duplicate_ids_unknown_stage_and_negative_amounts_block(settings: Settings, tmp_path):
    rows = sample_rows()
    opportunities = rows["Opportunity"]
    opportunities[3]["Id"] = opportunities[2]["Id"]
    opportunities[4]["StageName"] = "Closed Wonn"
    opportunities[6]["Amount"] = -250.0
    rows["ForecastingQuota"][0]["QuotaAmount"] = -1.0
    write_sample_org(tmp_path / "org", overrides=rows)
    land_org(tmp_path / "org", tmp_path / "raw")

    with pytest.raises(QualityGateError) as caught:
        validate_raw(tmp_path / "raw", tmp_path / "report", settings=settings)

    message = str(caught.value)
    lines = message.splitlines()
    assert "raw data-quality checkpoint failed (4 blocking check(s)" in lines[0]
    duplicate = _line(lines, "Opportunity.Id: Ids are unique")
    assert opportunities[2]["Id"] in duplicate
    assert "'Closed Wonn'" in _line(lines, "Opportunity.StageName: stage is known to the org")
    assert "-250.0" in _line(lines, "Opportunity.Amount: amount is 0 or more")
    assert "-1.0" in _line(lines, "ForecastingQuota.QuotaAmount: amount is 0 or more")
    result = caught.value.result
    assert {(o.dataset, o.column) for o in result.blocking_failures} == {
        ("Opportunity", "Id"),
        ("Opportunity", "StageName"),
        ("Opportunity", "Amount"),
        ("ForecastingQuota", "QuotaAmount"),
    }
    assert json.loads(result.report_path.read_text())["success"] is False
    assert result.data_docs_index.is_file()


def test_standard_stages_extra_stages_and_deleted_rows(tmp_path: Path):
    """Without OpportunityStage, the standard list plus `extra_stages` applies; soft-deleted
    rows (dropped by staging) may hold stale stages and amounts."""
    rows = sample_rows()
    opportunities = rows["Opportunity"]
    opportunities[0]["StageName"] = "Discovery"
    deleted = next(o for o in opportunities if o["IsDeleted"])
    deleted["StageName"] = "Retired Stage"
    deleted["Amount"] = -10.0
    write_sample_org(tmp_path / "org", overrides=rows, drop_objects=("OpportunityStage",))
    report = land_org(tmp_path / "org", tmp_path / "raw")
    settings = Settings(data_dir=tmp_path, extra_stages=["Discovery"])

    stages, source = known_stages(_frame(tmp_path / "raw"), report, settings)
    assert source == "standard"
    assert "Perception Analysis" in stages and "Discovery" in stages

    result = validate_raw(tmp_path / "raw", tmp_path / "report", settings=settings)
    assert result.success, result.failure_message()


def test_missing_required_field_in_report_blocks(good_raw: Path, settings: Settings, tmp_path):
    raw = tmp_path / "raw"
    write_sample_org(tmp_path / "org")
    land_org(tmp_path / "org", raw, missing_fields={"Opportunity": ["StageName", "Amount"]})

    with pytest.raises(QualityGateError) as caught:
        validate_raw(raw, tmp_path / "report", settings=settings)

    lines = str(caught.value).splitlines()
    assert "1 blocking check(s)" in lines[0]
    assert "'Opportunity.StageName'" in _line(lines, "required_fields.field: required field")
    assert "Opportunity.Amount" not in str(caught.value)  # optional: reported, not blocking


def test_landing_zone_without_report_is_a_clear_error(good_raw: Path, settings, tmp_path):
    with pytest.raises(QualityError, match="no extract report at"):
        validate_raw(tmp_path, tmp_path / "report", settings=settings)
    assert load_report(good_raw).objects["Opportunity"].rows == 24


def _line(lines: list[str], start: str) -> str:
    matches = [line for line in lines if line.strip().startswith(f"- {start}")]
    assert len(matches) == 1, f"no single line starting with {start!r} in:\n" + "\n".join(lines)
    return matches[0]


def _frame(raw_root: Path):
    import pyarrow.parquet as pq

    return pq.read_table(raw_root / "OpportunityStage" / "OpportunityStage.parquet").to_pandas()


def test_a_landing_zone_file_without_the_catalog_schema_stops_the_checkpoint(
    good_raw: Path, settings: Settings, tmp_path: Path
):
    import shutil

    import pyarrow.parquet as pq

    raw = tmp_path / "raw"
    shutil.copytree(good_raw, raw)
    path = raw / "Task" / "Task.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["ActivityDate"]), path)
    with pytest.raises(QualityError, match=r"Task\.parquet does not have .*ActivityDate: absent"):
        validate_raw(raw, tmp_path / "report", settings=settings)
