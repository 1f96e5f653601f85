"""Telling sales ops that a week failed: which week, which task, and why.

`report_task_failure` is the `on_failure_callback` of every task of the weekly DAG (Airflow
calls it once a task has no retries left). It always logs the alert; it also sends it through
the providers' notifiers (`notifiers.deliver_alert`): by email to `SALESPREP_ALERT_EMAIL`
through the SMTP connection `SALESPREP_SMTP_CONN_ID` (default `smtp_default`), to the Slack
incoming webhook of `SALESPREP_SLACK_CONN_ID`, and to the Apprise services (Microsoft Teams ...)
of `SALESPREP_APPRISE_CONN_ID`, when those are set. The bodies come from the templates
`failure_alert.*.j2` and `missed_deadline.*.j2`. A delivery problem is logged, never raised: it
must not hide the failure it reports.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from salesprep.orchestration.notifiers import Message, deliver_alert, render
from salesprep.orchestration.tasks import WEEK_TASK

log = logging.getLogger(__name__)

_MAX_REASON = 600


@dataclass(frozen=True)
class FailureAlert:
    """One failed task of a weekly run, in words."""

    dag_id: str
    run_id: str
    task_id: str
    week: str
    try_number: int
    max_tries: int
    reason: str
    log_url: str | None = None
    quality_report_url: str | None = None

    @property
    def subject(self) -> str:
        return f"salesprep: week {self.week} failed in {self.task_id}"

    @property
    def text(self) -> str:
        return render("failure_alert.txt.j2", alert=self)

    @property
    def html(self) -> str:
        return render("failure_alert.html.j2", alert=self)


def failure_alert(context: Any) -> FailureAlert:
    """The alert for a task failure, from the Airflow callback `context`."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    task_id = getattr(ti, "task_id", None) or "unknown task"
    run_id = getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None) or "unknown run"
    dag_id = getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None) or "unknown DAG"
    task = context.get("task") or getattr(ti, "task", None)
    retries = getattr(task, "retries", 0) or 0
    return FailureAlert(
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        week=_week(context, ti),
        try_number=int(getattr(ti, "try_number", 0) or 0),
        max_tries=int(retries) + 1,
        reason=_reason(context.get("exception")),
        log_url=getattr(ti, "log_url", None),
    )


def report_task_failure(context: Any) -> FailureAlert:
    """Log the failure alert and deliver it to the configured channels."""
    alert = _with_quality_report(failure_alert(context), context.get("exception"))
    log.error("%s", alert.text)
    deliver_alert(Message(alert.subject, alert.html, alert.text))
    return alert


async def report_missed_deadline(context: Any = None, **kwargs: Any) -> str:
    """The deadline alert's callback (run by the triggerer): a weekly run has not published
    its packets `minutes` after it was queued. Logs the alert and delivers it like a failure
    alert; returns the text."""
    import asyncio

    dag_run = (context or {}).get("dag_run") if isinstance(context, dict) else None
    run_id = getattr(dag_run, "run_id", None) or (context or {}).get("run_id", "unknown run")
    values = {"run_id": run_id, "minutes": kwargs.get("minutes")}
    text = render("missed_deadline.txt.j2", **values)
    log.error("%s", text)
    message = Message(
        "salesprep: packets not published by the deadline",
        render("missed_deadline.html.j2", **values),
        text,
    )
    await asyncio.to_thread(deliver_alert, message)
    return text


def _with_quality_report(alert: FailureAlert, exception: Any = None) -> FailureAlert:
    """A failed pipeline step also publishes the week's quality report (`_quality/<week>/`),
    unless it was a refusal (see `pipeline.report_failure`)."""
    from salesprep.pipeline import STEPS, report_failure
    from salesprep.weeks import InvalidWeekError, Week

    if alert.task_id not in {step.name for step in STEPS}:
        return alert
    try:
        week = Week.parse(alert.week)
    except InvalidWeekError:
        return alert
    error = exception if isinstance(exception, BaseException) else alert.reason
    url = report_failure(week, error, alert.task_id)
    return dataclasses.replace(alert, quality_report_url=url) if url else alert


def _week(context: Any, ti: Any) -> str:
    try:
        week = ti.xcom_pull(task_ids=WEEK_TASK) if ti is not None else None
    except Exception:  # the week task itself may be what failed
        week = None
    if week:
        return str(week)
    params = context.get("params") or {}
    if params.get("week"):
        return str(params["week"])
    logical_date = context.get("logical_date")
    return f"of the run scheduled at {logical_date}" if logical_date else "(not resolved)"


def _reason(exception: Any) -> str:
    if exception is None:
        return "no exception was recorded (the task was killed, timed out or marked failed)"
    if isinstance(exception, BaseException):
        message = str(exception).strip() or "(no message)"
        text = f"{type(exception).__name__}: {message}"
    else:
        text = str(exception)
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."
