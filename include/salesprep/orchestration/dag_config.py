"""What the DAG files read at parse time: environment variables only, never files or the
network, so that parsing stays fast and a scheduler never blocks on a setting."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from salesprep.orchestration.alerts import report_task_failure

if TYPE_CHECKING:
    from airflow.sdk import Param

DEFAULT_SCHEDULE = "0 6 * * 1"
DEFAULT_POOL = "salesprep_duckdb"
DBT_MODES = ("build", "cosmos")

DbtMode = Literal["build", "cosmos"]


class DagConfigError(ValueError):
    """An environment variable the DAG files read is invalid; the message names it."""


@dataclass(frozen=True)
class DagConfig:
    """Schedule and execution knobs of the salesprep DAGs."""

    schedule: str = DEFAULT_SCHEDULE
    timezone: str = "UTC"
    dbt_mode: DbtMode = "build"
    # The one-slot pool of the tasks that open the warehouse: only where it is a single-writer
    # file (DuckDB); None on a server warehouse (Postgres), whose tasks run side by side.
    pool: str | None = DEFAULT_POOL
    retries: int = 2
    retry_delay: timedelta = timedelta(minutes=5)
    lease_poke_seconds: float = 30.0
    lease_timeout: timedelta = timedelta(hours=6)
    # A hung task fails after this (and gives the lease back through the teardown); the whole
    # run after run_timeout, so that a stuck run never holds the data dir for the next weeks.
    task_timeout: timedelta = timedelta(hours=2)
    run_timeout: timedelta = timedelta(hours=10)
    # "Packets not published by Monday 09:00": this long after the run was queued (06:00).
    publish_deadline: timedelta = timedelta(hours=3)

    def default_args(self) -> dict[str, Any]:
        """The task defaults of every salesprep DAG: owner, retries, a timeout, and the
        failure alert after the last retry."""
        return {
            "owner": "sales-ops",
            "retries": self.retries,
            "retry_delay": self.retry_delay,
            "execution_timeout": self.task_timeout,
            "on_failure_callback": report_task_failure,
        }

    def deadline_alert(self) -> Any:
        """Airflow's deadline alert for a weekly run: when the packets are not published
        `publish_deadline` after the run was queued, `alerts.report_missed_deadline` tells the
        alert channels (None when SALESPREP_PUBLISH_DEADLINE_MINUTES is 0)."""
        if not self.publish_deadline:
            return None
        from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

        from salesprep.orchestration.alerts import report_missed_deadline

        minutes = int(self.publish_deadline.total_seconds() // 60)
        return DeadlineAlert(
            reference=DeadlineReference.DAGRUN_QUEUED_AT,
            interval=self.publish_deadline,
            callback=AsyncCallback(report_missed_deadline, kwargs={"minutes": minutes}),
            name="packets_published",
        )


def week_param(description: str) -> Param:
    """The optional `week` param (YYYY-Www) of a manually triggered run."""
    from airflow.sdk import Param

    return Param(None, type=["null", "string"], pattern=r"^\d{4}-W\d{2}$", description=description)


def run_option_params() -> dict[str, Param]:
    """The trigger form's switches for the common manual actions, each off by default and each
    a field of `pipeline.RunOptions` (the same as `salesprep run`'s flags)."""
    from airflow.sdk import Param

    def switch(title: str, description: str) -> Param:
        return Param(False, type="boolean", title=title, description=description)

    return {
        "full_extract": switch(
            "Full re-extract",
            "Re-pull every Salesforce object from scratch, ignoring the saved watermarks "
            "(after a bulk data fix in Salesforce, or a landing zone in doubt).",
        ),
        "full_refresh": switch(
            "dbt full refresh",
            "Rebuild every incremental dbt model from scratch (dbt build --full-refresh); "
            "needed once after upgrading a data directory from an older version.",
        ),
        "republish": switch(
            "Re-publish without extracting",
            "Skip the extraction: rebuild, render and publish the week from the landing zone "
            "of the last extraction (after a template, setting or learnings change).",
        ),
        "allow_partial_week": switch(
            "Allow a partial week",
            "Prepare a week that has not ended (or that the data does not reach): packets say "
            "'partial week, data to <time>'.",
        ),
    }


def dag_config(environ: Mapping[str, str] | None = None) -> DagConfig:
    """Read the DAG settings from `environ` (default: the process environment):

    - `SALESPREP_SCHEDULE`: cron expression in the org timezone (default Monday 06:00);
    - `SALESPREP_ORG_TIMEZONE`: IANA timezone of the schedule and of the weeks (default UTC);
    - `SALESPREP_DBT_TASKS`: `build` (one `dbt build` task, the default) or `cosmos` (a task
      per model and its tests, rendered by astronomer-cosmos from the dbt manifest);
    - `SALESPREP_DUCKDB_POOL`: the one-slot pool of every task that opens the data dir's
      DuckDB files (default `salesprep_duckdb`); with `SALESPREP_DBT_TARGET=postgres` the
      warehouse is a server, not a single-writer file, and tasks take no pool (set the target
      in the environment, not only in the YAML file: parsing reads no file);
    - `SALESPREP_TASK_RETRIES`, `SALESPREP_RETRY_DELAY_SECONDS`;
    - `SALESPREP_LEASE_POKE_SECONDS`, `SALESPREP_LEASE_TIMEOUT_HOURS`: how often a run waiting
      for the data dir checks again, and how long it waits before failing (default 6);
    - `SALESPREP_TASK_TIMEOUT_MINUTES` (default 120), `SALESPREP_RUN_TIMEOUT_HOURS` (default
      10): a task, and a whole run, that takes longer fails;
    - `SALESPREP_PUBLISH_DEADLINE_MINUTES` (default 180): the deadline alert fires when a run
      has not published this long after it was queued (Monday 09:00 for the default
      schedule); 0 turns it off.
    """
    env = os.environ if environ is None else environ
    timezone = env.get("SALESPREP_ORG_TIMEZONE") or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise DagConfigError(
            f"SALESPREP_ORG_TIMEZONE={timezone!r} is not an IANA timezone such as 'Europe/Berlin'"
        ) from exc
    schedule = env.get("SALESPREP_SCHEDULE") or DEFAULT_SCHEDULE
    if len(schedule.split()) != 5:
        raise DagConfigError(
            f"SALESPREP_SCHEDULE={schedule!r} is not a five-field cron expression "
            f"such as {DEFAULT_SCHEDULE!r} (minute hour day month weekday)"
        )
    mode = (env.get("SALESPREP_DBT_TASKS") or "build").strip().lower()
    if mode not in DBT_MODES:
        raise DagConfigError(f"SALESPREP_DBT_TASKS={mode!r} must be one of {', '.join(DBT_MODES)}")
    warehouse_is_file = (env.get("SALESPREP_DBT_TARGET") or "duckdb").strip().lower() == "duckdb"
    return DagConfig(
        schedule=schedule,
        timezone=timezone,
        dbt_mode=mode,  # type: ignore[arg-type]
        pool=(env.get("SALESPREP_DUCKDB_POOL") or DEFAULT_POOL) if warehouse_is_file else None,
        retries=_number(env, "SALESPREP_TASK_RETRIES", 2, int),
        retry_delay=timedelta(seconds=_number(env, "SALESPREP_RETRY_DELAY_SECONDS", 300, float)),
        lease_poke_seconds=_number(env, "SALESPREP_LEASE_POKE_SECONDS", 30, float),
        lease_timeout=timedelta(hours=_number(env, "SALESPREP_LEASE_TIMEOUT_HOURS", 6, float)),
        task_timeout=timedelta(minutes=_number(env, "SALESPREP_TASK_TIMEOUT_MINUTES", 120, float)),
        run_timeout=timedelta(hours=_number(env, "SALESPREP_RUN_TIMEOUT_HOURS", 10, float)),
        publish_deadline=timedelta(
            minutes=_number(env, "SALESPREP_PUBLISH_DEADLINE_MINUTES", 180, float)
        ),
    )


def _number(env: Mapping[str, str], name: str, default: float, kind: type) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return kind(default)
    try:
        value = kind(raw)
    except ValueError as exc:
        raise DagConfigError(f"{name}={raw!r} is not a {kind.__name__}") from exc
    if value < 0:
        raise DagConfigError(f"{name}={raw!r} must not be negative")
    return value
