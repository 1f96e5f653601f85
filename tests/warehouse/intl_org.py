"""A hand-made org of a real company (issue 11), small enough to compute every number by hand:
several currencies with dated and static rates and amounts without a rate, a fiscal year that
starts in February, monthly quotas, an Omitted deal, record types and no email Tasks.

Week 2026-W10 runs Monday 2026-03-02 to Monday 2026-03-09 (UTC). With the fiscal year starting
in February (Organization.FiscalYearStartMonth = 2, named after the year it ends in), its
quarter is 2026-02-01 to 2026-05-01 (89 days), `FY2027 Q1`. The corporate currency is USD.
Rates (units per USD): EUR dated 0.8 from 2026-01-01 and 1.25 from 2026-03-01 (its static 0.5
is for quotas only); GBP static 0.5; CHF a rate of 0 (no rate); JPY no CurrencyType at all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from salesprep.org_folder import write_object
from salesprep.weeks import Week

from .tiny_org import org_to_raw

__all__ = ["org_to_raw", "write_intl_org"]

WEEK = Week.parse("2026-W10")
MANAGER, REP, REP2 = "005000000000000MGR", "005000000000000RP1", "005000000000000RP2"
NEW_BUSINESS, RENEWAL = "012000000000000NEW", "012000000000000REN"


def opp(n: int) -> str:
    """The 18-character Id of scenario opportunity `n`."""
    return f"006{n:015d}"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _user(uid: str, name: str, manager: str | None) -> dict[str, Any]:
    return {
        "Id": uid,
        "Name": name,
        "IsActive": True,
        "ManagerId": manager,
        "CreatedDate": _utc("2025-01-01T00:00:00"),
    }


class _Deals:
    """Opportunities with a history row at creation (as Salesforce writes one) and optional
    later rows; the current record is the last row's state unless overridden."""

    def __init__(self) -> None:
        self.opportunities: list[dict[str, Any]] = []
        self.history: list[dict[str, Any]] = []

    def add(
        self,
        n: int,
        owner: str,
        created: str,
        rows: list[dict[str, Any]],
        *,
        currency: str | None,
        record_type: str | None = NEW_BUSINESS,
        forecast: str = "Pipeline",
    ) -> None:
        for row in rows:
            self.history.append(
                {
                    "Id": f"008{len(self.history) + 1:015d}",
                    "OpportunityId": opp(n),
                    "StageName": row["stage"],
                    "Amount": row["amount"],
                    "CloseDate": date.fromisoformat(row["close"]),
                    "ForecastCategory": row.get("forecast"),
                    "CurrencyIsoCode": row.get("currency"),
                    "IsDeleted": False,
                    "CreatedDate": _utc(row.get("at", created)),
                }
            )
        last = rows[-1]
        self.opportunities.append(
            {
                "Id": opp(n),
                "Name": f"Deal {n}",
                "OwnerId": owner,
                "StageName": last["stage"],
                "Amount": last["amount"],
                "CloseDate": date.fromisoformat(last["close"]),
                "ForecastCategoryName": forecast,
                "IsClosed": last["stage"].startswith("Closed"),
                "IsWon": last["stage"] == "Closed Won",
                "CurrencyIsoCode": currency,
                "RecordTypeId": record_type,
                "IsDeleted": False,
                "CreatedDate": _utc(created),
            }
        )


