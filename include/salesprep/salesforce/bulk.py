"""Bulk API 2.0 query jobs from the extraction side: create, poll, page CSV results by locator.

Results arrive in slices of `maxRecords` rows, so memory holds one slice at a time whatever
the object's size; the caller's `parse` turns each slice's CSV bytes into a table (pyarrow's
CSV reader: `records.csv_slice_to_table`). A job Salesforce refuses or fails raises
`BulkUnavailable`, on which the caller falls back to REST.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from salesprep.salesforce.errors import ApiLimitError, ApiRequestError, ExtractError

if TYPE_CHECKING:
    from salesprep.salesforce.client import ApiClient

log = logging.getLogger(__name__)

_DONE_STATES = frozenset({"JobComplete", "Failed", "Aborted"})


class BulkUnavailable(ExtractError):
    """Bulk API 2.0 cannot run this query (unsupported object or SOQL, job failed)."""


def iter_bulk_slices(
    client: ApiClient,
    soql: str,
    *,
    what: str,
    parse: Callable[[bytes, str], pa.Table],
    on_state: Callable[[str], None] | None = None,
) -> Iterator[pa.Table]:
    """The rows of a `queryAll` Bulk API 2.0 job, one result slice at a time, each read by
    `parse(csv_bytes, what)` (empty cells are null: Bulk CSV cannot tell null from empty
    text). A slice with fewer rows than its `Sforce-NumberOfRecords` is fetched again.
    `on_state(state)` hears the job's state at each poll (`UploadComplete`, `InProgress`,
    `JobComplete`)."""
    jobs = client.data_path("jobs/query")
    try:
        job = client.request(
            "POST",
            jobs,
            what=f"{what}: create Bulk API 2.0 job",
            json_body={
                "operation": "queryAll",
                "query": soql,
                "contentType": "CSV",
                "columnDelimiter": "COMMA",
                "lineEnding": "LF",
            },
        ).json()
    except ApiLimitError:
        raise
    except ApiRequestError as exc:
        if exc.status is not None and 400 <= exc.status < 500:
            raise BulkUnavailable(f"Bulk API 2.0 refused the job: {exc}") from exc
        raise
    job_id = job["id"]
    try:
        _wait_for(client, job_id, what=what, on_state=on_state or (lambda state: None))
        locator: str | None = None
        slice_number = 0
        while True:
            slice_number += 1
            table, locator = _result_slice(
                client, job_id, locator, parse, what=f"{what}, slice {slice_number}"
            )
            yield table
            if not locator or locator == "null":
                return
    finally:
        _delete_job(client, job_id, what=what)


def _wait_for(
    client: ApiClient, job_id: str, *, what: str, on_state: Callable[[str], None]
) -> None:
    settings = client.settings
    path = client.data_path(f"jobs/query/{job_id}")
    interval = settings.bulk_poll_seconds
    deadline = time.monotonic() + settings.bulk_timeout_seconds
    while True:
        info = client.get_json(path, what=f"{what}: poll Bulk job {job_id}")
        state = info.get("state")
        on_state(str(state))
        if state == "JobComplete":
            return
        if state in _DONE_STATES:
            raise BulkUnavailable(
                f"Bulk job {job_id} ended {state}: {info.get('errorMessage') or 'no message'}"
            )
        if time.monotonic() + interval > deadline:
            _abort_job(client, job_id, what=what)
            raise BulkUnavailable(
                f"Bulk job {job_id} still {state} after {settings.bulk_timeout_seconds:g}s "
                "(salesforce.bulk_timeout_seconds)"
            )
        client.pause(interval)
        interval = min(interval * 1.5, settings.bulk_poll_max_seconds)


def _result_slice(
    client: ApiClient,
    job_id: str,
    locator: str | None,
    parse: Callable[[bytes, str], pa.Table],
    *,
    what: str,
) -> tuple[pa.Table, str | None]:
    params: dict[str, str] = {"maxRecords": str(client.settings.bulk_max_records)}
    if locator:
        params["locator"] = locator
    path = client.data_path(f"jobs/query/{job_id}/results")
    for attempt in (1, 2):
        response = client.request("GET", path, what=what, params=params)
        table = parse(response.content, what)
        expected = response.headers.get("Sforce-NumberOfRecords")
        if expected is None or int(expected) == table.num_rows:
            return table, response.headers.get("Sforce-Locator")
        # A slice cut short in transit: ask for the same locator again, once.
        rows = table.num_rows
        log.warning("%s: %d rows arrived, %s announced; fetching again", what, rows, expected)
        if attempt == 2:
            raise ApiRequestError(
                f"{what}: Sforce-NumberOfRecords says {expected} but {rows} rows arrived"
            )
    raise AssertionError("unreachable")


def _abort_job(client: ApiClient, job_id: str, *, what: str) -> None:
    try:
        client.request(
            "PATCH",
            client.data_path(f"jobs/query/{job_id}"),
            what=f"{what}: abort Bulk job {job_id}",
            json_body={"state": "Aborted"},
            cleanup=True,
        )
    except ExtractError as exc:
        log.warning("could not abort Bulk job %s: %s", job_id, exc)


def _delete_job(client: ApiClient, job_id: str, *, what: str) -> None:
    # Jobs count against the org's storage of job results until deleted.
    try:
        client.request(
            "DELETE",
            client.data_path(f"jobs/query/{job_id}"),
            what=f"{what}: delete Bulk job {job_id}",
            cleanup=True,
        )
    except ExtractError as exc:
        log.warning("could not delete Bulk job %s: %s", job_id, exc)
