"""What a weekly dbt build saves: the run week reaches dbt in the environment, so a new week
keeps dbt's partial parse; the data tests of the weekly models check only the weeks the run
rebuilt (a full build checks whole tables); and DuckDB runs within settings.duckdb."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from salesprep.config import ConfigError, Settings, load_settings
from salesprep.dbt_project import dbt_project_dir
from salesprep.warehouse import BuildResult, dbt_env, dbt_vars
from salesprep.warehouse.runner import (
    _DBT_LOCK,
    _common_args,
    dbt_work_dir,
    release_duckdb,
)
from salesprep.weeks import Week

from .demo_builds import DEMO_WEEK, demo_week_by_week

MART = "fct_rep_activity_weekly"
OLD_WEEK = DEMO_WEEK.shift(-8)  # before the window of DEMO_WEEK (DEMO_WEEK - 4 .. DEMO_WEEK)
WINDOW_WEEK = DEMO_WEEK.shift(-2)


@dataclass(frozen=True)
class TwoWeeks:
    """A data dir's first build, and its weekly build of DEMO_WEEK (dbt's target and the build
    file as that run left them): the shared week-by-week build of demo_builds."""

    settings: Settings
    first: BuildResult
    second: BuildResult
    second_log: str  # what dbt logged during the second build


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory: pytest.TempPathFactory) -> TwoWeeks:
    weeks = demo_week_by_week(tmp_path_factory)
    first, *_, second, _full_refresh = weeks.results
    assert second.week == DEMO_WEEK.label, second.week
    return TwoWeeks(weeks.weekly, first, second, weeks.weekly_log)


def _copy(two_weeks: TwoWeeks, tmp_path: Path) -> Settings:
    """A copy of the built data dir (warehouse, dbt's target), to alter without side effects."""
    shutil.copytree(two_weeks.settings.data_dir, tmp_path / "data", symlinks=True)
    return Settings(data_dir=tmp_path / "data")


def _dbt(settings: Settings, week: Week, args: list[str], *, weekly: bool = False) -> Any:
    """One dbt command against the build warehouse, with the environment a build of `week`
    gives dbt (`weekly`: the test scope of a weekly build)."""
    from dbt.cli.main import dbtRunner

    from salesprep.config import environment_overrides

    common = _common_args(dbt_project_dir(), "duckdb", dbt_work_dir(settings), dbt_vars(settings))
    with _DBT_LOCK, environment_overrides(dbt_env(settings, week, weekly=weekly)):
        try:
            outcome = dbtRunner().invoke([args[0], *common, *args[1:]])
        finally:
            release_duckdb()
    assert outcome.exception is None, outcome.exception
    return outcome.result


def _unique_test(settings: Settings, *, weekly: bool) -> tuple[str, int]:
    """Status and failing rows of the mart's unique (rep_id, week) test, run on its own."""
    result = _dbt(
        settings,
        DEMO_WEEK,
        ["test", "--select", f"{MART},test_name:unique_combination"],
        weekly=weekly,
    )
    (only,) = result.results
    return str(getattr(only.status, "value", only.status)), int(only.failures or 0)


def _duplicate_a_row(settings: Settings, week: Week) -> None:
    with duckdb.connect(str(settings.build_warehouse_path)) as conn:
        conn.execute(
            f"insert into main.{MART} select * from main.{MART} where week = ? limit 1",
            [week.label],
        )


@pytest.mark.slow
def test_a_new_week_keeps_dbt_partial_parse(two_weeks: TwoWeeks) -> None:
    assert two_weeks.first.success and two_weeks.second.success
    assert "Unable to do partial parsing" not in two_weeks.second_log
    assert "skipping partial parsing" in two_weeks.second_log
    # ... and the week still reached every model: the marts end with DEMO_WEEK.
    with duckdb.connect(str(two_weeks.settings.build_warehouse_path), read_only=True) as conn:
        (last,) = conn.execute(f"select max(week) from main.{MART}").fetchone()
    assert last == DEMO_WEEK.label


@pytest.mark.slow
def test_a_first_build_tests_whole_tables_and_the_next_week_its_window(
    two_weeks: TwoWeeks,
) -> None:
    assert two_weeks.first.test_scope == "all"
    assert two_weeks.second.test_scope == "window"
    assert two_weeks.second.summary()["test_scope"] == "window"
    # The same tests ran in both, dbt's unit tests left out of both (decision 15).
    assert len(two_weeks.first.nodes) == len(two_weeks.second.nodes)


@pytest.mark.slow
def test_run_week_placeholder_in_a_test_where_becomes_the_run_week(two_weeks: TwoWeeks) -> None:
    compiled = dbt_work_dir(two_weeks.settings) / "target" / "run" / "salesprep" / "models"
    relationships = [
        path.read_text(encoding="utf-8")
        # dbt names a long test after a hash: relationships_fct_rep_activity_<hash>.sql
        for path in compiled.rglob("relationships_fct_rep_activity*.sql")
    ]
    assert relationships, "no compiled relationships test of the mart"
    assert any(f"week = '{DEMO_WEEK.label}'" in sql for sql in relationships)
    assert not any("__run_week__" in sql for sql in relationships)


@pytest.mark.slow
def test_weekly_scope_fails_a_bad_row_of_a_rebuilt_week(
    two_weeks: TwoWeeks, tmp_path: Path
) -> None:
    settings = _copy(two_weeks, tmp_path)
    _duplicate_a_row(settings, WINDOW_WEEK)
    assert _unique_test(settings, weekly=True) == ("fail", 1)
    assert _unique_test(settings, weekly=False) == ("fail", 1)


@pytest.mark.slow
def test_weekly_scope_skips_old_weeks_that_a_full_scope_still_checks(
    two_weeks: TwoWeeks, tmp_path: Path
) -> None:
    settings = _copy(two_weeks, tmp_path)
    assert _unique_test(settings, weekly=True) == ("pass", 0)
    _duplicate_a_row(settings, OLD_WEEK)
    # A weekly run did not rebuild OLD_WEEK: its rows were tested when they were built.
    assert _unique_test(settings, weekly=True) == ("pass", 0)
    # A full build (and CI) tests every week.
    assert _unique_test(settings, weekly=False) == ("fail", 1)


def _duckdb_setting(value: str, name: str) -> str:
    """How DuckDB itself reports setting `name` after `SET name = value`."""
    with duckdb.connect() as conn:
        conn.execute(f"set {name} = '{value}'")
        return str(conn.execute(f"select current_setting('{name}')").fetchone()[0])


@pytest.mark.slow
def test_duckdb_memory_limit_and_threads_reach_the_dbt_connection(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, duckdb={"memory_limit": "700MiB", "threads": 1})
    settings.build_warehouse_path.parent.mkdir(parents=True)
    result = _dbt(
        settings,
        DEMO_WEEK,
        [
            "show",
            "--inline",
            "select current_setting('memory_limit') as memory_limit,"
            " current_setting('threads') as threads",
        ],
    )
    (row,) = result.results[0].agate_table.rows
    assert str(row["memory_limit"]) == _duckdb_setting("700MiB", "memory_limit")
    assert int(row["threads"]) == 1


def test_duckdb_settings_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SALESPREP_DUCKDB__MEMORY_LIMIT", "SALESPREP_DUCKDB__THREADS", "SALESPREP_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    default = load_settings()
    assert default.duckdb.memory_limit == "1.5GiB"
    assert default.duckdb.threads is None and default.duckdb.effective_threads() >= 1
    env = dbt_env(default, DEMO_WEEK)
    assert env["SALESPREP_DBT_DUCKDB_MEMORY_LIMIT"] == "1.5GiB"
    assert env["SALESPREP_DBT_WEEK"] == DEMO_WEEK.label
    assert env["SALESPREP_DBT_TEST_SCOPE"] == "all"
    assert "week" not in dbt_vars(default)  # a var change would make dbt re-parse everything

    monkeypatch.setenv("SALESPREP_DUCKDB__MEMORY_LIMIT", "60%")
    monkeypatch.setenv("SALESPREP_DUCKDB__THREADS", "3")
    settings = load_settings()
    env = dbt_env(settings, DEMO_WEEK, weekly=True)
    assert env["SALESPREP_DBT_DUCKDB_MEMORY_LIMIT"] == "60%"
    assert env["SALESPREP_DBT_DUCKDB_THREADS"] == "3"
    assert env["SALESPREP_DBT_TEST_SCOPE"] == "window"


@pytest.mark.parametrize(
    ("name", "value"),
    [("SALESPREP_DUCKDB__MEMORY_LIMIT", "lots"), ("SALESPREP_DUCKDB__THREADS", "0")],
)
def test_a_bad_duckdb_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.delenv("SALESPREP_CONFIG", raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"environment {name}"):
        load_settings()
