"""The org folder: a Salesforce org as one `<Object>.csv` per object, as Data Export writes it.
`files` reads and writes it (the demo org, the emulator, the tests); `checks` refuses a broken
export before `salesprep run --org` serves it."""

from salesprep.org_folder.checks import check_org_folder
from salesprep.org_folder.files import (
    OrgFolderError,
    OrgObject,
    format_value,
    object_path,
    parse_datetime,
    parse_value,
    read_object,
    write_object,
)

__all__ = [
    "OrgFolderError",
    "OrgObject",
    "check_org_folder",
    "format_value",
    "object_path",
    "parse_datetime",
    "parse_value",
    "read_object",
    "write_object",
]
