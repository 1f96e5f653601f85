"""Where alerts and notices go out: the Airflow providers' notifiers. Email goes through
`SmtpNotifier`, Slack through `SlackWebhookNotifier`, and Microsoft Teams (or any other service
Apprise knows) through `AppriseNotifier`. Bodies are rendered from the Jinja templates in
`orchestration/templates/`.

The bodies are rendered here by one Environment that autoescapes HTML and refuses undefined
names, then handed to each notifier finished: `notify` sends them as they are. (Calling a
notifier would render its fields again in Airflow's template environment, which does not
autoescape and would read a `{{` in an exception message or a rep's name as Jinja.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

if TYPE_CHECKING:
    from salesprep.config import NotificationSettings

log = logging.getLogger(__name__)

# The sender when the SMTP connection names none (its extra `from_email`).
DEFAULT_FROM_EMAIL = "salesprep@localhost"

_ENV = Environment(
    loader=PackageLoader("salesprep.orchestration", "templates"),
    autoescape=select_autoescape(["html", "html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Message:
    """One alert: the email's subject and HTML body, and the plain text for chat channels."""

    subject: str
    html: str
    text: str


def render(template: str, **values: Any) -> str:
    """Render `orchestration/templates/<template>`; a `.txt.j2` template is plain text."""
    text = _ENV.get_template(template).render(**values)
    return text.rstrip("\n") if template.endswith(".txt.j2") else text


def send_email(conn_id: str, to: Sequence[str], subject: str, html: str) -> None:
    """Send one HTML email through `SmtpNotifier` and the Airflow SMTP connection `conn_id`;
    the sender is the connection's `from_email` extra, else salesprep@localhost."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    sender = SmtpHook.get_connection(conn_id).extra_dejson.get("from_email") or DEFAULT_FROM_EMAIL
    notifier = SmtpNotifier(
        to=list(to), from_email=sender, subject=subject, html_content=html, smtp_conn_id=conn_id
    )
    notifier.notify({})


def post_to_slack(conn_id: str, text: str) -> None:
    """Post `text` through `SlackWebhookNotifier` and the Slack incoming-webhook connection
    `conn_id` (host `https://hooks.slack.com/services`, password the secret path `T…/B…/…`,
    so the secret is masked in logs like any password). Raises when Slack refuses it."""
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    SlackWebhookNotifier(slack_webhook_conn_id=conn_id, text=slack_escape(text)).notify({})


def notify_apprise(conn_id: str, title: str, text: str, *, failure: bool = True) -> None:
    """Send `text` through `AppriseNotifier` to every service of the Apprise connection `conn_id`
    (its `config` extra lists Apprise URLs: a Teams workflow `workflows://…`, or any other)."""
    from airflow.providers.apprise.notifications.apprise import AppriseNotifier
    from apprise import NotifyFormat, NotifyType

    AppriseNotifier(
        apprise_conn_id=conn_id,
        title=title,
        body=text,
        body_format=NotifyFormat.TEXT,
        notify_type=NotifyType.FAILURE if failure else NotifyType.INFO,
    ).notify({})


def deliver_alert(message: Message, settings: NotificationSettings | None = None) -> list[str]:
    """Send an alert to every configured channel (`SALESPREP_ALERT_EMAIL` through the SMTP
    connection, `SALESPREP_SLACK_CONN_ID`, `SALESPREP_APPRISE_CONN_ID`); return the channels
    that took it. Never raises: a delivery problem is logged, so it does not hide the failure
    the alert is about."""
    from salesprep.config import NotificationSettings

    settings = settings or NotificationSettings()
    channels: list[tuple[str, Callable[[], None]]] = []
    if recipients := settings.alert_recipients:
        smtp = settings.smtp_conn_id
        channels.append(
            (
                f"email to {', '.join(recipients)} ({smtp})",
                lambda: send_email(smtp, recipients, message.subject, message.html),
            )
        )
    if slack := settings.slack_conn_id:
        channels.append((f"Slack ({slack})", lambda: post_to_slack(slack, message.text)))
    if apprise := settings.apprise_conn_id:
        channels.append(
            (f"Apprise ({apprise})", lambda: notify_apprise(apprise, message.subject, message.text))
        )
    delivered = []
    for name, send in channels:
        try:
            send()
        except Exception as exc:  # delivery must never hide the failure being reported
            log.error("delivering the alert %r by %s failed: %s", message.subject, name, exc)
            continue
        log.info("alert %r delivered by %s", message.subject, name)
        delivered.append(name)
    return delivered


def slack_escape(text: str) -> str:
    """Slack's message escaping: `&`, `<` and `>` would otherwise start links and mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
