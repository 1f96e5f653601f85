"""Extraction: every catalog object from a Salesforce org into the raw Parquet landing zone.

A run describes the org (one composite call with every catalog object's describe), plans
which declared fields to query, then per object reads either everything (the first
run, or when the saved state does not fit the org any more) or the window
`[watermark - lookback, run start)` of its cursor field (`SObject.cursor`). A `COUNT()` of
the window picks REST `queryAll` or, from `bulk_threshold` records, Bulk API 2.0. Hard
deletes come from `sobjects/<Object>/deleted/`, or from an Id reconciliation when that log
cannot cover the window. Records are upserted by Id into a new landing zone, which replaces
the old one atomically; only then are the new watermarks saved.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pyarrow as pa
import pyarrow.parquet as pq

from salesprep import progress
from salesprep.catalog import OBJECTS, Field, SObject, get_object
from salesprep.runs import atomic_swap
from salesprep.salesforce import landing
from salesprep.salesforce.bulk import BulkUnavailable, iter_bulk_slices
from salesprep.salesforce.client import ApiClient
from salesprep.salesforce.errors import (
    ApiLimitError,
    ApiRequestError,
    ExtractError,
    ExtractStopped,
    MissingRequiredError,
    QueryLocatorExpired,
)
from salesprep.salesforce.records import convert_value, csv_slice_to_table, records_to_batch
from salesprep.salesforce.report import REPORT_FILE, ExtractReport, ObjectReport, load_report
from salesprep.salesforce.state import STATE_FILE, ExtractState, ObjectState, load_state, save_state

if TYPE_CHECKING:
    from simple_salesforce import Salesforce

    from salesprep.config import Settings

__all__ = [
    "ApiLimitError",
    "ApiRequestError",
    "ExtractError",
    "MissingRequiredError",
    "ObjectPlan",
    "Window",
    "build_queries",
    "convert_value",
    "extract_org",
    "plan_extraction",
    "records_to_batch",
    "state_path",
]

log = logging.getLogger(__name__)

# Compound fields (BillingAddress, geolocations) cannot be read through SOQL with their parts.
_COMPOUND_TYPES = frozenset({"address", "location"})
_LOCATOR_RESTARTS = 2


@dataclass
class ObjectPlan:
    """How to read one catalog object from this org: which org fields feed which columns."""

    sobject: SObject
    present: bool
    # Catalog field name -> the org's field name to select for it.
    selected: dict[str, str] = field(default_factory=dict)
    missing_fields: list[str] = field(default_factory=list)
    replicateable: bool = True

    @property
    def name(self) -> str:
        return self.sobject.name

    @property
    def cursor(self) -> str | None:
        """The org's name of the object's cursor field, None if the org lacks it."""
        return self.selected.get(self.sobject.cursor)

    @property
    def signature(self) -> list[str]:
        """The selected org fields: a change means the landed rows lack or have extra data."""
        return list(self.selected.values())


@dataclass(frozen=True)
class Window:
    """The records of one load: cursor in `[start, end)`, or everything when `start` is None
    (a backfill also takes records stamped after `end`: re-reading them later is harmless)."""

    start: datetime | None
    end: datetime
    reason: str = ""

    @property
    def incremental(self) -> bool:
        return self.start is not None

    def where(self, cursor: str) -> str | None:
        if self.start is None:
            return None
        return f"{cursor} >= {_soql_datetime(self.start)} AND {cursor} < {_soql_datetime(self.end)}"


@dataclass
class _Deletes:
    ids: list[str] = field(default_factory=list)
    reconcile: bool = False
    note: str = ""


@dataclass
class _Run:
    client: ApiClient
    settings: Settings
    raw_root: Path
    staging: Path
    work: Path
    page_size: int
    method: str
    # One DuckDB merge at a time: each may take MERGE_MEMORY_LIMIT.
    merging: threading.Lock = field(default_factory=threading.Lock)


def state_path(settings: Settings) -> Path:
    """Where extraction keeps its watermarks."""
    return settings.state_dir / STATE_FILE


def extract_org(
    sf: Salesforce,
    raw_root: Path,
    *,
    settings: Settings,
    page_size: int | None = None,
    method: str | None = None,
    mode: str | None = None,
) -> ExtractReport:
    """Load every catalog object into `raw_root`, replacing the landing zone atomically.

    `method` (`auto`, `rest`, `bulk`) and `mode` (`incremental`, `full`) override
    `settings.salesforce.query_method` / `extract_mode`; `page_size` overrides `page_size`.
    Raises `MissingRequiredError` naming every required object/field the org lacks, before
    any data is read, and `ApiLimitError` when the org's API limit (or the run's guard on it)
    stops the run. On any failure the previous landing zone and the watermarks are untouched.
    """
    config = settings.salesforce
    method = method or config.query_method
    mode = mode or config.extract_mode
    if method not in ("auto", "rest", "bulk"):
        raise ExtractError(f"query method {method!r} must be auto, rest or bulk")
    if mode not in ("incremental", "full"):
        raise ExtractError(f"extract mode {mode!r} must be incremental or full")
    raw_root = Path(raw_root)
    started = time.monotonic()
    client = ApiClient(sf, config)
    report = ExtractReport(
        mode=mode,
        api_version=client.version,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        run_id=uuid.uuid4().hex,
    )
    # The new landing zone is built beside the old one and swapped in only when complete.
    with atomic_swap.replacing(raw_root) as staging, atomic_swap.scratch(raw_root) as work:
        run = _Run(client, settings, raw_root, staging, work, page_size or config.page_size, method)
        plans = plan_extraction(client, settings=settings)
        # The server's clock ends the window: the client's may be off.
        run_end = (client.server_time or datetime.now(UTC)).replace(microsecond=0)
        previous = _previous_state(settings, raw_root, client.org_id, mode)
        _check_required(plans)
        windows = {p.name: _window(p, previous, raw_root, run_end, settings) for p in plans}
        counts, deletes = _survey(client, plans, windows)
        loaded = _load_objects(run, plans, windows, counts, deletes)
        report.objects.update((plan.name, loaded[plan.name]) for plan in plans)
        incremental = any(w.incremental for w in windows.values())
        report.mode = "incremental" if incremental else "full"
        _finish_report(report, client, started)
        report.write(staging)
    # The load is committed: only now may the watermarks move.
    save_state(state_path(settings), _next_state(client.org_id, report.run_id, plans, windows))
    log.info(
        "extracted %s rows (%s fetched, %s deleted, %s purged) of %d objects in %.1fs with "
        "%d API calls (%d retries, %d re-logins) into %s; report %s\n%s",
        f"{report.rows:,}",
        f"{report.fetched_rows:,}",
        f"{report.deleted_rows:,}",
        f"{report.hard_deleted_rows:,}",
        len(report.objects),
        report.seconds,
        report.api_calls,
        report.retries,
        report.relogins,
        raw_root,
        raw_root / REPORT_FILE,
        report.table(),
    )
    log.info("extract report: %s", json.dumps(report.summary(), sort_keys=True))
    return report


# ---------------------------------------------------------------------------- planning


def plan_extraction(client: ApiClient, *, settings: Settings) -> list[ObjectPlan]:
    """Describe every catalog object in one composite call and plan what to read; an object
    the org does not have (or hides from the integration user) answers NOT_FOUND."""
    subrequests = [(o.name, client.data_path(f"sobjects/{o.name}/describe/")) for o in OBJECTS]
    described = client.composite(subrequests, what="describe of the catalog objects")
    plans = []
    for sobject in OBJECTS:
        result = described[sobject.name]
        absent = result.status == 404 or result.error_code in ("NOT_FOUND", "INVALID_TYPE")
        if absent or (result.ok and not result.body.get("queryable", True)):
            plans.append(
                ObjectPlan(sobject, present=False, missing_fields=list(sobject.field_names))
            )
            continue
        if not result.ok:
            raise ExtractError(
                f"describe of Salesforce object {sobject.name} failed: {result.message}"
            )
        org_fields = {f["name"].lower(): f for f in result.body.get("fields", [])}
        plan = _plan_object(sobject, org_fields, settings)
        plan.replicateable = bool(result.body.get("replicateable", True))
        plans.append(plan)
    return plans


def _org_field_name(sobject: SObject, f: Field, settings: Settings) -> str:
    """The org's name for a declared field: the loss-reason custom field is configurable."""
    if sobject.name == "Opportunity" and f.name == "Loss_Reason__c":
        return settings.salesforce.loss_reason_field
    return f.name


