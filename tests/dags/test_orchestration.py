"""The pieces behind the DAG tasks, with real files, a real DuckDB warehouse, a real SMTP
server (aiosmtpd) and real HTTP servers for the Slack and Apprise (Teams) webhooks: the run
lease, the DAG settings, the Data Docs staged for publishing, the failure alert and the
managers' notifications."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from salesprep.config import Settings
from salesprep.orchestration.dag_config import DagConfigError, dag_config
from salesprep.runs.lease import (
    Lease,
    LeaseError,
    claim_lease,
    current_lease,
    lease_path,
    release_lease,
)

# --- the run lease ----------------------------------------------------------------------------


def test_one_run_holds_the_lease_others_wait_until_it_is_released(tmp_path):
    first, second = Lease("salesprep_weekly", "run-a"), Lease("salesprep_weekly", "run-b")
    assert claim_lease(tmp_path, first, is_active=lambda holder: True)
    assert claim_lease(tmp_path, first, is_active=lambda holder: True)  # a retry keeps it
    assert not claim_lease(tmp_path, second, is_active=lambda holder: holder == first)
    assert current_lease(tmp_path) == first
    assert not release_lease(tmp_path, second)  # not the holder: nothing happens
    assert current_lease(tmp_path) == first
    assert release_lease(tmp_path, first)
    assert not lease_path(tmp_path).exists()
    assert claim_lease(tmp_path, second, is_active=lambda holder: True)


def test_a_lease_left_by_a_run_that_is_no_longer_active_is_taken_over(tmp_path):
    dead, live = Lease("salesprep_weekly", "killed"), Lease("salesprep_weekly", "next")
    assert claim_lease(tmp_path, dead, is_active=lambda holder: True)
    seen = []
    assert claim_lease(tmp_path, live, is_active=lambda holder: seen.append(holder) or False)
    assert seen == [dead]
    assert current_lease(tmp_path) == live


def test_an_unreadable_lease_is_an_error_naming_the_file(tmp_path):
    path = lease_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(LeaseError, match=r"run\.lease"):
        claim_lease(tmp_path, Lease("d", "r"), is_active=lambda holder: True)


# --- settings read at parse time --------------------------------------------------------------


def test_dag_config_defaults_and_overrides():
    default = dag_config({})
    assert (default.schedule, default.timezone, default.dbt_mode) == ("0 6 * * 1", "UTC", "build")
    assert default.pool == "salesprep_duckdb" and default.retries == 2
    custom = dag_config(
        {
            "SALESPREP_SCHEDULE": "0 7 * * 1",
            "SALESPREP_ORG_TIMEZONE": "Asia/Tokyo",
            "SALESPREP_DBT_TASKS": "Cosmos",
            "SALESPREP_DUCKDB_POOL": "warehouse",
            "SALESPREP_RETRY_DELAY_SECONDS": "30",
        }
    )
    assert custom.dbt_mode == "cosmos" and custom.pool == "warehouse"
    assert custom.retry_delay == timedelta(seconds=30)
    # The pool is for a single-writer warehouse file: a Postgres warehouse takes none.
    assert dag_config({"SALESPREP_DBT_TARGET": "postgres"}).pool is None
    assert dag_config({"SALESPREP_DBT_TARGET": "duckdb"}).pool == "salesprep_duckdb"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SALESPREP_ORG_TIMEZONE": "Nowhere/Town"}, "SALESPREP_ORG_TIMEZONE"),
        ({"SALESPREP_SCHEDULE": "0 6 * *"}, "SALESPREP_SCHEDULE"),
        ({"SALESPREP_DBT_TASKS": "both"}, "SALESPREP_DBT_TASKS"),
        ({"SALESPREP_TASK_RETRIES": "-1"}, "SALESPREP_TASK_RETRIES"),
    ],
)
def test_dag_config_errors_name_the_variable(env, named):
    with pytest.raises(DagConfigError, match=named):
        dag_config(env)


# --- Data Docs staged for the week's publish ------------------------------------------------


def _gx_site(root: Path) -> None:
    """The layout Great Expectations 1.x writes for a checkpoint stage."""
    docs = root / "data_docs"
    run = "validations/raw/Opportunity/__none__/20261123T060000.000000Z/raw-Opportunity.html"
    pages = {
        "index.html": f'<a href="{run}">run</a><a href="expectations/raw/Opportunity.html">',
        run: '<a href="../../../../../index.html">home</a>',
        "expectations/raw/Opportunity.html": "<p>suite</p>",
        "static/styles/data_docs_default_styles.css": "body {}",
        "static/images/favicon.ico": "ico",
        "static/images/glossary_scroller.gif": "x" * 1000,
        "static/fonts/HKGrotesk/HKGrotesk-Bold.otf": "font",
    }
    for path, text in pages.items():
        (docs / path).parent.mkdir(parents=True, exist_ok=True)
        (docs / path).write_text(text)
    (root / "raw_checkpoint.json").write_text(
        json.dumps({"stage": "raw", "checks": 45, "failed": 1, "blocking_failed": 0})
    )


def test_republish_skips_the_extract_task_before_reading_anything(monkeypatch):
    from airflow.sdk.exceptions import AirflowSkipException

    from salesprep.orchestration.tasks import run_pipeline_step

    # No settings a run could use: a skipped step must not even read them.
    monkeypatch.setenv("SALESPREP_ORG_TIMEZONE", "Mars/Olympus")
    with pytest.raises(AirflowSkipException, match="republish"):
        run_pipeline_step("extract", "2026-W47", {"republish": True})


def test_contradictory_switches_fail_the_task_without_retries(monkeypatch, tmp_path):
    from airflow.sdk.exceptions import AirflowFailException

    from salesprep.orchestration.tasks import run_pipeline_step

    monkeypatch.setenv("SALESPREP_DATA_DIR", str(tmp_path))
    with pytest.raises(AirflowFailException, match="RunOptionsError: republish"):
        run_pipeline_step("check_week", "2026-W47", {"republish": True, "full_extract": True})


def test_data_docs_are_staged_under_quality_with_an_index_and_safe_paths(tmp_path):
    from salesprep.packets.publish import _EXTRA_PATH
    from salesprep.quality.data_docs import stage_quality_docs

    quality = tmp_path / "quality" / "2026-W47"
    _gx_site(quality / "raw")
    extra = tmp_path / "rendered" / "extra"
    (extra / "quality" / "stale").mkdir(parents=True)
    (extra / "quality" / "stale" / "old.html").write_text("from an earlier run")

    staged = stage_quality_docs(quality, extra, "2026-W47")

    assert "quality/index.html" in staged and "quality/raw/index.html" in staged
    assert all(_EXTRA_PATH.match(path) for path in staged), staged  # publishable names
    on_disk = {p.relative_to(extra).as_posix() for p in extra.rglob("*") if p.is_file()}
    assert on_disk == set(staged)  # the earlier run's pages are gone
    assert not any("fonts" in p or p.endswith(".gif") for p in staged)
    run_page = next(p for p in staged if "/validations/" in p)
    assert "__none__" not in run_page
    index = (extra / "quality" / "raw" / "index.html").read_text()
    assert run_page.removeprefix("quality/raw/") in index  # links follow the renamed folder
    summary = (extra / "quality" / "index.html").read_text()
    assert 'href="raw/index.html"' in summary and "45 checks, 1 failed" in summary


def test_a_week_without_checkpoint_results_stages_nothing(tmp_path):
    from salesprep.quality.data_docs import stage_quality_docs

    assert stage_quality_docs(tmp_path / "none", tmp_path / "extra", "2026-W47") == []
    assert not (tmp_path / "extra" / "quality").exists()


# --- a local SMTP server and a local Slack webhook ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted"


@pytest.fixture
def smtp(monkeypatch):
    from aiosmtpd.controller import Controller

    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": controller.port,
        "extra": {"from_email": "salesprep@example.com", "disable_tls": True, "disable_ssl": True},
    }
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_TEST", json.dumps(conn))
    yield mailbox
    controller.stop()


class _Webhook:
    """A local HTTP server standing in for a webhook (Slack, or a Teams workflow through
    Apprise): keeps every POST and answers `status`."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.status = 200
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                webhook.posts.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(webhook.status)
                self.end_headers()
                self.wfile.write(b"ok" if webhook.status == 200 else b"invalid_token")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def slack(monkeypatch):
    webhook = _Webhook()
    conn = {
        "conn_type": "slackwebhook",
        "host": f"{webhook.url}/services",
        "password": "T000/B000/secretpart",
    }
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_TEST", json.dumps(conn))
    yield webhook
    webhook.server.shutdown()


