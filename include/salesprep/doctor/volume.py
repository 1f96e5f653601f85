"""Rows per object, and what the first run (a full backfill) will cost in API calls and time,
through REST or Bulk API 2.0 as the settings choose (docs/extraction.md).

The call count follows extraction's own arithmetic (composite batches, pages, field groups,
Bulk job requests). The time is an estimate: the wait for one page of the largest object,
measured now against this org, times the pages, plus salesprep's own processing per record as
measured in the committed benchmark. Salesforce's queueing of Bulk jobs is not knowable in
advance and is left out; the line says so.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from salesprep.catalog import OBJECTS
from salesprep.config import SalesforceSettings
from salesprep.doctor.model import Check, ok, warn
from salesprep.doctor.org import Allowance
from salesprep.doctor.survey import Survey
from salesprep.salesforce.client import ApiClient, composite_calls
from salesprep.salesforce.errors import ExtractError
from salesprep.salesforce.extract import ObjectPlan, build_queries

# salesprep's own CPU per record in the extract step (Parquet conversion and writing, the
# emulator running in another process): bench/results/2026-11-28-M.md, 2,767,031 rows on 2
# cores: extract_rest 50.46 CPU s, extract_bulk 56.14 CPU s.
REST_SECONDS_PER_RECORD = 50.46 / 2_767_031
BULK_SECONDS_PER_RECORD = 56.14 / 2_767_031
BENCH_SOURCE = "bench/results/2026-11-28-M.md"


@dataclass(frozen=True)
class ObjectCost:
    """What reading one object in full costs."""

    name: str
    rows: int
    method: str  # rest or bulk
    calls: int
    pages: int  # REST pages, or Bulk result slices


@dataclass(frozen=True)
class Sample:
    """One REST page of the largest object, timed: the org's real answer speed."""

    name: str
    records: int
    seconds: float


def volume_checks(
    client: ApiClient,
    plans: dict[str, ObjectPlan],
    survey: Survey,
    settings: SalesforceSettings,
    allowance: Allowance | None,
) -> list[Check]:
    counts = {n: survey.count(n) for n, p in plans.items() if p.present}
    unknown = sorted(n for n, c in counts.items() if c is None)
    rows = {n: c for n, c in counts.items() if c is not None}
    total = sum(rows.values())
    biggest = sorted(rows.items(), key=lambda item: -item[1])
    listed = ", ".join(f"{n} {c:,}" for n, c in biggest[:6])
    more = f" and {len(biggest) - 6} more" if len(biggest) > 6 else ""
    detail = (
        f"{total:,} rows in {len(rows)} objects (queryAll: deleted rows included): {listed}{more}"
    )
    row_check = ok("rows", detail, rows=rows)
    if unknown:
        errors = "; ".join(f"{n}: {survey.error(f'count:{n}')}" for n in unknown)
        row_check = warn("rows", f"{detail}; COUNT() failed for {errors}", rows=rows)
    costs = [_object_cost(client, plans[n], c, settings) for n, c in rows.items()]
    sample = _sample_page(client, plans, biggest, settings) if biggest else None
    return [row_check, _backfill_check(client, costs, sample, settings, allowance)]


def _object_cost(
    client: ApiClient, plan: ObjectPlan, rows: int, settings: SalesforceSettings
) -> ObjectCost:
    """Extraction's requests for a full load of `plan`: REST pages (per field group) or a Bulk
    job (create, at least one poll, result slices, delete)."""
    bulk = settings.query_method == "bulk" or (
        settings.query_method == "auto" and rows >= settings.bulk_threshold
    )
    if bulk:
        slices = max(1, math.ceil(rows / settings.bulk_max_records))
        return ObjectCost(plan.name, rows, "bulk", 3 + slices, slices)
    try:
        groups = len(
            build_queries(
                plan,
                max_url_chars=settings.max_query_url_chars,
                url_length=lambda soql: client.url_length(
                    client.data_path("queryAll/"), {"q": soql}
                ),
            )
        )
    except ExtractError:
        groups = 1  # the run will say why it cannot split; the count stays a lower bound
    pages = max(1, math.ceil(rows / settings.page_size)) * groups
    return ObjectCost(plan.name, rows, "rest", pages, pages)


