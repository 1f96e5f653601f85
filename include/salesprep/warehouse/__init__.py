"""The warehouse room: dbt builds the marts into a build copy, which is then published for BI;
every step reads the marts through `connection` (a DuckDB file or a Postgres schema)."""

from salesprep.warehouse.connection import Marts, WarehouseReadError, open_marts
from salesprep.warehouse.publish import (
    WarehousePublishError,
    finish_for_bi,
    finish_warehouse,
    publish_warehouse,
    stage_for_bi,
    stage_warehouse,
)
from salesprep.warehouse.runner import (
    BuildResult,
    NodeResult,
    WarehouseBuildError,
    build_warehouse,
    dbt_env,
    dbt_vars,
    generate_docs,
)

__all__ = [
    "BuildResult",
    "Marts",
    "NodeResult",
    "WarehouseBuildError",
    "WarehousePublishError",
    "WarehouseReadError",
    "build_warehouse",
    "dbt_env",
    "dbt_vars",
    "finish_for_bi",
    "finish_warehouse",
    "generate_docs",
    "open_marts",
    "publish_warehouse",
    "stage_for_bi",
    "stage_warehouse",
]