def write_intl_org(org_dir: Path, *, custom_quarters: bool = False) -> Path:
    """Write the org as Data Export CSVs. `custom_quarters` adds a custom fiscal year whose
    Period quarters (4-4-5 weeks, `FY2026`) cover February to April 2026 with other bounds."""
    write_object(
        org_dir,
        "Organization",
        [
            {
                "Id": "00D000000000000ORG",
                "Name": "Acme International",
                "FiscalYearStartMonth": 2,
                "UsesStartDateAsFiscalYearName": False,
                "DefaultLocaleSidKey": "de_DE_EURO",
            }
        ],
    )
    write_object(
        org_dir,
        "User",
        [
            _user(MANAGER, "Mia Manager", None),
            _user(REP, "Ruth Rep", MANAGER),
            _user(REP2, "Raj Rep", MANAGER),
        ],
    )
    write_object(
        org_dir,
        "CurrencyType",
        [
            {"Id": "02c000000000000USD", "IsoCode": "USD", "ConversionRate": 1.0,
             "IsActive": True, "IsCorporate": True},
            {"Id": "02c000000000000EUR", "IsoCode": "EUR", "ConversionRate": 0.5,
             "IsActive": True, "IsCorporate": False},
            {"Id": "02c000000000000GBP", "IsoCode": "GBP", "ConversionRate": 0.5,
             "IsActive": False, "IsCorporate": False},
            {"Id": "02c000000000000CHF", "IsoCode": "CHF", "ConversionRate": 0.0,
             "IsActive": True, "IsCorporate": False},
        ],
    )  # fmt: skip
    write_object(
        org_dir,
        "DatedConversionRate",
        [
            {"Id": "04w000000000000E01", "IsoCode": "EUR", "ConversionRate": 0.8,
             "StartDate": date(2026, 1, 1), "NextStartDate": date(2026, 3, 1)},
            {"Id": "04w000000000000E02", "IsoCode": "EUR", "ConversionRate": 1.25,
             "StartDate": date(2026, 3, 1), "NextStartDate": None},
        ],
    )  # fmt: skip
    write_object(
        org_dir,
        "RecordType",
        [
            {"Id": NEW_BUSINESS, "Name": "New Business", "DeveloperName": "New_Business",
             "SobjectType": "Opportunity", "IsActive": True},
            {"Id": RENEWAL, "Name": "Renewal", "DeveloperName": "Renewal",
             "SobjectType": "Opportunity", "IsActive": True},
        ],
    )  # fmt: skip
    deals = _Deals()
    # 1: 1,000 EUR created in W10, closing 2026-04-15 (EUR 1.25): 800 USD of pipeline.
    deals.add(
        1,
        REP,
        "2026-03-03T10:00:00",
        [{"stage": "Prospecting", "amount": 1000.0, "close": "2026-04-15"}],
        currency="EUR",
    )
    # 2: 1,000 GBP won in W10 (static 0.5): 2,000 USD; no record type.
    deals.add(
        2,
        REP,
        "2026-02-01T10:00:00",
        [
            {"stage": "Prospecting", "amount": 1000.0, "close": "2026-03-20"},
            {
                "stage": "Closed Won",
                "amount": 1000.0,
                "close": "2026-03-04",
                "at": "2026-03-04T12:00:00",
            },
        ],
        currency="GBP",
        record_type=None,
        forecast="Closed",
    )
    # 3: 1,000 EUR won 2026-02-10 (EUR 0.8): 1,250 USD, in this fiscal quarter (Feb-Apr).
    deals.add(
        3,
        REP,
        "2026-01-20T10:00:00",
        [
            {"stage": "Prospecting", "amount": 1000.0, "close": "2026-02-28"},
            {
                "stage": "Closed Won",
                "amount": 1000.0,
                "close": "2026-02-10",
                "at": "2026-02-10T12:00:00",
            },
        ],
        currency="EUR",
        forecast="Closed",
    )
    # 4: 100,000 JPY won in W10: no rate, so it adds nothing and is listed.
    deals.add(
        4,
        REP,
        "2026-02-01T10:00:00",
        [
            {"stage": "Prospecting", "amount": 100000.0, "close": "2026-03-31"},
            {
                "stage": "Closed Won",
                "amount": 100000.0,
                "close": "2026-03-05",
                "at": "2026-03-05T12:00:00",
            },
        ],
        currency="JPY",
        forecast="Closed",
    )
    # 5: 500 in the corporate currency (empty CurrencyIsoCode), forecast Omitted: no pipeline.
    deals.add(
        5,
        REP,
        "2026-02-02T10:00:00",
        [{"stage": "Qualification", "amount": 500.0, "close": "2026-04-30", "forecast": "Omitted"}],
        currency=None,
    )
    # 6: 2,000 EUR. As of W09's end (row 1): closing 2026-02-27 at 0.8 = 2,500, Best Case (the
    # API value BestCase). As of W10's end (row 2, in GBP on the row): 2,000 GBP closing
    # 2026-04-10 = 4,000 USD, the row's empty category is the record's Commit.
    deals.add(
        6,
        REP,
        "2026-02-02T10:00:00",
        [
            {
                "stage": "Qualification",
                "amount": 2000.0,
                "close": "2026-02-27",
                "forecast": "BestCase",
            },
            {
                "stage": "Negotiation/Review",
                "amount": 2000.0,
                "close": "2026-04-10",
                "currency": "GBP",
                "at": "2026-03-04T09:00:00",
            },
        ],
        currency="EUR",
        forecast="Commit",
    )
    # 7: 700 CHF, whose rate is 0: no rate, listed, not pipeline.
    deals.add(
        7,
        REP,
        "2026-02-03T10:00:00",
        [{"stage": "Prospecting", "amount": 700.0, "close": "2026-04-20"}],
        currency="CHF",
    )
    # 8: a renewal won in W10, 9,999 USD: excluded by config, invisible to every number.
    deals.add(
        8,
        REP,
        "2026-02-03T10:00:00",
        [
            {"stage": "Prospecting", "amount": 9999.0, "close": "2026-03-31"},
            {
                "stage": "Closed Won",
                "amount": 9999.0,
                "close": "2026-03-03",
                "at": "2026-03-03T12:00:00",
            },
        ],
        currency="USD",
        record_type=RENEWAL,
        forecast="Closed",
    )
    # 9: a renewal created in W10, open: left out of opportunities_created and the deals.
    deals.add(
        9,
        REP,
        "2026-03-04T10:00:00",
        [{"stage": "Prospecting", "amount": 300.0, "close": "2026-04-01"}],
        currency="USD",
        record_type=RENEWAL,
    )
    write_object(org_dir, "Opportunity", deals.opportunities)
    write_object(org_dir, "OpportunityHistory", deals.history)
    # Calls and meetings are logged in Salesforce; emails are not (no email Task at all).
    write_object(
        org_dir,
        "Task",
        [
            {"Id": f"00T{n:015d}", "OwnerId": REP, "WhatId": opp(1), "Subject": "Call",
             "ActivityDate": date(2026, 3, 2 + n), "IsClosed": True, "TaskSubtype": "Call",
             "Type": "Call", "IsDeleted": False, "CreatedDate": _utc("2026-03-02T09:00:00")}
            for n in range(1, 4)
        ],
    )  # fmt: skip
    write_object(
        org_dir,
        "Event",
        [
            {"Id": "00U000000000000001", "OwnerId": REP2,
             "StartDateTime": _utc("2026-03-04T15:00:00"), "IsDeleted": False,
             "CreatedDate": _utc("2026-03-01T09:00:00")},
        ],
    )  # fmt: skip
    quota = [
        # REP: monthly rows of the quarter 10,000 USD (empty currency) + 9,000 EUR at the
        # static 0.5 (18,000) + 4,000 GBP at 0.5 (8,000) = 36,000; rows outside the quarter
        # (January, May) do not count.
        ("0J9000000000000Q01", REP, date(2026, 2, 1), 10000.0, None),
        ("0J9000000000000Q02", REP, date(2026, 3, 1), 9000.0, "EUR"),
        ("0J9000000000000Q03", REP, date(2026, 4, 1), 4000.0, "GBP"),
        ("0J9000000000000Q04", REP, date(2026, 1, 1), 77777.0, None),
        ("0J9000000000000Q05", REP, date(2026, 5, 1), 99999.0, None),
        # REP2: a row in JPY, which has no rate: no quota, never the partial 5,000.
        ("0J9000000000000Q06", REP2, date(2026, 2, 1), 5000.0, "USD"),
        ("0J9000000000000Q07", REP2, date(2026, 3, 1), 100000.0, "JPY"),
    ]
    write_object(
        org_dir,
        "ForecastingQuota",
        [
            {"Id": i, "QuotaOwnerId": owner, "StartDate": start, "QuotaAmount": amount,
             "CurrencyIsoCode": code}
            for i, owner, start, amount, code in quota
        ],
    )  # fmt: skip
    if custom_quarters:
        # A custom fiscal year named 2026 whose first quarter runs 2026-02-08..2026-05-09.
        write_object(
            org_dir,
            "FiscalYearSettings",
            [{"Id": "022000000000000FY1", "Name": "2026", "StartDate": date(2026, 2, 8),
              "EndDate": date(2027, 2, 6), "IsStandardYear": False}],
        )  # fmt: skip
        write_object(
            org_dir,
            "Period",
            [{"Id": "026000000000000PQ1", "FiscalYearSettingsId": "022000000000000FY1",
              "Type": "Quarter", "StartDate": date(2026, 2, 8), "EndDate": date(2026, 5, 9),
              "Number": 1}],
        )  # fmt: skip
    return org_dir