def _sample_page(
    client: ApiClient,
    plans: dict[str, ObjectPlan],
    biggest: list[tuple[str, int]],
    settings: SalesforceSettings,
) -> Sample | None:
    """Time the first page of the largest object, with every field a run selects."""
    name, rows = biggest[0]
    plan = plans[name]
    if rows == 0 or not plan.selected:
        return None
    # LIMIT: one page is all doctor reads, and neither Salesforce nor the emulator need to
    # prepare more.
    soql = f"SELECT {', '.join(plan.selected.values())} FROM {name} LIMIT {settings.page_size}"
    started = time.monotonic()
    pages = client.query_pages(soql, page_size=settings.page_size, what=f"sample page of {name}")
    try:
        records = next(pages)
    except ExtractError:
        return None
    finally:
        pages.close()  # one page is the sample: never ask for the next
    return Sample(name, len(records), time.monotonic() - started)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _backfill_check(
    client: ApiClient,
    costs: list[ObjectCost],
    sample: Sample | None,
    settings: SalesforceSettings,
    allowance: Allowance | None,
) -> Check:
    describe = [client.data_path(f"sobjects/{o.name}/describe/") for o in OBJECTS]
    counts = [_query_path(client, f"SELECT COUNT() FROM {c.name}") for c in costs]
    deleted = [client.data_path(f"sobjects/{c.name}/deleted/") for c in costs]
    fixed = composite_calls(describe) + composite_calls(counts)
    calls = fixed + sum(c.calls for c in costs)
    weekly = composite_calls(describe) + composite_calls(deleted + counts)
    rest = [c for c in costs if c.method == "rest"]
    bulk = [c for c in costs if c.method == "bulk"]
    # Each request waits about as long as the small /limits call did; each record adds its
    # share of the sample page beyond that wait, and salesprep's own processing.
    latency = allowance.request_seconds if allowance else 0.0
    per_record = 0.0
    if sample and sample.records:
        latency = latency or sample.seconds
        per_record = max(0.0, sample.seconds - latency) / sample.records
    seconds = fixed * latency
    seconds += sum(
        c.calls * latency + c.rows * (per_record + REST_SECONDS_PER_RECORD) for c in rest
    )
    seconds += sum(
        c.calls * latency
        + settings.bulk_poll_seconds
        + c.rows * (per_record + BULK_SECONDS_PER_RECORD)
        for c in bulk
    )
    how = settings.query_method
    if how == "auto":
        how = f"auto: Bulk API 2.0 from {settings.bulk_threshold:,} rows"
    parts = []
    if rest:
        parts.append(f"{len(rest)} objects through REST in {sum(c.pages for c in rest):,} pages")
    if bulk:
        parts.append(f"{len(bulk)} through Bulk API 2.0 ({', '.join(c.name for c in bulk)})")
    basis = (
        f"one {sample.records:,}-record page of {sample.name} took {sample.seconds:.2f} s here"
        if sample
        else "no records to sample"
    )
    reads = "; ".join(parts) or "nothing to read"
    detail = (
        f"a full backfill ({how}) takes about {calls:,} API calls ({reads}) "
        f"and about {_duration(seconds)}, then about {weekly} calls for an unchanged week. "
        f"Estimate: {basis}, plus salesprep's own processing per record ({BENCH_SOURCE})"
    )
    if bulk:
        detail += "; Salesforce's queueing of Bulk jobs is not included"
    data = {
        "api_calls": calls,
        "seconds": round(seconds, 1),
        "weekly_unchanged_api_calls": weekly,
        "objects": {
            c.name: {"rows": c.rows, "method": c.method, "api_calls": c.calls} for c in costs
        },
        "sample": sample.__dict__ if sample else None,
    }
    # Over the guard already, the API check fails; the room is then not the news.
    if allowance is not None and allowance.share < allowance.guard and calls > allowance.room:
        return warn(
            "backfill estimate",
            f"{detail}. That is more than the {allowance.room:,} calls left today below the "
            f"guard salesforce.max_api_share={allowance.guard:g}: the backfill would stop "
            "part-way, changing nothing",
            "run the backfill when the org's usage is low, raise max_api_share, or use "
            "query_method bulk (fewer calls for large objects)",
            **data,
        )
    return ok("backfill estimate", detail, **data)


def _query_path(client: ApiClient, soql: str) -> str:
    return client.data_path("queryAll/") + "?" + urlencode({"q": soql})