def _plan_object(
    sobject: SObject, org_fields: dict[str, dict[str, Any]], settings: Settings
) -> ObjectPlan:
    plan = ObjectPlan(sobject, present=True)
    for f in sobject.fields:
        described = org_fields.get(_org_field_name(sobject, f, settings).lower())
        if described is None or described.get("type") in _COMPOUND_TYPES:
            plan.missing_fields.append(f.name)
        else:
            plan.selected[f.name] = described["name"]
    return plan


def _check_required(plans: list[ObjectPlan]) -> None:
    problems = []
    for plan in plans:
        if not plan.present:
            if plan.sobject.required:
                problems.append(f"object {plan.name} (the org has no such object, or it is hidden)")
            continue
        missing = [n for n in plan.sobject.required_fields if n in plan.missing_fields]
        problems.extend(f"field {plan.name}.{n}" for n in missing)
    if problems:
        raise MissingRequiredError(
            "the Salesforce org lacks what salesprep requires: "
            + "; ".join(problems)
            + ". Check the integration user's object and field permissions."
        )


def build_queries(
    plan: ObjectPlan,
    *,
    where: str | None = None,
    max_url_chars: int,
    url_length: Any = None,
) -> list[tuple[str, list[str]]]:
    """The SOQL reading `plan`'s fields, as `(soql, catalog field names)`: one query, or
    several field groups (each with Id, joined on it later) when one would make the query
    URL longer than `max_url_chars`. `url_length(soql)` measures a query's URL."""
    measure = url_length or (
        lambda soql: len("/services/data/vXX.X/queryAll/?") + len(urlencode({"q": soql}))
    )
    suffix = f" FROM {plan.name}" + (f" WHERE {where}" if where else "")

    def soql_of(names: list[str]) -> str:
        return f"SELECT {', '.join(plan.selected[n] for n in names)}{suffix}"

    names = list(plan.selected)
    if measure(soql_of(names)) <= max_url_chars:
        return [(soql_of(names), names)]
    if "Id" not in plan.selected:
        raise ExtractError(f"query of {plan.name} is too long and cannot be split without Id")
    groups: list[list[str]] = []
    current = ["Id"]
    for name in names:
        if name == "Id":
            continue
        if measure(soql_of([*current, name])) > max_url_chars:
            if len(current) == 1:
                raise ExtractError(
                    f"query of {plan.name}.{name} alone is above the {max_url_chars:,} URL "
                    "characters of salesforce.max_query_url_chars"
                )
            groups.append(current)
            current = ["Id"]
        current.append(name)
    groups.append(current)
    return [(soql_of(g), g) for g in groups]


