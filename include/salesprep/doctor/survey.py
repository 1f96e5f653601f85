"""The read-only queries doctor asks, in as few API calls as composite allows: a `COUNT()` of
every readable object (queryAll, as extraction counts), the org-shape rows (Organization,
currencies, fiscal periods, record types) and the activity logged in the last 91 days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import urlencode

from salesprep.salesforce.client import ApiClient, SubResult
from salesprep.salesforce.extract import ObjectPlan
from salesprep.weeks import Week

# METRICS.md "Activity the org does not log": a kind is logged when the org has a record of it
# in the 91 days before the week's end.
ACTIVITY_WINDOW_DAYS = 91
ACTIVITY_KINDS = ("calls", "emails", "meetings")
_TASK_KIND = {"calls": "Call", "emails": "Email"}
# Reference -> (object, fields to read, field the filter needs, the rest of the SOQL).
_SHAPE_QUERIES: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "org": (
        "Organization",
        (
            "Id",
            "Name",
            "FiscalYearStartMonth",
            "UsesStartDateAsFiscalYearName",
            "DefaultLocaleSidKey",
            "TimeZoneSidKey",
        ),
        "",
        "",
    ),
    "currencies": (
        "CurrencyType",
        ("IsoCode", "ConversionRate", "IsActive", "IsCorporate"),
        "",
        "",
    ),
    "dated_rates": ("DatedConversionRate", ("IsoCode",), "", ""),
    "fiscal_years": ("FiscalYearSettings", ("Id", "Name", "IsStandardYear"), "", ""),
    "quarters": (
        "Period",
        ("StartDate", "EndDate", "Number", "FiscalYearSettingsId"),
        "Type",
        " WHERE {filter} = 'Quarter'",
    ),
    "record_types": (
        "RecordType",
        ("Name", "DeveloperName", "IsActive"),
        "SobjectType",
        " WHERE {filter} = 'Opportunity'",
    ),
}


@dataclass
class Survey:
    """What the queries answered, by reference; `unasked` says why a question was not asked."""

    results: dict[str, SubResult] = field(default_factory=dict)
    unasked: dict[str, str] = field(default_factory=dict)
    window: tuple[str, str] = ("", "")

    def count(self, name: str) -> int | None:
        result = self.results.get(f"count:{name}")
        if result is None or not result.ok:
            return None
        return int(result.body.get("totalSize", 0))

    def records(self, ref: str) -> list[dict[str, Any]] | None:
        result = self.results.get(ref)
        if result is None or not result.ok:
            return None
        return list(result.body.get("records", []))

    def total(self, ref: str) -> int | None:
        result = self.results.get(ref)
        if result is None or not result.ok:
            return None
        return int(result.body.get("totalSize", 0))

    def error(self, ref: str) -> str:
        result = self.results.get(ref)
        if result is None:
            return self.unasked.get(ref, "not asked")
        return "" if result.ok else result.message


def _select(plan: ObjectPlan, *names: str) -> list[str]:
    """The org's names of those catalog fields the org lets this user read."""
    return [plan.selected[n] for n in names if n in plan.selected]


def _soql_datetime(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_survey(client: ApiClient, plans: dict[str, ObjectPlan], *, week: Week, tz: str) -> Survey:
    """Ask every question in composite calls (5 queries per call)."""
    survey = Survey()
    queries: dict[str, str] = {}
    for name, plan in plans.items():
        if plan.present:
            queries[f"count:{name}"] = f"SELECT COUNT() FROM {name}"
    for ref, (name, fields, filter_field, tail) in _SHAPE_QUERIES.items():
        plan = plans[name]
        selected = _select(plan, *fields)
        if not plan.present or not selected:
            survey.unasked[ref] = f"{name} cannot be read"
        elif filter_field and filter_field not in plan.selected:
            survey.unasked[ref] = f"{name}.{filter_field} cannot be read"
        else:
            where = tail.replace("{filter}", plan.selected.get(filter_field, ""))
            queries[ref] = f"SELECT {', '.join(selected)} FROM {name}{where}"
    queries.update(_activity_queries(plans, week, tz, survey))
    paths = [
        (ref, client.data_path("queryAll/") + "?" + urlencode({"q": soql}))
        for ref, soql in queries.items()
    ]
    if paths:
        survey.results = client.composite(paths, what="doctor's counts and org-shape queries")
    return survey


def _activity_queries(
    plans: dict[str, ObjectPlan], week: Week, tz: str, survey: Survey
) -> dict[str, str]:
    """COUNT() of each activity kind the metrics count, org-wide, non-deleted, in the window."""
    end_date = week.end_date
    start_date = end_date - timedelta(days=ACTIVITY_WINDOW_DAYS)
    end_at = week.end(tz)
    start_at = end_at - timedelta(days=ACTIVITY_WINDOW_DAYS)
    survey.window = (start_date.isoformat(), end_date.isoformat())
    queries = {}
    task = plans["Task"]
    subtype, type_ = task.selected.get("TaskSubtype"), task.selected.get("Type")
    needed = [task.selected.get(n) for n in ("ActivityDate", "IsClosed")]
    unreadable = [n for n in ("ActivityDate", "IsClosed") if n not in task.selected]
    if subtype is None and type_ is None:
        unreadable.append("TaskSubtype and Type")
    for kind, value in _TASK_KIND.items():
        if not task.present:
            survey.unasked[kind] = "the Task object cannot be read"
            continue
        if unreadable:
            survey.unasked[kind] = f"Task.{' and Task.'.join(unreadable)} cannot be read"
            continue
        if subtype and type_:
            rule = f"({subtype} = '{value}' OR ({subtype} = null AND {type_} = '{value}'))"
        else:
            rule = f"{subtype or type_} = '{value}'"
        where = [
            f"{needed[1]} = true",
            rule,
            f"{needed[0]} >= {start_date.isoformat()}",
            f"{needed[0]} < {end_date.isoformat()}",
        ]
        queries[kind] = _count(task, where)
    event = plans["Event"]
    start_field = event.selected.get("StartDateTime")
    if not event.present or start_field is None:
        survey.unasked["meetings"] = "Event or its StartDateTime cannot be read"
    else:
        where = [
            f"{start_field} >= {_soql_datetime(start_at)}",
            f"{start_field} < {_soql_datetime(end_at)}",
        ]
        queries["meetings"] = _count(event, where)
    return queries


def _count(plan: ObjectPlan, where: list[str]) -> str:
    deleted = plan.selected.get("IsDeleted")
    if deleted:
        where = [f"{deleted} = false", *where]
    return f"SELECT COUNT() FROM {plan.name} WHERE {' AND '.join(where)}"
