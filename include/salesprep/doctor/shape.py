"""The org's shape, as the metrics will see it (docs/metrics.md): its currencies and dated rates,
its fiscal year, its Opportunity record types, its forecast quotas and which kinds of activity
it logs."""

from __future__ import annotations

import calendar
from typing import Any

from salesprep.config import Settings
from salesprep.doctor.model import Check, info, ok, warn
from salesprep.doctor.survey import ACTIVITY_KINDS, ACTIVITY_WINDOW_DAYS, Survey
from salesprep.salesforce.extract import ObjectPlan
from salesprep.weeks import Week


def shape_checks(
    survey: Survey, plans: dict[str, ObjectPlan], settings: Settings, week: Week
) -> list[Check]:
    return [
        _org(survey, settings),
        _currencies(survey, plans),
        _fiscal_year(survey, settings),
        _record_types(survey, plans),
        _quotas(survey, plans, settings),
        _activity(survey, week),
    ]


def _org(survey: Survey, settings: Settings) -> Check:
    rows = survey.records("org")
    if not rows:
        why = survey.error("org") or "no Organization row"
        return warn(
            "org",
            f"the Organization row cannot be read ({why}): the fiscal year start comes from "
            "the setting fiscal_year_start_month, else January; money is formatted for en_US",
            "give the integration user read access to Organization (View Setup and "
            "Configuration), or set fiscal_year_start_month",
        )
    row = rows[0]
    zone = row.get("TimeZoneSidKey")
    parts = [f"{row.get('Name') or '(no name)'} ({row.get('Id') or 'no Id'})"]
    if row.get("DefaultLocaleSidKey"):
        parts.append(f"locale {row['DefaultLocaleSidKey']}")
    if zone:
        parts.append(f"time zone {zone}")
    data = {k: v for k, v in row.items() if k != "attributes"}
    if zone and zone != settings.org_timezone:
        return warn(
            "org",
            ", ".join(parts) + f"; weeks are cut in {settings.org_timezone} "
            "(the setting org_timezone)",
            f"set SALESPREP_ORG_TIMEZONE={zone} if weeks should follow the org's time zone",
            **data,
        )
    return ok("org", ", ".join(parts), **data)


def _rate_text(row: dict[str, Any]) -> str:
    rate = row.get("ConversionRate")
    return (
        f"{row.get('IsoCode')} {rate:g}"
        if isinstance(rate, int | float)
        else str(row.get("IsoCode"))
    )


def _currencies(survey: Survey, plans: dict[str, ObjectPlan]) -> Check:
    rows = survey.records("currencies")
    opportunity_has_code = "CurrencyIsoCode" in plans["Opportunity"].selected
    if not rows:
        if opportunity_has_code:
            return warn(
                "currencies",
                "Opportunity has CurrencyIsoCode but no CurrencyType rows can be read: every "
                "amount not in the corporate currency will have no rate and count as null",
                "give the integration user read access to CurrencyType",
            )
        return info(
            "currencies",
            "single-currency org (no CurrencyType): amounts are used as they are, in the "
            "currency of the setting currency_code",
            multi_currency=False,
        )
    corporate = [r["IsoCode"] for r in rows if r.get("IsCorporate")]
    no_rate = [
        r["IsoCode"]
        for r in rows
        if not r.get("IsCorporate")
        and not (isinstance(r.get("ConversionRate"), int | float) and r["ConversionRate"] > 0)
    ]
    dated_total = survey.total("dated_rates") or 0
    dated_codes = sorted({r.get("IsoCode") for r in survey.records("dated_rates") or []} - {None})
    inactive = [r["IsoCode"] for r in rows if r.get("IsActive") is False]
    listed = ", ".join(
        f"{r['IsoCode']} (corporate)" if r.get("IsCorporate") else _rate_text(r) for r in rows
    )
    detail = f"{len(rows)} currencies: {listed}"
    if inactive:
        detail += f"; inactive: {', '.join(inactive)}"
    if dated_total:
        detail += (
            f"; dated rates on: {dated_total:,} DatedConversionRate rows for "
            f"{', '.join(dated_codes)} (opportunity amounts use the rate of their close date)"
        )
    else:
        detail += "; dated rates off: static CurrencyType rates"
    data = {
        "multi_currency": True,
        "currencies": [r.get("IsoCode") for r in rows],
        "corporate": corporate[0] if corporate else None,
        "dated_rates": dated_total,
        "dated_currencies": dated_codes,
        "without_rate": no_rate,
    }
    undated_without_rate = [c for c in no_rate if c not in dated_codes]
    if not corporate:
        return warn(
            "currencies",
            detail + "; none is corporate: the setting currency_code is taken as corporate",
            "mark the corporate currency in Salesforce, or set currency_code to it",
            **data,
        )
    if undated_without_rate:
        return warn(
            "currencies",
            detail + f"; no rate for {', '.join(undated_without_rate)}: such amounts count as "
            "null and the data-quality appendix lists them",
            "set a conversion rate for each currency in Salesforce (Manage Currencies)",
            **data,
        )
    return ok("currencies", detail, **data)


