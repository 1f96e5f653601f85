"""Hostile input a run gets through, or stops on after it started, without a misleading week:
reps dropped by a broken reporting line, script planted in CRM text, a partial week, a publish
that fails half-way, kills and SIGTERM at every stage, leftovers of dead runs, and a login
server in trouble. Each case asserts the exit code, the one line (or the summary) and exactly
what was published."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from robustness.conftest import FAST, WEEK, Place, spawn
from robustness.exports import edit_rows, users

pytestmark = pytest.mark.slow

SCRIPT = '<img src=x onerror=alert(1)><script>alert("salesprep")</script>'


def _managers_and_reps(org: Path) -> tuple[str, list[str]]:
    _by_id, reports = users(org)
    manager = max(reports, key=lambda m: len(reports[m]))
    return manager, reports[manager]


def _make_a_manager_cycle(org: Path) -> list[str]:
    """The biggest team's manager now reports to one of their own reps: the whole team is in a
    cycle. Returns the team's reps."""
    manager, reps = _managers_and_reps(org)
    edit_rows(
        org,
        "User",
        lambda rows: [r.update(ManagerId=reps[0]) for r in rows if r["Id"] == manager] and None,
    )
    return reps


def _last_week_published_as(place: Place, pairs_from: Place) -> None:
    """The shared folder's previous week lists the pairs `pairs_from` published for WEEK."""
    manifest = pairs_from.shared / WEEK.label / "manifest.json"
    previous = place.shared / WEEK.shift(-1).label
    previous.mkdir(parents=True)
    shutil.copyfile(manifest, previous / "manifest.json")


# --- reps silently dropped (issue 12, item 2) -------------------------------------------------


def test_a_clean_run_lists_who_got_no_packet_on_the_week_index(published_run):
    index = (published_run.shared / WEEK.label / "index.html").read_text(encoding="utf-8")
    assert 'id="no-packet"' in index and "got no packet" in index
    quality = (published_run.shared / WEEK.label / "quality" / "index.html").read_text("utf-8")
    assert "got no packet" in quality


def test_a_manager_cycle_that_drops_a_team_fails_the_quality_gate(place, run, published_run):
    _make_a_manager_cycle(place.org)
    _last_week_published_as(place, published_run)
    result = run(place.args())
    assert result.code == 1
    line = result.line
    assert "last_week_pairs.vanished_pair" in line
    assert "SALESPREP_GUARDS__ACCEPT_VANISHED_PAIRS=true" in line
    assert not (place.shared / WEEK.label).exists() and not place.warehouse.exists()
    report = place.shared / "_quality" / WEEK.label / "index.html"
    assert "check_marts" in report.read_text(encoding="utf-8")


def test_an_accepted_reorganisation_publishes_and_names_everyone_left_out(
    place, run, published_run
):
    reps = _make_a_manager_cycle(place.org)
    _last_week_published_as(place, published_run)
    result = run(place.args(), env={"SALESPREP_GUARDS__ACCEPT_VANISHED_PAIRS": "true"})
    assert result.code == 0, result.err[-2000:]
    summary = result.out[result.out.index("got no packet") :]
    for rep in reps:
        assert rep in summary
    assert "manager cycle" in summary
    index = (place.shared / WEEK.label / "index.html").read_text(encoding="utf-8")
    assert all(rep in index for rep in reps) and "manager cycle" in index
    assert place.warehouse.is_file()


# --- script planted in CRM text (issue 12, item 3) --------------------------------------------


def _html_pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.html") if p.is_file())


