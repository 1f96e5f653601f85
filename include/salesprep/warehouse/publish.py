"""Publishing the built warehouse for BI. DuckDB: copy beside the published file, then swap it
in with one atomic rename (`salesprep.runs.atomic_swap`), so a reader never sees a half-built
week. Postgres: `salesprep.warehouse.postgres_publish` (views repointed in one transaction);
`stage_for_bi` picks by the dbt target."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from salesprep.runs.atomic_swap import AtomicSwapError, Staged, Swap, commit_together, sweep

if TYPE_CHECKING:
    from salesprep.config import Settings

log = logging.getLogger(__name__)


class WarehousePublishError(RuntimeError):
    """The built warehouse could not be published; names the file and the step."""


def stage_for_bi(settings: Settings) -> Staged:
    """Stage the checked build as the next version BI reads, on the settings' dbt target: a
    `Swap` of the DuckDB file, or a `PostgresPublish` of the build schema. Either goes into
    `commit_together` with the week's packets; `finish_for_bi` follows the commit."""
    if settings.dbt_target == "postgres":
        from salesprep.warehouse.postgres_publish import stage_postgres_warehouse

        return stage_postgres_warehouse(settings.postgres)
    return stage_warehouse(settings.build_warehouse_path, settings.published_warehouse_path)


def finish_for_bi(settings: Settings, staged: Staged) -> str:
    """After the swap of `staged` (`stage_for_bi`): tidy up, and return where BI now reads."""
    if settings.dbt_target == "postgres":  # finished by the swap itself
        return str(getattr(staged, "published", settings.postgres.schema_name))
    return str(finish_warehouse(settings.published_warehouse_path))


def publish_warehouse(build_path: Path, published_path: Path) -> Path:
    """Swap the DuckDB file dbt built into `published_path` atomically and return it (see
    `stage_warehouse`; the pipeline stages it and swaps it together with the packets)."""
    swap = stage_warehouse(build_path, published_path)
    try:
        commit_together([swap])
    except AtomicSwapError as exc:
        raise WarehousePublishError(f"cannot publish {build_path}: {exc}") from exc
    return finish_warehouse(published_path)


def stage_warehouse(build_path: Path, published_path: Path) -> Swap:
    """Stage the DuckDB file dbt built as the next `published_path`, ready to swap in.

    The build file is checkpointed first (its WAL folded in), copied next to the published
    file (same filesystem, so the swap is one atomic rename), checked to open read-only with
    tables, and flushed to disk. `Swap.commit()` then replaces the published file; a reader
    that already holds the old file keeps reading the old week until it reopens."""
    build_path = Path(build_path)
    published_path = Path(published_path)
    if not build_path.is_file():
        raise WarehousePublishError(
            f"no built warehouse at {build_path}; run the dbt build for the week first"
        )
    if build_path.resolve() == published_path.resolve():
        raise WarehousePublishError(
            f"build and published warehouse are the same file ({build_path}); BI must read a copy"
        )
    try:
        with duckdb.connect(str(build_path)) as conn:
            conn.execute("checkpoint")
    except duckdb.Error as exc:
        raise WarehousePublishError(
            f"cannot checkpoint built warehouse {build_path}: {exc}"
        ) from exc

    try:
        published_path.parent.mkdir(parents=True, exist_ok=True)
        sweep(published_path.parent, published_path.name)
        swap = Swap(published_path, folder=False)
    except OSError as exc:
        raise WarehousePublishError(
            f"cannot stage the warehouse beside {published_path}: {exc}"
        ) from exc
    try:
        shutil.copyfile(build_path, swap.staging)
        _verify(swap.staging)
        with swap.staging.open("rb") as handle:
            os.fsync(handle.fileno())
    except (OSError, duckdb.Error, WarehousePublishError) as exc:
        # Whatever failed, never leave a half-copied file next to the published one.
        swap.discard()
        if isinstance(exc, WarehousePublishError):
            raise
        raise WarehousePublishError(
            f"cannot publish {build_path} to {published_path}: {exc}"
        ) from exc
    return swap


def finish_warehouse(published_path: Path) -> Path:
    """After the swap: drop a WAL left beside the published name (it belonged to the previous
    file) and log what BI now reads."""
    published_path = Path(published_path)
    published_path.with_name(published_path.name + ".wal").unlink(missing_ok=True)
    size = published_path.stat().st_size
    log.info("published warehouse %s (%s bytes)", published_path, f"{size:,}")
    return published_path


def _verify(path: Path) -> None:
    """The copy opens read-only and has tables: never swap in a file BI cannot read."""
    with duckdb.connect(str(path), read_only=True) as conn:
        (tables,) = conn.execute(
            "select count(*) from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchone()
    if not tables:
        raise WarehousePublishError(f"built warehouse copy {path} has no tables")