# ---------------------------------------------------------------------------- windows


def _previous_state(
    settings: Settings, raw_root: Path, org_id: str, mode: str
) -> ExtractState | None:
    """The saved state, if it describes the current landing zone of this org."""
    if mode == "full":
        log.info("full extraction requested: every object is read in full")
        return None
    state = load_state(state_path(settings))
    if state is None:
        log.info("no extraction state yet: the first run backfills every object")
        return None
    if state.org_id != org_id:
        log.warning(
            "the saved extraction state belongs to org %s, not %s: full backfill",
            state.org_id,
            org_id,
        )
        return None
    try:
        landed = load_report(raw_root)
    except ValueError:
        landed = None
    if landed is None or landed.run_id != state.run_id:
        log.warning(
            "the landing zone %s is not the one the saved state describes: full backfill",
            raw_root,
        )
        return None
    return state


def _window(
    plan: ObjectPlan,
    previous: ExtractState | None,
    raw_root: Path,
    run_end: datetime,
    settings: Settings,
) -> Window:
    if not plan.present:
        return Window(None, run_end, "absent")
    if plan.cursor is None:
        return Window(None, run_end, f"the org lacks the cursor field {plan.sobject.cursor}")
    saved = previous.objects.get(plan.name) if previous else None
    if saved is None:
        return Window(None, run_end, "first load")
    if saved.cursor != plan.sobject.cursor or saved.fields != plan.signature:
        return Window(None, run_end, "the org's fields changed since the last load")
    if not (raw_root / plan.name / f"{plan.name}.parquet").is_file():
        return Window(None, run_end, "no landed file")
    lookback = timedelta(minutes=settings.salesforce.lookback_minutes)
    start = saved.watermark_at - lookback
    if start >= run_end:
        # A clock that went back: read from the lookback before now rather than nothing.
        start = run_end - lookback
    return Window(start, run_end, "incremental")


