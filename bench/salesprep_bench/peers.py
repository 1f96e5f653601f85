"""What people otherwise write to pull Salesforce into files, run against the same emulator:
simple-salesforce `query_all` into pandas then Parquet, its own Bulk API 2.0 download
(`sf.bulk2.<Object>.download`) to CSV then Parquet, its `query_all_iter` streamed to Parquet in
row batches, Airflow's `SalesforceHook` with `write_object_to_file`, and the Singer
`tap-salesforce` (in its own throwaway virtualenv)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from salesprep.catalog import OBJECTS, Field

log = logging.getLogger(__name__)

# simple-salesforce's Bulk 2.0 results page (its default, and salesprep's bulk_max_records).
BULK_MAX_RECORDS = 50_000
# Seconds `bulk2.<Object>.download` sleeps before it first polls the job (its default is 5).
BULK2_WAIT = 0.5
# Records per Parquet row batch of the `query_all_iter` peer.
ITER_BATCH_ROWS = 10_000
# What REST JSON values are typed as without parsing them (the rest is text).
_JSON_ARROW: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "int": pa.int64(),
    "double": pa.float64(),
    "currency": pa.float64(),
    "percent": pa.float64(),
}

TAP_PACKAGE = "tap-salesforce==2.8.1"
TAP_API_VERSION = "61.0"
# Installed into the tap's venv: sends the tap's hard-wired https://login.salesforce.com
# login to the emulator, for this process only (no TLS certificate, no hosts entry).
_TAP_SITECUSTOMIZE = """
import os
from urllib.parse import urlsplit, urlunsplit

import requests

_TARGET = urlsplit(os.environ["SALESPREP_BENCH_SF_URL"])
_original = requests.Session.request


def _request(self, method, url, *args, **kwargs):
    parts = urlsplit(url)
    if parts.hostname in ("login.salesforce.com", "test.salesforce.com"):
        url = urlunsplit((_TARGET.scheme, _TARGET.netloc, parts.path, parts.query, ""))
    return _original(self, method, url, *args, **kwargs)


