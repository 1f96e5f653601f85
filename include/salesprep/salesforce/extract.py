"""Extraction: every catalog object from a Salesforce org into the raw Parquet landing zone.

One run describes the org, plans which declared fields to query, streams `queryAll` pages into
one Parquet file per object, writes `_extract_report.json`, and swaps the new landing zone in
place of the old one only when everything succeeded.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from salesprep.catalog import OBJECTS, Field, SObject
from salesprep.org_folder import parse_datetime
from salesprep.salesforce.report import ExtractReport, ObjectReport

if TYPE_CHECKING:
    import requests
    from simple_salesforce import Salesforce

    from salesprep.config import Settings

log = logging.getLogger(__name__)

# Salesforce rejects request URIs above 16,384 bytes; stay clear of it with the path included.
MAX_QUERY_URL_CHARS = 16_000
# Compound fields (BillingAddress, geolocations) cannot be read through SOQL with their parts.
_COMPOUND_TYPES = frozenset({"address", "location"})


class ExtractError(RuntimeError):
    """Extraction failed; the message names the object, field or operation."""


class MissingRequiredError(ExtractError):
    """The org lacks an object or field salesprep cannot work without."""


@dataclass
class ObjectPlan:
    """How to read one catalog object from this org: which org fields feed which columns."""

    sobject: SObject
    present: bool
    # Catalog field name -> the org's field name to select for it.
    selected: dict[str, str] = field(default_factory=dict)
    missing_fields: list[str] = field(default_factory=list)
    describe_calls: int = 0

    @property
    def name(self) -> str:
        return self.sobject.name


class _CallCounter:
    """Counts HTTP responses on the client's session: every describe, query and query page."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session
        self.calls = 0

    def _hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.calls += 1
        return response

    def __enter__(self) -> _CallCounter:
        self.session.hooks.setdefault("response", []).append(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.hooks["response"].remove(self._hook)


def extract_org(
    sf: Salesforce,
    raw_root: Path,
    *,
    settings: Settings,
    page_size: int | None = None,
) -> ExtractReport:
    """Full pull of every catalog object into `raw_root`, replacing the landing zone atomically.

    `page_size` overrides `settings.salesforce.page_size` (the `batchSize` query option, a hint
    the server may round). Raises `MissingRequiredError` naming every required object/field the
    org lacks, before any data is read; on any failure the previous landing zone is untouched.
    """
    raw_root = Path(raw_root)
    batch_size = page_size or settings.salesforce.page_size
    started = time.monotonic()
    report = ExtractReport(
        mode="full",
        api_version=str(getattr(sf, "sf_version", "")),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    raw_root.parent.mkdir(parents=True, exist_ok=True)
    staging = raw_root.parent / f".{raw_root.name}.incoming-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        with _CallCounter(sf.session) as counter:
            plans = plan_extraction(sf, settings=settings, counter=counter)
            _check_required(plans)
            for plan in plans:
                before = counter.calls
                object_report = extract_object(sf, plan, staging, page_size=batch_size)
                object_report.api_calls = plan.describe_calls + counter.calls - before
                report.objects[plan.name] = object_report
                _log_object(object_report)
            report.api_calls = counter.calls
        report.seconds = time.monotonic() - started
        report.write(staging)
        _swap_into_place(staging, raw_root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info(
        "extracted %s rows (%s deleted) of %d objects in %.1fs with %d API calls into %s",
        f"{report.rows:,}",
        f"{report.deleted_rows:,}",
        len(report.objects),
        report.seconds,
        report.api_calls,
        raw_root,
    )
    return report


def plan_extraction(
    sf: Salesforce, *, settings: Settings, counter: _CallCounter | None = None
) -> list[ObjectPlan]:
    """Describe the org and plan every catalog object (one global + one describe per object)."""
    org_objects = _describe_org(sf)
    plans = []
    for sobject in OBJECTS:
        entry = org_objects.get(sobject.name.lower())
        if entry is None or not entry.get("queryable", True):
            plans.append(
                ObjectPlan(sobject, present=False, missing_fields=list(sobject.field_names))
            )
            continue
        before = counter.calls if counter else 0
        org_fields = _describe_fields(sf, entry.get("name", sobject.name))
        plan = _plan_object(sobject, org_fields, settings)
        plan.describe_calls = counter.calls - before if counter else 1
        plans.append(plan)
    return plans


def _describe_org(sf: Salesforce) -> dict[str, dict[str, Any]]:
    from simple_salesforce.exceptions import SalesforceError

    try:
        result = sf.describe() or {}
    except SalesforceError as exc:
        raise ExtractError(f"global describe of the Salesforce org failed: {exc}") from exc
    return {entry["name"].lower(): entry for entry in result.get("sobjects", [])}


def _describe_fields(sf: Salesforce, name: str) -> dict[str, dict[str, Any]]:
    from simple_salesforce.exceptions import SalesforceError

    try:
        result = getattr(sf, name).describe()
    except SalesforceError as exc:
        raise ExtractError(f"describe of Salesforce object {name} failed: {exc}") from exc
    return {f["name"].lower(): f for f in result.get("fields", [])}


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


def build_soql(plan: ObjectPlan, *, where: str | None = None) -> str:
    """The SOQL reading `plan`'s fields; raises if the query URL would be too long."""
    soql = f"SELECT {', '.join(plan.selected.values())} FROM {plan.name}"
    if where:
        soql += f" WHERE {where}"
    url_chars = len("/services/data/vXX.X/queryAll/?q=") + len(quote_plus(soql))
    if url_chars > MAX_QUERY_URL_CHARS:
        raise ExtractError(
            f"query of {plan.name} is {url_chars:,} URL characters, above the "
            f"{MAX_QUERY_URL_CHARS:,} limit; declare fewer fields for it in salesprep.catalog"
        )
    return soql


def iter_pages(sf: Salesforce, soql: str, *, page_size: int) -> Iterator[list[dict[str, Any]]]:
    """The record pages of a `queryAll` (deleted rows included), fetched one at a time."""
    headers = {"Sforce-Query-Options": f"batchSize={page_size}"}
    result = sf.query(soql, include_deleted=True, headers=headers)
    while True:
        yield result.get("records", [])
        if result.get("done", True):
            return
        next_url = result.get("nextRecordsUrl")
        if not next_url:
            raise ExtractError(f"query page without nextRecordsUrl although not done: {soql[:80]}")
        result = sf.query_more(next_url, identifier_is_url=True, headers=headers)


def extract_object(sf: Salesforce, plan: ObjectPlan, root: Path, *, page_size: int) -> ObjectReport:
    """Write `<root>/<Object>/<Object>.parquet` for one planned object, page by page."""
    from simple_salesforce.exceptions import SalesforceError

    started = time.monotonic()
    sobject = plan.sobject
    folder = root / sobject.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sobject.name}.parquet"
    report = ObjectReport(
        name=sobject.name,
        present=plan.present,
        required=sobject.required,
        missing_fields=list(plan.missing_fields),
        path=f"{sobject.name}/{sobject.name}.parquet",
    )
    schema = sobject.arrow_schema()
    with pq.ParquetWriter(path, schema) as writer:
        if plan.present:
            soql = build_soql(plan)
            try:
                for records in iter_pages(sf, soql, page_size=page_size):
                    report.pages += 1
                    if not records:
                        continue
                    batch = records_to_batch(records, plan)
                    writer.write_batch(batch)
                    report.rows += batch.num_rows
                    report.deleted_rows += _count_deleted(batch)
            except SalesforceError as exc:
                raise ExtractError(
                    f"query of {sobject.name} failed after {report.rows:,} rows: {exc}"
                ) from exc
    report.bytes = path.stat().st_size
    report.seconds = round(time.monotonic() - started, 3)
    return report


def records_to_batch(records: list[dict[str, Any]], plan: ObjectPlan) -> pa.RecordBatch:
    """One page of Salesforce JSON records as a record batch with the catalog schema."""
    sobject = plan.sobject
    arrays = []
    for f in sobject.fields:
        org_name = plan.selected.get(f.name)
        if org_name is None:
            arrays.append(pa.nulls(len(records), type=f.arrow_type))
            continue
        values = []
        for record in records:
            raw = record.get(org_name)
            try:
                values.append(convert_value(raw, f))
            except (TypeError, ValueError) as exc:
                raise ExtractError(
                    f"{sobject.name}.{f.name} of record {record.get('Id', '?')}: cannot read "
                    f"{raw!r} as {f.type}: {exc}"
                ) from exc
        arrays.append(pa.array(values, type=f.arrow_type))
    return pa.RecordBatch.from_arrays(arrays, schema=sobject.arrow_schema())


def convert_value(value: Any, f: Field) -> Any:
    """A Salesforce REST JSON value as the Python value of the field's Arrow type."""
    if value is None:
        return None
    kind = f.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise ValueError("not a boolean")
    if kind in ("currency", "double", "percent"):
        return float(value)
    if kind == "int":
        return int(value) if isinstance(value, int) else int(float(value))
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    if kind == "datetime":
        return parse_datetime(str(value))
    if isinstance(value, bool):  # anyType history values arrive typed
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        raise ValueError("a compound value where text was declared")
    return str(value)


def _count_deleted(batch: pa.RecordBatch) -> int:
    if "IsDeleted" not in batch.schema.names:
        return 0
    column = batch.column("IsDeleted")
    return int(pc.sum(column).as_py() or 0)


def _log_object(report: ObjectReport) -> None:
    if not report.present:
        log.warning(
            "the org has no %s object: wrote an empty %s with the full schema",
            report.name,
            report.path,
        )
        return
    log.info(
        "extracted %s %s rows (%s deleted) in %d page(s), %d API calls, %.2fs",
        f"{report.rows:,}",
        report.name,
        f"{report.deleted_rows:,}",
        report.pages,
        report.api_calls,
        report.seconds,
    )
    if report.missing_fields:
        log.warning(
            "the org lacks %s field(s) %s: landed as all-null columns",
            report.name,
            ", ".join(report.missing_fields),
        )


def _swap_into_place(staging: Path, raw_root: Path) -> None:
    """Replace `raw_root` by `staging` with two renames on the same filesystem."""
    if not raw_root.exists():
        staging.rename(raw_root)
        return
    previous = raw_root.parent / f".{raw_root.name}.previous-{uuid.uuid4().hex[:8]}"
    raw_root.rename(previous)
    try:
        staging.rename(raw_root)
    except OSError as exc:
        previous.rename(raw_root)
        raise ExtractError(f"cannot move the new landing zone into {raw_root}: {exc}") from exc
    shutil.rmtree(previous, ignore_errors=True)
