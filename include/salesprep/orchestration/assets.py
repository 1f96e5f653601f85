"""The Airflow Assets salesprep publishes: the warehouse BI reads and each week's packets.

A packets asset event carries the week it published in its `extra` (`week`, `manifest`,
`url`, `packets`), so a DAG scheduled on it knows which week is ready.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset

WAREHOUSE_ASSET = Asset(name="salesprep_warehouse", uri="salesprep://warehouse/published")
PACKETS_ASSET = Asset(name="salesprep_packets", uri="salesprep://packets/weekly")


def event_extra(asset: Asset, summary: dict[str, Any], week: str) -> dict[str, Any]:
    """The `extra` of the event the publish step emits for `asset`: JSON, small, with the
    week."""
    if asset == PACKETS_ASSET:
        return {
            "week": week,
            "url": summary.get("url"),
            "manifest": summary.get("manifest"),
            "packets": summary.get("packets"),
        }
    return {"week": week, "path": summary.get("published_warehouse")}


def weeks_from_events(events: Any) -> list[dict[str, Any]]:
    """The published weeks in the triggering asset events of a run, oldest first, one entry
    per week (the latest event wins when a week was published twice)."""
    by_week: dict[str, dict[str, Any]] = {}
    for event in events or []:
        extra = dict(getattr(event, "extra", None) or {})
        week = extra.get("week")
        if week:
            by_week[str(week)] = extra
    return [by_week[week] for week in sorted(by_week)]
