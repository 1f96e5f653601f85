"""The checks an org folder (a Salesforce Data Export of `<Object>.csv` files) passes before
`salesprep run --org` serves it, so that a broken export stops the run at once with one line
naming the file, the line and the fix, instead of a retried HTTP 500 from the emulator half-way
through, or, worse, rows silently padded or shifted into the wrong columns.

Refused: a required object or field missing, a file that is not UTF-8, a NUL byte, a header
with a column twice or no `Id`, a file separated by `;` or tabs, a row with more or fewer
values than the header (an unquoted comma or newline, an unterminated quote), and a value that
is not of its field's type (checked as the emulator loads each object). Accepted, as Salesforce
writes them: a UTF-8 byte order mark, CRLF line ends, quoted commas, quotes and newlines, an
empty file or a header alone (no records), columns salesprep does not read.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

from salesprep.catalog import OBJECTS, SObject
from salesprep.org_folder.files import OrgFolderError, object_path

_CHUNK = 1 << 20
_FIX = "fix the file or export the org again"


def check_org_folder(org_dir: Path) -> None:
    """Raise OrgFolderError for the first problem of `org_dir`, in catalog order."""
    org_dir = Path(org_dir)
    if not org_dir.is_dir():
        raise OrgFolderError(f"org folder {org_dir} (--org) does not exist or is not a folder")
    for sobject in OBJECTS:
        path = object_path(org_dir, sobject.name)
        if path is None:
            if sobject.required:
                raise OrgFolderError(
                    f"org folder {org_dir} has no {sobject.name}.csv, which salesprep requires: "
                    f"include {sobject.name} in the export"
                )
            continue
        try:
            _check_file(path, sobject)
        except OrgFolderError as exc:
            raise OrgFolderError(f"org folder {org_dir}: {exc}") from exc


def _check_file(path: Path, sobject: SObject) -> None:
    with path.open("rb") as raw:
        head = raw.read(4)
    if not head:
        return  # an empty file: the object has no records
    text_lines = _lines(path)
    reader = csv.reader(text_lines, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        _check_header(path, sobject, header)
        for values in reader:
            if len(values) != len(header):
                raise OrgFolderError(
                    f"{path.name} line {reader.line_num} has {len(values)} values for the "
                    f"{len(header)} columns of its header (an unquoted comma or line break, or an "
                    f"unterminated quote): {_FIX}"
                )
    except csv.Error as exc:
        raise OrgFolderError(
            f"{path.name} line {reader.line_num} is not valid CSV ({exc}): {_FIX}"
        ) from exc


def _lines(path: Path):
    """The decoded lines of `path` (newlines kept, for the csv module), refusing bytes that are
    not UTF-8 or are NUL, with where they are."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    line_number, offset, pending = 1, 0, ""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                position = offset + exc.start
                line = line_number + pending.count("\n") + chunk[: exc.start].count(b"\n")
                raise OrgFolderError(
                    f"{path.name} is not UTF-8 (byte 0x{chunk[exc.start]:02x} at offset "
                    f"{position}, near line {line}): export it again as UTF-8, or convert it "
                    "(e.g. iconv -f latin1 -t utf-8)"
                ) from exc
            offset += len(chunk)
            if "\x00" in text:
                line = line_number + (pending + text[: text.index("\x00")]).count("\n")
                raise OrgFolderError(
                    f"{path.name} has a NUL byte near line {line}: {_FIX} (a CSV export has none)"
                )
            pending += text
            *complete, pending = pending.split("\n")
            for line in complete:
                line_number += 1
                yield line + "\n"
    tail = pending + decoder.decode(b"", final=True)
    if tail:
        yield tail


def _check_header(path: Path, sobject: SObject, header: list[str]) -> None:
    names = [column.strip() for column in header]
    if len(names) == 1 and any(sep in names[0] for sep in (";", "\t", "|")):
        raise OrgFolderError(
            f"{path.name} is not separated by commas (its header is {names[0][:60]!r}): a "
            "Salesforce Data Export uses commas; export it again or convert it"
        )
    seen: set[str] = set()
    for name in names:
        key = name.lower()
        if key and key in seen:
            raise OrgFolderError(f"{path.name} has the column {name} twice in its header: {_FIX}")
        seen.add(key)
    if "id" not in seen:
        raise OrgFolderError(
            f"{path.name} has no Id column (header starts {', '.join(names[:4])[:80]!r}): "
            f"{sobject.name} records need their Id; {_FIX}"
        )
    missing = [f for f in sobject.required_fields if f.lower() not in seen]
    if missing:
        raise OrgFolderError(
            f"{path.name} lacks the column(s) {', '.join(missing)}, which salesprep requires: "
            "include them in the export"
        )