def _next_state(
    org_id: str, run_id: str, plans: list[ObjectPlan], windows: dict[str, Window]
) -> ExtractState:
    state = ExtractState(
        org_id=org_id, run_id=run_id, saved_at=datetime.now(UTC).isoformat(timespec="seconds")
    )
    for plan in plans:
        if plan.present and plan.cursor is not None:
            state.objects[plan.name] = ObjectState(
                cursor=plan.sobject.cursor,
                watermark=windows[plan.name].end.isoformat(),
                fields=plan.signature,
            )
    return state


def _soql_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _survey(
    client: ApiClient, plans: list[ObjectPlan], windows: dict[str, Window]
) -> tuple[dict[str, int], dict[str, _Deletes]]:
    """For every present object, the `COUNT()` of its window (queryAll: deleted rows count
    too) and, for incremental windows, the Ids the org's delete log lists in it; all in
    composite calls (5 queries each). Objects whose log cannot answer get an Id
    reconciliation instead."""
    deletes: dict[str, _Deletes] = {}
    subrequests = []
    for plan in plans:
        window = windows[plan.name]
        if not plan.present or not window.incremental:
            continue
        if not plan.replicateable:
            deletes[plan.name] = _Deletes(reconcile=True, note="not replicateable: Ids reconciled")
            continue
        params = urlencode({"start": window.start.isoformat(), "end": window.end.isoformat()})
        path = client.data_path(f"sobjects/{plan.name}/deleted/")
        subrequests.append((f"deleted:{plan.name}", f"{path}?{params}"))
    for plan in plans:
        if not plan.present:
            continue
        where = windows[plan.name].where(plan.cursor or "")
        soql = f"SELECT COUNT() FROM {plan.name}" + (f" WHERE {where}" if where else "")
        query = client.data_path("queryAll/") + "?" + urlencode({"q": soql})
        subrequests.append((f"count:{plan.name}", query))
    if not subrequests:
        return {}, deletes
    results = client.composite(subrequests, what="COUNT() and deleted records of the windows")
    counts = {}
    for ref, result in results.items():
        kind, name = ref.split(":", 1)
        if kind == "count":
            if not result.ok:
                raise ExtractError(f"COUNT() of {name} failed: {result.message}")
            counts[name] = int(result.body.get("totalSize", 0))
        elif result.ok:
            records = (result.body or {}).get("deletedRecords", [])
            deletes[name] = _Deletes(ids=[r["id"] for r in records])
        else:
            note = f"delete log unavailable ({result.message}): Ids reconciled"
            log.warning("%s: %s", name, note)
            deletes[name] = _Deletes(reconcile=True, note=note)
    return counts, deletes


