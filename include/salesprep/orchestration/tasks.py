"""The callables behind the DAGs' tasks, so that DAG files only wire: each task calls one of
these with values from the Airflow context and returns a small JSON-able summary."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from salesprep.runs.lease import Lease, claim_lease, lease_store, release_lease

if TYPE_CHECKING:
    from salesprep.runs.record import RunRecorder

log = logging.getLogger(__name__)

_ACTIVE_RUN_STATES = frozenset({"queued", "running"})


def claim_data_dir(
    dag_id: str,
    run_id: str,
    run_state: Callable[[str, str], str],
    expires_after: timedelta | None = None,
) -> bool:
    """Take the data dir lease for this run (True) or report it is busy (False).
    `run_state(dag_id, run_id)` gives the state of a DAG run holding it; a `salesprep run`
    holding it is judged by its process (this host) or its expiry. `expires_after` (the DAG's
    run timeout) dates the lease, so that a CLI run can tell when a DAG run's lease is stale."""
    from salesprep.config import load_settings

    settings = load_settings()

    def is_active(holder: Lease) -> bool:
        if holder.is_cli:
            return holder.stale() is False
        try:
            state = run_state(holder.dag_id, holder.run_id)
        except Exception as exc:  # an unknown run (DB reset, deleted run) is not active
            log.warning("cannot read the state of run %s: %s", holder.owner, exc)
            return False
        return str(getattr(state, "value", state)) in _ACTIVE_RUN_STATES

    now = datetime.now(UTC)
    lease = Lease(
        dag_id,
        run_id,
        since=now.isoformat(timespec="seconds"),
        expires_at=(now + expires_after).isoformat(timespec="seconds") if expires_after else "",
    )
    return claim_lease(lease_store(settings), lease, is_active)


def release_data_dir(dag_id: str, run_id: str) -> bool:
    """Give the data dir lease back (a teardown: runs whether the run failed or not); a run
    record still `running` (a task killed, later tasks never run) becomes `interrupted`."""
    from salesprep.config import load_settings
    from salesprep.runs.record import RunRecorder

    settings = load_settings()
    lease = Lease(dag_id, run_id)
    launcher = f"Airflow DAG {dag_id}"
    RunRecorder(settings.data_dir, lease.owner, week="", launcher=launcher).close_unfinished()
    return release_lease(lease_store(settings), lease)


# The task that runs `resolve_run_week` (the DAG's `resolve_week`): later tasks and the failure
# alert pull the run's week label from its XCom.
WEEK_TASK = "resolve_week"


def resolve_run_week(
    requested: str | None, scheduled_at: datetime | None, schedule_timezone: str
) -> str:
    """The week label a run prepares (the `week` param, else the week that ended before the
    run's scheduled time in the org timezone)."""
    from salesprep.config import load_settings
    from salesprep.pipeline import resolve_week

    settings = load_settings()
    if settings.org_timezone != schedule_timezone:
        log.warning(
            "the schedule runs in %s but the settings say org_timezone=%s: set "
            "SALESPREP_ORG_TIMEZONE in the environment of the scheduler and the workers alike",
            schedule_timezone,
            settings.org_timezone,
        )
    week = resolve_week(requested, scheduled_at, settings.org_timezone)
    log.info("this run prepares %s (requested %s, scheduled at %s)", week, requested, scheduled_at)
    return week.label


def run_options(params: Mapping[str, Any] | None) -> Any:
    """The `pipeline.RunOptions` a DAG run's params ask for (the trigger form's switches)."""
    from salesprep.pipeline import RunOptions

    params = params or {}
    return RunOptions(**{name: bool(params.get(name)) for name in RUN_OPTION_PARAMS})


# The trigger-form switches of the weekly DAG (`dag_config.run_option_params`), each a field of
# `pipeline.RunOptions`.
RUN_OPTION_PARAMS = ("full_extract", "full_refresh", "republish", "allow_partial_week")


def run_pipeline_step(
    name: str,
    week: str,
    params: Mapping[str, Any] | None = None,
    outlet_events: Any = None,
    outlets: Sequence[Any] = (),
) -> dict[str, Any]:
    """Run one step of `salesprep.pipeline.STEPS` with the run's params as its options; the
    publish step also describes the asset events it emits (the week, where it went). A
    refusal (a bad setting, a week that must not be prepared, contradictory switches) fails
    the task without retries: retrying cannot change the answer. A step the switches leave
    out (`extract` when republishing) is skipped."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from salesprep import pipeline
    from salesprep.orchestration.assets import event_extra

    record = _run_recorder(week)
    if record is not None:
        record.step_started(name)
    try:
        summary = pipeline.run_step(name, week, run_options(params))
    except pipeline.StepSkipped as exc:
        if record is not None:
            record.step_skipped(name, str(exc))
        raise AirflowSkipException(str(exc)) from exc
    except BaseException as exc:
        if record is not None:
            record.step_failed(name, exc, refused=pipeline.is_refusal(exc))
        if isinstance(exc, pipeline.refusal_types()):
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc
        raise
    if record is not None:
        record.step_succeeded(name, summary, last=name == pipeline.STEPS[-1].name)
    if outlet_events is not None:
        for outlet in outlets:
            outlet_events[outlet].extra = event_extra(outlet, summary, week)
    return summary


def _run_recorder(week: str) -> RunRecorder | None:
    """The record of the DAG run this task belongs to (`salesprep status`), keyed like its
    lease; None outside an Airflow task."""
    from airflow.sdk import get_current_context

    from salesprep.config import load_settings
    from salesprep.runs.record import RunRecorder

    try:
        dag_run = get_current_context()["dag_run"]
    except RuntimeError:  # called outside a task (tests, a shell): nothing to record
        return None
    owner = Lease(dag_run.dag_id, dag_run.run_id).owner
    launcher = f"Airflow DAG {dag_run.dag_id}"
    return RunRecorder(load_settings().data_dir, owner, week, launcher=launcher)


def notify_published_weeks(
    events: Mapping[Any, Any] | None, requested_week: str | None
) -> list[dict[str, Any]]:
    """Notify the managers of every week in the triggering packets events (or of the
    requested week on a manual run)."""
    from salesprep.config import NotificationSettings, load_settings
    from salesprep.orchestration.assets import weeks_from_events
    from salesprep.orchestration.notify import notify_managers

    if requested_week:
        weeks = [requested_week]
    else:
        flat = [event for batch in (events or {}).values() for event in batch]
        weeks = [extra["week"] for extra in weeks_from_events(flat)]
    if not weeks:
        raise ValueError(
            "no week to notify: the run has no packets asset event with a week, and no `week` "
            "param was given"
        )
    settings = load_settings()
    smtp_conn_id = NotificationSettings().smtp_conn_id
    return [notify_managers(week, settings, smtp_conn_id).as_dict() for week in weeks]