@pytest.fixture
def teams(monkeypatch):
    """An Apprise connection whose one service posts JSON to a local webhook (a real Teams
    workflow URL, `workflows://…`, goes through the same notifier and hook)."""
    webhook = _Webhook()
    host = webhook.url.removeprefix("http://")
    conn = {"conn_type": "apprise", "extra": {"config": {"path": f"json://{host}/teams"}}}
    monkeypatch.setenv("AIRFLOW_CONN_APPRISE_TEST", json.dumps(conn))
    yield webhook
    webhook.server.shutdown()


def _body(message) -> str:
    return message.get_body(preferencelist=("html", "plain")).get_content()


# --- the failure alert -------------------------------------------------------------------------


class _TaskInstance(SimpleNamespace):
    """What the alert reads of Airflow's RuntimeTaskInstance (task ids, try, XCom)."""

    def xcom_pull(self, task_ids):
        return self.weeks.get(task_ids)


def _context(exception, week="2026-W47", **ti):
    values = {
        "task_id": "build_marts",
        "dag_id": "salesprep_weekly",
        "run_id": "scheduled__2026-11-23T06:00:00+00:00",
        "try_number": 3,
        "log_url": "http://airflow.example/log?x=1&y=2",
        "weeks": {"resolve_week": week} if week else {},
        **ti,
    }
    return {
        "ti": _TaskInstance(**values),
        "task": SimpleNamespace(retries=2),
        "exception": exception,
        "params": {},
    }


