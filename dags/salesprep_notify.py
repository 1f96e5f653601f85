"""
### salesprep_notify

Runs whenever `salesprep_weekly` publishes a week's packets (the `salesprep_packets` asset)
and emails each manager a link to their folder for that week, through the Airflow SMTP
connection `SALESPREP_SMTP_CONN_ID` (default `smtp_default`). Recipients come from the
published warehouse (`dim_sales_pairs.manager_email`), links from the week's `manifest.json`,
starting at `SALESPREP_PACKETS_BASE_URL` when the shared folder is opened elsewhere than its
storage URL. A manual run with the `week` param sends that week's emails again.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from salesprep.orchestration.assets import PACKETS_ASSET
from salesprep.orchestration.dag_config import dag_config, week_param

CONFIG = dag_config()


@dag(
    dag_id="salesprep_notify",
    schedule=[PACKETS_ASSET],
    start_date=pendulum.datetime(2026, 1, 5, tz=CONFIG.timezone),
    catchup=False,
    max_active_runs=1,
    default_args=CONFIG.default_args(),
    tags=["salesprep", "notifications"],
    params={
        "week": week_param(
            "Week to notify again (YYYY-Www). Empty: the weeks that triggered the run."
        )
    },
    doc_md=__doc__,
)
def salesprep_notify():
    # Reads the published warehouse: a DuckDB file is in the pool with every task that opens it.
    @task(pool=CONFIG.pool)
    def notify_managers(triggering_asset_events=None, params=None) -> list[dict]:
        from salesprep.orchestration.tasks import notify_published_weeks

        return notify_published_weeks(triggering_asset_events, params.get("week"))

    notify_managers()


salesprep_notify()
