"""Every DAG file imports cleanly and follows the house policies (tags, retries, owner, docs)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def dagbag():
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_there_are_dag_files():
    assert DAG_FILES, f"no DAG files in {DAGS_DIR}"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_without_errors(dagbag, path):
    errors = {Path(k).name: v for k, v in dagbag.import_errors.items()}
    assert path.name not in errors, f"{path.name} failed to import:\n{errors.get(path.name)}"


def test_every_dag_follows_policy(dagbag):
    assert dagbag.dags, "the DagBag loaded no DAGs"
    for dag_id, dag in dagbag.dags.items():
        where = f"{dag_id} ({Path(dag.fileloc).name})"
        assert dag.tags, f"{where} has no tags"
        assert dag.doc_md, f"{where} has no doc_md"
        for t in dag.tasks:
            assert t.owner and t.owner != "airflow", f"{where}: task {t.task_id} has no owner"
            assert t.retries >= 1, f"{where}: task {t.task_id} has no retries"


def test_weekly_dag_wires_the_steps_in_order(dagbag):
    from salesprep.orchestration.tasks import WEEK_TASK
    from salesprep.pipeline import STEPS

    dag = dagbag.dags["salesprep_weekly"]
    assert dag.max_active_runs == 1  # DuckDB has a single writer
    assert "week" in dag.params
    # WEEK_TASK is where the dbt tasks and the failure alert pull the week from.
    chain = ["claim_data_dir", WEEK_TASK, *[step.name for step in STEPS], "release_data_dir"]
    for upstream, downstream in itertools.pairwise(chain):
        assert downstream in dag.get_task(upstream).downstream_task_ids, (upstream, downstream)


# Modules that tasks import when they run: a scheduler parsing the DAG files must not pay for
# them (parsing is frequent and must stay fast).
RUNTIME_ONLY_MODULES = (
    "salesprep.config",
    "pydantic_settings",
    "duckdb",
    "pyarrow",
    "pandas",
    "dbt",
    "great_expectations",
    "simple_salesforce",
    "matplotlib",
)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_parses_without_runtime_imports(path):
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(path)!r})\n"
        f"print('LOADED:', *(m for m in {RUNTIME_ONLY_MODULES!r} if m in sys.modules))\n"
    )
    env = dict(os.environ, AIRFLOW__CORE__LOAD_EXAMPLES="False")
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{path.name} failed to import:\n{done.stderr[-2000:]}"
    # Airflow logs to stdout too: read only the marked line.
    marked = [line for line in done.stdout.splitlines() if line.startswith("LOADED:")]
    assert marked, f"{path.name}: the import check printed nothing:\n{done.stdout[-2000:]}"
    loaded = marked[-1].split()[1:]
    assert not loaded, f"parsing {path.name} imports {loaded}: import them inside the tasks"
