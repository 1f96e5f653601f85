"""Compiles the dbt project for Snowflake or BigQuery on a machine that cannot reach either
(tests/warehouse/test_cross_database.py runs it in a subprocess; docs/deploy.md).

`dbt parse` needs no connection, but `dbt compile` does: rendering a model runs the catalog
lookups its macros ask for (`is_incremental()`, `adapter.get_relation` in
`weekly_snapshots_relation`, `adapter.get_columns_in_relation`), and `--no-introspect` only
stops dbt from opening a connection for them, so the first lookup fails ("connection never
acquired"). This script answers those lookups itself, for the two states a real warehouse is
in, and runs `dbt compile --no-introspect --no-populate-cache` on every model once for each
(into TARGET_PATH/compiled-first and TARGET_PATH/compiled-weekly):

- `first`: the warehouse is empty (the first build, or --full-refresh): no relation exists.
- `weekly`: every model's relation exists as a table with the columns its YAML declares (a
  weekly incremental run), so the `replace_weeks` window predicates are compiled too.

Nothing else of the adapter is replaced: its macros, relation quoting and dispatch are the real
ones. What compiles is the SQL dbt would send; it is not run (docs/deploy.md says so).

    python tests/warehouse/offline_compile.py PROJECT_DIR PROFILES_DIR TARGET TARGET_PATH
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

MODES = ("first", "weekly")


def _declared_columns(manifest_path: Path) -> dict[str, list[str]]:
    """The columns each model's YAML declares, by its relation name (lowercase)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return {
        (node.get("alias") or node["name"]).lower(): list(node.get("columns", {}))
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def _answer_catalog_lookups(mode: str, columns: dict[str, list[str]]) -> None:
    from dbt.adapters.base.column import Column
    from dbt.adapters.bigquery import BigQueryAdapter
    from dbt.adapters.contracts.connection import AdapterResponse
    from dbt.adapters.snowflake import SnowflakeAdapter

    def get_relation(self, database: str, schema: str, identifier: str):
        if mode == "first":
            return None
        return self.Relation.create(
            database=database, schema=schema, identifier=identifier, type="table"
        )

    def get_columns_in_relation(self, relation):
        names = columns.get((relation.identifier or "").lower(), [])
        return [Column(name, "string") for name in names]

    def execute(self, sql: str, auto_begin: bool = False, fetch: bool = False, limit=None):
        return AdapterResponse(_message="compile-only"), _answer_query(mode, sql)

    for adapter in (SnowflakeAdapter, BigQueryAdapter):
        adapter.get_relation = get_relation
        adapter.get_columns_in_relation = get_columns_in_relation
        adapter.execute = execute


def _answer_query(mode: str, sql: str):
    """What the warehouse would answer the queries the incremental staging macros run while
    they render (macros/staging_increments.sql), so a weekly compile renders their most
    complex branch: a staged table with a watermark whose rows are out of step with the source
    (the predicate that also takes the unstaged Ids). An empty warehouse has no table to ask."""
    import agate

    if mode == "first":
        return agate.Table([])
    lowered = " ".join(sql.lower().split())
    if "max(system_modstamp)" in lowered:
        stamp = datetime(2026, 3, 2, tzinfo=UTC)
        return agate.Table([[stamp]], ["newest"], [agate.DateTime()])
    if "landed.n = staged.n" in lowered:
        return agate.Table([[False]], ["in_step"], [agate.Boolean()])
    raise RuntimeError(f"offline compile: no answer for a query a macro ran:\n{sql}")


def main(argv: list[str]) -> int:
    project_dir, profiles_dir, target, target_path = argv
    from dbt.cli.main import dbtRunner

    common = [
        "--project-dir",
        project_dir,
        "--profiles-dir",
        profiles_dir,
        "--target",
        target,
        "--target-path",
        target_path,
    ]
    parsed = dbtRunner().invoke(["parse", *common])
    if not parsed.success:
        print(f"dbt parse failed for {target}: {parsed.exception}", file=sys.stderr)
        return 1
    columns = _declared_columns(Path(target_path) / "manifest.json")
    for mode in MODES:
        _answer_catalog_lookups(mode, columns)
        compiled = dbtRunner().invoke(
            [
                "compile",
                *common,
                "--no-introspect",
                "--no-populate-cache",
                "--select",
                "resource_type:model",
                # Only the models: dbt's default (eager) selection adds their data tests.
                "--indirect-selection",
                "empty",
            ]
        )
        if not compiled.success:
            print(
                f"dbt compile ({mode}) failed for {target}: {compiled.exception}", file=sys.stderr
            )
            return 1
        shutil.move(Path(target_path) / "compiled", Path(target_path) / f"compiled-{mode}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
