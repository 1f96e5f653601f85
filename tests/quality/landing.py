"""Landing zones built straight from sample org folders, for checkpoint tests.

The raw checkpoint reads Parquet files and the extract report, whoever wrote them; building
them from `org_folder.read_object` keeps these tests independent of the HTTP path, which
tests/extract covers.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from salesprep.catalog import OBJECTS
from salesprep.org_folder import read_object
from salesprep.salesforce.report import ExtractReport, ObjectReport


def land_org(org_dir: Path, raw_root: Path, *, missing_fields: dict[str, list[str]] | None = None):
    """Write `raw_root` as extraction would for the org folder; `missing_fields` overrides
    what the report says the org lacked."""
    report = ExtractReport(mode="full", api_version="62.0")
    for sobject in OBJECTS:
        org_object = read_object(org_dir, sobject.name)
        path = raw_root / sobject.name / f"{sobject.name}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(org_object.table, path)
        deleted = 0
        if sobject.has_is_deleted:
            deleted = sum(1 for v in org_object.table.column("IsDeleted").to_pylist() if v)
        report.objects[sobject.name] = ObjectReport(
            name=sobject.name,
            present=org_object.present,
            required=sobject.required,
            rows=org_object.table.num_rows,
            deleted_rows=deleted,
            missing_fields=(missing_fields or {}).get(sobject.name, org_object.missing_fields),
            bytes=path.stat().st_size,
            path=f"{sobject.name}/{sobject.name}.parquet",
        )
    report.write(raw_root)
    return report
