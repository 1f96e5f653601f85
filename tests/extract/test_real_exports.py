"""Folders from Salesforce's Data Export, served by the emulator (`salesprep run --org`) and
extracted over HTTP: a BOM, CRLF line ends, every value quoted, quoted newlines, header case
differences, reordered and extra columns, and empty files land the same records as a clean
folder."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from extract.conftest import make_settings
from extract.org_changes import assert_landed_equals_org, landed
from extract.sample_org import HOSTILE_TEXT, write_sample_org
from salesprep.catalog import get_object
from salesprep.salesforce.connection import connect
from salesprep.salesforce.extract import extract_org


def _rewrite(path: Path, *, transform, bom=False, newline="\n", quote_all=False) -> None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = transform(rows[0], rows[1:])
    buffer = io.StringIO()
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, lineterminator=newline, quoting=quoting)
    writer.writerow(header)
    writer.writerows(body)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8", newline="")


def _case_and_extras(header, body):
    """Header case as some export tools write it, extra columns, reversed column order."""
    header = [h.lower() if i % 2 else h.upper() for i, h in enumerate(header)]
    header = [*header, "Region__c", "Owner.Name"]
    body = [[*row, "EMEA", 'Ada, "the" rep'] for row in body]
    order = list(reversed(range(len(header))))
    return [header[i] for i in order], [[row[i] for i in order] for row in body]


def _same(header, body):
    return header, body


QUIRKS = {
    # object: (what the file does, rewrite options)
    "Opportunity": (
        "BOM, CRLF, header case, extra columns",
        dict(transform=_case_and_extras, bom=True, newline="\r\n"),
    ),
    "Account": (
        "every value quoted, quoted newline, CRLF",
        dict(transform=_same, quote_all=True, newline="\r\n"),
    ),
    "User": ("BOM and every value quoted", dict(transform=_same, bom=True, quote_all=True)),
    "OpportunityFieldHistory": ("header case and extras", dict(transform=_case_and_extras)),
}


@pytest.fixture(scope="module")
def export_dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("export")
    clean = write_sample_org(root / "clean")
    export = root / "export"
    shutil.copytree(clean, export)
    for name, (_what, options) in QUIRKS.items():
        _rewrite(export / f"{name}.csv", **options)
    (export / "Event.csv").write_bytes(b"")  # an object exported with no rows, not even a header
    header = ",".join(get_object("ForecastingQuota").field_names)
    (export / "ForecastingQuota.csv").write_text(header + "\r\n", encoding="utf-8")
    return clean, export


def test_export_quirks_land_the_records_of_a_clean_folder(export_dirs, tmp_path: Path):
    from salesprep.cli.run import serving_org

    clean, export = export_dirs
    text = (export / "Opportunity.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and b"\r\n" in text and b"REGION__C" not in text
    assert "\n" in HOSTILE_TEXT and b'"Renewal, ""big"" deal\nline two' in (
        export / "Account.csv"
    ).read_bytes().replace(b"\r\n", b"\n")

    settings = make_settings(tmp_path / "data")
    with serving_org(export):  # the `salesprep run --org` path: HTTP through the connection
        report = extract_org(connect(settings), settings.raw_root, settings=settings)

    assert_landed_equals_org(settings.raw_root, export)
    for name, (what, _options) in QUIRKS.items():
        assert report.objects[name].missing_fields == [], f"{name}: {what}"
    assert report.objects["Event"].present and report.objects["Event"].rows == 0
    assert report.objects["ForecastingQuota"].rows == 0
    # Everything but the two emptied objects is record for record the clean folder.
    clean_settings = make_settings(tmp_path / "clean")
    with serving_org(clean):
        extract_org(connect(clean_settings), clean_settings.raw_root, settings=clean_settings)
    for name in QUIRKS:
        assert (
            landed(settings.raw_root, name)
            .sort_by("Id")
            .equals(landed(clean_settings.raw_root, name).sort_by("Id"))
        ), f"{name}: {QUIRKS[name][0]}"
    accounts = {r["Id"]: r for r in landed(settings.raw_root, "Account").to_pylist()}
    assert HOSTILE_TEXT in {r["Name"] for r in accounts.values()}