requests.Session.request = _request
"""


class PeerUnavailableError(RuntimeError):
    """A peer that cannot run here (it does not install, or cannot reach the emulator)."""


def _fields_by_object(sf: Any) -> dict[str, list[Field]]:
    """The same columns salesprep extracts: every catalog field the org describes."""
    available = {o["name"].lower() for o in sf.describe()["sobjects"]}
    selected = {}
    for sobject in OBJECTS:
        if sobject.name.lower() not in available:
            continue
        described = {f["name"].lower() for f in getattr(sf, sobject.name).describe()["fields"]}
        selected[sobject.name] = [f for f in sobject.fields if f.name.lower() in described]
    return selected


def _soql(name: str, fields: list[Field]) -> str:
    return f"SELECT {', '.join(f.name for f in fields)} FROM {name}"


def _soql_by_object(sf: Any) -> dict[str, str]:
    return {name: _soql(name, fields) for name, fields in _fields_by_object(sf).items()}


def _login(base_url: str, username: str, password: str, token: str) -> Any:
    from simple_salesforce import Salesforce

    from salesprep.salesforce.session import InstanceRewritingSession

    return Salesforce(
        username=username,
        password=password,
        security_token=token,
        session=InstanceRewritingSession(base_url),
        version="62.0",
    )


def simple_salesforce_to_parquet(
    base_url: str, username: str, password: str, token: str, out_dir: Path
) -> dict[str, Any]:
    """The common hand-written extraction: `query_all` per object into a DataFrame, to Parquet."""
    import pandas as pd

    started, cpu_started = time.perf_counter(), time.process_time()
    sf = _login(base_url, username, password, token)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    for name, soql in _soql_by_object(sf).items():
        records = sf.query_all(soql, include_deleted=True)["records"]
        frame = pd.DataFrame.from_records(records)
        frame = frame.drop(columns=["attributes"], errors="ignore")
        frame.to_parquet(out_dir / f"{name}.parquet", index=False)
        rows += len(frame)
    return {
        "seconds": time.perf_counter() - started,
        "step_cpu_seconds": time.process_time() - cpu_started,
        "rows": rows,
        "files": _bytes(out_dir),
    }


def simple_salesforce_bulk2_download(
    base_url: str, username: str, password: str, token: str, out_dir: Path
) -> dict[str, Any]:
    """simple-salesforce's own Bulk API 2.0 download: `sf.bulk2.<Object>.download(query,
    path)` writes each result slice (50,000 records) to a CSV file without holding it in
    memory; pyarrow then streams each object's CSV files into one Parquet file with the
    catalog's column types. `download` runs a `query` job (no `queryAll`: soft-deleted rows are
    not returned) and sleeps `wait` seconds before its first poll: 0.5 s here (its default of
    5 s would add 5 s per object, which a caller in a hurry would not keep)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    started, cpu_started = time.perf_counter(), time.process_time()
    sf = _login(base_url, username, password, token)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    csv_files = 0
    for name, fields in _fields_by_object(sf).items():
        folder = out_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        results = getattr(sf.bulk2, name).download(
            _soql(name, fields), str(folder), max_records=BULK_MAX_RECORDS, wait=BULK2_WAIT
        )
        schema = pa.schema([pa.field(f.name, f.arrow_type) for f in fields])
        convert = pacsv.ConvertOptions(
            column_types=schema,
            strings_can_be_null=True,
            timestamp_parsers=[pacsv.ISO8601],
        )
        with pq.ParquetWriter(out_dir / f"{name}.parquet", schema) as writer:
            for result in results:
                csv_files += 1
                if not result["number_of_records"]:
                    continue
                reader = pacsv.open_csv(
                    result["file"],
                    # Text fields (descriptions, comments) hold line breaks inside quotes.
                    parse_options=pacsv.ParseOptions(newlines_in_values=True),
                    convert_options=convert,
                )
                for batch in reader:
                    writer.write_batch(batch.select(schema.names).cast(schema))
                    rows += batch.num_rows
    return {
        "seconds": time.perf_counter() - started,
        "step_cpu_seconds": time.process_time() - cpu_started,
        "rows": rows,
        "csv_files": csv_files,
        "files": _bytes(out_dir),
    }


def simple_salesforce_query_all_iter_parquet(
    base_url: str, username: str, password: str, token: str, out_dir: Path
) -> dict[str, Any]:
    """simple-salesforce's lazy `query_all_iter` (REST `queryAll`, deleted rows included),
    streamed to Parquet in batches of `ITER_BATCH_ROWS` records (pyarrow `ParquetWriter`), so
    memory holds one batch. JSON gives booleans and numbers typed; dates and datetimes stay
    ISO text (no per-value parsing: less work than salesprep does)."""
    import pyarrow.parquet as pq

    started, cpu_started = time.perf_counter(), time.process_time()
    sf = _login(base_url, username, password, token)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    for name, fields in _fields_by_object(sf).items():
        schema = pa.schema([pa.field(f.name, _JSON_ARROW.get(f.type, pa.string())) for f in fields])
        untyped = [f.name for f in fields if f.type == "anyType"]
        batch: list[dict[str, Any]] = []
        with pq.ParquetWriter(out_dir / f"{name}.parquet", schema) as writer:
            for record in sf.query_all_iter(_soql(name, fields), include_deleted=True):
                for key in untyped:  # anyType values arrive as JSON booleans, numbers or text
                    value = record.get(key)
                    if value is not None and not isinstance(value, str):
                        record[key] = str(value)
                batch.append(record)
                if len(batch) >= ITER_BATCH_ROWS:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    rows += len(batch)
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                rows += len(batch)
    return {
        "seconds": time.perf_counter() - started,
        "step_cpu_seconds": time.process_time() - cpu_started,
        "rows": rows,
        "files": _bytes(out_dir),
    }


def airflow_hook_to_csv(base_url: str, out_dir: Path, conn_id: str) -> dict[str, Any]:
    """Airflow's provider way: `SalesforceHook.make_query` then `write_object_to_file` (CSV)."""
    from airflow.providers.salesforce.hooks.salesforce import SalesforceHook

    from salesprep.salesforce.session import InstanceRewritingSession

    started, cpu_started = time.perf_counter(), time.process_time()
    hook = SalesforceHook(salesforce_conn_id=conn_id, session=InstanceRewritingSession(base_url))
    sf = hook.get_conn()
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    for name, soql in _soql_by_object(sf).items():
        results = hook.make_query(soql, include_deleted=True)
        hook.write_object_to_file(results["records"], filename=str(out_dir / f"{name}.csv"))
        rows += len(results["records"])
    return {
        "seconds": time.perf_counter() - started,
        "step_cpu_seconds": time.process_time() - cpu_started,
        "rows": rows,
        "files": _bytes(out_dir),
    }


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# ------------------------------------------------------------------------- Singer tap


def ensure_tap_venv(venv: Path) -> Path:
    """A virtualenv with tap-salesforce (never in the project's lock: its pins are old);
    returns the tap executable. Reused when already there."""
    tap = venv / "bin" / "tap-salesforce"
    marker = venv / ".salesprep-bench-ready"
    if marker.exists() and tap.exists():
        return tap
    uv = Path(sys.prefix).parent / ".tools" / "bin" / "uv"
    python = sys.executable
    try:
        if uv.exists():
            _check([str(uv), "venv", "-q", "--python", python, str(venv)])
            env = {**os.environ, "VIRTUAL_ENV": str(venv)}
            _check([str(uv), "pip", "install", "-q", TAP_PACKAGE], env=env)
        else:
            _check([python, "-m", "venv", str(venv)])
            _check([str(venv / "bin" / "pip"), "install", "-q", TAP_PACKAGE])
    except PeerUnavailableError:
        raise
    except OSError as exc:
        raise PeerUnavailableError(f"cannot create a virtualenv for {TAP_PACKAGE}: {exc}") from exc
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "sitecustomize.py").write_text(_TAP_SITECUSTOMIZE, encoding="utf-8")
    marker.write_text(TAP_PACKAGE + "\n", encoding="utf-8")
    return tap


def _check(command: list[str], env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PeerUnavailableError(f"cannot install {TAP_PACKAGE}: {exc}") from exc
    if done.returncode != 0:
        raise PeerUnavailableError(
            f"cannot install {TAP_PACKAGE} ({' '.join(command[:3])} exit {done.returncode}): "
            + (done.stderr or done.stdout)[-1500:]
        )


def tap_config(path: Path, client_id: str, client_secret: str, refresh_token: str) -> Path:
    config = {
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
        "start_date": "2000-01-01T00:00:00Z",
        "api_type": "REST",
        "select_fields_by_default": True,
        "quota_percent_per_run": 100,
        "quota_percent_total": 100,
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def select_catalog(discovered: Path, selected: Path) -> dict[str, int]:
    """Select the catalog's objects and, in each, the fields salesprep extracts."""
    catalog = json.loads(discovered.read_text(encoding="utf-8"))
    wanted = {o.name: {f.name for f in o.fields} for o in OBJECTS}
    streams = []
    for stream in catalog["streams"]:
        fields = wanted.get(stream["stream"])
        if fields is None:
            continue
        for entry in stream["metadata"]:
            breadcrumb = entry["breadcrumb"]
            if not breadcrumb:
                entry["metadata"]["selected"] = True
            elif breadcrumb[-1] not in fields and entry["metadata"].get("inclusion") != "automatic":
                entry["metadata"]["selected"] = False
        streams.append(stream)
    selected.write_text(json.dumps({"streams": streams}), encoding="utf-8")
    return {"streams": len(streams)}


def count_tap_output(path: Path) -> dict[str, int]:
    """RECORD messages per stream in the tap's Singer output."""
    counts: dict[str, int] = {}
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(b'{"type":"RECORD"') or b'"type": "RECORD"' in line[:40]:
                message = json.loads(line)
                counts[message["stream"]] = counts.get(message["stream"], 0) + 1
    return counts
