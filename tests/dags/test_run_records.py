"""Every DAG task records its step in the run's record (`salesprep status`), keyed like the
run's lease: a step that succeeds, a step refused, a retry that succeeds after a failure, and
a run whose later tasks never ran, closed as interrupted by the teardown. The tasks' callables
run in the execution context Airflow's task runner sets, with its own DagRun model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from airflow.sdk.api.datamodels._generated import DagRun, DagRunState, DagRunType
from airflow.sdk.exceptions import AirflowFailException
from airflow.sdk.execution_time.context import set_current_context

from salesprep.config import Settings
from salesprep.orchestration.tasks import release_data_dir, run_pipeline_step
from salesprep.runs.record import load_runs
from salesprep.status import read_status
from salesprep.weeks import Week

DAG_ID = "salesprep_weekly"
ENDED = "2026-W47"


def _dag_run(run_id: str) -> DagRun:
    now = datetime.now(UTC)
    return DagRun(
        dag_id=DAG_ID,
        run_id=run_id,
        logical_date=now,
        data_interval_start=None,
        data_interval_end=None,
        run_after=now,
        start_date=now,
        end_date=None,
        run_type=DagRunType.MANUAL,
        state=DagRunState.RUNNING,
        consumed_asset_events=[],
        partition_key=None,
    )


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("SALESPREP_CONFIG", "SALESPREP_SHARED_FOLDER", "SALESPREP_ORG_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SALESPREP_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_each_task_records_its_step_and_the_teardown_closes_the_run(data_dir: Path):
    run_id = "manual__2026-11-30T06:00:00+00:00"
    with set_current_context({"dag_run": _dag_run(run_id)}):
        run_pipeline_step("check_week", ENDED)
        # The week has not ended: refused (no retries), recorded with its one line.
        current = Week.last_complete(datetime.now(UTC)).shift(1).label
        with pytest.raises(AirflowFailException):
            run_pipeline_step("check_week", current)
    (record,) = load_runs(data_dir)
    assert record.run_id == f"{DAG_ID}/{run_id}"
    assert record.launcher == f"Airflow DAG {DAG_ID}"
    assert (record.outcome, record.failed_step) == ("refused", "check_week")
    assert "has not ended" in record.error

    # A retry of the task succeeds: the failure is forgotten, the run goes on.
    with set_current_context({"dag_run": _dag_run(run_id)}):
        summary = run_pipeline_step("check_week", ENDED)
    (record,) = load_runs(data_dir)
    assert (record.outcome, record.failed_step, record.error) == ("running", None, None)
    assert record.step("check_week").summary == summary

    # The later tasks never ran (upstream failed, a worker lost): the teardown closes it.
    assert release_data_dir(DAG_ID, run_id) is False  # (this test took no lease)
    status = read_status(Settings())
    assert status.last_run is not None
    assert (status.last_run.run_id, status.last_run.outcome) == (record.run_id, "interrupted")
    assert status.last_run.finished_at is not None


def test_a_task_outside_a_dag_run_records_nothing(data_dir: Path):
    run_pipeline_step("check_week", ENDED)
    assert load_runs(data_dir) == []
