"""Can a run write where the settings point: the data dir, the published warehouse and the
shared folder? Probed with a temporary file that is removed at once; a folder that does not
exist yet is not created (the run creates it), its nearest existing parent is probed instead."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

from salesprep.config import PostgresSettings, Settings
from salesprep.doctor.model import Check, Status, fail, ok

_PROBE_PREFIX = ".salesprep-doctor-"
_SCHEMES = "a local path, file://, s3://, gs://, az://, sftp:// or memory://"


def storage_checks(settings: Settings) -> list[Check]:
    checks = [
        local_folder_check(
            "data dir", settings.data_dir, "SALESPREP_DATA_DIR or --data-dir (setting data_dir)"
        ),
        (
            postgres_warehouse_check(settings.postgres)
            if settings.dbt_target == "postgres"
            else warehouse_check(settings.published_warehouse_path)
        ),
    ]
    if settings.storage.enabled:
        checks.append(shared_storage_check(settings))
    checks.append(shared_folder_check(settings.shared_folder_url, settings))
    return checks


def shared_storage_check(settings: Settings) -> Check:
    """`storage.url` opens with its credentials and takes a file."""
    from salesprep.config import ConfigError
    from salesprep.storage import filesystem

    url = settings.storage.url
    try:
        fs, root = filesystem(settings)
    except ConfigError as exc:
        return fail("shared storage", str(exc), "fix storage.url or storage.conn_id", url=url)
    problem = _probe_remote(fs, root)
    if problem:
        return fail(
            "shared storage",
            f"{url!r} cannot be written: {problem}",
            "check the URL, that the bucket exists, and the credentials (storage.conn_id, "
            "storage.options or the environment) of every worker",
            url=url,
        )
    return ok("shared storage", f"{url} is writable (a test file was written and removed)", url=url)


def local_folder_check(name: str, folder: Path, setting: str) -> Check:
    """`folder` is a folder this user can write in, or can be created in one."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        return fail(
            name,
            f"{folder} is a file, not a folder",
            f"point {setting} at a folder (it is created if missing), or move the file away",
            path=str(folder),
        )
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return fail(
            name,
            f"{folder} cannot be created: {existing} is a file",
            f"point {setting} at a folder whose parents are folders",
            path=str(folder),
        )
    problem = _probe_local(existing)
    if problem:
        return fail(
            name,
            f"{folder} cannot be written: {existing} refuses a new file ({problem})",
            f"give this user write permission on {existing}, or point {setting} elsewhere",
            path=str(folder),
        )
    free = shutil.disk_usage(existing).free
    where = (
        f"{folder} is writable"
        if existing == folder
        else f"{folder} does not exist yet; the run creates it in {existing}, which is writable"
    )
    return ok(name, f"{where} ({free / 2**30:,.1f} GiB free)", path=str(folder), free_bytes=free)


def warehouse_check(path: Path) -> Check:
    """The published DuckDB file is swapped in by rename: its folder must be writable."""
    setting = "SALESPREP_WAREHOUSE_PATH or --warehouse (setting warehouse_path)"
    if path.is_dir():
        return fail(
            "warehouse",
            f"{path} is a folder",
            f"point {setting} at a DuckDB file such as .../salesprep.duckdb",
            path=str(path),
        )
    check = local_folder_check("warehouse", path.parent, setting)
    if check.status is not Status.OK:
        return check
    state = "exists" if path.exists() else "is created by the first run"
    return ok("warehouse", f"{path} {state}; its folder: {check.detail}", path=str(path))


def postgres_warehouse_check(target: PostgresSettings) -> Check:
    """The Postgres server of the `postgres` target answers, and its database exists or can
    be created by the first run (the build creates it)."""
    import psycopg

    from salesprep.warehouse.postgres import conninfo

    setting = "SALESPREP_DBT_POSTGRES_HOST, _PORT, _USER, _PASSWORD and _DATABASE"
    server = f"{target.host}:{target.port}"
    data = {"server": server, "database": target.database, "schema": target.schema_name}
    try:
        with psycopg.connect(conninfo(target, "postgres"), connect_timeout=5) as conn:
            exists = conn.execute(
                "select 1 from pg_database where datname = %s", (target.database,)
            ).fetchone()
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return fail(
            "warehouse",
            f"Postgres at {server} as {target.user} cannot be reached: {detail}",
            f"start the server, or point {setting} at it",
            **data,
        )
    state = "exists" if exists else "is created by the first run"
    return ok(
        "warehouse",
        f"Postgres {server}: database {target.database} {state}; the build writes schema "
        f"{target.build_schema}, BI reads {target.schema_name}",
        **data,
    )


def shared_folder_check(url: str, settings: Settings | None = None) -> Check:
    """A known fsspec scheme whose package is installed, and a folder that takes a file (one
    under `storage.url` is opened with the storage's credentials)."""
    import fsspec
    from fsspec.core import split_protocol

    setting = "SALESPREP_SHARED_FOLDER or --shared-folder (setting shared_folder)"
    protocol, rest = split_protocol(url)
    if protocol in (None, "file", "local"):
        return local_folder_check("shared folder", Path(rest if protocol else url), setting)
    try:
        fsspec.get_filesystem_class(protocol)
    except ValueError:
        return fail(
            "shared folder",
            f"{url!r}: {protocol!r} is not a storage scheme fsspec knows",
            f"set {setting} to {_SCHEMES}",
            url=url,
        )
    except ImportError as exc:
        return fail(
            "shared folder",
            f"{url!r}: the {protocol}:// scheme needs a package that is not installed ({exc})",
            f"install it into the environment that runs salesprep (e.g. s3fs, gcsfs, adlfs), or "
            f"set {setting} to a local path",
            url=url,
        )
    from salesprep.config import ConfigError
    from salesprep.storage import filesystem

    under_storage = (
        settings is not None and settings.storage.url and url.startswith(settings.storage.url)
    )
    try:
        fs, root = filesystem(settings, url) if under_storage else fsspec.core.url_to_fs(url)
        problem = _probe_remote(fs, root)
    except (ConfigError, ValueError) as exc:
        problem = str(exc)
    if problem:
        return fail(
            "shared folder",
            f"{url!r} cannot be written: {problem}",
            "check the URL, that the bucket or folder exists, and the storage credentials "
            "of the environment that runs salesprep",
            url=url,
        )
    return ok("shared folder", f"{url} is writable (a test file was written and removed)", url=url)


def _probe_remote(fs, root: str) -> str:
    """Why a new file cannot be made under `root` ("" when it can); nothing is left behind."""
    probe = f"{root.rstrip('/')}/{_PROBE_PREFIX}{secrets.token_hex(6)}"
    try:
        fs.pipe_file(probe, b"")
        fs.rm(probe)
    # Storage backends raise their own types beside OSError: botocore's NoCredentialsError
    # is none, and a doctor check must report it, not crash.
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _probe_local(folder: Path) -> str:
    """Why a new file cannot be made in `folder` ("" when it can); nothing is left behind."""
    try:
        handle, name = tempfile.mkstemp(prefix=_PROBE_PREFIX, dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(handle)
    os.unlink(name)
    return ""
