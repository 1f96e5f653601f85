"""Where the dbt project is: one lookup for the setting, the dbt runner and the Cosmos task
group, and one clear line when the folder holds no dbt project."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesprep.config import load_settings
from salesprep.dbt_project import (
    CHECKOUT_PROJECT_DIR,
    PROJECT_DIR_ENV,
    DbtProjectMissingError,
    dbt_project_dir,
)
from salesprep.orchestration.dbt_tasks import manifest_path
from salesprep.warehouse import WarehouseBuildError, build_warehouse

from .tiny_org import WEEK


def _copy_project_marker(folder: Path) -> Path:
    folder.mkdir()
    (folder / "dbt_project.yml").write_text(
        (CHECKOUT_PROJECT_DIR / "dbt_project.yml").read_text("utf-8"), encoding="utf-8"
    )
    return folder


def test_the_checkout_project_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROJECT_DIR_ENV, raising=False)
    assert dbt_project_dir() == CHECKOUT_PROJECT_DIR
    assert load_settings().dbt_project_dir == CHECKOUT_PROJECT_DIR


def test_the_environment_moves_it_for_the_setting_and_the_dag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _copy_project_marker(tmp_path / "elsewhere")
    monkeypatch.setenv(PROJECT_DIR_ENV, str(project))
    monkeypatch.delenv("SALESPREP_DBT_MANIFEST", raising=False)

    assert dbt_project_dir() == project
    assert dbt_project_dir(load_settings().dbt_project_dir) == project
    assert manifest_path() == project / "target" / "manifest.json"


def test_a_folder_without_a_project_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(DbtProjectMissingError, match=rf"no dbt project at .*{PROJECT_DIR_ENV}"):
        dbt_project_dir(tmp_path)


def test_the_runner_builds_the_project_the_settings_name(tmp_path: Path) -> None:
    """A `dbt_project_dir` from the settings (YAML or the command line), not only the variable,
    decides what dbt builds."""
    settings = load_settings(data_dir=tmp_path / "data", dbt_project_dir=tmp_path / "empty")
    (tmp_path / "empty").mkdir()

    with pytest.raises(WarehouseBuildError, match=r"no dbt project at .*empty"):
        build_warehouse(settings, WEEK)
