"""Bulk API 2.0 query jobs: create, poll, fetch CSV results by locator, abort and delete.

A job's query is checked when the job is created (errors answer the POST, as Salesforce
does), then runs in a background thread: UploadComplete → InProgress → JobComplete (or
Failed). Results are materialized once and served in `maxRecords` slices; a locator is the
base64 of the next offset, like Salesforce's, and stays valid while the job exists.

A slice's CSV is rendered by DuckDB into one Arrow buffer (no Python work per row), and
while the client reads a slice the next one (same `maxRecords`) is rendered in the
background, so a client paging through a job is served from memory: what a benchmark
measures is the client, not the emulator. At most one slice per job is held ahead.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from salesprep.emulator import soql
from salesprep.emulator.errors import ApiError, not_found
from salesprep.emulator.query import (
    QueryEngine,
    ResultTable,
    drop_tables,
    materialize,
    result_column,
)
from salesprep.emulator.schema import FieldInfo
from salesprep.emulator.store import OrgStore

log = logging.getLogger(__name__)

DELIMITERS = {
    "COMMA": ",",
    "TAB": "\t",
    "PIPE": "|",
    "SEMICOLON": ";",
    "CARET": "^",
    "BACKQUOTE": "`",
}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
# Without maxRecords Salesforce sends "as many rows as can be listed"; the emulator caps it.
DEFAULT_MAX_RECORDS = 100_000
_ID_ALPHABET = string.ascii_letters + string.digits


def _timestamp() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def _csv_value(info: FieldInfo, column: str) -> str:
    """SQL text of one CSV cell as Bulk API 2.0 writes it (every value quoted, null empty)."""
    if info.type == "datetime":
        text = f"strftime({column}, '%Y-%m-%dT%H:%M:%S.%gZ')"
    elif info.type == "date":
        text = f"strftime({column}, '%Y-%m-%d')"
    elif info.type == "boolean":
        text = f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
    else:
        text = f"CAST({column} AS VARCHAR)"
    return f"'\"' || replace(coalesce({text}, ''), '\"', '\"\"') || '\"'"


def encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def decode_locator(locator: str) -> int:
    padded = locator + "=" * (-len(locator) % 4)
    try:
        return int(base64.b64decode(padded, validate=True).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}") from exc


@dataclass
class _Slice:
    """One rendered (or being rendered) result slice: `offset` and `end` in result rows."""

    offset: int
    end: int
    ready: threading.Event = field(default_factory=threading.Event)
    body: bytes = b""
    error: BaseException | None = None


@dataclass
class QueryJob:
    """One Bulk API 2.0 query job."""

    id: str
    operation: str
    compiled: soql.CompiledQuery
    version: str
    column_delimiter: str
    line_ending: str
    created: str = field(default_factory=_timestamp)
    modified: str = field(default_factory=_timestamp)
    state: str = "UploadComplete"
    error_message: str | None = None
    result: ResultTable | None = None
    started: float = field(default_factory=time.monotonic)
    processing_ms: int = 0
    # The next slice, rendered ahead while the client reads the current one.
    ahead: _Slice | None = None

    def info(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.compiled.schema.name,
            "createdById": "005000000000001AAA",
            "createdDate": self.created,
            "systemModstamp": self.modified,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "jobType": "V2Query",
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
            "numberRecordsProcessed": self.result.total if self.result else 0,
            "retries": 0,
            "totalProcessingTime": self.processing_ms,
        }
        if self.error_message is not None:
            payload["errorMessage"] = self.error_message
        return payload


class BulkQueryJobs:
    """The `/jobs/query` resources of one emulator."""

    def __init__(self, queries: QueryEngine) -> None:
        self.queries = queries
        self.store = queries.store
        self._jobs: dict[str, QueryJob] = {}
        self._lock = threading.Lock()
        # The maxRecords of the last results request: a finished job's first slice is
        # rendered ahead with it (clients page every job the same way).
        self._last_limit: int | None = None

    def create(self, payload: Any, version: str) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise ApiError(400, "INVALIDJOB", "The request body must be a JSON object")
        operation = payload.get("operation")
        if operation not in ("query", "queryAll"):
            raise ApiError(
                400, "INVALIDJOB", f"Invalid operation {operation!r}: use query or queryAll"
            )
        text = payload.get("query")
        if not isinstance(text, str):
            raise ApiError(400, "INVALIDJOB", "A query job needs a 'query'")
        delimiter = payload.get("columnDelimiter") or "COMMA"
        line_ending = payload.get("lineEnding") or "LF"
        if delimiter not in DELIMITERS:
            raise ApiError(400, "INVALIDJOB", f"Invalid columnDelimiter {delimiter!r}")
        if line_ending not in LINE_ENDINGS:
            raise ApiError(400, "INVALIDJOB", f"Invalid lineEnding {line_ending!r}")
        compiled = self.queries.compile(text)
        if compiled.query.count:
            raise ApiError(400, "API_ERROR", "Aggregate queries are not supported by Bulk API 2.0")
        job_id = "750" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(15))
        job = QueryJob(job_id, operation, compiled, version, delimiter, line_ending)
        with self._lock:
            self._jobs[job_id] = job
        threading.Thread(target=self._run, args=(job,), name=f"bulk-{job_id}", daemon=True).start()
        return job.info()

    def get(self, job_id: str) -> dict[str, Any]:
        return self._job(job_id).info()

    def list(self) -> dict[str, Any]:
        with self._lock:
            jobs = list(self._jobs.values())
        return {"done": True, "records": [j.info() for j in jobs], "nextRecordsUrl": None}

    def abort(self, job_id: str, payload: Any) -> dict[str, Any]:
        job = self._job(job_id)
        if not isinstance(payload, dict) or payload.get("state") != "Aborted":
            raise ApiError(400, "INVALIDJOBSTATE", "A query job can only be set to Aborted")
        with self._lock:
            if job.state in ("JobComplete", "Failed", "Aborted"):
                raise ApiError(400, "INVALIDJOBSTATE", f"Job is already {job.state}")
            job.state = "Aborted"
            job.modified = _timestamp()
        return job.info()

    def delete(self, job_id: str) -> None:
        job = self._job(job_id)
        with self._lock:
            del self._jobs[job_id]
        if job.result is not None:
            drop_tables(self.store, [job.result.name])

    def results(
        self, job_id: str, locator: str | None, max_records: str | None
    ) -> tuple[bytes, dict[str, str]]:
        """One slice of a completed job's CSV, with its Sforce-Locator/NumberOfRecords headers."""
        job = self._job(job_id)
        if job.state != "JobComplete" or job.result is None:
            raise ApiError(
                400, "INVALIDJOBSTATE", f"Job {job_id} is {job.state}; results need JobComplete"
            )
        limit = DEFAULT_MAX_RECORDS
        if max_records:
            if not max_records.isdigit() or int(max_records) < 1:
                raise ApiError(400, "INVALIDPARAMETER", f"Invalid maxRecords: {max_records}")
            limit = int(max_records)
        offset = decode_locator(locator) if locator and locator != "null" else 0
        if offset > job.result.total:
            raise ApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
        total = job.result.total
        end = min(offset + limit, total)
        with self._lock:
            ahead, job.ahead = job.ahead, None
            self._last_limit = limit
        if ahead is not None and (ahead.offset, ahead.end) == (offset, end):
            ahead.ready.wait()
            if ahead.error is not None:
                raise ahead.error
            body = ahead.body
        else:
            body = render_slice(self.store, job, offset, end)
        if end < total:
            self._render_ahead(job, _Slice(end, min(end + limit, total)))
        headers = {
            "Sforce-Locator": encode_locator(end) if end < total else "null",
            "Sforce-NumberOfRecords": str(end - offset),
        }
        return body, headers

    def _render_ahead(self, job: QueryJob, ahead: _Slice) -> None:
        with self._lock:
            if job.id not in self._jobs:
                return
            job.ahead = ahead
        self._start_rendering(job, ahead)

    def _start_rendering(self, job: QueryJob, ahead: _Slice) -> None:
        def render() -> None:
            try:
                ahead.body = render_slice(self.store, job, ahead.offset, ahead.end)
            except Exception as exc:  # the job was deleted meanwhile, or the store closed
                ahead.error = exc
            finally:
                ahead.ready.set()

        threading.Thread(target=render, name=f"bulk-ahead-{job.id}", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            tables = [j.result.name for j in self._jobs.values() if j.result is not None]
            self._jobs.clear()
        drop_tables(self.store, tables)

    def _job(self, job_id: str) -> QueryJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise not_found(f"Job {job_id} does not exist")
        return job

    def _run(self, job: QueryJob) -> None:
        with self._lock:
            if job.state == "Aborted":
                return
            job.state = "InProgress"
            job.modified = _timestamp()
        from_sql, params = job.compiled.from_sql(include_deleted=job.operation == "queryAll")
        con = self.store.connect()
        try:
            result = materialize(con, job.compiled, from_sql, params, f"bulk_{job.id}")
        except Exception as exc:  # any failure must show as a Failed job, not a hung one
            log.exception("bulk query job %s failed", job.id)
            with self._lock:
                job.state = "Failed"
                job.error_message = str(exc)
                job.modified = _timestamp()
            return
        finally:
            con.close()
        with self._lock:
            job.processing_ms = int((time.monotonic() - job.started) * 1000)
            job.modified = _timestamp()
            if job.state == "Aborted" or job.id not in self._jobs:
                drop_tables(self.store, [result.name])
                return
            job.result = result
            if self._last_limit is not None and result.total:
                job.ahead = _Slice(0, min(self._last_limit, result.total))
                self._start_rendering(job, job.ahead)
            job.state = "JobComplete"
        log.debug("bulk query job %s complete: %d records", job.id, result.total)


def render_slice(store: OrgStore, job: QueryJob, offset: int, end: int) -> bytes:
    """Rows `[offset, end)` of a completed job as Bulk API 2.0 CSV, header first: DuckDB
    renders every line into one Arrow string buffer, which is sent as it is."""
    assert job.result is not None
    delimiter = DELIMITERS[job.column_delimiter]
    newline = LINE_ENDINGS[job.line_ending]
    fields = job.compiled.fields
    cells = [_csv_value(info, result_column(i)) for i, info in enumerate(fields)]
    line = f" || '{delimiter}' || ".join(cells) + f" || {_sql_text(newline)}"
    header = (delimiter.join(f'"{info.name}"' for info in fields) + newline).encode()
    con = store.connect()
    try:
        lines = (
            con.sql(
                f"SELECT {line} AS line FROM {job.result.name} "
                "WHERE rowid >= ? AND rowid < ? ORDER BY rowid",
                params=[offset, end],
            )
            .to_arrow_table()
            .column(0)
        )
    finally:
        con.close()
    return header + b"".join(_text_bytes(chunk) for chunk in lines.chunks)


def _sql_text(text: str) -> str:
    return " || ".join(f"chr({ord(c)})" for c in text)


def _text_bytes(chunk: pa.Array) -> bytes:
    """The concatenated values of a string array without nulls, straight from its buffer."""
    if len(chunk) == 0:
        return b""
    if chunk.type not in (pa.string(), pa.large_string()):
        chunk = chunk.cast(pa.large_string())
    width = 4 if chunk.type == pa.string() else 8
    offsets = chunk.buffers()[1]
    first = int.from_bytes(offsets[chunk.offset * width : (chunk.offset + 1) * width], "little")
    last_at = (chunk.offset + len(chunk)) * width
    last = int.from_bytes(offsets[last_at : last_at + width], "little")
    return chunk.buffers()[2][first:last].to_pybytes()
