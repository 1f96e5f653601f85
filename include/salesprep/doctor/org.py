"""The org's API: which versions it serves and how much of today's API allowance is left."""

from __future__ import annotations

import time
from dataclasses import dataclass

from salesprep.config import SalesforceSettings
from salesprep.doctor.model import Check, fail, ok, warn
from salesprep.salesforce.client import ApiClient
from salesprep.salesforce.connection import DEFAULT_API_VERSION, ConnectionInfo
from salesprep.salesforce.errors import ApiLimitError, ApiRequestError

_LIMIT_FIX = (
    "wait until the org's rolling 24-hour API usage drops (Setup > Company Information > API "
    "Requests, Last 24 Hours), or ask Salesforce for a higher limit; a run started now stops "
    "at its first request and changes nothing"
)


@dataclass(frozen=True)
class Allowance:
    """Today's API usage against the limit, and the calls a run may still make under its guard."""

    used: int
    limit: int
    guard: float
    # Seconds one small API request took here (the /limits call): a latency sample.
    request_seconds: float

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 1.0

    @property
    def room(self) -> int:
        """Calls before the run's guard (`max_api_share`) stops it."""
        return max(0, int(self.guard * self.limit) - self.used)


def doctor_client_settings(settings: SalesforceSettings) -> SalesforceSettings:
    """The connection's settings for doctor's own requests: few quick retries so it answers in
    seconds, and no usage guard, since reporting the usage is its job."""
    return settings.model_copy(
        update={
            "max_api_share": 1.0,
            "retry_attempts": 2,
            "retry_backoff_seconds": 0.5,
            "retry_backoff_max_seconds": 2.0,
            "request_timeout_seconds": min(settings.request_timeout_seconds, 30.0),
        }
    )


def api_version_check(client: ApiClient, info: ConnectionInfo) -> Check:
    """The version the run uses against the versions `GET /services/data/` lists."""
    used = client.version
    try:
        listed = client.get_json("/services/data/", what="the org's list of API versions")
        versions = sorted({str(v["version"]) for v in listed}, key=float)
    except (ApiRequestError, KeyError, TypeError, ValueError) as exc:
        return warn("API version", f"v{used} in use; the org's versions cannot be listed: {exc}")
    span = f"the org serves v{versions[0]} to v{versions[-1]}" if versions else "none listed"
    data = {"used": used, "configured": info.api_version, "org_versions": versions}
    if used not in versions:
        suggestion = DEFAULT_API_VERSION if DEFAULT_API_VERSION in versions else versions[-1]
        return fail(
            "API version",
            f"v{used} is not a version this org serves ({span})",
            f'set "version": "{suggestion}" in the extra of the Salesforce connection',
            **data,
        )
    if not info.api_version:
        return warn(
            "API version",
            f"the connection names no version, so simple-salesforce's default v{used} is used "
            f"({span}); salesprep is tested with v{DEFAULT_API_VERSION}",
            f'set "version": "{DEFAULT_API_VERSION}" in the extra of the Salesforce connection',
            **data,
        )
    return ok("API version", f"v{used} from the connection; {span}", **data)


def allowance_check(
    client: ApiClient, settings: SalesforceSettings
) -> tuple[Allowance | None, Check]:
    """`GET /limits` DailyApiRequests against the run's guard `max_api_share`."""
    guard = settings.max_api_share
    started = time.monotonic()
    try:
        body = client.get_json(client.data_path("limits/"), what="the org's limits")
        daily = body["DailyApiRequests"]
        limit, left = int(daily["Max"]), int(daily["Remaining"])
    except ApiLimitError as exc:
        return None, fail(
            "API calls today",
            "Salesforce refuses API calls: the org's daily API request limit is exhausted "
            "(403 REQUEST_LIMIT_EXCEEDED)",
            _LIMIT_FIX,
            error=str(exc),
        )
    except (ApiRequestError, KeyError, TypeError, ValueError) as exc:
        # /limits needs "View Setup and Configuration"; every answer's Sforce-Limit-Info has it.
        if client.usage is None:
            return None, warn(
                "API calls today",
                f"the org's API usage cannot be read ({exc}); the run's guard "
                f"salesforce.max_api_share={guard:g} still applies",
            )
        limit, left = client.usage.limit, client.usage.limit - client.usage.used
    allowance = Allowance(limit - left, limit, guard, time.monotonic() - started)
    data = {"used": allowance.used, "limit": limit, "max_api_share": guard, "room": allowance.room}
    usage = (
        f"{allowance.used:,} of {limit:,} daily API requests used ({allowance.share:.0%}), "
        f"{left:,} left"
    )
    if left <= 0:
        return None, fail("API calls today", f"{usage}: the limit is exhausted", _LIMIT_FIX, **data)
    if allowance.share >= guard:
        return allowance, fail(
            "API calls today",
            f"{usage}: at or above the run's guard salesforce.max_api_share={guard:g}, so a run "
            "stops at its first request",
            "run later, when the rolling 24-hour usage is lower, or raise the guard "
            "(SALESPREP_SALESFORCE__MAX_API_SHARE)",
            **data,
        )
    return allowance, ok(
        "API calls today",
        f"{usage}; a run stops at {guard:.0%} (salesforce.max_api_share): "
        f"{allowance.room:,} calls of room",
        **data,
    )
