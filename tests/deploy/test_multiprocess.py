"""The weekly DAG on a real multi-process deployment (api-server, scheduler, dag-processor,
Celery worker; Postgres metadata DB, Redis broker): a triggered week publishes its packets and
Data Docs and the managers get their emails; a failed week alerts sales ops with the week and
the reason; a triggered republish skips the extract; a backfill publishes each week once, one
run at a time, and re-running a week gives the same bytes; no file anywhere holds the
Salesforce password or token."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import record_timing
from deployment import Deployment, body, files_under

from salesprep.weeks import Week

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

DAG = "salesprep_weekly"


def assert_no_secrets(deployment: Deployment) -> None:
    """Every file under the data dir (raw data, warehouse, dbt logs, quality reports), the
    shared folder (packets, Data Docs) and the Airflow home (task and component logs)."""
    files = files_under(
        deployment.data_dir, deployment.shared, deployment.airflow_home, deployment.root / "logs"
    )
    assert len(files) > 50, "the deployment wrote suspiciously few files"
    leaks = []
    for path in files:
        content = path.read_bytes()
        for secret in deployment.secrets:
            if secret.encode() in content:
                leaks.append(f"{path} holds {secret[:3]}…")
    assert not leaks, "\n".join(leaks)


def test_a_scheduled_week_publishes_packets_and_notifies_each_manager(
    deployment: Deployment, scheduled_week: dict, week: Week
) -> None:
    manifest = scheduled_week["manifest"]
    files = scheduled_week["files"]
    assert manifest["week"] == week.label
    assert manifest["packets"], "no packets were published"
    for packet in manifest["packets"]:
        for path in packet["paths"].values():
            assert path in files, f"manifest lists {path}, which was not published"
    # The week's Data Docs went with the packets, in the same manifest.
    listed = {f["path"] for f in manifest["files"]}
    assert "quality/index.html" in listed
    assert "quality/raw/index.html" in listed
    assert b"raw checkpoint" in files["quality/index.html"]
    # The run took the data dir lease and gave it back.
    assert not (deployment.data_dir / "state" / "run.lease").exists()

    tis = deployment.task_instances(DAG, scheduled_week["run_id"])
    assert tis["extract"]["pool"] == "salesprep_duckdb"
    assert tis["release_data_dir"]["state"] == "success"
    assert deployment.xcom(DAG, scheduled_week["run_id"], "resolve_week") == week.label

    # The packets asset triggered salesprep_notify: one email per manager, to the address in
    # dim_sales_pairs, linking their folder and each rep's packet of the week.
    managers = {p["manager_id"]: p for p in manifest["packets"]}
    notices = deployment.mailbox.wait_for(
        lambda m: week.label in m["Subject"] and "prep packets" in m["Subject"],
        180,
        f"telling managers the {week.label} packets are ready",
    )
    time.sleep(2)  # the second manager's email follows the first within the same task
    notices = [m for m in deployment.mailbox.messages if week.label in m["Subject"]]
    assert len(notices) == len(managers), [m["X-Envelope-To"] for m in notices]
    for message in notices:
        html = body(message)
        packet = next(p for p in managers.values() if p["manager_slug"] in html)
        assert re.fullmatch(r"[^@\s]+@[^@\s]+", message["X-Envelope-To"])
        assert f"/{week.label}/{packet['manager_slug']}/index.html" in html
        for rep in manifest["packets"]:
            if rep["manager_id"] == packet["manager_id"]:
                assert f"/{week.label}/{rep['paths']['html']}" in html
    assert_no_secrets(deployment)


def test_a_failed_week_alerts_sales_ops_with_the_week_and_the_reason(
    deployment: Deployment,
) -> None:
    # A week the param's pattern accepts but no calendar has: resolve_week fails (after its
    # retry) and the failure callback, running in the worker, mails the alert.
    run_id = deployment.trigger(DAG, {"week": "2026-W60"})
    assert deployment.wait_for_run(DAG, run_id, timeout=240) == "failed"
    alert = deployment.mailbox.wait_for(
        lambda m: "2026-W60" in m["Subject"], 60, "alerting sales ops about 2026-W60"
    )[0]
    assert alert["Subject"] == "salesprep: week 2026-W60 failed in resolve_week"
    assert alert["X-Envelope-To"] == "sales-ops@example.com"
    text = body(alert)
    assert "InvalidWeekError" in text and "2026-W60" in text
    assert "try 2 of 2" in text  # the alert waits for the last retry
    tis = deployment.task_instances(DAG, run_id)
    assert tis["extract"]["state"] == "upstream_failed"  # nothing ran, nothing published
    assert tis["release_data_dir"]["state"] == "success"
    assert not (deployment.data_dir / "state" / "run.lease").exists()


def test_a_triggered_republish_skips_the_extract_and_publishes_the_same_packets(
    deployment: Deployment, scheduled_week: dict, week: Week
) -> None:
    # The trigger form's switch: no extraction, the week rebuilt and published from the
    # landing zone the scheduled run left, with a dbt full refresh on the way.
    run_id = deployment.trigger(DAG, {"week": week.label, "republish": True, "full_refresh": True})
    assert deployment.wait_for_run(DAG, run_id) == "success", deployment.diagnose(DAG, run_id)
    tis = deployment.task_instances(DAG, run_id)
    assert tis["extract"]["state"] == "skipped"
    for step in ("check_raw", "build_marts", "render_packets", "publish", "release_data_dir"):
        assert tis[step]["state"] == "success", step
    assert deployment.xcom(DAG, run_id, "build_marts")["full_refresh"] is True
    manifest = json.loads((deployment.shared / week.label / "manifest.json").read_text())
    hashes = [(p["rep_id"], p["sha256"]) for p in manifest["packets"]]
    assert hashes == [(p["rep_id"], p["sha256"]) for p in scheduled_week["manifest"]["packets"]]


def test_backfill_publishes_each_week_once_one_run_at_a_time_and_reruns_are_idempotent(
    request: pytest.FixtureRequest, deployment: Deployment, scheduled_week: dict, week: Week
) -> None:
    previous = week.shift(-1)
    # The Monday 06:00 runs of the range prepare the week before each: `previous` (a new run)
    # and `week` (the scheduled run, re-run because of --reprocess-behavior completed).
    monday = datetime.combine(week.start_date, datetime.min.time(), UTC)
    started = time.perf_counter()
    created = datetime.now(UTC)
    # Backfill's own max_active_runs (default 10) lets both runs start at once: the data-dir
    # lease must keep them from interleaving.
    deployment.airflow(
        "backfill",
        "create",
        "--dag-id",
        DAG,
        "--from-date",
        monday.isoformat(),
        "--to-date",
        (monday + timedelta(days=7, hours=12)).isoformat(),
        "--reprocess-behavior",
        "completed",
    )
    backfills = deployment.rest("GET", "/backfills", params={"dag_id": DAG})["backfills"]
    backfill = max(backfills, key=lambda b: b["id"])
    deadline = time.monotonic() + 900
    while not deployment.rest("GET", f"/backfills/{backfill['id']}")["completed_at"]:
        assert time.monotonic() < deadline, "the backfill did not complete"
        deployment.check_alive()
        time.sleep(3)
    record_timing(request.config, "backfill of two weeks", time.perf_counter() - started)

    by_date = {}
    for run in deployment.runs(DAG):
        if run["logical_date"] and run["run_type"] in ("scheduled", "backfill"):
            by_date.setdefault(datetime.fromisoformat(run["logical_date"]), []).append(run)
    expected = {
        monday.replace(hour=6): previous,
        (monday + timedelta(days=7)).replace(hour=6): week,
    }
    assert set(by_date) == set(expected), sorted(by_date)
    spans = []
    for logical_date, prepared in expected.items():
        runs = by_date[logical_date]
        assert len(runs) == 1, f"{len(runs)} runs for {logical_date}"  # each week once
        run = runs[0]
        assert run["state"] == "success", deployment.diagnose(DAG, run["dag_run_id"])
        assert deployment.xcom(DAG, run["dag_run_id"], "resolve_week") == prepared.label
        tis = deployment.task_instances(DAG, run["dag_run_id"])
        rerun_at = datetime.fromisoformat(tis["extract"]["start_date"])
        assert rerun_at >= created, f"the run for {prepared} was not run by the backfill"
        spans.append((tis["extract"]["start_date"], tis["publish"]["end_date"]))
    # One run at a time: the second run's first step starts after the first run's last step.
    spans.sort()
    assert spans[0][1] <= spans[1][0], f"the two runs overlapped: {spans}"

    # Published once per week, no staging or set-aside folders left behind.
    entries = sorted(p.name for p in deployment.shared.iterdir())
    assert entries == sorted([previous.label, week.label]), entries
    manifest = json.loads((deployment.shared / previous.label / "manifest.json").read_text())
    assert manifest["week"] == previous.label and manifest["packets"]

    # Re-running the week gave the same packets, byte for byte, and replaced the Data Docs
    # instead of adding a second set.
    folder = deployment.shared / week.label
    rerun = json.loads((folder / "manifest.json").read_text())
    assert rerun["packets"] == scheduled_week["manifest"]["packets"]
    for packet in rerun["packets"]:
        for path in packet["paths"].values():
            assert (folder / path).read_bytes() == scheduled_week["files"][path], path
    first_docs = {p for p in scheduled_week["files"] if p.startswith("quality/")}
    rerun_docs = {f["path"] for f in rerun["files"] if f["path"].startswith("quality/")}
    assert len(rerun_docs) == len(first_docs)
    on_disk = {p.relative_to(folder).as_posix() for p in (folder / "quality").rglob("*.html")}
    assert on_disk == {p for p in rerun_docs if p.endswith(".html")}

    # The previous week's managers were told too.
    deployment.mailbox.wait_for(
        lambda m: previous.label in m["Subject"], 180, f"notifying the {previous.label} packets"
    )
    assert_no_secrets(deployment)
