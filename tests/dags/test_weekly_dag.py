"""The weekly and notify DAGs as Airflow parses them: schedule and timezone from the
environment, the run lease, the DuckDB pool, retries and failure alerts, asset outlets, and the
Cosmos task group rendered from the dbt manifest when SALESPREP_DBT_TASKS=cosmos."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
WEEKLY = DAGS_DIR / "salesprep_weekly.py"
NOTIFY = DAGS_DIR / "salesprep_notify.py"


def parse(path: Path):
    """Parse one DAG file the way the dag-processor does; (DagBag, seconds)."""
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=str(path))
    return bag, time.perf_counter() - started


def import_error(bag) -> str:
    return "\n".join(str(e) for e in bag.import_errors.values())


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "SALESPREP_SCHEDULE",
        "SALESPREP_ORG_TIMEZONE",
        "SALESPREP_DBT_TASKS",
        "SALESPREP_DUCKDB_POOL",
        "SALESPREP_DBT_TARGET",
        "SALESPREP_TASK_RETRIES",
        "SALESPREP_RETRY_DELAY_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_default_schedule_is_monday_six_in_utc(clean_env):
    from airflow.sdk import CronTriggerTimetable

    bag, _ = parse(WEEKLY)
    dag = bag.dags["salesprep_weekly"]
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.expression == "0 6 * * 1"
    assert str(dag.timetable.timezone) == "UTC"
    assert dag.catchup is False


def test_schedule_and_timezone_come_from_the_environment(clean_env):
    clean_env.setenv("SALESPREP_SCHEDULE", "30 7 * * 2")
    clean_env.setenv("SALESPREP_ORG_TIMEZONE", "America/New_York")
    clean_env.setenv("SALESPREP_TASK_RETRIES", "4")
    clean_env.setenv("SALESPREP_RETRY_DELAY_SECONDS", "90")
    bag, _ = parse(WEEKLY)
    dag = bag.dags["salesprep_weekly"]
    assert dag.timetable.expression == "30 7 * * 2"
    assert str(dag.timetable.timezone) == "America/New_York"
    assert str(dag.timezone) == "America/New_York"
    step = dag.get_task("extract")
    assert step.retries == 4 and step.retry_delay.total_seconds() == 90


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SALESPREP_ORG_TIMEZONE", "Mars/Olympus"),
        ("SALESPREP_SCHEDULE", "every monday"),
        ("SALESPREP_DBT_TASKS", "per-model-please"),
        ("SALESPREP_TASK_RETRIES", "a few"),
    ],
)
def test_a_bad_setting_fails_the_import_naming_the_variable(clean_env, name, value):
    clean_env.setenv(name, value)
    bag, _ = parse(WEEKLY)
    assert "salesprep_weekly" not in bag.dags
    assert name in import_error(bag)


def test_every_step_has_retries_a_failure_alert_and_the_duckdb_pool(clean_env):
    from salesprep.orchestration.alerts import report_task_failure
    from salesprep.pipeline import STEPS

    dag = parse(WEEKLY)[0].dags["salesprep_weekly"]
    for task in dag.tasks:
        assert task.retries >= 1 and task.retry_delay.total_seconds() > 0, task.task_id
        assert report_task_failure in _callbacks(task), task.task_id
    for step in STEPS:
        assert dag.get_task(step.name).pool == "salesprep_duckdb", step.name
    # The lease is a setup and its release a teardown: released even when a step fails.
    assert dag.get_task("claim_data_dir").is_setup
    release = dag.get_task("release_data_dir")
    assert release.is_teardown and "claim_data_dir" in release.upstream_task_ids


def test_on_a_postgres_warehouse_no_task_takes_the_one_slot_pool(clean_env):
    from salesprep.pipeline import STEPS

    clean_env.setenv("SALESPREP_DBT_TARGET", "postgres")
    weekly = parse(WEEKLY)[0].dags["salesprep_weekly"]
    notify = parse(NOTIFY)[0].dags["salesprep_notify"]
    for task in [*(weekly.get_task(step.name) for step in STEPS), *notify.tasks]:
        assert task.pool == "default_pool", task.task_id


def test_the_publish_step_updates_both_assets_the_notify_dag_waits_for(clean_env):
    from salesprep.orchestration.assets import PACKETS_ASSET, WAREHOUSE_ASSET

    weekly = parse(WEEKLY)[0].dags["salesprep_weekly"]
    # The warehouse and the packets are published as one unit, by one task.
    assert weekly.get_task("publish").outlets == [WAREHOUSE_ASSET, PACKETS_ASSET]
    notify = parse(NOTIFY)[0].dags["salesprep_notify"]
    assert list(notify.timetable.asset_condition.objects) == [PACKETS_ASSET]
    assert notify.get_task("notify_managers").pool == "salesprep_duckdb"


def test_every_task_times_out_and_a_missed_publish_deadline_alerts(clean_env):
    from datetime import timedelta

    from airflow.sdk import DeadlineReference

    from salesprep.orchestration.alerts import report_missed_deadline

    clean_env.setenv("SALESPREP_TASK_TIMEOUT_MINUTES", "45")
    clean_env.setenv("SALESPREP_RUN_TIMEOUT_HOURS", "7")
    clean_env.setenv("SALESPREP_PUBLISH_DEADLINE_MINUTES", "150")
    dag = parse(WEEKLY)[0].dags["salesprep_weekly"]
    for task in dag.tasks:
        assert task.execution_timeout == timedelta(minutes=45), task.task_id
    assert dag.dagrun_timeout == timedelta(hours=7)
    (alert,) = dag.deadline
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == timedelta(minutes=150)
    assert alert.callback.path.endswith(report_missed_deadline.__qualname__)
    assert alert.callback.kwargs == {"minutes": 150}
    # The trigger form offers the labelled partial-week exception, off by default.
    assert dag.params["allow_partial_week"] is False


def test_the_trigger_form_offers_the_manual_actions_off_by_default(clean_env):
    from salesprep.orchestration.tasks import RUN_OPTION_PARAMS, run_options
    from salesprep.pipeline import RunOptions

    dag = parse(WEEKLY)[0].dags["salesprep_weekly"]
    for name in ("full_extract", "full_refresh", "republish", "allow_partial_week"):
        param = dag.params.get_param(name)
        assert param.value is False and param.schema["type"] == "boolean", name
        assert param.schema["title"] and param.description, name
    assert set(RUN_OPTION_PARAMS) <= set(dag.params)
    # Each switch is the RunOptions field of the same name (the CLI flags' too).
    assert run_options(dag.params.dump()) == RunOptions()
    assert run_options({"republish": True, "full_refresh": True}) == RunOptions(
        republish=True, full_refresh=True
    )


def test_the_dag_file_names_every_step_in_pipeline_order():
    """A reader of the DAG file sees the steps, in order, without opening pipeline.py."""
    from salesprep.pipeline import STEPS

    source = WEEKLY.read_text(encoding="utf-8")
    body = source[source.index("    chain(") :]
    positions = [body.index(f'"{step.name}"') for step in STEPS if step.name != "build_marts"]
    assert positions == sorted(positions)
    assert 'pipeline_step("build_marts")' in source


def test_a_skipped_extract_still_lets_the_raw_checkpoint_run(clean_env):
    dag = parse(WEEKLY)[0].dags["salesprep_weekly"]
    assert dag.get_task("check_raw").trigger_rule == "none_failed"
    for task_id in ("check_week", "extract", "load_learnings", "build_marts", "publish"):
        assert dag.get_task(task_id).trigger_rule == "all_success", task_id


def test_a_missed_deadline_is_reported(caplog):
    import asyncio

    from salesprep.orchestration.alerts import report_missed_deadline

    class Run:
        run_id = "scheduled__2026-11-30T06:00:00+00:00"

    text = asyncio.run(report_missed_deadline({"dag_run": Run()}, minutes=180))
    assert "scheduled__2026-11-30" in text and "180 minutes" in text
    assert text in caplog.text


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Path:
    """A fresh dbt manifest (what `make dbt-manifest` writes), built here so the test does
    not depend on the build having been run."""
    from salesprep.orchestration.dbt_tasks import build_manifest

    return build_manifest(tmp_path_factory.mktemp("dbt-target"))


def test_cosmos_mode_shows_each_model_and_its_tests_as_tasks(clean_env, manifest):
    import json

    from salesprep.pipeline import STEPS

    clean_env.setenv("SALESPREP_DBT_TASKS", "cosmos")
    clean_env.setenv("SALESPREP_DBT_MANIFEST", str(manifest))
    bag, seconds = parse(WEEKLY)
    assert not bag.import_errors, import_error(bag)
    dag = bag.dags["salesprep_weekly"]
    nodes = json.loads(manifest.read_text())["nodes"].values()
    models = [n for n in nodes if n["resource_type"] == "model"]
    tested = {
        parent
        for n in nodes
        if n["resource_type"] == "test" and len(n["depends_on"]["nodes"]) == 1
        for parent in n["depends_on"]["nodes"]
    }
    assert len(models) > 20
    for model in models:
        assert dag.has_task(f"dbt.{model['name']}.run"), model["name"]
        if model["unique_id"] in tested:
            assert dag.has_task(f"dbt.{model['name']}.test"), model["name"]
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    assert all(t.pool == "salesprep_duckdb" for t in dbt_tasks)
    assert not dag.has_task("build_marts")
    # The group sits where build_marts was.
    names = [step.name for step in STEPS]
    before, after = names[names.index("build_marts") - 1], names[names.index("build_marts") + 1]
    roots = [t for t in dbt_tasks if not {u for u in t.upstream_task_ids if u.startswith("dbt.")}]
    assert roots and all(before in t.upstream_task_ids for t in roots)
    assert any(u.startswith("dbt.") for u in dag.get_task(after).upstream_task_ids)
    # Rendered from the manifest: no dbt process at parse time.
    assert seconds < 15, f"parsing the Cosmos DAG took {seconds:.1f}s"


def test_cosmos_mode_without_a_manifest_says_how_to_build_it(clean_env, tmp_path):
    clean_env.setenv("SALESPREP_DBT_TASKS", "cosmos")
    clean_env.setenv("SALESPREP_DBT_MANIFEST", str(tmp_path / "absent" / "manifest.json"))
    bag, _ = parse(WEEKLY)
    assert "salesprep_weekly" not in bag.dags
    assert "make dbt-manifest" in import_error(bag)


def _callbacks(task) -> list:
    callbacks = task.on_failure_callback
    if callbacks is None:
        return []
    return list(callbacks) if isinstance(callbacks, list | tuple) else [callbacks]
