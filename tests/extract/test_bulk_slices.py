"""Bulk API 2.0 result slices read one ahead: the next slice downloads while the caller
handles the last, one request at a time per job, on the caller's meter."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from extract.conftest import make_settings, serve_org
from extract.sample_org import write_sample_org
from salesprep.emulator import EmulatorConfig
from salesprep.salesforce.bulk import iter_bulk_slices
from salesprep.salesforce.client import ApiClient

OPPORTUNITIES = 300
SLICE = 100


@pytest.fixture(scope="module")
def org_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_org(tmp_path_factory.mktemp("slices") / "org", opportunities=OPPORTUNITIES)


class ResultDownloads:
    """An emulator interceptor: the Bulk result downloads answered, and the most of them in
    flight at once for one job."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.answered = 0
        self.in_flight: Counter[str] = Counter()
        self.most_in_flight = 0

    def __call__(self, request, handler):
        if not request.path.rstrip("/").endswith("/results"):
            return handler(request)
        job = request.path.rstrip("/").split("/")[-2]
        with self._lock:
            self.in_flight[job] += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight[job])
        try:
            time.sleep(0.05)  # long enough for a second request of the job to overlap
            return handler(request)
        finally:
            with self._lock:
                self.in_flight[job] -= 1
                self.answered += 1


def _rows(content: bytes, what: str) -> pa.Table:
    lines = [line for line in content.decode().splitlines()[1:] if line]
    return pa.table({"line": lines})


def test_the_next_slice_downloads_while_the_caller_handles_one(org_dir: Path, tmp_path: Path):
    settings = make_settings(tmp_path / "data", bulk_max_records=SLICE)
    downloads = ResultDownloads()
    with serve_org(org_dir, settings, config=EmulatorConfig()) as served:
        served.handle.emulator.interceptors.append(downloads)
        client = ApiClient(served.sf, settings.salesforce)
        meter = client.meter()
        rows = []
        slices = iter_bulk_slices(client, "SELECT Id FROM Opportunity", what="test", parse=_rows)
        for table in slices:
            rows.append(table.num_rows)
            if len(rows) == 1:
                # The caller still holds slice 1: slice 2 arrives all the same.
                deadline = time.monotonic() + 10
                while downloads.answered < 2 and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert downloads.answered == 2
        jobs_left = served.handle.emulator.bulk_jobs.list()["records"]
    assert rows == [SLICE] * (OPPORTUNITIES // SLICE)
    assert downloads.answered == len(rows)
    # One download at a time per job: memory holds the slice handled and the next one.
    assert downloads.most_in_flight == 1
    # The downloads ahead count on the caller's meter: every call of this one-thread run.
    assert meter.calls == client.calls
    assert jobs_left == []


def test_a_caller_that_stops_early_leaves_no_job_and_no_download(org_dir: Path, tmp_path: Path):
    settings = make_settings(tmp_path / "data", bulk_max_records=SLICE)
    downloads = ResultDownloads()
    with serve_org(org_dir, settings, config=EmulatorConfig()) as served:
        served.handle.emulator.interceptors.append(downloads)
        client = ApiClient(served.sf, settings.salesforce)
        slices = iter_bulk_slices(client, "SELECT Id FROM Opportunity", what="test", parse=_rows)
        first = next(slices)
        slices.close()  # as when writing the slice fails
        in_flight = sum(downloads.in_flight.values())
        jobs_left = served.handle.emulator.bulk_jobs.list()["records"]
    assert first.num_rows == SLICE
    # The download ahead was cancelled, or finished before the job was deleted; nothing
    # asked for slice 3.
    assert in_flight == 0
    assert downloads.answered in (1, 2)
    assert jobs_left == []
