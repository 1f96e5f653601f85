"""Doctor against orgs served by the emulator: a healthy org, a user with hidden objects and
fields, an API allowance used up or near the run's guard, an API version the org does not
serve, and a multi-currency org with custom fiscal quarters and record types."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from salesprep.catalog import OBJECTS, get_object
from salesprep.config import Settings
from salesprep.doctor.access import access_checks
from salesprep.doctor.model import Status
from salesprep.doctor.shape import shape_checks
from salesprep.doctor.survey import Survey
from salesprep.emulator import DEFAULT_DAILY_API_LIMIT, EmulatorConfig
from salesprep.org_folder import write_object
from salesprep.salesforce.client import SubResult
from salesprep.salesforce.connection import connect
from salesprep.salesforce.extract import ObjectPlan, extract_org

from .conftest import WEEK, DoctorRun, configured_connection

Doctor = Callable[..., DoctorRun]


def _csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def test_a_healthy_org_passes_and_every_check_has_a_line(demo_org: Path, doctor: Doctor) -> None:
    run = doctor("--org", str(demo_org))
    assert run.code == 0, run.out
    assert run.report["ok"] is True
    statuses = run.statuses()
    assert "FAIL" not in statuses.values() and "SKIP" not in statuses.values()
    expected = {
        "settings",
        "Airflow connection",
        "login",
        "API version",
        "API calls today",
        *(f"access {o.name}" for o in OBJECTS),
        "org",
        "currencies",
        "fiscal year",
        "record types",
        "forecast quotas",
        "activity logged",
        "rows",
        "backfill estimate",
        "data dir",
        "warehouse",
        "shared folder",
    }
    assert set(statuses) == expected
    # One printed line per check, in the JSON's order, then the summary.
    printed = [line for line in run.out.splitlines() if line[:4].strip() in statuses.values()]
    assert len(printed) == len(run.report["checks"])
    assert run.out.splitlines()[-1].startswith("doctor: ") and "ready to run" in run.out
    # The generated org is single-currency, standard fiscal year, no record types.
    assert (
        statuses["currencies"] == "INFO" and "single-currency" in run.check("currencies")["detail"]
    )
    assert statuses["access CurrencyType"] == "INFO"
    assert "starting in January" in run.check("fiscal year")["detail"]
    # Rows are the CSVs' rows, counted independently.
    rows = run.check("rows")["data"]["rows"]
    assert rows == {
        o.name: _csv_rows(demo_org / f"{o.name}.csv")
        for o in OBJECTS
        if (demo_org / f"{o.name}.csv").is_file()
    }
    activity = run.check("activity logged")
    assert activity["status"] == "OK"
    assert activity["data"]["window"] == ["2026-08-24", WEEK.end_date.isoformat()]
    assert min(activity["data"][k] for k in ("calls", "emails", "meetings")) > 0
    assert 0 < run.report["api_calls"] < 15


def test_the_call_estimate_is_what_a_real_backfill_spends(
    demo_org: Path, doctor: Doctor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with configured_connection(demo_org, monkeypatch):
        run = doctor()
        assert run.code == 0, run.out
        settings = Settings(data_dir=tmp_path / "extract")
        report = extract_org(connect(settings), settings.raw_root, settings=settings)
    estimate = run.check("backfill estimate")["data"]
    assert estimate["api_calls"] == report.api_calls
    assert {n: o["method"] for n, o in estimate["objects"].items()} == {
        n: o.method for n, o in report.objects.items() if o.present
    }
    assert (
        "Estimate: one 2,000-record page of Task took" in run.check("backfill estimate")["detail"]
    )


def test_a_restricted_user_is_told_what_is_hidden_and_what_it_costs(
    demo_org: Path, doctor: Doctor, tmp_path: Path
) -> None:
    org = shutil.copytree(demo_org, tmp_path / "restricted")
    (org / "_permissions.yaml").write_text(
        "hidden:\n  - ForecastingQuota\n  - Task.ActivityDate\n  - Task.TaskSubtype\n"
        "  - Opportunity.Amount\n",
        encoding="utf-8",
    )
    run = doctor("--org", str(org))
    assert run.code == 1
    task = run.check("access Task")
    assert task["status"] == "FAIL"
    assert "Task.ActivityDate (feeds the week of each call and email)" in task["detail"]
    assert task["data"]["missing_required"] == ["Task.ActivityDate"]
    assert task["data"]["missing_optional"] == ["Task.TaskSubtype"]
    assert "field-level security" in task["fix"]
    line, fix = run.printed("access Task")
    assert line.startswith("FAIL  access Task: ") and fix.startswith("      fix: ")
    opportunity = run.check("access Opportunity")
    assert opportunity["status"] == "WARN"
    assert "Opportunity.Amount" in opportunity["detail"]
    assert (
        "pipeline_created" in opportunity["detail"]
        and "every amount is null" in opportunity["detail"]
    )
    assert run.status("access ForecastingQuota") == "WARN"
    assert run.status("forecast quotas") == "WARN"
    assert "no quota" in run.check("forecast quotas")["detail"]
    activity = run.check("activity logged")["data"]
    assert activity["calls"] is None and activity["emails"] is None and activity["meetings"] > 0
    assert "calls: Task.ActivityDate cannot be read" in run.check("activity logged")["detail"]
    # The rest of the org is fine: only Task fails.
    assert [n for n, s in run.statuses().items() if s == "FAIL"] == ["access Task"]


def test_an_exhausted_api_limit_fails_with_the_fix_and_skips_the_rest(
    demo_org: Path, doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = EmulatorConfig(api_usage=DEFAULT_DAILY_API_LIMIT)
    with configured_connection(demo_org, monkeypatch, config=config) as handle:
        run = doctor()
        assert handle.api_calls == DEFAULT_DAILY_API_LIMIT  # every refused call cost nothing
    assert run.code == 1
    limit = run.check("API calls today")
    assert limit["status"] == "FAIL"
    assert "REQUEST_LIMIT_EXCEEDED" in limit["detail"] and "exhausted" in limit["detail"]
    assert "24-hour" in limit["fix"]
    assert run.printed("API calls today")[1].startswith("      fix: wait until")
    assert run.status("login") == "OK"
    for name in ("access", "org shape", "rows and backfill"):
        assert run.status(name) == "SKIP"
    assert run.status("data dir") == "OK"


@pytest.mark.parametrize(
    ("used_before", "limit_status", "backfill_status"),
    [
        (9_000, "FAIL", "OK"),  # at or above the guard: a run stops at once
        (7_489, "OK", "WARN"),  # 10 calls of room, less than the backfill needs
    ],
)
def test_usage_near_the_guard(
    demo_org: Path,
    doctor: Doctor,
    monkeypatch: pytest.MonkeyPatch,
    used_before: int,
    limit_status: str,
    backfill_status: str,
) -> None:
    with configured_connection(demo_org, monkeypatch, config=EmulatorConfig(api_usage=used_before)):
        run = doctor()
    limit = run.check("API calls today")
    assert limit["status"] == limit_status
    assert limit["data"]["used"] == used_before + 1  # doctor's own /limits call
    backfill = run.check("backfill estimate")
    assert backfill["status"] == backfill_status
    if limit_status == "FAIL":
        assert "max_api_share=0.5" in limit["detail"]
        assert "SALESPREP_SALESFORCE__MAX_API_SHARE" in limit["fix"]
    else:
        room = limit["data"]["room"]
        assert room == 10 and backfill["data"]["api_calls"] > room
        assert f"more than the {room:,} calls left today" in backfill["detail"]
        assert run.code == 0


def test_an_api_version_the_org_does_not_serve_fails(
    demo_org: Path, doctor: Doctor, monkeypatch: pytest.MonkeyPatch
) -> None:
    with configured_connection(demo_org, monkeypatch, api_version="40.0"):
        run = doctor()
    version = run.check("API version")
    assert version["status"] == "FAIL"
    assert (
        "v40.0 is not a version this org serves (the org serves v55.0 to v64.0)"
        in (version["detail"])
    )
    assert '"version": "62.0"' in version["fix"]
    assert run.status("API calls today") == "SKIP"


def _multi_currency_org(path: Path) -> Path:
    """Three currencies with rates (EUR with dated rates too), one without, custom quarters,
    two Opportunity record types; two calls, no email and no meeting in the activity window."""
    created = datetime(2026, 9, 1, 12, tzinfo=UTC)
    write_object(
        path,
        "User",
        [
            {"Id": "005000000000000001", "Name": "Mia Manager", "IsActive": True},
            {
                "Id": "005000000000000002",
                "Name": "Rey Rep",
                "IsActive": True,
                "ManagerId": "005000000000000001",
            },
        ],
        ["Id", "Name", "IsActive", "ManagerId"],
    )
    write_object(
        path,
        "Opportunity",
        [
            {
                "Id": f"00600000000000000{i}",
                "Name": f"Deal {i}",
                "OwnerId": "005000000000000002",
                "StageName": "Prospecting",
                "Amount": 1000.0 * i,
                "CloseDate": date(2026, 12, 15),
                "IsClosed": False,
                "IsWon": False,
                "CurrencyIsoCode": code,
                "RecordTypeId": "012000000000000001",
                "CreatedDate": created,
                "SystemModstamp": created,
            }
            for i, code in enumerate(["USD", "EUR", "GBP"], start=1)
        ],
    )
    write_object(
        path,
        "CurrencyType",
        [
            {
                "Id": "02c000000000000001",
                "IsoCode": "USD",
                "ConversionRate": 1.0,
                "IsActive": True,
                "IsCorporate": True,
            },
            {
                "Id": "02c000000000000002",
                "IsoCode": "EUR",
                "ConversionRate": 0.92,
                "IsActive": True,
                "IsCorporate": False,
            },
            {
                "Id": "02c000000000000003",
                "IsoCode": "GBP",
                "ConversionRate": 0.79,
                "IsActive": True,
                "IsCorporate": False,
            },
            {
                "Id": "02c000000000000004",
                "IsoCode": "JPY",
                "ConversionRate": None,
                "IsActive": False,
                "IsCorporate": False,
            },
        ],
    )
    write_object(
        path,
        "DatedConversionRate",
        [
            {
                "Id": "04w000000000000001",
                "IsoCode": "EUR",
                "ConversionRate": 0.9,
                "StartDate": date(2026, 1, 1),
                "NextStartDate": date(2026, 7, 1),
            },
            {
                "Id": "04w000000000000002",
                "IsoCode": "EUR",
                "ConversionRate": 0.93,
                "StartDate": date(2026, 7, 1),
                "NextStartDate": None,
            },
        ],
    )
    write_object(
        path,
        "Organization",
        [
            {
                "Id": "00D000000000000001",
                "Name": "Globex",
                "FiscalYearStartMonth": 2,
                "DefaultLocaleSidKey": "de_DE",
                "TimeZoneSidKey": "UTC",
            }
        ],
    )
    write_object(
        path,
        "FiscalYearSettings",
        [
            {
                "Id": "022000000000000001",
                "Name": "2027",
                "StartDate": date(2026, 2, 1),
                "EndDate": date(2027, 1, 30),
                "IsStandardYear": False,
            }
        ],
    )
    quarters = [
        (date(2026, 2, 1), date(2026, 5, 2)),
        (date(2026, 5, 3), date(2026, 8, 1)),
        (date(2026, 8, 2), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2027, 1, 30)),
    ]
    periods = [
        {
            "Id": f"02600000000000000{i}",
            "FiscalYearSettingsId": "022000000000000001",
            "Type": "Quarter",
            "StartDate": start,
            "EndDate": end,
            "Number": i,
        }
        for i, (start, end) in enumerate(quarters, start=1)
    ]
    periods.append(
        {
            "Id": "026000000000000009",
            "FiscalYearSettingsId": "022000000000000001",
            "Type": "Month",
            "StartDate": date(2026, 2, 1),
            "EndDate": date(2026, 2, 28),
            "Number": 1,
        }
    )
    write_object(path, "Period", periods)
    write_object(
        path,
        "RecordType",
        [
            {
                "Id": "012000000000000001",
                "Name": "New Business",
                "DeveloperName": "New_Business",
                "SobjectType": "Opportunity",
                "IsActive": True,
            },
            {
                "Id": "012000000000000002",
                "Name": "Renewal",
                "DeveloperName": "Renewal",
                "SobjectType": "Opportunity",
                "IsActive": False,
            },
            {
                "Id": "012000000000000003",
                "Name": "Partner",
                "DeveloperName": "Partner",
                "SobjectType": "Account",
                "IsActive": True,
            },
        ],
    )
    rep = "005000000000000002"
    tasks = [
        # (subtype, type, closed, deleted, activity date): only the first two count, as calls.
        ("Call", None, True, False, date(2026, 11, 10)),
        (None, "Call", True, False, date(2026, 8, 24)),
        ("Email", None, True, False, date(2026, 8, 23)),  # a day before the 91-day window
        ("Email", None, False, False, date(2026, 11, 10)),  # open: not a sent email
        ("Email", None, True, True, date(2026, 11, 10)),  # deleted
        ("Email", None, True, False, date(2026, 11, 23)),  # the window's end is exclusive
    ]
    write_object(
        path,
        "Task",
        [
            {
                "Id": f"00T00000000000000{i}",
                "OwnerId": rep,
                "TaskSubtype": subtype,
                "Type": type_,
                "IsClosed": closed,
                "IsDeleted": deleted,
                "ActivityDate": day,
            }
            for i, (subtype, type_, closed, deleted, day) in enumerate(tasks)
        ],
    )
    (path / "Event.csv").write_text("", encoding="utf-8")  # the object, and no rows
    return path


def test_a_multi_currency_org_reports_its_currencies_quarters_and_record_types(
    doctor: Doctor, tmp_path: Path
) -> None:
    run = doctor("--org", str(_multi_currency_org(tmp_path / "globex")))
    assert run.code == 0, run.out
    currencies = run.check("currencies")
    assert currencies["status"] == "WARN"  # JPY has no rate
    detail = currencies["detail"]
    assert detail.startswith("4 currencies: USD (corporate), EUR 0.92, GBP 0.79, JPY")
    assert "inactive: JPY" in detail
    assert "dated rates on: 2 DatedConversionRate rows for EUR" in detail
    assert "no rate for JPY" in detail
    assert currencies["data"]["corporate"] == "USD"
    for name in ("CurrencyType", "DatedConversionRate", "Period", "RecordType"):
        assert run.status(f"access {name}") == "OK", run.check(f"access {name}")
    assert run.status("access Opportunity") == "OK"
    fiscal = run.check("fiscal year")
    assert fiscal["status"] == "OK"
    assert fiscal["detail"].startswith(
        "custom fiscal year: 4 quarters (Period Type = 'Quarter') from 2026-02-01 to 2027-01-30"
    )
    assert fiscal["data"]["custom_quarters"] == 4
    record_types = run.check("record types")
    assert (
        "2 Opportunity record types (1 active): New Business (New_Business), Renewal"
        in (record_types["detail"])
    )
    assert "Globex" in run.check("org")["detail"] and "locale de_DE" in run.check("org")["detail"]
    activity = run.check("activity logged")
    assert activity["status"] == "WARN"
    assert {k: activity["data"][k] for k in ("calls", "emails", "meetings")} == {
        "calls": 2,
        "emails": 0,
        "meetings": 0,
    }
    assert activity["data"]["not_logged"] == ["emails", "meetings"]
    assert "not logged: emails, meetings" in activity["detail"]
    assert "does not log it in Salesforce" in activity["detail"]


def test_period_rows_of_standard_fiscal_years_are_not_called_custom() -> None:
    """Salesforce keeps Period rows for standard fiscal years too."""

    def answer(records: list[dict[str, object]]) -> SubResult:
        return SubResult(200, {"totalSize": len(records), "done": True, "records": records})

    survey = Survey(
        results={
            "fiscal_years": answer([{"Id": "022A", "Name": "2026", "IsStandardYear": True}]),
            "quarters": answer(
                [
                    {
                        "StartDate": f"2026-{m:02d}-01",
                        "EndDate": "x",
                        "FiscalYearSettingsId": "022A",
                    }
                    for m in (1, 4, 7, 10)
                ]
            ),
        }
    )
    [fiscal] = [
        c for c in shape_checks(survey, _plans(), Settings(), WEEK) if c.name == "fiscal year"
    ]
    assert fiscal.detail.startswith("standard fiscal year, defined in Salesforce: 4 quarters")
    assert fiscal.data["custom_quarters"] == 0


def _plans() -> dict[str, ObjectPlan]:
    return {o.name: ObjectPlan(o, present=False) for o in OBJECTS}


def _plan(name: str, *, without: tuple[str, ...] = ()) -> ObjectPlan:
    sobject = get_object(name)
    plan = ObjectPlan(sobject, present=True)
    for f in sobject.fields:
        if f.name in without:
            plan.missing_fields.append(f.name)
        else:
            plan.selected[f.name] = f.name
    return plan


def test_opportunity_record_types_without_a_readable_record_type_id() -> None:
    """Every org has a RecordType object; only an object with record types has RecordTypeId."""
    plans = _plans()
    plans["RecordType"] = _plan("RecordType")
    plans["Opportunity"] = _plan("Opportunity", without=("RecordTypeId", "CurrencyIsoCode"))
    access = {c.name: c for c in access_checks(list(plans.values()), loss_reason_field="X__c")}
    assert access["access Opportunity"].status is Status.OK
    assert access["access Opportunity"].detail.startswith("20 of 20 fields readable")
    rows = [{"Name": "New Business", "DeveloperName": "New_Business", "IsActive": True}]
    survey = Survey(results={"record_types": SubResult(200, {"totalSize": 1, "records": rows})})
    [check] = [c for c in shape_checks(survey, plans, Settings(), WEEK) if c.name == "record types"]
    assert check.status is Status.WARN
    assert "Opportunity.RecordTypeId cannot be read" in check.detail
    survey.results["record_types"] = SubResult(200, {"totalSize": 0, "records": []})
    [check] = [c for c in shape_checks(survey, plans, Settings(), WEEK) if c.name == "record types"]
    assert check.status is Status.INFO