class _ScriptFinder(HTMLParser):
    """Collects what would run: script elements (outside GX's own, which load from a CDN or
    sit on a stage index) and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.handlers += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and 'alert("salesprep")' in data:
            self.scripts.append(data)


def _assert_inert(folder: Path) -> int:
    """No page under `folder` would run the planted script; every quality page has a
    Content-Security-Policy. Returns how many pages quote the planted text (escaped)."""
    quoting = 0
    for page in _html_pages(folder):
        text = page.read_text(encoding="utf-8")
        finder = _ScriptFinder()
        finder.feed(text)
        assert not finder.scripts, page
        assert not [h for h in finder.handlers if h.startswith("img")], page
        assert SCRIPT not in text, page
        if "quality" in page.parts or "_quality" in page.parts:
            assert 'http-equiv="Content-Security-Policy"' in text, page
        quoting += "&lt;script&gt;alert(" in text
    return quoting


def test_script_in_every_text_field_a_failing_check_quotes_is_escaped(place, run):
    # A stage the org does not know, a duplicate Id and an unknown stage on a history row:
    # the raw checkpoint quotes each of them in its Data Docs and the failed-run report.
    edit_rows(place.org, "Opportunity", lambda rows: rows[0].update(StageName=SCRIPT))
    edit_rows(
        place.org,
        "OpportunityHistory",
        lambda rows: rows[0].update(StageName=SCRIPT + " (history)"),
    )
    edit_rows(place.org, "Contact", lambda rows: rows + [{**rows[0], "Id": SCRIPT}] * 2)
    result = run(place.args())
    assert result.code == 1 and "raw data-quality checkpoint failed" in result.line
    report = place.shared / "_quality" / WEEK.label
    assert (report / "index.html").is_file()
    assert _assert_inert(report) >= 3
    assert not (place.shared / WEEK.label).exists() and not place.warehouse.exists()


def test_script_in_names_and_stage_labels_of_a_published_week_is_escaped(place, run):
    # A user with a ManagerId that is no user (listed as getting no packet), a hostile stage
    # label (quoted in the stage check's value set), a hostile account name (in packets).
    _, reps = _managers_and_reps(place.org)
    edit_rows(
        place.org,
        "User",
        lambda rows: (
            [
                r.update(Name=SCRIPT, LastName=SCRIPT, ManagerId="0058d00000000ZZAAA")
                for r in rows
                if r["Id"] == reps[-1]
            ]
            and None
        ),
    )
    edit_rows(place.org, "OpportunityStage", lambda rows: rows[0].update(MasterLabel=SCRIPT))
    edit_rows(place.org, "Account", lambda rows: rows[0].update(Name=SCRIPT))
    result = run(place.args())
    assert result.code == 0, result.err[-2000:]
    # The unknown ManagerId drops that rep, and says so everywhere.
    assert "0058d00000000ZZAAA" in result.out and "is not a user of the org" in result.out
    week = place.shared / WEEK.label
    index = (week / "index.html").read_text(encoding="utf-8")
    assert "0058d00000000ZZAAA" in index and reps[-1] in index
    assert _assert_inert(week) >= 3


# --- a partial week (issue 12, item 1) --------------------------------------------------------


def test_an_allowed_partial_week_is_labelled_in_every_packet(place, run):
    cutoff = f"{(WEEK.start_date + timedelta(days=2)).isoformat()}T12:00:00.000Z"
    for name in ("Task", "Event", "Opportunity", "OpportunityHistory"):
        edit_rows(place.org, name, lambda rows: [r for r in rows if r["SystemModstamp"] < cutoff])
    result = run(place.args("--allow-partial-week"))
    assert result.code == 0, result.err[-2000:]
    assert "partial week: data to" in result.out
    manifest = json.loads((place.shared / WEEK.label / "manifest.json").read_text("utf-8"))
    assert manifest["packets"]
    for packet in manifest["packets"]:
        data = json.loads((place.shared / WEEK.label / packet["paths"]["json"]).read_text("utf-8"))
        assert data["data_to"] < f"{WEEK.end_date.isoformat()}"
        page = (place.shared / WEEK.label / packet["paths"]["html"]).read_text("utf-8")
        assert "Partial week, data to" in page and "Data as of" not in page


# --- the publish as one unit (issue 12, item 4) -----------------------------------------------


def test_when_the_packets_swap_fails_the_warehouse_swap_is_rolled_back(republish, run, monkeypatch):
    before = republish.published()
    import os

    from salesprep.runs import atomic_swap

    real_rename = os.rename

    def failing_rename(source, destination, *args, **kwargs):
        # The shared folder refuses the new week at the last moment (a full disk, a mount
        # gone read-only): the rename of its staging folder into place fails.
        if ".staging-" in str(source) and Path(destination).name == WEEK.label:
            raise OSError(30, "Read-only file system", str(destination))
        return real_rename(source, destination, *args, **kwargs)

    monkeypatch.setattr(atomic_swap.os, "rename", failing_rename)
    # Change the org so that a successful publish would change the warehouse.
    edit_rows(republish.org, "Opportunity", lambda rows: rows[0].update(Name="Renamed deal"))
    result = run(republish.args())
    assert result.code == 1
    assert "Read-only file system" in result.line
    after = republish.published()
    failed = {k: v for k, v in after.items() if "/_quality/" in k}
    assert {k: v for k, v in after.items() if k not in failed} == before
    leftovers = [p.name for p in republish.warehouse.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert not [p for p in republish.shared.iterdir() if p.name.startswith(".")]


def test_a_kill_during_render_leaves_bi_and_the_shared_folder_on_last_week(republish, run):
    before = republish.published()
    edit_rows(republish.org, "Opportunity", lambda rows: rows[0].update(Name="Renamed deal"))
    process = spawn(republish.args(), republish.root / "logs")
    started = f"{WEEK.label}: render the prep packets ..."
    _wait_for(process, lambda: started in process.logs[0].read_text(encoding="utf-8"), 600)
    time.sleep(0.3)  # into the render: packets are being written
    process.kill()
    out, _ = process.output()
    assert process.returncode == -signal.SIGKILL, "the run ended before render"
    assert "render_packets done" not in out and "publish the warehouse" not in out
    assert republish.published() == before
    # `salesprep status`: the killed run never finished; the week published before is shown.
    status = run(["status", "--data-dir", str(republish.data), "--shared-folder",
                  str(republish.shared), "--json"])  # fmt: skip
    last = json.loads(status.out)["last_run"]
    assert last["outcome"] == "interrupted" and last["finished_at"] is None
    assert last["steps"][-1] == {"name": "render_packets", "outcome": "running", "seconds": None}
    assert json.loads(status.out)["published_weeks"] == [WEEK.label]


# --- leftovers, kills and SIGTERM (issue 12, item 7) ------------------------------------------


def test_what_dead_runs_left_is_swept_by_the_next_run(place, run, dead_pid, org_template):
    host = _host()
    tag = f"{host}-{dead_pid}-0badc0de"
    data, shared = place.data, place.shared
    (data / "warehouse").mkdir(parents=True)
    shared.mkdir(parents=True)
    left = [
        data / f".raw.staging-{tag}",
        data / f".raw.work-{tag}",
        data / ".raw.incoming-1234abcd",  # the names of earlier versions too
        data / ".raw.work-1234abcd",
        data / "warehouse" / f".salesprep.duckdb.staging-{tag}",
        data / "warehouse" / f".salesprep.duckdb.{dead_pid}.publishing",
        shared / f".{WEEK.label}.staging-{tag}",
        shared / f".old-{WEEK.shift(-3).label}-0123456789ab",
    ]
    for path in left:
        if "duckdb" in path.name:
            path.write_bytes(b"half a file")
        else:
            (path / "x").mkdir(parents=True)
    # A week set aside by a swap that died between its two renames: it must come back.
    aside = shared / f".{WEEK.shift(-1).label}.old-{tag}"
    (aside / "mgr").mkdir(parents=True)
    (aside / "manifest.json").write_text("{}")
    (shared / WEEK.shift(-2).label).mkdir()
    (shared / f".old-{WEEK.shift(-2).label}-0123456789ab").mkdir()
    emulator_copy = Path(tempfile_dir()) / f"salesprep-emulator-{tag}"
    emulator_copy.mkdir()
    live_copy = Path(tempfile_dir()) / f"salesprep-emulator-{host}-1-0badc0de"  # pid 1 lives
    live_copy.mkdir()
    try:
        result = run(place.args(week=WEEK.shift(60)))  # refused after the sweep
        assert result.code == 1 and "has not started" in result.line
        for path in left:
            assert not path.exists(), path
        assert not emulator_copy.exists() and live_copy.exists()
        restored = shared / WEEK.shift(-1).label
        assert (restored / "manifest.json").is_file() and not aside.exists()
        assert not (shared / f".old-{WEEK.shift(-2).label}-0123456789ab").exists()
        assert (shared / WEEK.shift(-2).label).is_dir()
    finally:
        shutil.rmtree(live_copy, ignore_errors=True)


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


def _wait_for(process, ready, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if ready():
            return
        time.sleep(0.02)
    process.kill()
    err = process.output()[1] if hasattr(process, "output") else ""
    raise AssertionError(f"never ready (exit {process.returncode}): {err[-2000:]}")


def _host() -> str:
    from salesprep.runs.process_owner import this_host

    return this_host()


def _emulator_copies(pid: int) -> list[Path]:
    return list(Path(tempfile_dir()).glob(f"salesprep-emulator-{_host()}-{pid}-*"))


def test_a_kill_during_extract_leaves_leftovers_the_next_run_sweeps(place, run):
    process = spawn(place.args(), place.root / "logs")
    _wait_for(process, lambda: any(place.data.glob(".raw.staging-*")))
    process.kill()
    process.wait()
    # A dead run's leftovers: its staging and work folders, its lease, its copy of the org.
    assert list(place.data.glob(".raw.*")) and _emulator_copies(process.pid)
    assert (place.data / "state" / "run.lease").is_file()
    result = run(place.args(week=WEEK.shift(60)))
    assert result.code == 1 and "has not started" in result.line  # the lease was taken over
    assert not list(place.data.glob(".raw.*")) and not _emulator_copies(process.pid)
    assert not (place.data / "state" / "run.lease").exists()
    assert place.published() == {}


def test_sigterm_stops_the_run_like_a_failure_report_then_cleanup(place):
    process = spawn(place.args(), place.root / "logs")
    _wait_for(process, lambda: any(place.data.glob(".raw.staging-*")))
    process.send_signal(signal.SIGTERM)
    out, err = process.output()
    assert process.returncode == 128 + signal.SIGTERM, err[-2000:]
    lines = [line for line in err.splitlines() if line.startswith("salesprep run")]
    assert lines == ["salesprep run: stopped by signal SIGTERM; nothing was published"], err[-2000:]
    assert "extract failed; quality report:" in out
    report = place.shared / "_quality" / WEEK.label / "index.html"
    assert "SIGTERM" in report.read_text(encoding="utf-8")
    assert not list(place.data.glob(".raw.*"))
    assert not _emulator_copies(process.pid)
    assert not (place.data / "state" / "run.lease").exists()
    assert not (place.shared / WEEK.label).exists() and not place.warehouse.exists()


# --- a login server in trouble (issue 12, item 6) ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_503_on_relogin_after_session_expiry_does_not_end_the_run(place, run):
    # The run gets through extraction (sessions expire, re-logins meet 503s) and stops at
    # the raw checkpoint on a negative amount planted to keep this case short.
    edit_rows(place.org, "Opportunity", lambda rows: rows[0].update(Amount="-1"))
    port = _free_port()
    emulator = subprocess.Popen(
        [
            sys.executable, "-m", "salesprep.cli", "emulator", str(place.org), "--port",
            str(port), "--fault-session-expiry", "4", "--fault-relogin-errors", "2",
            "--fault-relogin-status", "503",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(emulator, lambda: _listening(port), timeout=60)
        conn = json.dumps(
            {
                "conn_type": "salesforce",
                "host": f"http://127.0.0.1:{port}",
                "login": "demo@salesprep.example",
                "password": "demo-password",
                "extra": {"security_token": "demo-token", "version": "62.0"},
            }
        )
        # One object at a time: the fault expires the session every 4 requests of the whole
        # run, so with four objects loading at once a single request could meet more expiries
        # in a row than its re-login cap allows (a real session lasts hours). Concurrent loads
        # under expiring sessions: tests/extract/test_faults.py.
        one_at_a_time = {"SALESPREP_SALESFORCE__CONCURRENT_OBJECTS": "1"}
        env = {"AIRFLOW_CONN_SALESFORCE_DEFAULT": conn, **FAST, **one_at_a_time}
        result = run(place.args(org=False), env=env)
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    assert result.code == 1
    assert "Opportunity.Amount" in result.line and "login again" not in result.line
    report = json.loads((place.data / "raw" / "_extract_report.json").read_text("utf-8"))
    assert report["totals"]["relogins"] >= 2 and report["totals"]["retries"] >= 2


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_an_unreachable_salesforce_is_retried_then_named(place, run):
    port = _free_port()
    conn = {
        "conn_type": "salesforce",
        "host": f"http://127.0.0.1:{port}",
        "login": "a@b.c",
        "password": "secret-password",
        "extra": {"security_token": "t"},
    }
    env = {"AIRFLOW_CONN_SALESFORCE_DEFAULT": json.dumps(conn)}
    result = run(place.args(org=False), env=env)
    assert result.code == 1
    assert re.search(r"failed after \d attempt", result.line) and str(port) in result.line
    assert "secret-password" not in result.err + result.out
    assert place.published() == {}
    # Without a password the connection cannot log in at all: said at once, no retries.
    del conn["password"]
    env = {"AIRFLOW_CONN_SALESFORCE_DEFAULT": json.dumps(conn)}
    result = run(place.args(org=False), env=env)
    assert result.code == 1 and "is incomplete" in result.line and "password" in result.line


# --- the manual actions: republish, dbt full refresh, full extract ---------------------------


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _packet_hashes(place: Place) -> list[tuple[str, dict]]:
    manifest = json.loads((place.shared / WEEK.label / "manifest.json").read_text("utf-8"))
    return [(p["rep_id"], p["sha256"]) for p in manifest["packets"]]


def test_republish_rebuilds_and_publishes_the_week_without_reaching_salesforce(republish, run):
    landing = _tree(republish.data / "raw")
    packets = _packet_hashes(republish)
    (republish.shared / WEEK.label).rename(republish.root / "set-aside")  # e.g. deleted by hand

    # No --org and no Salesforce connection in the environment: an extract would fail.
    result = run(republish.args("--republish", "--full-refresh", org=False))

    assert result.code == 0, result.err[-3000:]
    assert f"{WEEK.label}: extract skipped (republish:" in result.out
    assert _tree(republish.data / "raw") == landing  # the landing zone as it was
    assert _packet_hashes(republish) == packets  # the same packets, published again
    run_results = republish.data / "warehouse" / "dbt" / "target" / "run_results.json"
    assert json.loads(run_results.read_text("utf-8"))["args"]["full_refresh"] is True


def test_a_full_extract_ignores_the_watermarks(republish, run):
    result = run(republish.args("--full-extract"))
    assert result.code == 0, result.err[-3000:]
    report = json.loads((republish.data / "raw" / "_extract_report.json").read_text("utf-8"))
    assert report["mode"] == "full"


def test_republish_with_a_full_extract_is_refused_before_any_work(place, run):
    result = run(place.args("--republish", "--full-extract"))
    assert result.code == 2
    assert "republish" in result.line and "full extract" in result.line
    assert not place.data.exists()
