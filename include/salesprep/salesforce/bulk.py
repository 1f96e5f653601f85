"""Bulk API 2.0 query jobs from the extraction side: create, poll, page CSV results by locator.

Results arrive in slices of `maxRecords` rows. Each slice's locator comes with the slice
before it, so slices are fetched one after the other; the next one downloads (on a thread of
its own, one request at a time per job) while the caller parses and writes the last, so
memory holds at most two slices a job whatever the object's size. The caller's `parse`
turns each slice's CSV bytes into a table (pyarrow's CSV reader:
`records.csv_slice_to_table`). A job Salesforce refuses or fails raises
`BulkUnavailable`, on which the caller falls back to REST.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
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
    text). A slice with fewer rows than its `Sforce-NumberOfRecords` is fetched again. The
    next slice downloads while the caller handles this one.
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
    # The next slice downloads on this thread while the caller parses and writes the last.
    ahead = ThreadPoolExecutor(
        max_workers=1,
        thread_name_prefix="bulk-slice",
        initializer=client.share_meter,
        initargs=(client.current_meter(),),
    )
    pending: Future[_Slice] | None = None
    try:
        _wait_for(client, job_id, what=what, on_state=on_state or (lambda state: None))
        number = 1
        pending = ahead.submit(_download, client, job_id, None, what=f"{what}, slice 1")
        while pending is not None:
            piece = pending.result()
            pending = None
            if piece.next_locator and piece.next_locator != "null":
                pending = ahead.submit(
                    _download,
                    client,
                    job_id,
                    piece.next_locator,
                    what=f"{what}, slice {number + 1}",
                )
            table = _checked(client, job_id, piece, parse, pending, what=f"{what}, slice {number}")
            del piece  # only the parsed table stays while the caller writes it
            yield table
            number += 1
    finally:
        if pending is not None:
            pending.cancel()
            wait([pending])  # the job is deleted once nothing reads it
        ahead.shutdown()
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


@dataclass(frozen=True)
class _Slice:
    """One result slice as downloaded: its CSV bytes and what its headers said."""

    locator: str | None  # the one this slice was fetched with (None: the first)
    content: bytes
    announced: int | None  # Sforce-NumberOfRecords
    next_locator: str | None  # Sforce-Locator


def _download(client: ApiClient, job_id: str, locator: str | None, *, what: str) -> _Slice:
    params: dict[str, str] = {"maxRecords": str(client.settings.bulk_max_records)}
    if locator:
        params["locator"] = locator
    path = client.data_path(f"jobs/query/{job_id}/results")
    response = client.request("GET", path, what=what, params=params)
    announced = response.headers.get("Sforce-NumberOfRecords")
    return _Slice(
        locator,
        response.content,
        None if announced is None else int(announced),
        response.headers.get("Sforce-Locator"),
    )


def _checked(
    client: ApiClient,
    job_id: str,
    piece: _Slice,
    parse: Callable[[bytes, str], pa.Table],
    pending: Future[_Slice] | None,
    *,
    what: str,
) -> pa.Table:
    """The slice parsed; one with fewer rows than its `Sforce-NumberOfRecords` (cut short in
    transit) is fetched again with the same locator, once, after the download of the next
    slice is done (one request at a time per job, as without the slice read ahead)."""
    for attempt in (1, 2):
        table = parse(piece.content, what)
        if piece.announced is None or piece.announced == table.num_rows:
            return table
        rows, announced = table.num_rows, piece.announced
        log.warning("%s: %d rows arrived, %s announced; fetching again", what, rows, announced)
        if attempt == 2:
            raise ApiRequestError(
                f"{what}: Sforce-NumberOfRecords says {announced} but {rows} rows arrived"
            )
        if pending is not None:
            wait([pending])
        piece = _download(client, job_id, piece.locator, what=what)
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
