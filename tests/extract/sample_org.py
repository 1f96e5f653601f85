"""A small, deterministic org folder for extraction and checkpoint tests.

It covers every catalog object and the values that trip up conversion: soft-deleted rows,
null amounts, dates, datetimes with milliseconds, CSV-hostile text (commas, quotes, newlines,
emoji, right-to-left script, `<script>`), typed history values, and a top manager with no
ManagerId. `opportunities` scales the Opportunity and OpportunityHistory row counts.

It is an org with every org feature (`catalog.FEATURES`): multi-currency with dated rates, a
custom fiscal year, record types; and it has archived activities (`IsArchived`, older than a
year), which only `queryAll` returns. `FEATURE_OBJECTS` drops the features' objects and fields.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from salesprep.catalog import OBJECTS
from salesprep.org_folder import write_object

STAGES = (
    # (ApiName, SortOrder, IsClosed, IsWon, DefaultProbability, ForecastCategoryName)
    ("Prospecting", 1, False, False, 10.0, "Pipeline"),
    ("Qualification", 2, False, False, 20.0, "Pipeline"),
    ("Proposal/Price Quote", 3, False, False, 60.0, "Pipeline"),
    ("Negotiation/Review", 4, False, False, 80.0, "Commit"),
    ("Closed Won", 5, True, True, 100.0, "Closed"),
    ("Closed Lost", 6, True, False, 0.0, "Omitted"),
)
HOSTILE_TEXT = 'Renewal, "big" deal\nline two <script>alert(1)</script> | ../ 🚀 مرحبا'
T0 = datetime(2026, 1, 5, 9, 30, 0, 123000, tzinfo=UTC)
ORG_ID = "00D000000000042EAA"  # a valid 18-character Id
CURRENCIES = ("USD", "EUR", "GBP", "JPY")  # USD is the corporate currency
# An activity older than a year, archived by Salesforce: only queryAll returns it.
ARCHIVED_AT = datetime(2024, 6, 3, 15, 0, 0, tzinfo=UTC)


def _id(prefix: str, n: int) -> str:
    return f"{prefix}{n:012d}AAA"


def sample_rows(opportunities: int = 24) -> dict[str, list[dict[str, Any]]]:
    """Rows per object name (values as Python objects, as `write_object` takes them)."""
    audit = {"CreatedDate": T0, "LastModifiedDate": T0, "SystemModstamp": T0}
    rows: dict[str, list[dict[str, Any]]] = _org_setup_rows(audit)
    rows["Profile"] = [
        {"Id": _id("00e", 1), "Name": "Sales User", **audit},
        {"Id": _id("00e", 2), "Name": "System Administrator", **audit},
    ]
    rows["UserRole"] = [
        {"Id": _id("00E", 1), "Name": "VP Sales", "DeveloperName": "VP_Sales", **audit},
        {
            "Id": _id("00E", 2),
            "Name": "Account Executive",
            "DeveloperName": "AE",
            "ParentRoleId": _id("00E", 1),
            **audit,
        },
    ]
    users = []
    for n in range(1, 6):
        users.append(
            {
                "Id": _id("005", n),
                "Name": f"User {n}",
                "FirstName": "User",
                "LastName": str(n),
                "Username": f"user{n}@example.com",
                "Email": f"user{n}@example.com",
                "Title": "VP Sales" if n == 1 else "Account Executive",
                "Department": "Sales",
                "IsActive": n != 5,
                "ManagerId": None if n == 1 else _id("005", 1),
                "UserRoleId": _id("00E", 1 if n == 1 else 2),
                "ProfileId": _id("00e", 1),
                "TimeZoneSidKey": "Europe/Berlin",
                **audit,
            }
        )
    rows["User"] = users
    rows["Account"] = [
        {
            "Id": _id("001", n),
            "Name": f"Account {n}" if n != 2 else HOSTILE_TEXT,
            "Industry": "Technology",
            "Type": "Customer",
            "BillingCountry": "Germany",
            "NumberOfEmployees": 50 * n,
            "AnnualRevenue": 1_000_000.5 * n,
            "OwnerId": _id("005", 2),
            "IsDeleted": n == 3,
            **audit,
        }
        for n in range(1, 5)
    ]
    rows["Contact"] = [
        {
            "Id": _id("003", n),
            "AccountId": _id("001", 1 + n % 4),
            "FirstName": "Ana",
            "LastName": f"Contact {n}",
            "Email": f"c{n}@example.com",
            "OwnerId": _id("005", 2),
            "IsDeleted": False,
            **audit,
        }
        for n in range(1, 5)
    ]
    rows["OpportunityStage"] = [
        {
            "Id": _id("01J", n),
            "MasterLabel": api,
            "ApiName": api,
            "SortOrder": order,
            "IsActive": True,
            "IsClosed": closed,
            "IsWon": won,
            "DefaultProbability": prob,
            "ForecastCategoryName": category,
            **audit,
        }
        for n, (api, order, closed, won, prob, category) in enumerate(STAGES, start=1)
    ]
    opps, history, field_history = [], [], []
    for n in range(1, opportunities + 1):
        api, _order, closed, won, prob, category = STAGES[n % len(STAGES)]
        created = T0 + timedelta(days=n % 40, hours=n % 7, milliseconds=n)
        opps.append(
            {
                "Id": _id("006", n),
                "Name": f"Opportunity {n}",
                "AccountId": _id("001", 1 + n % 4),
                "OwnerId": _id("005", 2 + n % 3),
                "StageName": api,
                "Amount": None if n % 5 == 0 else 1000.0 * n + 0.25,
                "CloseDate": date(2026, 3, 1) + timedelta(days=n),
                "Probability": prob,
                "ForecastCategoryName": category,
                "Type": "New Business",
                "LeadSource": "Web",
                "NextStep": "Call, then send quote" if n % 2 else None,
                "Description": HOSTILE_TEXT if n == 1 else f"Deal {n}",
                "IsClosed": closed,
                "IsWon": won,
                "Loss_Reason__c": "Price" if closed and not won else None,
                "CurrencyIsoCode": CURRENCIES[n % len(CURRENCIES)],
                "RecordTypeId": _id("012", 1 + n % 2) if n % 7 else None,
                "IsDeleted": n % 11 == 0,
                "CreatedDate": created,
                "LastModifiedDate": created + timedelta(days=1),
                "SystemModstamp": created + timedelta(days=1, seconds=1),
            }
        )
        for step in range(2):
            history.append(
                {
                    "Id": _id("008", n * 10 + step),
                    "OpportunityId": _id("006", n),
                    "StageName": STAGES[step][0] if step == 0 else api,
                    "Amount": None if n % 5 == 0 else 1000.0 * n,
                    "CloseDate": date(2026, 3, 1) + timedelta(days=n),
                    "Probability": 10.0,
                    "ForecastCategory": "BestCase" if step else "Pipeline",
                    "CurrencyIsoCode": CURRENCIES[n % len(CURRENCIES)] if step else "USD",
                    "CreatedById": _id("005", 2),
                    "IsDeleted": n % 11 == 0,
                    "CreatedDate": created + timedelta(days=step),
                    "SystemModstamp": created + timedelta(days=step),
                }
            )
        if n % 4 == 0:
            field_history.append(
                {
                    "Id": _id("017", n),
                    "OpportunityId": _id("006", n),
                    "Field": "Amount",
                    "OldValue": "5000",
                    "NewValue": "7500.5",
                    "CreatedById": _id("005", 2),
                    "IsDeleted": False,
                    "CreatedDate": created + timedelta(days=2),
                }
            )
    rows["Opportunity"] = opps
    rows["OpportunityHistory"] = history
    rows["OpportunityFieldHistory"] = field_history
    rows["OpportunityContactRole"] = [
        {
            "Id": _id("00K", n),
            "OpportunityId": _id("006", n),
            "ContactId": _id("003", 1 + n % 4),
            "Role": "Decision Maker",
            "IsPrimary": n % 2 == 0,
            "IsDeleted": False,
            **audit,
        }
        for n in range(1, 5)
    ]
    rows["Task"] = [
        {
            "Id": _id("00T", n),
            "OwnerId": _id("005", 2 + n % 3),
            "WhatId": _id("006", 1 + n % opportunities),
            "WhoId": _id("003", 1 + n % 4),
            "Subject": "Call" if n % 2 else "Email",
            "ActivityDate": date(2026, 1, 5) + timedelta(days=n),
            "Status": "Completed",
            "IsClosed": True,
            "Type": "Call" if n % 2 else "Email",
            "TaskSubtype": "Call" if n % 2 else "Email",
            "CallDurationInSeconds": 300 if n % 2 else None,
            "IsArchived": False,
            "IsDeleted": n == 6,
            **audit,
        }
        for n in range(1, 9)
    ]
    archived = {"CreatedDate": ARCHIVED_AT, "LastModifiedDate": ARCHIVED_AT}
    rows["Task"].append(
        {
            "Id": _id("00T", 9),
            "OwnerId": _id("005", 2),
            "WhatId": _id("001", 1),
            "Subject": "Call",
            "ActivityDate": ARCHIVED_AT.date(),
            "Status": "Completed",
            "IsClosed": True,
            "Type": "Call",
            "TaskSubtype": "Call",
            "CallDurationInSeconds": 600,
            "IsArchived": True,
            "IsDeleted": False,
            **archived,
            "SystemModstamp": ARCHIVED_AT,
        }
    )
    rows["Event"] = [
        {
            "Id": _id("00U", n),
            "OwnerId": _id("005", 2 + n % 3),
            "WhatId": _id("006", 1 + n % opportunities),
            "Subject": "Meeting",
            "StartDateTime": T0 + timedelta(days=n, hours=3),
            "EndDateTime": T0 + timedelta(days=n, hours=4),
            "DurationInMinutes": 60,
            "ActivityDate": date(2026, 1, 5) + timedelta(days=n),
            "Type": "Meeting",
            "IsArchived": n == 3,
            "IsDeleted": False,
            **audit,
        }
        for n in range(1, 4)
    ]
    # The third meeting took place long ago: archived.
    rows["Event"][2].update(
        StartDateTime=ARCHIVED_AT,
        EndDateTime=ARCHIVED_AT + timedelta(hours=1),
        ActivityDate=ARCHIVED_AT.date(),
        CreatedDate=ARCHIVED_AT,
        LastModifiedDate=ARCHIVED_AT,
        SystemModstamp=ARCHIVED_AT,
    )
    rows["ForecastingQuota"] = [
        {
            "Id": _id("0J9", n),
            "QuotaOwnerId": _id("005", 1 + n),
            "StartDate": date(2026, 1, 1),
            "QuotaAmount": 250_000.0,
            "CurrencyIsoCode": CURRENCIES[n % 2],
            "ForecastingTypeId": _id("0Db", 1),
            **audit,
        }
        for n in range(1, 4)
    ]
    return rows


def _org_setup_rows(audit: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Organization, the fiscal year, currencies and record types of the sample org."""
    rows: dict[str, list[dict[str, Any]]] = {}
    rows["Organization"] = [
        {
            "Id": ORG_ID,
            "Name": 'Sample Org, "GmbH"',
            "FiscalYearStartMonth": 2,
            "UsesStartDateAsFiscalYearName": True,
            "DefaultLocaleSidKey": "de_DE",
            "LanguageLocaleKey": "de",
            "TimeZoneSidKey": "Europe/Berlin",
            **audit,
        }
    ]
    rows["FiscalYearSettings"] = [
        {
            "Id": _id("022", 1),
            "Name": "2026",
            "StartDate": date(2026, 2, 1),
            "EndDate": date(2027, 1, 30),
            "IsStandardYear": False,
            "YearType": "Custom",
            "QuarterLabelScheme": "NumberByYear",
            "QuarterPrefix": "Quarter",
            "SystemModstamp": T0,
        }
    ]
    # A 4-4-5 year of 52 weeks from Sunday 2026-02-01: quarters of 13 weeks.
    rows["Period"] = [
        {
            "Id": _id("026", number),
            "FiscalYearSettingsId": _id("022", 1),
            "Type": "Quarter",
            "StartDate": date(2026, 2, 1) + timedelta(weeks=13 * (number - 1)),
            "EndDate": date(2026, 2, 1) + timedelta(weeks=13 * number, days=-1),
            "Number": number,
            "QuarterLabel": None,
            "PeriodLabel": None,
            "FullyQualifiedLabel": f"Q{number} FY2026",
            "IsForecastPeriod": True,
            "SystemModstamp": T0,
        }
        for number in range(1, 5)
    ]
    rates = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.5}
    rows["CurrencyType"] = [
        {
            "Id": _id("02c", n),
            "IsoCode": code,
            "ConversionRate": rates[code],
            "DecimalPlaces": 0 if code == "JPY" else 2,
            "IsActive": code != "JPY",
            "IsCorporate": code == "USD",
            **audit,
        }
        for n, code in enumerate(CURRENCIES, start=1)
    ]
    rows["DatedConversionRate"] = [
        {
            "Id": _id("04w", n),
            "IsoCode": code,
            "ConversionRate": rate,
            "StartDate": start,
            "NextStartDate": next_start,
            **audit,
        }
        for n, (code, rate, start, next_start) in enumerate(
            (
                ("USD", 1.0, date(1900, 1, 1), None),
                ("EUR", 0.91, date(1900, 1, 1), date(2026, 3, 1)),
                ("EUR", 0.935, date(2026, 3, 1), None),
                ("GBP", 0.785, date(1900, 1, 1), None),
            ),
            start=1,
        )
    ]
    rows["RecordType"] = [
        {
            "Id": _id("012", n),
            "Name": name,
            "DeveloperName": name.replace(" ", "_"),
            "SobjectType": "Opportunity",
            "IsActive": True,
            **audit,
        }
        for n, name in enumerate(("New Business", "Renewal"), start=1)
    ]
    return rows


