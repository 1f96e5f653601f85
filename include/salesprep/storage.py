"""Where the data shared between tasks lives: the data directory (the default), or one fsspec
URL that every worker reaches (`storage.url`, e.g. `s3://bucket/salesprep`) holding `raw/`,
`state/`, `rendered/<week>/`, `quality/<week>/` and, unless `shared_folder` is set, `shared/`.

With a storage URL, a step works in its worker's data directory as before, and this module
moves what steps hand each other: `pull` copies a shared folder down before a step reads it,
`push` replaces it with what the step wrote (`atomic_swap.RemoteSwap`: staged, then copied
over with the file that says it is complete last). DuckDB (dbt's sources, the raw checkpoint)
reads the raw Parquet in place through the same fsspec filesystem (`register_duckdb`, which
dbt-duckdb calls through `warehouse.storage_plugin`). Credentials come from fsspec's own
sources (the environment, instance roles), `storage.options`, or an Airflow connection
(`storage.conn_id`, through Airflow's ObjectStoragePath).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesprep.config import ConfigError
from salesprep.runs.atomic_swap import RemoteSwap, remote_files, replacing

if TYPE_CHECKING:
    import duckdb
    import fsspec

    from salesprep.config import Settings

log = logging.getLogger(__name__)

# The extraction files kept under `<storage>/state/` (the run records and the lease are not
# copied: each run writes its own record locally; the lease has its own place).
STATE_FILES = ("salesforce_extract_state.json", "org.json")


class StorageError(OSError):
    """Shared data that could not be copied to or from `storage.url`; the message names it."""


def filesystem(settings: Settings, url: str | None = None) -> tuple[fsspec.AbstractFileSystem, str]:
    """The fsspec filesystem of `url` (default: `storage.url`) and the path inside it."""
    storage = settings.storage
    url = url or storage.url
    if storage.conn_id and storage.url and url.startswith(storage.url):
        return _connection_filesystem(url, storage.conn_id, storage.options)
    import fsspec

    try:
        return fsspec.core.url_to_fs(url, **storage.options)
    except (ImportError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"storage.url={storage.url!r} (SALESPREP_STORAGE__URL): cannot open {url!r}: {exc}; "
            "install salesprep's extra for it (s3, gcs, azure) and check storage.options"
        ) from exc


def _connection_filesystem(
    url: str, conn_id: str, options: dict[str, Any]
) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem Airflow builds for `url` from the connection `conn_id`."""
    from airflow.sdk import ObjectStoragePath

    try:
        path = ObjectStoragePath(url, conn_id=conn_id, **options)
        fs = path.fs
    except (ImportError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"storage.conn_id={conn_id!r} (SALESPREP_STORAGE__CONN_ID): Airflow cannot open "
            f"{url!r} with it: {exc}; install the provider of its scheme (salesprep[s3] brings "
            "the Amazon one) and check the connection"
        ) from exc
    return fs, fs._strip_protocol(url).rstrip("/")


def use_options(settings: Settings) -> None:
    """Make the storage's options (`storage.options`, or those Airflow built from
    `storage.conn_id`) fsspec's defaults for its protocol in this process (`fsspec.config`),
    so every part that opens a URL there by itself (the shared folder's publish, learnings,
    status, notices) reaches it with the same endpoint and credentials."""
    import fsspec.config

    storage = settings.storage
    if not storage.enabled or storage.protocol == "file":
        return
    if storage.conn_id:
        fs, _ = filesystem(settings)
        options = dict(fs.storage_options)
    else:
        options = dict(storage.options)
    if options:
        fsspec.config.conf[storage.protocol] = {
            **fsspec.config.conf.get(storage.protocol, {}),
            **options,
        }


