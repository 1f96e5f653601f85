"""Telling sales ops that a week failed: which week, which task, and why.

`report_task_failure` is the `on_failure_callback` of every task of the weekly DAG (Airflow
calls it once a task has no retries left). It always logs the alert; it also mails it to
`SALESPREP_ALERT_EMAIL` through the SMTP connection `SALESPREP_SMTP_CONN_ID` (default
`smtp_default`) and posts it to the Slack incoming webhook of the connection named by
`SALESPREP_SLACK_CONN_ID` when those are set. A delivery problem is logged, never raised: it
must not hide the failure it reports.
"""

from __future__ import annotations

import dataclasses
import html
import logging
from dataclasses import dataclass
from typing import Any

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
        text = (
            f"salesprep: week {self.week} failed in task {self.task_id} "
            f"(DAG {self.dag_id}, run {self.run_id}, try {self.try_number} of {self.max_tries}): "
            f"{self.reason}"
        )
        text += f"\nLog: {self.log_url}" if self.log_url else ""
        return text + (
            f"\nQuality report: {self.quality_report_url}" if self.quality_report_url else ""
        )

    @property
    def html(self) -> str:
        link = f'<p><a href="{html.escape(self.log_url)}">Task log</a></p>' if self.log_url else ""
        if self.quality_report_url:
            report = html.escape(self.quality_report_url)
            link += f'<p><a href="{report}">Quality report of the failed run</a></p>'

        return (
            f"<p>The salesprep run for week <strong>{html.escape(self.week)}</strong> failed in "
            f"task <code>{html.escape(self.task_id)}</code> (DAG {html.escape(self.dag_id)}, run "
            f"{html.escape(self.run_id)}, try {self.try_number} of {self.max_tries}).</p>"
            f"<pre>{html.escape(self.reason)}</pre>{link}"
            "<p>Nothing was published for this week by the failed run; fix the cause and clear "
            "the task or re-run the week.</p>"
        )


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
    from salesprep.config import NotificationSettings

    alert = _with_quality_report(failure_alert(context), context.get("exception"))
    log.error("%s", alert.text)
    notifications = NotificationSettings()
    recipients = notifications.alert_recipients
    if recipients:
        conn_id = notifications.smtp_conn_id
        try:
            send_email(conn_id, recipients, alert.subject, alert.html)
            log.info("failure alert for %s mailed to %s", alert.week, ", ".join(recipients))
        except Exception as exc:  # delivery must never hide the failure being reported
            log.error("mailing the failure alert through %s failed: %s", conn_id, exc)
    slack_conn = notifications.slack_conn_id
    if slack_conn:
        try:
            post_to_slack(slack_conn, alert.text)
            log.info("failure alert for %s posted to Slack (%s)", alert.week, slack_conn)
        except Exception as exc:  # same: log, never raise
            log.error("posting the failure alert to Slack (%s) failed: %s", slack_conn, exc)
    return alert


async def report_missed_deadline(context: Any = None, **kwargs: Any) -> str:
    """The deadline alert's callback (run by the triggerer): a weekly run has not published
    its packets `minutes` after it was queued. Logs the alert and delivers it like a failure
    alert; returns the text."""
    import asyncio

    dag_run = (context or {}).get("dag_run") if isinstance(context, dict) else None
    run_id = getattr(dag_run, "run_id", None) or (context or {}).get("run_id", "unknown run")
    minutes = kwargs.get("minutes")
    text = (
        f"salesprep: the weekly run {run_id} has not published the packets "
        f"{minutes} minutes after it was queued: managers do not have this week's packets. "
        "Check the run in Airflow; the lease and the last published week are untouched."
    )
    log.error("%s", text)
    await asyncio.to_thread(_deliver, "salesprep: packets not published by the deadline", text)
    return text


def _deliver(subject: str, text: str) -> None:
    """Mail and post an alert text to the configured channels; never raises."""
    from salesprep.config import NotificationSettings

    notifications = NotificationSettings()
    if notifications.alert_recipients:
        try:
            body = f"<p>{html.escape(text)}</p>"
            send_email(notifications.smtp_conn_id, notifications.alert_recipients, subject, body)
        except Exception as exc:  # delivery must never hide the alert
            log.error("mailing the alert failed: %s", exc)
    if notifications.slack_conn_id:
        try:
            post_to_slack(notifications.slack_conn_id, text)
        except Exception as exc:  # same: log, never raise
            log.error("posting the alert to Slack failed: %s", exc)


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


def send_email(conn_id: str, to: list[str], subject: str, html_content: str) -> None:
    """Send one HTML email through the Airflow SMTP connection `conn_id`."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(
            to=to,
            subject=subject,
            html_content=html_content,
            from_email=hook.from_email or "salesprep@localhost",
        )


def post_to_slack(conn_id: str, text: str) -> None:
    """Post `text` to a Slack incoming webhook. The connection's host is the webhook base
    (`https://hooks.slack.com/services`) and its password the secret path (`T…/B…/…`), so the
    secret is masked in logs like any password."""
    import requests
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    base = (conn.host or "").rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValueError(
            f"Slack connection {conn_id!r}: host must be the webhook base URL such as "
            "https://hooks.slack.com/services"
        )
    url = f"{base}/{conn.password.strip('/')}" if conn.password else base
    response = requests.post(url, json={"text": text}, timeout=30)
    if response.status_code >= 400:
        raise RuntimeError(
            f"Slack webhook of connection {conn_id!r} answered {response.status_code}: "
            f"{response.text[:200]}"
        )


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
