"""The checks a run passes before it does any work: every folder it will write is a folder it
can write, the shared folder's URL scheme is one fsspec knows, and the Salesforce connection in
the environment is well-formed. Each failure is one line naming the setting and the fix, so a
typo stops the run in a second instead of 30 seconds in, with an errno."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from salesprep.config import Settings

_SCHEMES_HINT = "a local path, file://, s3://, gs://, az://, sftp:// or memory://"


class PreflightError(ValueError):
    """A setting that would make the run fail later; names the setting and the fix."""


def check_settings(settings: Settings, *, check_connection: bool = True) -> None:
    """Raise PreflightError for the first setting a run could not work with."""
    check_folder(settings.data_dir, "data_dir (SALESPREP_DATA_DIR, --data-dir)")
    check_file_path(
        settings.published_warehouse_path,
        "warehouse_path (SALESPREP_WAREHOUSE_PATH, --warehouse)",
    )
    check_shared_folder(settings.shared_folder_url)
    if check_connection:
        from salesprep.salesforce.connection import check_connection_env

        check_connection_env(settings.salesforce.conn_id)


def check_folder(path: Path, setting: str) -> None:
    """`path` is, or can be made, a folder this process can write into."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise PreflightError(
            f"setting {setting} is {path}, which is a file, not a folder: point it at a folder "
            "(it is created if missing) or move the file away"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise PreflightError(
            f"setting {setting} is {path}, but a part of that path is a file ({exc.filename}): "
            "point it at a folder"
        ) from exc
    except OSError as exc:
        raise PreflightError(
            f"setting {setting} is {path}, which cannot be created ({exc.strerror}): choose a "
            "folder this user can create, or create it with write permission"
        ) from exc
    _probe_local(path, setting)


def check_file_path(path: Path, setting: str) -> None:
    """`path` names a file (not a folder) in a folder this process can write into."""
    path = Path(path)
    if path.is_dir():
        raise PreflightError(
            f"setting {setting} is {path}, which is a folder: give the path of a DuckDB file "
            "such as .../salesprep.duckdb"
        )
    check_folder(path.parent, f"{setting} (its folder)")


def check_shared_folder(url: str) -> None:
    """The shared folder's scheme is known to fsspec (its package installed) and the folder
    can be written: a test file is written and removed."""
    import fsspec
    from fsspec.core import split_protocol

    setting = "shared_folder (SALESPREP_SHARED_FOLDER, --shared-folder)"
    protocol, _ = split_protocol(url)
    if protocol in (None, "file", "local"):
        local = url.split("://", 1)[1] if "://" in url else url
        check_folder(Path(local), setting)
        return
    try:
        fsspec.get_filesystem_class(protocol)
    except ValueError as exc:
        raise PreflightError(
            f"setting {setting} is {url!r}: {protocol!r} is not a storage scheme fsspec knows; "
            f"use {_SCHEMES_HINT}"
        ) from exc
    except ImportError as exc:
        raise PreflightError(
            f"setting {setting} is {url!r}: the {protocol!r} scheme needs a package that is not "
            f"installed ({exc}); install it (e.g. s3fs, gcsfs, adlfs) or use a local path"
        ) from exc
    try:
        fs, root = fsspec.core.url_to_fs(url)
        root = root.rstrip("/")
        fs.makedirs(root, exist_ok=True)
        probe = f"{root}/.salesprep-write-check-{secrets.token_hex(4)}"
        fs.pipe_file(probe, b"")
        fs.rm(probe)
    except (OSError, ValueError) as exc:
        raise PreflightError(
            f"setting {setting} is {url!r}, which cannot be written ({exc}): check the URL and "
            "the credentials of the storage"
        ) from exc


def _probe_local(folder: Path, setting: str) -> None:
    probe = folder / f".salesprep-write-check-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PreflightError(
            f"setting {setting} is {folder}, which this user cannot write ({exc.strerror}): "
            "fix its permissions or choose another folder"
        ) from exc


def connection_json_error(value: str) -> str | None:
    """Why an `AIRFLOW_CONN_*` value is malformed, None when it is fine or unset. Airflow reads
    a value starting with `{` as JSON and anything else as a URI (`salesforce://...`), which it
    checks itself."""
    text = value.strip()
    if not text:
        return None
    if not text.startswith("{"):
        if "://" in text:
            return None
        return "is neither a JSON object nor a connection URI"
    try:
        data = json.loads(value)
    except ValueError as exc:
        return f"is not valid JSON ({exc})"
    if not isinstance(data, dict):
        return "must be a JSON object"
    return None