def test_the_failure_alert_says_which_week_failed_where_and_why_by_email_slack_and_teams(
    smtp, slack, teams, monkeypatch, tmp_path
):
    from salesprep.orchestration.alerts import report_task_failure
    from salesprep.warehouse import WarehouseBuildError

    monkeypatch.setenv("SALESPREP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SALESPREP_SHARED_FOLDER", str(tmp_path / "shared"))
    monkeypatch.setenv("SALESPREP_ALERT_EMAIL", "ops@example.com; lead@example.com")
    monkeypatch.setenv("SALESPREP_SMTP_CONN_ID", "smtp_test")
    monkeypatch.setenv("SALESPREP_SLACK_CONN_ID", "slack_test")
    monkeypatch.setenv("SALESPREP_APPRISE_CONN_ID", "apprise_test")
    error = WarehouseBuildError("dbt build for 2026-W47 (duckdb) failed: 1 node(s) <fct_x>")

    alert = report_task_failure(_context(error))

    assert alert.week == "2026-W47" and alert.task_id == "build_marts"
    assert "try 3 of 3" in alert.text and "WarehouseBuildError: dbt build" in alert.text
    [message] = smtp.messages
    assert message["Subject"] == "salesprep: week 2026-W47 failed in build_marts"
    assert message["X-Envelope-To"] == "ops@example.com, lead@example.com"
    html = _body(message)
    assert "&lt;fct_x&gt;" in html and "<fct_x>" not in html  # escaped
    assert "x=1&amp;y=2" in html
    [(path, payload)] = slack.posts
    assert path == "/services/T000/B000/secretpart"
    assert payload["text"].startswith("salesprep: week 2026-W47 failed in task build_marts")
    assert "&lt;fct_x&gt;" in payload["text"]  # Slack's escaping: no accidental link syntax
    [(path, payload)] = teams.posts
    assert path == "/teams" and payload["type"] == "failure"
    assert payload["title"] == "salesprep: week 2026-W47 failed in build_marts"
    assert payload["message"] == alert.text
    # The failed step published the week's quality report (nothing else), and the alert links it.
    report = tmp_path / "shared" / "_quality" / "2026-W47" / "index.html"
    assert report.is_file() and "dbt build for 2026-W47" in report.read_text(encoding="utf-8")
    assert f"Quality report: {report}" in alert.text
    assert not (tmp_path / "shared" / "2026-W47").exists()


def test_hostile_text_in_an_alert_is_escaped_never_run_as_a_template(smtp, slack, monkeypatch):
    from salesprep.orchestration.alerts import report_task_failure

    monkeypatch.setenv("SALESPREP_ALERT_EMAIL", "ops@example.com")
    monkeypatch.setenv("SALESPREP_SMTP_CONN_ID", "smtp_test")
    monkeypatch.setenv("SALESPREP_SLACK_CONN_ID", "slack_test")
    monkeypatch.delenv("SALESPREP_APPRISE_CONN_ID", raising=False)
    hostile = "rep {{ 7 * 7 }} {% raw %}<script>alert(1)</script> ../x | émoji 🚀 שלום"
    alert = report_task_failure(_context(ValueError(hostile), task_id="resolve_week"))

    html = _body(smtp.messages[0])
    assert "{{ 7 * 7 }}" in html and "49" not in html and "{% raw %}" in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "émoji 🚀 שלום" in html
    [(_, payload)] = slack.posts
    assert "{{ 7 * 7 }}" in payload["text"] and "<script>" not in payload["text"]
    assert hostile in alert.text