# ---------------------------------------------------------------------------- loading


def _load_objects(
    run: _Run,
    plans: list[ObjectPlan],
    windows: dict[str, Window],
    counts: dict[str, int],
    deletes: dict[str, _Deletes],
) -> dict[str, ObjectReport]:
    """Load every object, `salesforce.concurrent_objects` at a time, the largest windows
    first. The first failure stops the others (they send no further request) and is raised
    once they have ended."""
    order = sorted(plans, key=lambda p: -counts.get(p.name, 0))
    workers = max(1, min(run.settings.salesforce.concurrent_objects, len(plans)))
    with (
        progress.task("extract objects", total=len(plans), unit="objects") as objects,
        ThreadPoolExecutor(workers, thread_name_prefix="extract") as pool,
    ):

        def load(plan: ObjectPlan) -> ObjectReport:
            report = _load_object(
                run, plan, windows[plan.name], counts.get(plan.name, 0), deletes.get(plan.name)
            )
            _log_object(report)
            objects.advance()
            return report

        futures = {plan.name: pool.submit(load, plan) for plan in order}
        try:
            done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
        except BaseException:  # interrupted (a signal): stop the workers before leaving
            _stop(run, futures)
            raise
        failed = [f for f in done if f.exception() is not None]
        if failed:
            _stop(run, futures)
            first = next(futures[p.name] for p in plans if futures[p.name] in failed).exception()
            for future in futures.values():
                error = None if future.cancelled() else future.exception()
                if (
                    error is not None
                    and error is not first
                    and not isinstance(error, ExtractStopped)
                ):
                    log.warning("another object failed too: %s", error)
            raise first  # type: ignore[misc]
    return {name: future.result() for name, future in futures.items()}


def _stop(run: _Run, futures: dict[str, Future[ObjectReport]]) -> None:
    run.client.stop()
    for future in futures.values():
        future.cancel()
    wait(futures.values())


def _load_object(
    run: _Run, plan: ObjectPlan, window: Window, count: int, deletes: _Deletes | None
) -> ObjectReport:
    started = time.monotonic()
    meter = run.client.meter()
    sobject = plan.sobject
    relative = f"{sobject.name}/{sobject.name}.parquet"
    out = run.staging / relative
    report = ObjectReport(
        name=sobject.name,
        present=plan.present,
        required=sobject.required,
        missing_fields=list(plan.missing_fields),
        path=relative,
        window_from=window.start.isoformat() if window.start else None,
        window_to=window.end.isoformat(),
    )
    if not plan.present:
        report.mode = "absent"
        landing.write_empty(sobject, out)
    else:
        if window.reason and not window.incremental:
            report.notes.append(f"full load: {window.reason}")
        deletes = deletes or _Deletes()
        if deletes.note:
            report.notes.append(deletes.note)
        object_work = run.work / sobject.name
        delta = object_work / "delta.parquet"
        if count > 0 or not window.incremental:
            with progress.task(f"extract {sobject.name}", total=count, unit="rows") as bar:
                _fetch(run, plan, window, count, delta, report, bar)
        else:
            report.method = ""
        if not window.incremental:
            report.mode = "full"
            delta.parent.mkdir(parents=True, exist_ok=True)
            if not delta.exists():
                landing.write_empty(sobject, delta)
            out.parent.mkdir(parents=True, exist_ok=True)
            delta.rename(out)
        else:
            previous = run.raw_root / relative
            live = _live_ids(run, plan, object_work) if deletes.reconcile else None
            gone = None
            if deletes.ids:
                gone = object_work / "gone.parquet"
                with landing.IdsWriter(gone) as writer:
                    writer.write(deletes.ids)
            if report.fetched_rows == 0 and gone is None and live is None:
                report.mode = "unchanged"
                landing.link_or_copy(previous, out)
            else:
                report.mode = "incremental"
                if not delta.exists():
                    landing.write_empty(sobject, delta)
                with run.merging:
                    merged = landing.merge_object(
                        sobject,
                        out,
                        previous=previous,
                        delta=delta,
                        gone=gone,
                        live=live,
                        work_dir=object_work,
                    )
                report.hard_deleted_rows = merged.removed
    report.rows = landing.count_rows(out)
    report.deleted_rows = landing.count_deleted(out)
    report.bytes = out.stat().st_size
    report.api_calls = meter.calls
    report.downloaded_bytes = meter.downloaded_bytes
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _fetch(
    run: _Run,
    plan: ObjectPlan,
    window: Window,
    count: int,
    out: Path,
    report: ObjectReport,
    bar: progress.Task,
) -> None:
    """Read the window's records into `out` (catalog schema), through Bulk or REST; `bar`
    counts the rows read out of the window's `COUNT()`."""
    config = run.settings.salesforce
    where = window.where(plan.cursor or "")
    use_bulk = run.method == "bulk" or (run.method == "auto" and count >= config.bulk_threshold)
    if use_bulk:
        try:
            _fetch_bulk(run, plan, where, out, report, bar)
            report.method = "bulk"
            return
        except BulkUnavailable as exc:
            note = f"Bulk API 2.0 unavailable, read through REST instead: {exc}"
            log.warning("%s: %s", plan.name, note)
            report.notes.append(note)
            bar.update(completed=0, state="REST after Bulk")
    _fetch_rest(run, plan, where, out, report, bar)
    report.method = "rest"


