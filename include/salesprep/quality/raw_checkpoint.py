"""The raw checkpoint: Great Expectations checks on the landing zone before dbt reads it.

It fails the run (nothing is built or published) when ids are missing or duplicated, a required
field is missing, an opportunity stage is unknown to the org, or an amount is negative. Every
landed file must have the catalog schema; optional objects the org does not have (empty files)
get no checks of their own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from salesprep.catalog import OBJECTS, SObject
from salesprep.catalog import STANDARD_OPPORTUNITY_STAGES as STANDARD_STAGES
from salesprep.quality.gx import (
    Check,
    Dataset,
    QualityError,
    QualityResult,
    raise_for_failures,
    run_checkpoints,
)
from salesprep.salesforce.report import ExtractReport, ExtractReportError, load_report

if TYPE_CHECKING:
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


def validate_raw(
    raw_root: Path, report_dir: Path, *, settings: Settings, week: Week | None = None
) -> QualityResult:
    """Run the raw checkpoint over `raw_root`; write `report_dir/raw_checkpoint.json` and Data
    Docs (`report_dir/data_docs/index.html`). Raises `QualityGateError` listing each failed
    blocking expectation, or `QualityError` when the landing zone cannot be read."""
    raw_root = Path(raw_root)
    try:
        report = load_report(raw_root)
    except ExtractReportError as exc:
        raise QualityError(f"raw checkpoint: {exc}") from exc
    frames = {sobject.name: _read_object(raw_root, sobject) for sobject in OBJECTS}
    stages, stage_source = known_stages(frames["OpportunityStage"], report, settings)
    datasets = [_required_fields_dataset(report)]
    datasets += [
        Dataset(sobject.name, frames[sobject.name], _object_checks(sobject, stages, stage_source))
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


def _read_object(raw_root: Path, sobject: SObject) -> pd.DataFrame:
    """The columns the checks need. The file's whole schema is compared with the catalog first
    (a difference stops the run, named); only then are the checked columns read, so memory
    follows those few columns, not every field of every row (Task has tens of millions)."""
    path = raw_root / sobject.name / f"{sobject.name}.parquet"
    try:
        schema = pq.read_schema(path)
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
    try:
        return pq.read_table(path, columns=_checked_columns(sobject)).to_pandas()
    except OSError as exc:
        raise QualityError(f"raw checkpoint: cannot read {path}: {exc}") from exc


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


def _object_checks(sobject: SObject, stages: list[str], stage_source: str) -> list[Check]:
    # The column list itself is compared with the catalog when the file is opened.
    checks = [
        Check("ExpectColumnValuesToNotBeNull", {"column": "Id"}, "every row has an Id"),
        Check("ExpectColumnValuesToBeUnique", {"column": "Id"}, "Ids are unique"),
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
