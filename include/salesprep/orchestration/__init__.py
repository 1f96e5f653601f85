"""Airflow wiring for salesprep: DAG settings read at parse time, the run lease, assets,
failure alerts, manager notifications, Cosmos task groups and the Data Docs handed to packets."""
