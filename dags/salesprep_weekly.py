"""
### salesprep_weekly

Prepares every sales manager–rep 1:1 of the week that just ended:
extract Salesforce → raw checkpoint (Great Expectations) → read the pairs' learnings →
dbt build (models + tests) →
publish the warehouse for BI → render the prep packets → publish them to the shared folder.

Runs Monday 06:00 in the org timezone (`SALESPREP_ORG_TIMEZONE`, default UTC) and prepares the
ISO week that just ended. A manual run takes the week from the `week` param (`YYYY-Www`);
re-running a week overwrites it with the same bytes. One run at a time: DuckDB has one writer.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task

DEFAULT_ARGS = {
    "owner": "sales-ops",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}


@dag(
    dag_id="salesprep_weekly",
    schedule="0 6 * * 1",
    start_date=pendulum.datetime(2026, 1, 5, tz=os.environ.get("SALESPREP_ORG_TIMEZONE", "UTC")),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["salesprep", "salesforce", "dbt"],
    params={
        "week": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-W\d{2}$",
            description="ISO week to prepare (YYYY-Www). Empty: the week before the run.",
        )
    },
    doc_md=__doc__,
)
def salesprep_weekly():
    @task
    def resolve_week(params=None, logical_date=None, dag_run=None) -> str:
        from salesprep.config import load_settings
        from salesprep.pipeline import resolve_week

        settings = load_settings()
        scheduled_at = logical_date or (dag_run.run_after if dag_run else None)
        return resolve_week(params.get("week"), scheduled_at, settings.org_timezone).label

    @task
    def extract(week: str) -> dict:
        from salesprep import pipeline

        return pipeline.run_step("extract", week)

    @task
    def check_raw(week: str) -> dict:
        from salesprep import pipeline

        return pipeline.run_step("check_raw", week)

    @task
    def load_learnings(week: str) -> dict:
        from salesprep import pipeline

        return pipeline.run_step("load_learnings", week)

    @task
    def build_marts(week: str) -> dict:
        from salesprep import pipeline

        return pipeline.run_step("build_marts", week)

    @task
    def publish_marts(week: str) -> dict:
        from salesprep import pipeline

        return pipeline.run_step("publish_marts", week)

    @task
    def render_packets(week: str) -> dict:
        from salesprep import pipeline

        return pipeline.run_step("render_packets", week)

    @task
    def publish_packets(week: str) -> dict:
        from salesprep import pipeline

        return pipeline.run_step("publish_packets", week)

    week = resolve_week()
    steps = [
        extract,
        check_raw,
        load_learnings,
        build_marts,
        publish_marts,
        render_packets,
        publish_packets,
    ]
    previous = None
    for step in steps:
        current = step(week)
        if previous is not None:
            previous >> current
        previous = current


salesprep_weekly()
