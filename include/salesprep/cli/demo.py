"""`salesprep demo`: generate a demo org, serve it, and run the weekly DAG through Airflow.

Everything the demo writes (org, raw data, warehouse, shared folder, Airflow home, caches) stays
under one folder, `./demo` by default.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from salesprep.config import PROJECT_ROOT
from salesprep.weeks import Week

if TYPE_CHECKING:
    from salesprep.demo_org import OrgSummary

DAG_ID = "salesprep_weekly"
# Lines of `airflow dags test` output that tell a task's progress and the run's outcome.
_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(\w+)")
_TASK_STATE = re.compile(r"Task instance state updated .* new_state=(\w+)")
_TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(\w+)")
_RUN_END = re.compile(r"DagRun Finished: .* state=(\w+),")


class DemoError(RuntimeError):
    """A demo step failed; the message says which and where its log is."""


def demo_environment(root: Path, base_url: str) -> dict[str, str]:
    """The environment of the Airflow processes: every path under `root`."""
    from salesprep.emulator import Credentials
    from salesprep.salesforce.connection import salesforce_conn_env

    dags = PROJECT_ROOT / "dags"
    if not dags.is_dir():
        raise DemoError(f"the DAG folder {dags} is missing: run the demo from a salesprep checkout")
    env = dict(os.environ)
    env.update(salesforce_conn_env(base_url, Credentials()))
    env.update(
        {
            "AIRFLOW_HOME": str(root / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(root / "airflow" / "logs"),
            "SALESPREP_DATA_DIR": str(root / "data"),
            "SALESPREP_SHARED_FOLDER": str(root / "shared"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "DO_NOT_TRACK": "1",
            "GX_ANALYTICS_ENABLED": "False",
            # A demo failure should show at once, not after the production retry delays.
            "SALESPREP_TASK_RETRIES": env.get("SALESPREP_TASK_RETRIES", "0"),
        }
    )
    return env


class _Progress:
    """Turns `airflow dags test` output into one line per finished task."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.state = "unknown"
        self.run_state: str | None = None

    def feed(self, line: str) -> None:
        if match := _TASK_START.search(line):
            self.started[match[1]] = time.perf_counter()
            self.state = "unknown"
        elif match := _TASK_STATE.search(line):
            self.state = match[1]
        elif match := _TASK_END.search(line):
            seconds = time.perf_counter() - self.started.get(match[1], time.perf_counter())
            print(f"      {match[1]:<16} {self.state:<10} {seconds:5.1f}s", flush=True)
        elif match := _RUN_END.search(line):
            self.run_state = match[1]


def _airflow(
    args: list[str], env: dict[str, str], log_path: Path, progress: _Progress | None = None
) -> None:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "airflow", *args]
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if progress is not None:
                progress.feed(line)
        code = process.wait()
    if code != 0:
        raise DemoError(f"`airflow {' '.join(args[:2])}` failed (exit {code}); log: {log_path}")
    if progress is not None and progress.run_state != "success":
        raise DemoError(
            f"the DAG run ended {progress.run_state or 'without a result'}; log: {log_path}"
        )


def default_dir(international: bool) -> Path:
    """Where the demo writes unless `--dir` says otherwise: one folder per kind of org."""
    return Path("demo-international" if international else "demo")


def prepare_demo_org(
    root: Path, *, reps: int, managers: int, weeks: int, last_week: Week, international: bool
) -> OrgSummary:
    """Generate the demo org in `root/org`; when `root/data` holds another org's history (the
    other kind of demo ran in this folder), drop it, as `salesprep run --reset-history` would:
    the demo owns its folder."""
    from salesprep.config import Settings
    from salesprep.demo_org import INTERNATIONAL, generate_org
    from salesprep.warehouse.history import recorded_org, reset_history

    kind = "an international demo org" if international else "a demo org"
    org_dir = root / "org"
    print(
        f"[1/4] generating {kind} ({reps} reps, {managers} managers, {weeks} weeks "
        f"to {last_week}) in {org_dir}",
        flush=True,
    )
    summary = generate_org(
        org_dir,
        reps=reps,
        managers=managers,
        weeks=weeks,
        seed=7,
        end_week=last_week,
        shape=INTERNATIONAL if international else None,
    )
    print(f"      {summary.describe()}", flush=True)
    settings = Settings(data_dir=root / "data", shared_folder=str(root / "shared"))
    recorded = recorded_org(settings)
    if recorded is not None and not recorded.is_org(summary.org_id):
        reset_history(settings)
        print(
            f"      {root / 'data'} held the history of another org ({recorded.label}): dropped it",
            flush=True,
        )
    return summary


def run_demo(
    root: Path, *, reps: int, managers: int, weeks: int, runs: int, international: bool = False
) -> int:
    """Generate a demo org (the international shape with `international`), serve it and run
    the weekly DAG on its latest complete week(s)."""
    from salesprep.emulator import run_emulator

    root = root.resolve()
    started = time.perf_counter()
    # The emulator serves in this process; its per-object load lines would drown the progress.
    logging.getLogger("salesprep.emulator").setLevel(logging.WARNING)
    last_week = Week.last_complete(datetime.now(UTC))
    org_dir = root / "org"
    prepare_demo_org(
        root,
        reps=reps,
        managers=managers,
        weeks=weeks,
        last_week=last_week,
        international=international,
    )
    with run_emulator(org_dir) as emulator:
        print(f"[2/4] serving it as a Salesforce org at {emulator.base_url}", flush=True)
        env = demo_environment(root, emulator.base_url)
        print(f"[3/4] preparing Airflow (metadata database in {root / 'airflow'})", flush=True)
        _airflow(["db", "migrate"], env, root / "airflow" / "db-migrate.log")
        run_weeks = [last_week.shift(-offset) for offset in reversed(range(runs))]
        for week in run_weeks:
            print(f"[4/4] airflow dags test {DAG_ID} for {week}", flush=True)
            _airflow(
                ["dags", "test", DAG_ID, "-c", json.dumps({"week": week.label})],
                env,
                root / "airflow" / f"dags-test-{week.label}.log",
                _Progress(),
            )
    shared = root / "shared"
    manifest = json.loads((shared / last_week.label / "manifest.json").read_text())
    print(f"\nDone in {time.perf_counter() - started:.0f}s.")
    print(f"  packets ({len(manifest['packets'])}): {shared / last_week.label / 'index.html'}")
    print(f"  learnings digest: {shared / last_week.label / 'learnings.html'}")
    print(f"  warehouse for BI: {root / 'data' / 'warehouse' / 'salesprep.duckdb'}")
    print(f"  quality report:   {shared / last_week.label / 'quality' / 'index.html'}")
    print(f"  Airflow logs:     {root / 'airflow'}")
    return 0
