"""The raw checkpoint: Great Expectations checks on the landing zone before dbt reads it.

It fails the run (nothing is built or published) when ids are missing or duplicated, a required
field is missing, an opportunity stage is unknown to the org, or an amount is negative. Every
landed file must have the catalog schema; optional objects the org does not have (empty files)
get no checks of their own.

Memory does not grow with the org's history (decision 37): no object is read whole into pandas.
The row-wise checks (not null, stage, amount) run in GX over pandas batches of at most
`BATCH_ROWS` rows of the checked columns, merged into one result per object; Id uniqueness, which
no batch can judge alone, is one set-wise DuckDB query over the Parquet file, under
`DUCKDB_MEMORY_LIMIT` (DuckDB spills to a temporary folder beyond it), and its counts and first
duplicated Ids become the GX result of the same expectation.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from salesprep.catalog import OBJECTS, SObject
from salesprep.catalog import STANDARD_OPPORTUNITY_STAGES as STANDARD_STAGES
from salesprep.quality.gx import (
    Batches,
    Check,
    Dataset,
    QualityError,
    QualityResult,
    WholeResult,
    raise_for_failures,
    run_checkpoints,
)
from salesprep.salesforce.report import (
    REPORT_FILE,
    ExtractReport,
    ExtractReportError,
    load_report,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb
    import fsspec
    import pandas as pd

    from salesprep.config import Settings
    from salesprep.weeks import Week

log = logging.getLogger(__name__)

# The stage picklist of a new Salesforce org, used when the org's OpportunityStage is not
# readable; config adds an org's own stages with `extra_stages`.
STANDARD_OPPORTUNITY_STAGES: tuple[str, ...] = tuple(s.name for s in STANDARD_STAGES)

# (object, column) pairs that hold money and must not be negative.
AMOUNT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Opportunity", "Amount"),
    ("OpportunityHistory", "Amount"),
    ("ForecastingQuota", "QuotaAmount"),
)
STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Opportunity", "StageName"),
    ("OpportunityHistory", "StageName"),
)
REQUIRED_FIELDS_DATASET = "required_fields"

# Rows of the checked columns per pandas batch GX validates: the checkpoint's memory follows
# this, not the size of the org (250k rows of Task's Id and IsDeleted take about 40 MiB).
BATCH_ROWS = 250_000
# DuckDB's buffer limit for the set-wise Id uniqueness query; beyond it, DuckDB spills to disk.
DUCKDB_MEMORY_LIMIT = "1GB"


def validate_raw(
    raw_root: Path | str, report_dir: Path, *, settings: Settings, week: Week | None = None
) -> QualityResult:
    """Run the raw checkpoint over `raw_root`, a folder or a URL under `storage.url` (read in
    place through its fsspec filesystem); write `report_dir/raw_checkpoint.json` and Data
    Docs (`report_dir/data_docs/index.html`). Raises `QualityGateError` listing each failed
    blocking expectation, or `QualityError` when the landing zone cannot be read."""
    if isinstance(raw_root, Path) or "://" not in raw_root:
        fs, root = None, str(Path(raw_root))
        try:
            report = load_report(Path(raw_root))
        except ExtractReportError as exc:
            raise QualityError(f"raw checkpoint: {exc}") from exc
    else:
        from salesprep.storage import filesystem

        fs, root = filesystem(settings, raw_root)
        report = _remote_report(fs, root)
    paths = {sobject.name: _checked_file(root, sobject, fs) for sobject in OBJECTS}
    stage_frame = _read_columns(paths["OpportunityStage"], ["ApiName", "MasterLabel"], fs)
    stages, stage_source = known_stages(stage_frame, report, settings)
    with _duckdb() as con:
        if fs is not None:
            con.register_filesystem(fs)
        datasets = [_required_fields_dataset(report)]
        datasets += [
            Dataset(
                sobject.name,
                _batches(paths[sobject.name], _checked_columns(sobject), fs=fs),
                _object_checks(
                    sobject,
                    stages,
                    stage_source,
                    unique_ids=lambda path=paths[sobject.name]: duplicate_ids(
                        con, fs.unstrip_protocol(path) if fs is not None else path
                    ),
                ),
            )
            for sobject in OBJECTS
            if _checked(sobject, report)
        ]
        result = run_checkpoints("raw", datasets, report_dir, week=week)
    return raise_for_failures(result)


def _checked(sobject: SObject, report: ExtractReport) -> bool:
    """Whether the object gets its own checks: an optional object the org does not have (most
    often one of an org feature it lacks, such as CurrencyType) landed as an empty file, whose
    schema `_read_object` has compared already; there is nothing else to check."""
    entry = report.objects.get(sobject.name)
    return sobject.required or entry is None or entry.present


def known_stages(
    stage_frame: pd.DataFrame, report: ExtractReport, settings: Settings
) -> tuple[list[str], str]:
    """The stage names `StageName` may hold, and where they came from (`org` or `standard`).

    The org's OpportunityStage rows give both ApiName and MasterLabel (orgs store either in
    StageName depending on age and translation settings); `settings.extra_stages` always adds.
    """
    stage_report = report.objects.get("OpportunityStage")
    names: set[str] = set()
    if stage_report is not None and stage_report.present and len(stage_frame):
        for column in ("ApiName", "MasterLabel"):
            names.update(str(v) for v in stage_frame[column].dropna())
    source = "org" if names else "standard"
    if not names:
        names.update(STANDARD_OPPORTUNITY_STAGES)
    names.update(settings.extra_stages)
    return sorted(names), source


def _checked_columns(sobject: SObject) -> list[str]:
    """The columns the checks read: Id, IsDeleted, the stage and amount columns, and the stage
    names of OpportunityStage (`known_stages`)."""
    columns = ["Id"]
    if sobject.has_is_deleted:
        columns.append("IsDeleted")
    columns += [c for o, c in (*STAGE_COLUMNS, *AMOUNT_COLUMNS) if o == sobject.name]
    if sobject.name == "OpportunityStage":
        columns += ["ApiName", "MasterLabel"]
    return columns


def _remote_report(fs: fsspec.AbstractFileSystem, root: str) -> ExtractReport:
    """The extract report of a landing zone on object storage."""
    path = f"{root}/{REPORT_FILE}"
    try:
        return ExtractReport.from_dict(json.loads(fs.cat_file(path)))
    except FileNotFoundError as exc:
        raise QualityError(
            f"raw checkpoint: no extract report at {fs.unstrip_protocol(path)}: run the "
            "extraction first"
        ) from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise QualityError(
            f"raw checkpoint: cannot read the extract report {fs.unstrip_protocol(path)}: {exc}"
        ) from exc


def _checked_file(
    raw_root: str, sobject: SObject, fs: fsspec.AbstractFileSystem | None = None
) -> str:
    """The object's landed file, once its whole schema is the catalog's (a difference stops the
    run, named). Only then are the checked columns read, in batches (`_batches`)."""
    path = f"{raw_root}/{sobject.name}/{sobject.name}.parquet"
    try:
        schema = pq.read_schema(path, filesystem=fs)
    except FileNotFoundError as exc:
        raise QualityError(
            f"raw checkpoint: {path} is missing; the landing zone must hold every catalog object"
        ) from exc
    except OSError as exc:
        raise QualityError(f"raw checkpoint: cannot read {path}: {exc}") from exc
    expected = sobject.arrow_schema()
    if not schema.equals(expected):
        actual = {f.name: str(f.type) for f in schema}
        differences = [
            f"{f.name}: {actual.get(f.name, 'absent')} instead of {f.type}"
            for f in expected
            if actual.get(f.name) != str(f.type)
        ]
        extra = [n for n in schema.names if n not in expected.names]
        raise QualityError(
            f"raw checkpoint: {path} does not have the catalog schema of {sobject.name}: "
            + "; ".join(differences + [f"unexpected column {n}" for n in extra])
        )
    return path


def _read_columns(
    path: str, columns: list[str], fs: fsspec.AbstractFileSystem | None = None
) -> pd.DataFrame:
    """A small object's columns, whole (OpportunityStage: the org's stage list)."""
    try:
        return pq.read_table(path, columns=columns, filesystem=fs).to_pandas()
    except OSError as exc:
        raise QualityError(f"raw checkpoint: cannot read {path}: {exc}") from exc


def _batches(
    path: Path | str,
    columns: list[str],
    batch_rows: int | None = None,
    *,
    fs: fsspec.AbstractFileSystem | None = None,
) -> Batches:
    """The checked columns of `path` as pandas frames of at most `batch_rows` rows (row groups
    are gathered up to that size, so small row groups do not mean many GX runs)."""
    size = batch_rows or BATCH_ROWS
    try:
        file = pq.ParquetFile(path, filesystem=fs)
        rows = file.metadata.num_rows
        schema = pa.schema([file.schema_arrow.field(c) for c in columns])
    except OSError as exc:
        raise QualityError(f"raw checkpoint: cannot read {path}: {exc}") from exc

    def read() -> Iterator[pd.DataFrame]:
        pending: list[pa.RecordBatch] = []
        count = 0
        yielded = False
        try:
            batches = pq.ParquetFile(path, filesystem=fs).iter_batches(
                batch_size=size, columns=columns
            )
            for batch in batches:
                if count + batch.num_rows > size and pending:
                    yield pa.Table.from_batches(pending, schema=schema).to_pandas()
                    pending, count, yielded = [], 0, True
                pending.append(batch)
                count += batch.num_rows
        except OSError as exc:
            raise QualityError(f"raw checkpoint: cannot read {path}: {exc}") from exc
        if pending or not yielded:
            yield pa.Table.from_batches(pending, schema=schema).to_pandas()

    return Batches(rows=rows, columns=list(columns), read=read)


@contextmanager
def _duckdb() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB for the set-wise checks, bounded by DUCKDB_MEMORY_LIMIT, spilling
    to a temporary folder removed at the end."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="salesprep-raw-check-") as spill:
        con = duckdb.connect(
            config={
                "memory_limit": DUCKDB_MEMORY_LIMIT,
                "threads": min(2, os.cpu_count() or 1),
                "temp_directory": spill,
                "preserve_insertion_order": False,
            }
        )
        # Its bar would go to stdout, into the task's log (a session option, not a global one).
        con.execute("set enable_progress_bar = false")
        try:
            yield con
        finally:
            con.close()


def duplicate_ids(con: duckdb.DuckDBPyConnection, path: Path | str) -> WholeResult:
    """Id uniqueness over the whole file, set-wise: the rows whose Id another row also has
    (every one of them, as GX counts), and the first of them in file order. Rows without an Id
    are the not-null check's; here they count as missing, as in GX.

    The full scan groups 64-bit hashes of the Ids, not the Ids (half the memory of 18-character
    strings); the few hashes seen twice are then checked on the Ids themselves, so a hash
    collision is never reported as a duplicate."""
    source = "read_parquet($path, file_row_number = true)"
    params = {"path": str(path)}
    rows, with_id = con.execute(f'select count(*), count("Id") from {source}', params).fetchone()
    (hashes,) = con.execute(
        f"""
        select coalesce(list(h), []) from (
            select hash("Id") as h from {source} where "Id" is not null
            group by h having count(*) > 1
        )
        """,
        params,
    ).fetchone()
    duplicated, sample = 0, []
    if hashes:
        params = {**params, "hashes": hashes}
        candidates = f"""
            select "Id", file_row_number from {source}
            where "Id" is not null and hash("Id") in (select unnest($hashes::ubigint[]))
        """
        (duplicated,) = con.execute(
            f"""
            select coalesce(sum(n), 0) from (
                select count(*) as n from ({candidates}) group by "Id" having count(*) > 1
            )
            """,
            params,
        ).fetchone()
        sample = [
            row[0]
            for row in con.execute(
                f"""
                select "Id" from ({candidates})
                qualify count(*) over (partition by "Id") > 1
                order by file_row_number
                limit 5
                """,
                params,
            ).fetchall()
        ]
    return WholeResult(
        element_count=int(rows),
        missing_count=int(rows - with_id),
        unexpected_count=int(duplicated),
        partial_unexpected_list=sample,
    )


def _required_fields_dataset(report: ExtractReport) -> Dataset:
    """One row per required field (`Object.Field`) of every present or required object; the
    check lists the ones the org lacked, as the extract report recorded them."""
    import pandas as pd

    wanted: list[str] = []
    present: list[str] = []
    for sobject in OBJECTS:
        entry = report.objects.get(sobject.name)
        if entry is None:
            raise QualityError(f"raw checkpoint: the extract report does not cover {sobject.name}")
        if not entry.present and not sobject.required:
            continue
        for name in sobject.required_fields:
            wanted.append(f"{sobject.name}.{name}")
            if entry.present and name not in entry.missing_fields:
                present.append(f"{sobject.name}.{name}")
    check = Check(
        "ExpectColumnValuesToBeInSet",
        {"column": "field", "value_set": present},
        "required field is present in the org (extract report)",
    )
    return Dataset(REQUIRED_FIELDS_DATASET, pd.DataFrame({"field": wanted}), [check])


def _object_checks(
    sobject: SObject,
    stages: list[str],
    stage_source: str,
    *,
    unique_ids: Callable[[], WholeResult] | None = None,
) -> list[Check]:
    """The object's checks; `unique_ids` judges Id uniqueness over the whole file."""
    # The column list itself is compared with the catalog when the file is opened.
    checks = [
        Check("ExpectColumnValuesToNotBeNull", {"column": "Id"}, "every row has an Id"),
        Check(
            "ExpectColumnValuesToBeUnique",
            {"column": "Id"},
            "Ids are unique",
            whole=unique_ids,
        ),
    ]
    for object_name, column in STAGE_COLUMNS:
        if object_name == sobject.name:
            where = "OpportunityStage" if stage_source == "org" else "standard stages"
            checks.append(
                Check(
                    "ExpectColumnValuesToBeInSet",
                    {"column": column, "value_set": stages},
                    f"stage is known to the org ({len(stages)} stages from {where})",
                    live_rows_only=True,
                )
            )
    for object_name, column in AMOUNT_COLUMNS:
        if object_name == sobject.name:
            checks.append(
                Check(
                    "ExpectColumnValuesToBeBetween",
                    {"column": column, "min_value": 0},
                    "amount is 0 or more where set",
                    live_rows_only=True,
                )
            )
    return checks