def _fetch_rest(
    run: _Run,
    plan: ObjectPlan,
    where: str | None,
    out: Path,
    report: ObjectReport,
    bar: progress.Task,
) -> None:
    client = run.client
    queries = build_queries(
        plan,
        where=where,
        max_url_chars=run.settings.salesforce.max_query_url_chars,
        url_length=lambda soql: client.url_length(client.data_path("queryAll/"), {"q": soql}),
    )
    if len(queries) > 1:
        report.notes.append(f"query split into {len(queries)} field groups joined on Id")
    parts = []
    for index, (soql, names) in enumerate(queries):
        target = out if len(queries) == 1 else out.parent / f"group-{index}.parquet"
        if len(queries) > 1:
            bar.update(completed=0, state=f"field group {index + 1}/{len(queries)}")
        rows, pages = _rest_to_file(run, plan, soql, names, target, bar)
        if index == 0:
            report.pages, report.fetched_rows = pages, rows
        else:
            report.pages += pages
        parts.append((target, names))
    if len(queries) > 1:
        with run.merging:
            report.fetched_rows = landing.join_field_groups(
                plan.sobject, parts, out, work_dir=out.parent
            )


def _rest_to_file(
    run: _Run, plan: ObjectPlan, soql: str, names: list[str], target: Path, bar: progress.Task
) -> tuple[int, int]:
    """Stream one query's pages into `target`; start again if the query locator expires."""
    for attempt in range(_LOCATOR_RESTARTS + 1):
        rows = pages = 0
        try:
            with _BatchWriter(target, plan.sobject) as writer:
                for records in run.client.query_pages(
                    soql, page_size=run.page_size, what=f"query of {plan.name}"
                ):
                    pages += 1
                    if records:
                        rows += writer.write(records_to_batch(records, plan, names))
                    bar.update(completed=rows)
            return rows, pages
        except QueryLocatorExpired as exc:
            if attempt == _LOCATOR_RESTARTS:
                raise
            log.warning("%s: %s; reading the object again from the start", plan.name, exc)
            bar.update(completed=0, state="query locator expired: reading again")
    raise AssertionError("unreachable")


