"""What a real company's org adds: currencies with dated rates, a custom fiscal year, record
types and the Organization row are extracted typed; archived activities (older than a year,
`IsArchived`) still arrive, because extraction reads through queryAll, REST and Bulk alike."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from extract.conftest import make_settings, serve_org
from extract.sample_org import ARCHIVED_AT, ORG_ID
from salesprep.salesforce.extract import extract_org


def _rows(raw_root: Path, name: str) -> list[dict]:
    return pq.read_table(raw_root / name / f"{name}.parquet").sort_by("Id").to_pylist()


def test_currencies_fiscal_year_record_types_and_organization_land_typed(sample_extract):
    _served, raw_root, report = sample_extract
    (organization,) = _rows(raw_root, "Organization")
    assert organization["Id"] == ORG_ID
    assert organization["FiscalYearStartMonth"] == 2
    assert organization["UsesStartDateAsFiscalYearName"] is True
    assert organization["DefaultLocaleSidKey"] == "de_DE"
    currencies = {c["IsoCode"]: c for c in _rows(raw_root, "CurrencyType")}
    assert [c for c, row in currencies.items() if row["IsCorporate"]] == ["USD"]
    assert currencies["JPY"]["ConversionRate"] == 151.5 and currencies["JPY"]["IsActive"] is False
    rates = [r for r in _rows(raw_root, "DatedConversionRate") if r["IsoCode"] == "EUR"]
    assert [(r["StartDate"], r["NextStartDate"], r["ConversionRate"]) for r in rates] == [
        (date(1900, 1, 1), date(2026, 3, 1), 0.91),
        (date(2026, 3, 1), None, 0.935),
    ]
    quarters = _rows(raw_root, "Period")
    assert [(q["Number"], q["StartDate"], q["EndDate"]) for q in quarters][1] == (
        2,
        date(2026, 5, 3),
        date(2026, 8, 1),
    )
    assert _rows(raw_root, "FiscalYearSettings")[0]["Name"] == "2026"
    record_types = {r["Id"]: r["DeveloperName"] for r in _rows(raw_root, "RecordType")}
    opportunities = _rows(raw_root, "Opportunity")
    assert {o["CurrencyIsoCode"] for o in opportunities} == {"USD", "EUR", "GBP", "JPY"}
    assert {record_types.get(o["RecordTypeId"]) for o in opportunities} == {
        "New_Business",
        "Renewal",
        None,
    }
    history = _rows(raw_root, "OpportunityHistory")
    assert {h["CurrencyIsoCode"] for h in history} == {"USD", "EUR", "GBP", "JPY"}
    assert {h["ForecastCategory"] for h in history} == {"Pipeline", "BestCase"}
    assert {q["CurrencyIsoCode"] for q in _rows(raw_root, "ForecastingQuota")} == {"EUR", "USD"}
    assert report.missing_objects == [] and report.missing_fields == {}


@pytest.mark.parametrize("method", ["rest", "bulk"])
def test_archived_activities_are_extracted(sample_org_dir: Path, tmp_path: Path, method: str):
    settings = make_settings(tmp_path / "data")
    with serve_org(sample_org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings, method=method)
        # The org hides them from `query`: only `queryAll` (which extraction uses) returns them.
        hidden = served.sf.query("SELECT Id FROM Task WHERE IsArchived = true")["totalSize"]
        listed = served.sf.query("SELECT Id FROM Task WHERE IsArchived = true", True)
    assert hidden == 0 and listed["totalSize"] == 1
    assert {o.method for o in report.objects.values() if o.present} == {method}
    for name in ("Task", "Event"):
        archived = [r for r in _rows(settings.raw_root, name) if r["IsArchived"]]
        assert len(archived) == 1, name
        assert archived[0]["ActivityDate"] == ARCHIVED_AT.date()
    tasks = _rows(settings.raw_root, "Task")
    assert len(tasks) == report.objects["Task"].rows == 9
    assert [t["Id"] for t in tasks if t["IsArchived"]] == [listed["records"][0]["Id"]]
    assert sum(1 for t in tasks if t["IsArchived"] is False) == 8
