"""Fixtures of the warehouse tests: the tiny org built once per session with dbt on DuckDB."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from salesprep.config import PairRules, Settings
from salesprep.warehouse import BuildResult, build_warehouse, publish_warehouse

from .tiny_org import TIMEZONE, WEEK, org_to_raw, write_tiny_org

REP_MARTS = "+path:models/marts/reps"


@dataclass(frozen=True)
class TinyWarehouse:
    """The tiny org's landing zone, settings, dbt build result and published warehouse."""

    settings: Settings
    result: BuildResult
    published: Path

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.published), read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()


def tiny_settings(data_dir: Path, **overrides) -> Settings:
    """The warehouse tests' settings: these builds also run dbt's unit tests (decision 15)."""
    return Settings(
        data_dir=data_dir,
        org_timezone=TIMEZONE,
        pairs=PairRules(exclude_profiles=["Integration"]),
        **{"dbt_unit_tests": True, **overrides},
    )


@pytest.fixture(scope="session")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> TinyWarehouse:
    data_dir = tmp_path_factory.mktemp("tiny-warehouse")
    org_dir = write_tiny_org(data_dir / "org")
    settings = tiny_settings(data_dir)
    org_to_raw(org_dir, settings.raw_root)
    # The rep marts and everything upstream (staging, int_weeks_enumerated, the shared opportunity
    # states): the deal marts have their own org and tests in this folder.
    result = build_warehouse(settings, WEEK, select=REP_MARTS)
    published = publish_warehouse(settings.build_warehouse_path, settings.published_warehouse_path)
    return TinyWarehouse(settings=settings, result=result, published=published)
