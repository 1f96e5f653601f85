"""dbt as Airflow tasks through astronomer-cosmos: one task per model and one for its tests.

The task group is rendered from the dbt manifest (`LoadMode.DBT_MANIFEST`), so parsing the
DAG reads one JSON file and never runs dbt. `make dbt-manifest` (part of `make setup`) and the
Docker image build write it; `python -m salesprep.orchestration.dbt_tasks` does the same.
Each task gets the run's week and settings at execution time through a Cosmos interceptor.
The default is still the one-task `dbt build` (docs/decisions.md has the measurements).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from salesprep.dbt_project import dbt_project_dir
from salesprep.orchestration.dag_config import DagConfig
from salesprep.orchestration.tasks import WEEK_TASK

MANIFEST_ENV = "SALESPREP_DBT_MANIFEST"


class ManifestMissingError(FileNotFoundError):
    """The dbt manifest the Cosmos task group is rendered from does not exist."""


def manifest_path() -> Path:
    """$SALESPREP_DBT_MANIFEST, else `<dbt project>/target/manifest.json`."""
    configured = os.environ.get(MANIFEST_ENV)
    return Path(configured) if configured else dbt_project_dir() / "target" / "manifest.json"


def build_manifest(target_dir: Path | None = None) -> Path:
    """`dbt parse` the project into `target_dir` (default: its `target/`); return the
    manifest's path. Parsing needs no warehouse and no data."""
    from dbt.cli.main import dbtRunner

    project = dbt_project_dir()
    target = Path(target_dir) if target_dir else project / "target"
    outcome = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(target),
            "--log-path",
            str(target / "logs"),
            "--no-send-anonymous-usage-stats",
            "--no-version-check",
            "--quiet",
        ]
    )
    manifest = target / "manifest.json"
    if not outcome.success or not manifest.is_file():
        raise RuntimeError(f"dbt parse of {project} failed: {outcome.exception or 'see its log'}")
    return manifest


def apply_week(context: Any, operator: Any) -> None:
    """Cosmos interceptor: give the dbt command the vars and build warehouse of the run's week
    (from the `resolve_week` task), read from the settings now, inside the task, and the
    trigger form's `full_refresh` switch to the commands that take it (run, seed)."""
    from salesprep.config import load_settings
    from salesprep.warehouse import dbt_env, dbt_vars
    from salesprep.weeks import Week

    week = context["ti"].xcom_pull(task_ids=WEEK_TASK)
    if not week:
        raise RuntimeError(f"no week from task {WEEK_TASK!r}: it must run before the dbt tasks")
    settings = load_settings()
    env = dict(operator.env or {})
    env["SALESPREP_DBT_TARGET"] = settings.dbt_target
    if settings.dbt_target == "duckdb":
        Path(settings.build_warehouse_path).parent.mkdir(parents=True, exist_ok=True)
    else:
        from airflow.sdk.log import mask_secret

        # profiles.yml reads the target from the environment; the task log must not show it.
        password = settings.postgres.password.get_secret_value()
        if password:
            mask_secret(password)
    # The run week travels in the environment (dbt keeps its partial parse); every test task
    # checks whole tables, as a Cosmos task cannot tell whether its model was built weekly.
    env.update(dbt_env(settings, Week.parse(str(week))))
    operator.env = env
    operator.vars = dbt_vars(settings)
    if hasattr(operator, "full_refresh"):
        operator.full_refresh = bool((context.get("params") or {}).get("full_refresh"))


def release_duckdb(project_dir: str, **_: Any) -> None:
    """Cosmos callback: close the DuckDB file dbt-duckdb keeps open in this process, so a
    later task of the same process (`airflow dags test`) copies a complete file."""
    from salesprep.warehouse.runner import release_duckdb as release

    release()


def dbt_task_group(config: DagConfig, *, group_id: str = "dbt", default_args: dict | None = None):
    """The Cosmos task group of every model, seed and test in the manifest (`run` and `test`
    task per model), each in the DuckDB pool. Raises ManifestMissingError naming the fix."""
    from cosmos import (
        DbtTaskGroup,
        ExecutionConfig,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
    )
    from cosmos.constants import (
        ExecutionMode,
        InvocationMode,
        LoadMode,
        TestBehavior,
        TestIndirectSelection,
    )

    manifest = manifest_path()
    if not manifest.is_file():
        raise ManifestMissingError(
            f"SALESPREP_DBT_TASKS=cosmos needs the dbt manifest {manifest}: run `make "
            "dbt-manifest` (or `python -m salesprep.orchestration.dbt_tasks`), or set "
            f"{MANIFEST_ENV}"
        )
    project = dbt_project_dir()
    target = os.environ.get("SALESPREP_DBT_TARGET") or "duckdb"
    return DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=project, manifest_path=manifest, install_dbt_deps=False
        ),
        profile_config=ProfileConfig(
            profile_name="salesprep",
            target_name=target,
            profiles_yml_filepath=project / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            dbt_executable_path=str(Path(sys.executable).with_name("dbt")),
            # A model's test task runs only the tests of that model; a relationships test
            # between two models gets its own task once both are built.
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={
            "interceptors": [apply_week],
            "callback": release_duckdb,
            "emit_datasets": False,
            "install_deps": False,
            **({"pool": config.pool} if config.pool else {}),
        },
        default_args=default_args,
    )


if __name__ == "__main__":
    print(build_manifest())
