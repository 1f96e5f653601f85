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
    pool: str = DEFAULT_POOL
    retries: int = 2
    retry_delay: timedelta = timedelta(minutes=5)
    lease_poke_seconds: float = 30.0
    lease_timeout: timedelta = timedelta(hours=12)

    def default_args(self) -> dict[str, Any]:
        """The task defaults of every salesprep DAG: owner, retries, and the failure alert
        after the last retry."""
        return {
            "owner": "sales-ops",
            "retries": self.retries,
            "retry_delay": self.retry_delay,
            "on_failure_callback": report_task_failure,
        }


def week_param(description: str) -> Param:
    """The optional `week` param (YYYY-Www) of a manually triggered run."""
    from airflow.sdk import Param

    return Param(None, type=["null", "string"], pattern=r"^\d{4}-W\d{2}$", description=description)


def dag_config(environ: Mapping[str, str] | None = None) -> DagConfig:
    """Read the DAG settings from `environ` (default: the process environment):

    - `SALESPREP_SCHEDULE`: cron expression in the org timezone (default Monday 06:00);
    - `SALESPREP_ORG_TIMEZONE`: IANA timezone of the schedule and of the weeks (default UTC);
    - `SALESPREP_DBT_TASKS`: `build` (one `dbt build` task, the default) or `cosmos` (a task
      per model and its tests, rendered by astronomer-cosmos from the dbt manifest);
    - `SALESPREP_DUCKDB_POOL`: the one-slot pool of every task that opens the data dir's
      DuckDB files (default `salesprep_duckdb`);
    - `SALESPREP_TASK_RETRIES`, `SALESPREP_RETRY_DELAY_SECONDS`;
    - `SALESPREP_LEASE_POKE_SECONDS`, `SALESPREP_LEASE_TIMEOUT_HOURS`: how often a run waiting
      for the data dir checks again, and how long it waits before failing.
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
    return DagConfig(
        schedule=schedule,
        timezone=timezone,
        dbt_mode=mode,  # type: ignore[arg-type]
        pool=env.get("SALESPREP_DUCKDB_POOL") or DEFAULT_POOL,
        retries=_number(env, "SALESPREP_TASK_RETRIES", 2, int),
        retry_delay=timedelta(seconds=_number(env, "SALESPREP_RETRY_DELAY_SECONDS", 300, float)),
        lease_poke_seconds=_number(env, "SALESPREP_LEASE_POKE_SECONDS", 30, float),
        lease_timeout=timedelta(hours=_number(env, "SALESPREP_LEASE_TIMEOUT_HOURS", 12, float)),
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