def _fiscal_year(survey: Survey, settings: Settings) -> Check:
    quarters = sorted(survey.records("quarters") or [], key=lambda r: str(r.get("StartDate")))
    configured = settings.fiscal_year_start_month
    org_rows = survey.records("org") or [{}]
    org_month = org_rows[0].get("FiscalYearStartMonth")
    data = {
        "quarters": len(quarters),
        "custom_quarters": 0,
        "configured": configured,
        "org_month": org_month,
    }
    if quarters:
        # Salesforce keeps Period rows for standard fiscal years too (FiscalYearSettings
        # IsStandardYear = true): those quarters are the standard ones, named as the org names
        # them.
        standard_years = {
            r.get("Id") for r in survey.records("fiscal_years") or [] if r.get("IsStandardYear")
        }
        custom = [q for q in quarters if q.get("FiscalYearSettingsId") not in standard_years]
        first, last = quarters[0].get("StartDate"), quarters[-1].get("EndDate")
        kind = "custom fiscal year" if custom else "standard fiscal year, defined in Salesforce"
        data["custom_quarters"] = len(custom)
        return ok(
            "fiscal year",
            f"{kind}: {len(quarters)} quarters (Period Type = 'Quarter') from {first} to "
            f"{last} set the quarters; days outside them follow the fiscal year start month",
            **data,
        )
    if configured is not None and org_month is not None and int(org_month) != configured:
        return warn(
            "fiscal year",
            f"the setting fiscal_year_start_month={configured} overrides the org's start month "
            f"{calendar.month_name[int(org_month)]}: quarters will not match the org's forecasts",
            "unset fiscal_year_start_month to follow the org",
            **data,
        )
    if configured is not None:
        source = "the setting fiscal_year_start_month"
        month = configured
    elif org_month is not None:
        source = "Organization.FiscalYearStartMonth"
        month = int(org_month)
    else:
        source = "no Organization row, no setting: calendar quarters"
        month = 1
    return ok(
        "fiscal year",
        f"standard fiscal year starting in {calendar.month_name[month]} ({source})",
        **data,
    )


def _record_types(survey: Survey, plans: dict[str, ObjectPlan]) -> Check:
    rows = survey.records("record_types")
    has_field = "RecordTypeId" in plans["Opportunity"].selected
    if rows is None:
        if has_field:
            return warn(
                "record types",
                "Opportunity has RecordTypeId but RecordType cannot be read "
                f"({survey.error('record_types')}): record type rules match nothing",
                "give the integration user read access to RecordType",
            )
        return info("record types", "no record types: every opportunity counts", count=0)
    if not rows:
        return info("record types", "no Opportunity record types: every opportunity counts")
    if not has_field:
        return warn(
            "record types",
            f"{len(rows)} Opportunity record types, but Opportunity.RecordTypeId cannot be "
            "read: record type rules match nothing and deals show no record type",
            "give the integration user read access to Opportunity.RecordTypeId",
            record_types=[r.get("DeveloperName") or r.get("Name") for r in rows],
        )
    active = [r for r in rows if r.get("IsActive") is not False]
    names = ", ".join(
        f"{r.get('Name')} ({r.get('DeveloperName')})" if r.get("DeveloperName") else str(r["Name"])
        for r in rows
    )
    return ok(
        "record types",
        f"{len(rows)} Opportunity record types ({len(active)} active): {names}",
        record_types=[r.get("DeveloperName") or r.get("Name") for r in rows],
    )


def _quotas(survey: Survey, plans: dict[str, ObjectPlan], settings: Settings) -> Check:
    rows = survey.count("ForecastingQuota") if plans["ForecastingQuota"].present else None
    if rows:
        return ok("forecast quotas", f"{rows:,} ForecastingQuota rows", rows=rows)
    why = "no ForecastingQuota rows" if rows == 0 else "ForecastingQuota cannot be read"
    if settings.quota_csv is not None:
        if settings.quota_csv.is_file():
            return ok("forecast quotas", f"{why}; quotas come from quota_csv {settings.quota_csv}")
        return warn(
            "forecast quotas",
            f"{why}, and quota_csv {settings.quota_csv} does not exist",
            "point the setting quota_csv at the quota file",
        )
    return warn(
        "forecast quotas",
        f"{why} and no quota_csv: packets show no quota, attainment, pacing or coverage, and "
        "no performance-conversation agenda",
        "enable quotas in Collaborative Forecasts, or keep a quota CSV (setting quota_csv)",
        rows=rows,
    )


def _activity(survey: Survey, week: Week) -> Check:
    start, end = survey.window
    counts = {kind: survey.total(kind) for kind in ACTIVITY_KINDS}
    window = (
        f"in the {ACTIVITY_WINDOW_DAYS} days before {end} (the end of {week.label}, from {start})"
    )
    found = ", ".join(f"{v:,} {k}" for k, v in counts.items() if v is not None)
    unknown = {k: survey.error(k) for k, v in counts.items() if v is None}
    not_logged = [k for k, v in counts.items() if v == 0]
    data = {"window": [start, end], "week": week.label, **counts, "not_logged": not_logged}
    parts = [f"{window}: {found or 'nothing counted'}"]
    if unknown:
        reasons = "; ".join(f"{k}: {why}" for k, why in unknown.items())
        parts.append(f"cannot be counted ({reasons}): they count as not logged")
    if not_logged:
        parts.append(
            f"not logged: {', '.join(not_logged)}. Such a metric is null in every packet, which "
            "says the org does not log it in Salesforce (Einstein Activity Capture or a dialer "
            "may keep it elsewhere)"
        )
    if unknown or not_logged:
        fix = (
            "see the access lines above"
            if unknown
            else "nothing to fix if the org keeps this activity outside Salesforce; otherwise "
            "log or sync it into Salesforce"
        )
        return warn("activity logged", "; ".join(parts), fix, **data)
    return ok("activity logged", parts[0], **data)
