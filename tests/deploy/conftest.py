"""The multi-process Airflow deployment the tests in this folder share (started once)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from deployment import (
    Deployment,
    clear_queue,
    create_database,
    deployment_env,
    drop_database,
    free_port,
    planted_credentials,
    require_shared_servers,
    start_mailbox,
)

from salesprep.weeks import Week

DAGS = ("salesprep_weekly", "salesprep_notify")


@pytest.fixture(scope="module")
def week() -> Week:
    """The week the latest Monday 06:00 UTC slot prepares (the DAG's default schedule): the
    scheduler runs that slot when the DAG is unpaused, and a backfill may create it."""
    return Week.last_complete(datetime.now(UTC) - timedelta(hours=6))


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, week: Week
) -> Iterator[Deployment]:
    from salesprep.demo_org import generate_org
    from salesprep.emulator import run_emulator
    from salesprep.salesforce.connection import salesforce_conn_env

    require_shared_servers("the deployment test")
    started = time.perf_counter()
    root = tmp_path_factory.mktemp("airflow-deploy")
    (root / "logs").mkdir()
    generate_org(root / "org", reps=4, managers=2, weeks=8, seed=11, end_week=week)
    credentials = planted_credentials("salesprep-deploy")
    with ExitStack() as stack:
        emulator = stack.enter_context(run_emulator(root / "org", credentials=credentials))
        mailbox, smtp_conn = start_mailbox(stack)
        database = f"salesprep_deploy_{secrets.token_hex(4)}"
        create_database(database)
        stack.callback(drop_database, database)
        queue = f"salesprep-{secrets.token_hex(4)}"
        stack.callback(clear_queue, queue)
        api_port = free_port()
        env = deployment_env(
            root,
            database=database,
            queue=queue,
            api_port=api_port,
            connections={
                **salesforce_conn_env(emulator.base_url, credentials),
                **smtp_conn,
            },
        )
        deployment = Deployment(
            root=root,
            env=env,
            api=f"http://127.0.0.1:{api_port}",
            data_dir=root / "data",
            shared=root / "shared",
            airflow_home=root / "airflow",
            mailbox=mailbox,
            secrets=(credentials.password, credentials.security_token),
        )
        stack.callback(deployment.stop)  # before anything starts: runs even if start-up fails
        deployment.start_control_plane(api_port)
        deployment.start_worker("celery-worker", queue)
        deployment.wait_until_ready(DAGS)
        deployment.unpause(*DAGS)
        record_timing(
            request.config,
            "start-up (db migrate, 4 processes, DAGs parsed)",
            time.perf_counter() - started,
        )
        yield deployment


@pytest.fixture(scope="module")
def scheduled_week(request: pytest.FixtureRequest, deployment: Deployment, week: Week) -> dict:
    """The run the scheduler makes when the DAG is unpaused: with catchup off, the latest
    Monday 06:00, which prepares the week that just ended. It goes through the scheduler, the
    Celery worker and the api-server like every weekly run."""
    started = time.perf_counter()
    run_after = datetime.combine(week.shift(1).start_date, datetime.min.time(), UTC)
    run = deployment.scheduled_run("salesprep_weekly")
    assert datetime.fromisoformat(run["logical_date"]) == run_after.replace(hour=6)
    run_id = run["dag_run_id"]
    state = deployment.wait_for_run("salesprep_weekly", run_id)
    assert state == "success", deployment.diagnose("salesprep_weekly", run_id)
    seconds = time.perf_counter() - started
    record_timing(request.config, "one-week run (scheduled, queued to success)", seconds)
    folder = deployment.shared / week.label
    return {
        "run_id": run_id,
        "manifest": json.loads((folder / "manifest.json").read_text()),
        "files": {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*")
            if p.is_file()
        },
    }


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    timings = getattr(config, "salesprep_deploy_timings", None)
    if timings:
        terminalreporter.write_sep("-", "airflow deployment timings")
        for name, seconds in timings.items():
            terminalreporter.write_line(f"{name}: {seconds:.0f}s")


def record_timing(config: pytest.Config, name: str, seconds: float) -> None:
    """Shown in the terminal summary (the report quotes these numbers)."""
    timings = getattr(config, "salesprep_deploy_timings", {})
    timings[name] = seconds
    config.salesprep_deploy_timings = timings  # type: ignore[attr-defined]