def test_the_missed_deadline_alert_goes_to_every_channel(smtp, slack, monkeypatch):
    import asyncio

    from salesprep.orchestration.alerts import report_missed_deadline

    monkeypatch.setenv("SALESPREP_ALERT_EMAIL", "ops@example.com")
    monkeypatch.setenv("SALESPREP_SMTP_CONN_ID", "smtp_test")
    monkeypatch.setenv("SALESPREP_SLACK_CONN_ID", "slack_test")
    monkeypatch.delenv("SALESPREP_APPRISE_CONN_ID", raising=False)
    run = SimpleNamespace(run_id="scheduled__2026-11-23T06:00:00+00:00")

    text = asyncio.run(report_missed_deadline({"dag_run": run}, minutes=180))

    assert text.startswith(f"salesprep: the weekly run {run.run_id} has not published")
    assert "180 minutes" in text
    [message] = smtp.messages
    assert message["Subject"] == "salesprep: packets not published by the deadline"
    assert f"<code>{run.run_id}</code>" in _body(message)
    [(_, payload)] = slack.posts
    assert payload["text"] == text


def test_a_channel_that_refuses_the_alert_does_not_stop_the_others(smtp, slack, monkeypatch):
    from salesprep.orchestration.notifiers import Message, deliver_alert

    monkeypatch.setenv("SALESPREP_ALERT_EMAIL", "ops@example.com")
    monkeypatch.setenv("SALESPREP_SMTP_CONN_ID", "smtp_test")
    monkeypatch.setenv("SALESPREP_SLACK_CONN_ID", "slack_test")
    monkeypatch.setenv("SALESPREP_APPRISE_CONN_ID", "no_such_connection")
    slack.status = 403  # a revoked webhook

    delivered = deliver_alert(Message("subject", "<p>body</p>", "body"))

    assert delivered == ["email to ops@example.com (smtp_test)"]
    assert len(smtp.messages) == 1 and len(slack.posts) == 1


def test_the_alert_falls_back_to_the_week_param_and_never_raises_on_delivery(monkeypatch):
    from salesprep.orchestration.alerts import report_task_failure

    monkeypatch.setenv("SALESPREP_ALERT_EMAIL", "ops@example.com")
    monkeypatch.setenv("SALESPREP_SMTP_CONN_ID", "no_such_connection")
    monkeypatch.delenv("SALESPREP_SLACK_CONN_ID", raising=False)
    monkeypatch.delenv("SALESPREP_APPRISE_CONN_ID", raising=False)
    context = _context(None, week=None, task_id="resolve_week")
    context["params"] = {"week": "2026-W60"}

    alert = report_task_failure(context)  # the SMTP connection is missing: logged, not raised

    assert alert.week == "2026-W60"
    assert "no exception was recorded" in alert.reason


# --- telling managers their packets are ready -------------------------------------------------


@pytest.fixture
def published_week(tmp_path) -> Settings:
    """A published warehouse with dim_sales_pairs and a week's manifest in a shared folder."""
    import duckdb

    warehouse = tmp_path / "warehouse" / "salesprep.duckdb"
    warehouse.parent.mkdir()
    con = duckdb.connect(str(warehouse))
    con.execute(
        "create table dim_sales_pairs as select * from (values "
        "('M1', 'Ana <Boss>', 'ana@example.com', 'R1'), "
        "('M1', 'Ana <Boss>', 'ana@example.com', 'R2'), "
        "('M2', 'Bo', null, 'R3')) as t(manager_id, manager_name, manager_email, rep_id)"
    )
    con.close()
    shared = tmp_path / "shared"
    (shared / "2026-W47").mkdir(parents=True)

    def packet(manager, slug, rep, rep_name):
        return {
            "manager_id": manager,
            "manager_name": "x",
            "manager_slug": slug,
            "rep_id": rep,
            "rep_name": rep_name,
            "rep_slug": rep.lower(),
            "paths": {"html": f"{slug}/{rep.lower()}.html"},
            "sha256": {},
        }

    manifest = {
        "week": "2026-W47",
        "packets": [
            packet("M1", "ana-m1", "R1", "Rae"),
            packet("M1", "ana-m1", "R2", "Sam & Co"),
            packet("M2", "bo-m2", "R3", "Tim"),
        ],
        "files": [],
    }
    (shared / "2026-W47" / "manifest.json").write_text(json.dumps(manifest))
    (shared / "2026-W47" / "teams.json").write_text(_teams_json())
    return Settings(data_dir=tmp_path / "data", shared_folder=str(shared), warehouse_path=warehouse)


