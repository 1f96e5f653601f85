"""The dbt-duckdb plugin that lets dbt's DuckDB read `storage.url` (dbt_project/profiles.yml,
`plugins`): it registers the storage's fsspec filesystem, credentials included, on the
database dbt opens, so the sources read the raw Parquet in place. `build_warehouse` hands it
the run's settings (`serving`); dbt started any other way (Cosmos tasks, by hand) reads them
from the environment. Without a storage URL it does nothing."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dbt.adapters.duckdb.plugins import BasePlugin

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

    from salesprep.config import Settings

# Where a deployment sets storage.url: without either, dbt outside a salesprep run (by hand)
# reads no salesprep settings at all.
_STORAGE_ENV = ("SALESPREP_STORAGE__URL", "SALESPREP_CONFIG")
_LOCK = threading.Lock()
_SERVING: list[Settings] = []


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[None]:
    """Connections dbt opens in this block read `settings`' storage."""
    with _LOCK:
        _SERVING.append(settings)
    try:
        yield
    finally:
        with _LOCK:
            _SERVING.remove(settings)


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        from salesprep.storage import register_duckdb

        with _LOCK:
            settings = _SERVING[-1] if _SERVING else None
        if settings is None:
            if not any(name in os.environ for name in _STORAGE_ENV):
                return  # dbt by hand on a local data dir: nothing to register
            from salesprep.config import load_settings

            settings = load_settings()
        register_duckdb(conn, settings)
