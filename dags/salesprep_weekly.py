"""
### salesprep_weekly

Prepares every sales manager–rep 1:1 of the week that just ended, one task per step of
`salesprep.pipeline`: `check_week` (the settings, the week has ended) → `extract` (Salesforce
into the raw landing zone) → `check_raw` (Great Expectations) → `load_learnings` → `build_marts`
(dbt build) → `check_marts` (Great Expectations) → `render_packets` (with the week's Data Docs)
→ `publish` (the warehouse and the packets together), between a lease on the data directory
and its release.

* **Schedule**: `SALESPREP_SCHEDULE` (cron, default Monday 06:00) in `SALESPREP_ORG_TIMEZONE`
  (default UTC); a run prepares the ISO week that ended before its scheduled time. A manual
  run takes the week from the `week` param (`YYYY-Www`). Re-running a week rewrites it.
* **Manual actions** (trigger form): `full_extract` re-pulls every object ignoring the
  watermarks; `full_refresh` runs `dbt build --full-refresh` (once after upgrading a data
  directory from an older version); `republish` skips `extract` and rebuilds, renders and
  publishes the week from the landing zone of the last extraction. `salesprep run` has the
  same switches as flags (`--full-extract`, `--full-refresh`, `--republish`).
* **Week guard**: a week that has not ended, that the org's data does not reach, or that comes
  before the org's first data fails `check_week` or `extract` before anything is read or
  published, unless the `allow_partial_week` param labels the packets as a partial week.
* **Backfill**: `airflow backfill create --dag-id salesprep_weekly --from-date … --to-date …`
  makes one run per Monday in the range.
* **One run at a time**: the runs share the raw landing zone and the DuckDB build file, so the
  first task takes a lease on the data directory (runs from a backfill or a trigger wait for it)
  and a teardown gives it back (a row in the warehouse on Postgres, else a file in the data
  dir). On DuckDB, tasks that open its files share a one-slot pool (`SALESPREP_DUCKDB_POOL`,
  default `salesprep_duckdb`); on Postgres (`SALESPREP_DBT_TARGET=postgres`) they take none.
* **dbt**: one `dbt build` task, or with `SALESPREP_DBT_TASKS=cosmos` a task per model and its
  tests (astronomer-cosmos, rendered from the dbt manifest).
* **Assets**: `publish` swaps the warehouse and the packets in together and updates
  `salesprep_warehouse` and `salesprep_packets` (its event names the week), which triggers
  `salesprep_notify`.
* **Timeouts**: every task has an `execution_timeout` (`SALESPREP_TASK_TIMEOUT_MINUTES`), a run
  a `dagrun_timeout` (`SALESPREP_RUN_TIMEOUT_HOURS`), and a deadline alert fires when the
  packets are not published `SALESPREP_PUBLISH_DEADLINE_MINUTES` after the run was queued
  (default 180: Monday 09:00).
* **Failures**: after the last retry, `salesprep.orchestration.alerts` logs and sends which week
  failed, where and why (`SALESPREP_ALERT_EMAIL`, `SALESPREP_SLACK_CONN_ID`).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronTriggerTimetable, PokeReturnValue, chain, dag, task

from salesprep.orchestration.assets import PACKETS_ASSET, WAREHOUSE_ASSET
from salesprep.orchestration.dag_config import dag_config, run_option_params, week_param

CONFIG = dag_config()
DEFAULT_ARGS = CONFIG.default_args()


def pipeline_step(name: str, outlets: tuple = (), **task_args):
    """A task that runs the step `name` of `salesprep.pipeline.STEPS` for the run's week, with
    the trigger form's switches (`params`) as its options."""

    @task(task_id=name, pool=CONFIG.pool, outlets=list(outlets), **task_args)
    def run_step(week: str, params=None, outlet_events=None) -> dict:
        from salesprep.orchestration.tasks import run_pipeline_step

        return run_pipeline_step(name, week, params, outlet_events, outlets)

    return run_step


@dag(
    dag_id="salesprep_weekly",
    schedule=CronTriggerTimetable(CONFIG.schedule, timezone=CONFIG.timezone),
    start_date=pendulum.datetime(2026, 1, 5, tz=CONFIG.timezone),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=CONFIG.run_timeout,
    deadline=CONFIG.deadline_alert(),
    tags=["salesprep", "salesforce", "dbt"],
    params={
        "week": week_param("ISO week to prepare (YYYY-Www). Empty: the week before the run."),
        **run_option_params(),
    },
    doc_md=__doc__,
)
def salesprep_weekly():
    @task.sensor(
        mode="reschedule",
        poke_interval=CONFIG.lease_poke_seconds,
        timeout=CONFIG.lease_timeout.total_seconds(),
    )
    def claim_data_dir(dag_run=None, ti=None) -> PokeReturnValue:
        from salesprep.orchestration.tasks import claim_data_dir

        claimed = claim_data_dir(
            dag_run.dag_id, dag_run.run_id, ti.get_dagrun_state, CONFIG.run_timeout
        )
        return PokeReturnValue(is_done=claimed)

    @task
    def resolve_week(params=None, logical_date=None, dag_run=None) -> str:
        from salesprep.orchestration.tasks import resolve_run_week

        scheduled_at = logical_date or (dag_run.run_after if dag_run else None)
        return resolve_run_week(params.get("week"), scheduled_at, CONFIG.timezone)

    @task
    def release_data_dir(dag_run=None) -> bool:
        from salesprep.orchestration.tasks import release_data_dir

        return release_data_dir(dag_run.dag_id, dag_run.run_id)

    claimed = claim_data_dir()
    week = resolve_week()
    if CONFIG.dbt_mode == "cosmos":  # a task per dbt model and its tests
        from salesprep.orchestration.dbt_tasks import dbt_task_group

        marts_built = dbt_task_group(CONFIG, default_args=DEFAULT_ARGS)
    else:
        marts_built = pipeline_step("build_marts")(week)
    released = release_data_dir()
    chain(
        claimed,
        week,
        pipeline_step("check_week")(week),
        pipeline_step("extract")(week),
        # Runs after an extract that `republish` skipped, on the landing zone as it is.
        pipeline_step("check_raw", trigger_rule="none_failed")(week),
        pipeline_step("load_learnings")(week),
        marts_built,
        pipeline_step("check_marts")(week),
        pipeline_step("render_packets")(week),
        pipeline_step("publish", outlets=(WAREHOUSE_ASSET, PACKETS_ASSET))(week),
        released,
    )
    released.as_teardown(setups=claimed)


salesprep_weekly()