def _teams_json() -> str:
    """The week's team data as render_week writes it: Ana's three reps in the order of
    rpt_manager_team_weekly (R3 of another team is not hers), the reasons worded."""
    from salesprep.packets.team import TeamPage, TeamRep, WeekTeams

    def rep(rep_id, name, rank, reason, why):
        return TeamRep(
            rep_id=rep_id, rep_name=name, rank=rank, reason=reason, why=why, quota_amount=None,
            attainment=None, pacing=None, coverage=None, open_pipeline=None,
            weeks_below_pacing=None, performance_conversation_recommended=False, stuck_deals=0,
            stuck_amount=0, newly_stuck_deals=0, close_it_or_kill_it_deals=0, open_actions=0,
            overdue_actions=0, done_actions=0,
        )  # fmt: skip

    def page(manager_id, reps):
        return TeamPage(manager_id, "x", reps, [], ["2026-W47"], {}, [])

    return WeekTeams(
        week="2026-W47",
        currency="USD",
        money_locale="en_US",
        close_it_or_kill_it_weeks=3,
        underperformance_window_weeks=4,
        managers=[
            page(
                "M1",
                [
                    rep(
                        "R2",
                        "Sam & Co",
                        1,
                        "close_it_or_kill_it",
                        "2 deals stuck 3+ weeks in a row: close it or kill it",
                    ),
                    rep("R1", "Rae", 2, "overdue_actions", "1 agreed action overdue"),
                    rep("R9", "Uma <i>", 3, "none", "no quota this quarter, nothing flagged"),
                ],
            ),
            page("M2", [rep("R3", "Tim", 1, "pacing", "pacing 0.50×, nothing else flagged")]),
        ],
    ).to_json()


def test_each_manager_with_an_address_gets_links_to_their_folder_and_packets(
    smtp, published_week, monkeypatch
):
    from salesprep.orchestration.notify import notify_managers

    monkeypatch.setenv("SALESPREP_PACKETS_BASE_URL", "https://intranet.example/1on1s/")
    summary = notify_managers("2026-W47", published_week, smtp_conn_id="smtp_test")

    assert summary.as_dict() == {
        "week": "2026-W47",
        "sent": ["ana@example.com"],
        "without_email": ["M2"],
    }
    [message] = smtp.messages
    assert message["X-Envelope-To"] == "ana@example.com"
    assert message["Subject"] == "Your 1:1 prep packets for 2026-W47 are ready (2 reps)"
    html = _body(message)
    assert 'href="https://intranet.example/1on1s/2026-W47/ana-m1/index.html"' in html
    assert 'href="https://intranet.example/1on1s/2026-W47/ana-m1/r2.html"' in html
    assert "Sam &amp; Co" in html and "Ana &lt;Boss&gt;" in html
    # The team page, and the two reps of rpt_manager_team_weekly's order with the reason.
    assert (
        '<a href="https://intranet.example/1on1s/2026-W47/ana-m1/index.html">Your team page</a>'
        in html
    )
    first = html.split("Who needs attention first", 1)[1].split("</ol>", 1)[0]
    assert [line.strip() for line in first.split("<li>")[1:]] == [
        '<a href="https://intranet.example/1on1s/2026-W47/ana-m1/r2.html">Sam &amp; Co</a>: '
        "2 deals stuck 3+ weeks in a row: close it or kill it</li>",
        '<a href="https://intranet.example/1on1s/2026-W47/ana-m1/r1.html">Rae</a>: '
        "1 agreed action overdue</li>",
    ]
    assert "Uma" not in html


def test_a_week_published_without_team_data_is_notified_without_names(
    smtp, published_week, monkeypatch
):
    from salesprep.orchestration.notify import NotifyError, notify_managers

    teams = Path(published_week.shared_folder) / "2026-W47" / "teams.json"
    teams.unlink()
    notify_managers("2026-W47", published_week, smtp_conn_id="smtp_test")
    html = _body(smtp.messages[0])
    assert "Your team page" in html and "Who needs attention first" not in html
    teams.write_text("{not json")
    with pytest.raises(NotifyError, match=r"teams\.json is not the team data"):
        notify_managers("2026-W47", published_week, smtp_conn_id="smtp_test")


def test_links_default_to_the_shared_folder_and_a_missing_week_is_named(
    smtp, published_week, monkeypatch
):
    from salesprep.orchestration.notify import NotifyError, notify_managers

    monkeypatch.delenv("SALESPREP_PACKETS_BASE_URL", raising=False)
    notify_managers("2026-W47", published_week, smtp_conn_id="smtp_test")
    folder = Path(published_week.shared_folder).as_uri()
    assert f'href="{folder}/2026-W47/ana-m1/index.html"' in _body(smtp.messages[0])
    with pytest.raises(NotifyError, match="2026-W46"):
        notify_managers("2026-W46", published_week, smtp_conn_id="smtp_test")