def register_duckdb(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Let `con` read URLs under `storage.url` (e.g. `read_parquet('s3://...')`) through
    fsspec; a no-op without a storage URL."""
    if not settings.storage.enabled or settings.storage.protocol == "file":
        return
    fs, _ = filesystem(settings)
    con.register_filesystem(fs)


def pull(settings: Settings, name: str, local: Path, *, marker: str | None = None) -> int:
    """Replace the local folder `local` with the shared folder `name` (a path under
    `storage.url`); returns the files copied. A no-op without a storage URL (`local` is the
    shared folder then). With `marker`, a local copy whose marker file has the same bytes as
    the shared one is current and is kept (the extract report names its run)."""
    if not settings.storage.enabled:
        return 0
    fs, root = filesystem(settings)
    source = f"{root}/{name}"
    files = remote_files(fs, source)
    local = Path(local)
    if marker and marker in files and (local / marker).is_file():
        try:
            if fs.cat_file(f"{source}/{marker}") == (local / marker).read_bytes():
                log.info("%s is current with %s: nothing to copy", local, source)
                return 0
        except OSError as exc:
            raise StorageError(f"reading {source}/{marker} failed: {exc}") from exc
    try:
        with replacing(local) as staging:
            for path in sorted(files):
                target = staging / path
                target.parent.mkdir(parents=True, exist_ok=True)
                fs.get_file(f"{source}/{path}", str(target))
    except OSError as exc:
        raise StorageError(f"copying {source} to {local} failed: {exc}") from exc
    log.info("copied %d file(s) of %s to %s", len(files), source, local)
    return len(files)


def push(settings: Settings, local: Path, name: str, *, last: str | None = None) -> int:
    """Replace the shared folder `name` with the local folder `local` (every file; `last`, the
    file that says the folder is complete, written last); returns the files copied. A no-op
    without a storage URL."""
    if not settings.storage.enabled:
        return 0
    fs, root = filesystem(settings)
    target = f"{root}/{name}"
    local = Path(local)
    files = {
        path.relative_to(local).as_posix(): path
        for path in sorted(local.rglob("*"))
        if path.is_file()
    }
    swap = RemoteSwap(fs, target, files, last=last)
    try:
        swap.write()
        swap.commit()
    except OSError as exc:
        swap.rollback()
        raise StorageError(f"copying {local} to {target} failed: {exc}") from exc
    swap.finish()
    log.info("copied %d file(s) of %s to %s", len(files), local, target)
    return len(files)


def pull_file(settings: Settings, name: str, local: Path) -> bool:
    """Copy the shared file `name` to `local` when it exists (True), else remove `local` (the
    shared state is the truth). A no-op without a storage URL."""
    if not settings.storage.enabled:
        return False
    fs, root = filesystem(settings)
    source = f"{root}/{name}"
    local = Path(local)
    try:
        if not fs.exists(source):
            local.unlink(missing_ok=True)
            return False
        local.parent.mkdir(parents=True, exist_ok=True)
        with replacing(local, folder=False) as staging:
            fs.get_file(source, str(staging))
    except OSError as exc:
        raise StorageError(f"copying {source} to {local} failed: {exc}") from exc
    return True


def push_file(settings: Settings, local: Path, name: str) -> bool:
    """Copy the local file `local` to the shared `name` (one PUT: readers see the old or the
    new); a missing `local` leaves it. A no-op without a storage URL."""
    if not settings.storage.enabled or not Path(local).is_file():
        return False
    fs, root = filesystem(settings)
    target = f"{root}/{name}"
    try:
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(target, Path(local).read_bytes())
    except OSError as exc:
        raise StorageError(f"copying {local} to {target} failed: {exc}") from exc
    return True


def sweep(settings: Settings) -> list[str]:
    """Remove what runs that died left beside the shared folders under `storage.url`."""
    from salesprep.runs.atomic_swap import sweep_remote

    if not settings.storage.enabled:
        return []
    fs, root = filesystem(settings)
    swept: list[str] = []
    for folder in (root, f"{root}/rendered", f"{root}/quality"):
        swept += sweep_remote(fs, folder)
    return swept
