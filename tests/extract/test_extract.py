"""Extraction over HTTP (emulator, simple-salesforce, SalesforceHook) lands exactly the org's
records, typed by the catalog, streamed page by page, replacing the landing zone atomically."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extract.conftest import make_settings, serve_org
from extract.sample_org import FEATURE_OBJECTS, write_sample_org
from salesprep.catalog import OBJECTS, get_object
from salesprep.org_folder import read_object
from salesprep.salesforce.extract import (
    ExtractError,
    MissingRequiredError,
    convert_value,
    extract_org,
)
from salesprep.salesforce.report import REPORT_FILE, load_report


def _calls(present: int) -> int:
    """API calls of a first run over small objects: one composite call of describes,
    composite COUNT()s (5 per call), one query page per object."""
    return 1 + -(-present // 5) + present


def _landed(raw_root: Path, name: str) -> pa.Table:
    return pq.read_table(raw_root / name / f"{name}.parquet")


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by("Id")


def _assert_same_records(raw_root: Path, org_dir: Path, name: str) -> None:
    landed = _landed(raw_root, name)
    expected = read_object(org_dir, name).table
    assert landed.schema.equals(get_object(name).arrow_schema()), name
    assert landed.num_rows == expected.num_rows, name
    assert _sorted(landed).equals(_sorted(expected)), f"{name} differs from {name}.csv"


def test_every_object_lands_exactly_as_the_org_folder_holds_it(sample_extract):
    served, raw_root, report = sample_extract
    for sobject in OBJECTS:
        _assert_same_records(raw_root, served.org_dir, sobject.name)
        assert report.objects[sobject.name].present
        assert report.objects[sobject.name].missing_fields == []
    assert sorted(p.name for p in raw_root.iterdir()) == sorted(
        [o.name for o in OBJECTS] + [REPORT_FILE]
    )


def test_values_are_typed_and_deleted_rows_are_kept(sample_extract):
    _served, raw_root, report = sample_extract
    opportunities = _landed(raw_root, "Opportunity").sort_by("Id").to_pylist()
    first = opportunities[0]
    assert first["CreatedDate"] == datetime(2026, 1, 6, 10, 30, 0, 124000, tzinfo=UTC)
    assert first["CloseDate"] == date(2026, 3, 2)
    assert first["Amount"] == 1000.25
    assert first["IsClosed"] is False
    assert first["Description"].startswith('Renewal, "big" deal\nline two <script>')
    assert first["Description"].endswith("🚀 مرحبا")
    assert opportunities[4]["Amount"] is None  # n=5: no amount
    deleted = [o["Id"] for o in opportunities if o["IsDeleted"]]
    assert len(deleted) == 2  # n=11 and n=22, returned by queryAll
    assert report.objects["Opportunity"].deleted_rows == 2
    assert report.objects["OpportunityHistory"].deleted_rows == 4
    assert report.objects["Account"].deleted_rows == 1
    assert report.deleted_rows == 2 + 4 + 1 + 1  # + one Task
    history = _landed(raw_root, "OpportunityFieldHistory").to_pylist()
    assert {(h["OldValue"], h["NewValue"]) for h in history} == {("5000", "7500.5")}
    users = {u["Id"]: u for u in _landed(raw_root, "User").to_pylist()}
    assert users["005000000000001AAA"]["ManagerId"] is None
    assert _landed(raw_root, "Account").column("NumberOfEmployees").type == pa.int64()


def test_report_counts_rows_calls_and_bytes(sample_extract):
    _served, raw_root, report = sample_extract
    on_disk = json.loads((raw_root / REPORT_FILE).read_text())
    assert load_report(raw_root).objects == report.objects
    opportunity = on_disk["objects"]["Opportunity"]
    assert opportunity["rows"] == 24 and opportunity["present"] is True
    assert opportunity["bytes"] == (raw_root / "Opportunity" / "Opportunity.parquet").stat().st_size
    assert opportunity["pages"] == 1
    # One query page per object, one composite call with every object's describe, and
    # composite calls with the COUNT()s (at most 5 queries per composite call).
    assert all(o.api_calls == 1 for o in report.objects.values())
    assert on_disk["totals"]["api_calls"] == report.api_calls == _calls(len(OBJECTS))
    assert on_disk["totals"]["downloaded_bytes"] > 0
    assert all(o.mode == "full" and o.method == "rest" for o in report.objects.values())
    assert on_disk["totals"]["rows"] == sum(o.rows for o in report.objects.values())
    assert on_disk["totals"]["missing_objects"] == []
    assert report.summary()["rows"] == on_disk["totals"]["rows"]


def test_small_pages_stream_into_row_groups_with_the_same_result(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org", opportunities=450)
    settings = make_settings(tmp_path / "data")
    with serve_org(org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings, page_size=200)
    opportunity = report.objects["Opportunity"]
    assert opportunity.rows == 450
    assert opportunity.pages >= 3
    assert opportunity.api_calls == opportunity.pages
    assert report.objects["OpportunityHistory"].pages >= 5
    for name in ("Opportunity", "OpportunityHistory"):
        path = settings.raw_root / name / f"{name}.parquet"
        assert pq.ParquetFile(path).num_row_groups == report.objects[name].pages
        _assert_same_records(settings.raw_root, org_dir, name)


def test_missing_optional_object_and_field_are_null_filled_and_reported(tmp_path: Path):
    org_dir = write_sample_org(
        tmp_path / "org",
        drop_objects=("Event", "ForecastingQuota"),
        drop_fields={"Opportunity": ("Loss_Reason__c", "NextStep")},
    )
    settings = make_settings(tmp_path / "data")
    with serve_org(org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings)

    event = report.objects["Event"]
    assert (event.present, event.rows, event.missing_fields) == (
        False,
        0,
        get_object("Event").field_names,
    )
    landed_event = _landed(settings.raw_root, "Event")
    assert landed_event.num_rows == 0
    assert landed_event.schema.equals(get_object("Event").arrow_schema())
    assert report.missing_objects == ["Event", "ForecastingQuota"]
    assert report.objects["Opportunity"].missing_fields == ["NextStep", "Loss_Reason__c"]
    assert report.missing_fields == {"Opportunity": ["NextStep", "Loss_Reason__c"]}
    opportunities = _landed(settings.raw_root, "Opportunity")
    assert opportunities.num_rows == 24
    assert opportunities.column("Loss_Reason__c").null_count == 24
    assert opportunities.column("NextStep").null_count == 24
    # Missing objects cost no describe, count or query.
    assert report.api_calls == _calls(len(OBJECTS) - 2)
    _assert_same_records(settings.raw_root, org_dir, "Opportunity")


def test_an_org_without_org_features_is_extracted_and_reported(tmp_path: Path, caplog):
    # A single-currency org with a standard fiscal year and no record types: the features'
    # objects are absent and their fields missing, which is normal, never an error.
    org_dir = write_sample_org(tmp_path / "org", features=False)
    settings = make_settings(tmp_path / "data")
    with serve_org(org_dir, settings) as served, caplog.at_level("INFO"):
        report = extract_org(served.sf, settings.raw_root, settings=settings)

    assert (
        report.missing_objects
        == list(FEATURE_OBJECTS)
        == [
            "FiscalYearSettings",
            "Period",
            "CurrencyType",
            "DatedConversionRate",
            "RecordType",
        ]
    )
    assert report.missing_fields == {
        "Opportunity": ["CurrencyIsoCode", "RecordTypeId"],
        "OpportunityHistory": ["CurrencyIsoCode"],
        "ForecastingQuota": ["CurrencyIsoCode"],
    }
    for name in FEATURE_OBJECTS:
        landed = _landed(settings.raw_root, name)
        assert landed.num_rows == 0 and landed.schema.equals(get_object(name).arrow_schema())
    assert _landed(settings.raw_root, "Opportunity").column("CurrencyIsoCode").null_count == 24
    assert report.objects["Organization"].rows == 1
    assert report.api_calls == _calls(len(OBJECTS) - len(FEATURE_OBJECTS))
    # Reported, but not as a problem: no warning names the features' objects or fields.
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert not [w for w in warnings if "CurrencyType" in w or "CurrencyIsoCode" in w], warnings
    assert any("org feature multi_currency not enabled" in r.getMessage() for r in caplog.records)


def test_an_org_that_hides_organization_is_extracted(tmp_path: Path):
    # The integration user may not read Organization: config and defaults decide then.
    org_dir = write_sample_org(tmp_path / "org", drop_objects=("Organization",))
    settings = make_settings(tmp_path / "data")
    with serve_org(org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings)
    assert report.missing_objects == ["Organization"]
    assert _landed(settings.raw_root, "Organization").num_rows == 0


def test_missing_required_field_fails_and_keeps_the_previous_landing_zone(
    sample_extract, tmp_path: Path
):
    settings = make_settings(tmp_path / "data")
    before = _seed_previous_run(settings.raw_root, sample_extract[1])

    org_dir = write_sample_org(
        tmp_path / "org",
        drop_objects=("User",),
        drop_fields={"Opportunity": ("StageName",), "Task": ("Subject",)},
    )
    with serve_org(org_dir, settings) as served, pytest.raises(MissingRequiredError) as caught:
        extract_org(served.sf, settings.raw_root, settings=settings)

    message = str(caught.value)
    assert "object User" in message
    assert "field Opportunity.StageName" in message
    assert "Subject" not in message  # optional: null-filled, not an error
    assert _files(settings.raw_root) == before
    assert sorted(p.name for p in settings.raw_root.parent.iterdir()) == ["raw"]


def test_failure_mid_run_keeps_the_previous_landing_zone(sample_extract, tmp_path: Path):
    settings = make_settings(tmp_path / "data")
    before = _seed_previous_run(settings.raw_root, sample_extract[1])
    org_dir = write_sample_org(tmp_path / "org")
    task_csv = org_dir / "Task.csv"  # Task comes after most objects: several files are written
    task_csv.write_text(task_csv.read_text().replace("2026-01-07", "not-a-date", 1))

    with serve_org(org_dir, settings) as served, pytest.raises(ExtractError) as caught:
        extract_org(served.sf, settings.raw_root, settings=settings)

    message = str(caught.value)
    assert "Task" in message and "not a date" in message and "500 UNKNOWN_EXCEPTION" in message
    assert _files(settings.raw_root) == before
    assert sorted(p.name for p in settings.raw_root.parent.iterdir()) == ["raw"]


def _files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _seed_previous_run(raw_root: Path, good_raw: Path) -> dict[Path, bytes]:
    """Copy a good landing zone to `raw_root`, as a previous run left it; return its files."""
    for path, content in _files(good_raw).items():
        target = raw_root / path.relative_to(good_raw)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return _files(raw_root)


def test_configurable_loss_reason_field(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org")
    csv_path = org_dir / "Opportunity.csv"
    text = csv_path.read_text(encoding="utf-8")
    csv_path.write_text(text.replace("Loss_Reason__c", "Reason_Lost__c", 1), encoding="utf-8")
    settings = make_settings(tmp_path / "data", loss_reason_field="Reason_Lost__c")
    with serve_org(org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings)
    assert report.objects["Opportunity"].missing_fields == []
    reasons = _landed(settings.raw_root, "Opportunity").column("Loss_Reason__c").to_pylist()
    assert reasons.count("Price") == 4


@pytest.mark.parametrize(
    ("value", "type_", "expected"),
    [
        ("2026-01-05T09:30:00.000+0000", "datetime", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),
        ("2026-01-05T10:30:00.000+0100", "datetime", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),
        ("2026-01-05T09:30:00.000Z", "datetime", datetime(2026, 1, 5, 9, 30, tzinfo=UTC)),
        ("2026-01-05", "date", date(2026, 1, 5)),
        (12.0, "int", 12),
        (True, "boolean", True),
        ("false", "boolean", False),
        (5000, "anyType", "5000"),
        (5000.0, "anyType", "5000"),
        (False, "anyType", "false"),
        (None, "currency", None),
        (42, "currency", 42.0),
    ],
)
def test_convert_value(value, type_, expected):
    from salesprep.catalog import Field

    assert convert_value(value, Field("X", type_)) == expected


def test_unreadable_value_names_object_field_and_record():
    from salesprep.salesforce.extract import ObjectPlan, records_to_batch

    plan = ObjectPlan(get_object("Opportunity"), present=True, selected={"Amount": "Amount"})
    expected = r"Opportunity\.Amount of record 006X: cannot read 'n/a'"
    with pytest.raises(ExtractError, match=expected):
        records_to_batch([{"Id": "006X", "Amount": "n/a"}], plan)
