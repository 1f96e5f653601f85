"""One doctor run: the checks in order, each stage skipped with a reason when an earlier one
failed (no login, no API calls left), and the API calls doctor itself spent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from salesprep.config import Settings
from salesprep.doctor.access import access_checks
from salesprep.doctor.connection import connection_check, login_check, settings_check
from salesprep.doctor.model import Check, DoctorReport, Status, fail, skip
from salesprep.doctor.org import allowance_check, api_version_check, doctor_client_settings
from salesprep.doctor.shape import shape_checks
from salesprep.doctor.storage import storage_checks
from salesprep.doctor.survey import run_survey
from salesprep.doctor.volume import volume_checks
from salesprep.salesforce.client import ApiClient
from salesprep.salesforce.errors import ExtractError
from salesprep.salesforce.extract import plan_extraction
from salesprep.weeks import Week

_ORG_STAGES = ("API version", "API calls today", "access", "org shape", "rows and backfill")


def run_doctor(*, target: str, week: Week, overrides: dict[str, Any] | None = None) -> DoctorReport:
    """Check the deployment the environment describes (settings, connection) against its org,
    for `week` (the week a run would prepare: it dates the activity window). Writes nothing."""
    started = time.monotonic()
    report = DoctorReport(target=target)
    settings, check = settings_check(overrides or {})
    report.checks.append(check)
    # Without valid settings, the org is still checked with the defaults; paths are not.
    effective = settings or Settings.model_construct()
    counter: list[ApiClient] = []
    report.checks.extend(_org_checks(effective, week, counter))
    if settings is None:
        report.checks.append(skip("storage", "the settings do not load"))
    else:
        report.checks.extend(storage_checks(settings))
    report.api_calls = sum(c.calls for c in counter)
    report.seconds = time.monotonic() - started
    return report


def _org_checks(settings: Settings, week: Week, counter: list[ApiClient]) -> Iterator[Check]:
    conn_id = settings.salesforce.conn_id
    info, check = connection_check(conn_id)
    yield check
    if info is None:
        yield from _skipped("the Airflow connection is not usable", ("login", *_ORG_STAGES))
        return
    sf, check = login_check(conn_id, info)
    yield check
    if sf is None:
        yield from _skipped("the login failed", _ORG_STAGES)
        return
    client = ApiClient(sf, doctor_client_settings(settings.salesforce))
    counter.append(client)
    check = api_version_check(client, info)
    yield check
    if check.status is Status.FAIL:
        yield from _skipped("the API version is not one the org serves", _ORG_STAGES[1:])
        return
    allowance, check = allowance_check(client, settings.salesforce)
    yield check
    if allowance is None and check.status is Status.FAIL:
        yield from _skipped("no API calls are left today", _ORG_STAGES[2:])
        return
    try:
        plans = {p.name: p for p in plan_extraction(client, settings=settings)}
    except ExtractError as exc:
        yield fail(
            "access",
            f"describing the catalog objects failed: {exc}",
            "check that the user may use the API and describe objects",
        )
        yield from _skipped("describe failed", _ORG_STAGES[3:])
        return
    yield from access_checks(
        list(plans.values()), loss_reason_field=settings.salesforce.loss_reason_field
    )
    try:
        survey = run_survey(client, plans, week=week, tz=settings.org_timezone)
        yield from shape_checks(survey, plans, settings, week)
        yield from volume_checks(client, plans, survey, settings.salesforce, allowance)
    except ExtractError as exc:
        yield fail(
            "org shape",
            f"a read-only query failed: {exc}",
            "run doctor again; if it persists, check the org's API status and the user's access",
        )


def _skipped(why: str, names: tuple[str, ...]) -> Iterator[Check]:
    for name in names:
        yield skip(name, why)