def _fetch_bulk(
    run: _Run,
    plan: ObjectPlan,
    where: str | None,
    out: Path,
    report: ObjectReport,
    bar: progress.Task,
) -> None:
    names = list(plan.selected)
    soql = f"SELECT {', '.join(plan.selected[n] for n in names)} FROM {plan.name}"
    if where:
        soql += f" WHERE {where}"
    rows = pages = 0
    with _BatchWriter(out, plan.sobject) as writer:
        for table in iter_bulk_slices(
            run.client,
            soql,
            what=f"Bulk query of {plan.name}",
            parse=lambda content, what: csv_slice_to_table(content, plan, what=what),
            on_state=lambda state: bar.update(state=f"Bulk job {state}"),
        ):
            pages += 1
            if table.num_rows:
                rows += writer.write_table(table)
            bar.update(completed=rows, state=f"Bulk results, slice {pages}")
    report.pages, report.fetched_rows = pages, rows


def _live_ids(run: _Run, plan: ObjectPlan, work: Path) -> Path:
    """Every Id the org still has (queryAll: soft-deleted ones included), for reconciliation."""
    path = work / "live.parquet"
    for attempt in range(_LOCATOR_RESTARTS + 1):
        try:
            with landing.IdsWriter(path) as writer:
                for records in run.client.query_pages(
                    f"SELECT Id FROM {plan.name}",
                    page_size=run.page_size,
                    what=f"Id reconciliation of {plan.name}",
                ):
                    writer.write([r["Id"] for r in records])
            return path
        except QueryLocatorExpired:
            if attempt == _LOCATOR_RESTARTS:
                raise
    raise AssertionError("unreachable")


class _BatchWriter:
    """Record batches streamed into one Parquet file with the catalog schema."""

    def __init__(self, path: Path, sobject: SObject) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, sobject.arrow_schema())

    def write(self, batch: pa.RecordBatch) -> int:
        self._writer.write_batch(batch)
        return batch.num_rows

    def write_table(self, table: pa.Table) -> int:
        """One table as one row group (a Bulk slice, as a REST page is one batch)."""
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        return table.num_rows

    def __enter__(self) -> _BatchWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._writer.close()


# ---------------------------------------------------------------------------- finishing


def _finish_report(report: ExtractReport, client: ApiClient, started: float) -> None:
    report.api_calls = client.calls
    report.retries = client.retries
    report.relogins = client.relogins
    report.downloaded_bytes = client.downloaded_bytes
    if client.usage_at_start is not None:
        report.api_usage_before = f"{client.usage_at_start.used}/{client.usage_at_start.limit}"
    if client.usage is not None:
        report.api_usage_after = f"{client.usage.used}/{client.usage.limit}"
    report.seconds = time.monotonic() - started


def _log_object(report: ObjectReport) -> None:
    sobject = get_object(report.name)
    if not report.present:
        if sobject.feature:
            # An org without the feature has no such object: normal, not a permission problem.
            log.info(
                "the org has no %s object (org feature %s not enabled): wrote an empty %s",
                report.name,
                sobject.feature,
                report.path,
            )
        else:
            log.warning(
                "the org has no %s object: wrote an empty %s with the full schema",
                report.name,
                report.path,
            )
        return
    log.info(
        "%s: %s load (%s) of %s rows in %d page(s), %s landed (%s deleted, %s purged), "
        "%d API calls, %.2fs",
        report.name,
        report.mode,
        report.method or "no query",
        f"{report.fetched_rows:,}",
        report.pages,
        f"{report.rows:,}",
        f"{report.deleted_rows:,}",
        f"{report.hard_deleted_rows:,}",
        report.api_calls,
        report.seconds,
    )
    missing = [n for n in report.missing_fields if not sobject.field(n).feature]
    if missing:
        log.warning(
            "the org lacks %s field(s) %s: landed as all-null columns",
            report.name,
            ", ".join(missing),
        )
    features = [n for n in report.missing_fields if sobject.field(n).feature]
    if features:
        log.info(
            "%s has no %s (org features not enabled): landed as all-null columns",
            report.name,
            ", ".join(features),
        )