# The objects and fields of org features (catalog.FEATURES): an org without any of them.
FEATURE_OBJECTS = tuple(o.name for o in OBJECTS if o.feature)
FEATURE_FIELDS = {o.name: tuple(f.name for f in o.fields if f.feature) for o in OBJECTS}


def write_sample_org(
    org_dir: Path,
    *,
    opportunities: int = 24,
    drop_objects: tuple[str, ...] = (),
    drop_fields: dict[str, tuple[str, ...]] | None = None,
    overrides: dict[str, list[dict[str, Any]]] | None = None,
    features: bool = True,
) -> Path:
    """Write the sample org; `drop_objects` leaves CSVs out, `drop_fields` leaves columns out,
    `overrides` replaces an object's rows; `features=False` writes an org without any org
    feature (no currency, fiscal-year or record-type objects, no such fields)."""
    from salesprep.catalog import get_object

    drop_fields = drop_fields or {}
    if not features:
        drop_objects = (*drop_objects, *FEATURE_OBJECTS)
        drop_fields = {
            name: (*drop_fields.get(name, ()), *FEATURE_FIELDS[name]) for name in FEATURE_FIELDS
        }
    rows = {**sample_rows(opportunities), **(overrides or {})}
    for name, object_rows in rows.items():
        if name in drop_objects:
            continue
        fields = [f for f in get_object(name).field_names if f not in drop_fields.get(name, ())]
        write_object(org_dir, name, object_rows, fields)
    return org_dir
