"""The org's data span before extraction: when its deals and activities start and how fresh
they are, read with six one-row queries in two composite calls (the week guard's input)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from salesprep.org_folder import parse_datetime
from salesprep.runs.week_guard import DataSpan
from salesprep.salesforce.errors import ExtractError

if TYPE_CHECKING:
    from salesprep.salesforce.client import ApiClient

# The objects a packet's numbers come from; their first and latest records bound the data.
SPAN_OBJECTS = ("Opportunity", "Task", "Event")


def org_data_span(client: ApiClient) -> DataSpan:
    """The earliest `CreatedDate` and the latest `SystemModstamp` over SPAN_OBJECTS (live
    records; an object the org lacks is left out)."""
    queries = []
    for name in SPAN_OBJECTS:
        for ref, soql in (
            (f"first:{name}", f"SELECT CreatedDate FROM {name} ORDER BY CreatedDate ASC LIMIT 1"),
            (
                f"freshest:{name}",
                f"SELECT SystemModstamp FROM {name} ORDER BY SystemModstamp DESC LIMIT 1",
            ),
        ):
            queries.append((ref, client.data_path("query/") + "?" + urlencode({"q": soql})))
    results = client.composite(queries, what="the org's data span (first and freshest records)")
    firsts: list[datetime] = []
    freshest: list[datetime] = []
    for ref, result in results.items():
        kind, name = ref.split(":", 1)
        if not result.ok:
            if result.status == 404 or result.error_code in ("INVALID_TYPE", "NOT_FOUND"):
                continue  # the org has no such object: it adds no data
            raise ExtractError(f"reading the data span of {name} failed: {result.message}")
        records = (result.body or {}).get("records") or []
        field = "CreatedDate" if kind == "first" else "SystemModstamp"
        if records and records[0].get(field):
            value = parse_datetime(str(records[0][field]))
            (firsts if kind == "first" else freshest).append(value)
    return DataSpan(
        first=min(firsts) if firsts else None, freshest=max(freshest) if freshest else None
    )
