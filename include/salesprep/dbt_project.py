"""Where the dbt project is: the one lookup behind the `dbt_project_dir` setting, the warehouse
runner and the Cosmos task group. The task group is rendered when a DAG file is parsed, so this
module imports nothing heavy and reads the environment only; the runner passes the setting."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR_ENV = "SALESPREP_DBT_PROJECT_DIR"
# The checkout: dbt_project/ sits beside include/salesprep/.
CHECKOUT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


class DbtProjectMissingError(FileNotFoundError):
    """The configured dbt project folder has no dbt_project.yml; the message says what to set."""


def dbt_project_dir(configured: Path | str | None = None) -> Path:
    """The dbt project folder: `configured` (the `dbt_project_dir` setting), else
    $SALESPREP_DBT_PROJECT_DIR, else the checkout's `dbt_project/`. Raises
    DbtProjectMissingError when it holds no `dbt_project.yml`."""
    if configured is None:
        configured = os.environ.get(PROJECT_DIR_ENV) or CHECKOUT_PROJECT_DIR
    project = Path(configured).expanduser().resolve()
    if not (project / "dbt_project.yml").is_file():
        raise DbtProjectMissingError(
            f"no dbt project at {project} (no dbt_project.yml); set {PROJECT_DIR_ENV} (setting "
            "dbt_project_dir) to the salesprep dbt_project folder"
        )
    return project
