"""What a person sees of a run and after it: live progress while `salesprep run` and
`salesprep generate-org` work in a terminal, and `salesprep status` (text and `--json`) on a
data dir that published a week, then on the same data dir after a run that failed at a known
step. The clean run is the suite's published baseline, run in a pseudo-terminal."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from robustness.conftest import WEEK, Place, run_in_terminal
from robustness.exports import edit_rows
from salesprep.runs.lease import cli_lease
from salesprep.runs.record import RunRecorder

pytestmark = pytest.mark.slow

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The keys of `salesprep status --json` (docs/operations.md): scripts rely on them.
STATUS_KEYS = {
    "version", "data_dir", "shared_folder", "org", "published_weeks", "newest_week",
    "last_run", "running_now", "freshness",
}  # fmt: skip
LAST_RUN_KEYS = {
    "run_id", "week", "launcher", "started_at", "finished_at", "seconds", "outcome",
    "failed_step", "error", "quality_report", "api_calls", "steps",
}  # fmt: skip
FRESHNESS_KEYS = {
    "extracted_at", "extracted_for_week", "first_record", "freshest_record", "partial_week",
    "data_to", "dbt_week", "dbt_sources", "dbt_problems",
}  # fmt: skip


def screen_lines(transcript: str) -> list[str]:
    """What a terminal showed, one line per redraw, without colours and cursor moves."""
    text = _ANSI.sub("", transcript)
    return [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]


def _status(run, place: Place, *extra: str):
    args = ["status", "--data-dir", str(place.data), "--shared-folder", str(place.shared)]
    return run([*args, *extra])


# --- progress ---------------------------------------------------------------------------------


def test_a_run_in_a_terminal_shows_live_progress_of_extraction_dbt_and_render(published_run):
    lines = screen_lines(published_run.transcript)
    extracted = json.loads((published_run.data / "raw" / "_extract_report.json").read_text())
    manifest = json.loads((published_run.shared / WEEK.label / "manifest.json").read_text())

    # Each object read ends with one line: the rows read out of its COUNT().
    objects = extracted["objects"]
    for name in ("Opportunity", "OpportunityHistory", "Task"):
        rows = objects[name]["fetched_rows"]
        assert rows > 0
        assert any(line.startswith(f"extract {name}: done, {rows:,}/{rows:,} rows (100%)")
                   for line in lines), name  # fmt: skip
    done = f"extract objects: done, {len(objects)}/{len(objects)} objects (100%)"
    assert any(line.startswith(done) for line in lines)
    # dbt: the nodes done out of the total, drawn as a bar while the build ran.
    build = re.compile(r"dbt build 2026-W47: done, (\d+)/(\d+) nodes")
    ended = [m for line in lines if (m := build.match(line))]
    assert len(ended) == 1 and ended[0][1] == ended[0][2]
    total = int(ended[0][2])
    bars = [line for line in lines if "dbt build 2026-W47" in line and "━" in line]
    drawn = {int(m[1]) for line in bars if (m := re.search(rf"(\d+)/{total} +nodes", line))}
    assert len(drawn) >= 3 and max(drawn) <= total, bars[-5:]
    # The packets rendered out of the total.
    packets = len(manifest["packets"])
    rendered = f"render packets 2026-W47: done, {packets}/{packets} packets (100%)"
    assert any(line.startswith(rendered) for line in lines)
    # A terminal gets the live display, not the log lines a pipe gets.
    assert not any("extract Opportunity: started" in line for line in lines)
    assert "packets for 2026-W47:" in published_run.transcript


def test_generate_org_in_a_terminal_shows_its_progress(tmp_path: Path):
    code, transcript = run_in_terminal(
        ["generate-org", str(tmp_path / "org"), "--reps", "3", "--managers", "1", "--weeks", "3"]
    )
    assert code == 0, transcript[-2000:]
    lines = screen_lines(transcript)
    pattern = re.compile(r"generate 3 weeks of deals and activity: done, (\d+)/\1 sellers")
    assert any(pattern.match(line) for line in lines), lines
    assert any(line.startswith("wrote a demo org to") for line in lines)


# --- status -----------------------------------------------------------------------------------


def test_status_of_a_data_dir_that_never_ran(tmp_path: Path, run):
    place = Place(tmp_path, tmp_path / "org", tmp_path / "data", tmp_path / "shared")
    result = _status(run, place, "--json")
    assert result.code == 0, result.err
    status = json.loads(result.out)
    assert set(status) == STATUS_KEYS
    assert status["published_weeks"] == [] and status["newest_week"] is None
    assert status["last_run"] is None and status["org"] is None and status["freshness"] is None
    text = _status(run, place).out
    assert "published weeks   none" in text and "last run          none recorded" in text


def test_status_while_a_run_holds_the_data_dir(tmp_path: Path, run):
    place = Place(tmp_path, tmp_path / "org", tmp_path / "data", tmp_path / "shared")
    with cli_lease(place.data, wait_seconds=0, ttl_seconds=600) as lease:
        record = RunRecorder(place.data, lease.owner, WEEK.label, launcher="salesprep run")
        record.step_started("check_week")
        record.step_succeeded("check_week", {"week": WEEK.label})
        record.step_started("extract")
        status = json.loads(_status(run, place, "--json").out)
        text = _status(run, place).out
    assert status["running_now"]["run_id"] == lease.owner
    last = status["last_run"]
    assert last["outcome"] == "running" and last["finished_at"] is None
    assert last["steps"][-1] == {"name": "extract", "outcome": "running", "seconds": None}
    assert f"running now       salesprep run (pid {lease.pid} on {lease.host})" in text
    # The run is gone without a word (kill -9): its record is no longer running.
    status = json.loads(_status(run, place, "--json").out)
    assert status["running_now"] is None and status["last_run"]["outcome"] == "interrupted"


def test_status_after_a_successful_run(published_run, run):
    result = _status(run, published_run, "--json")
    assert result.code == 0, result.err
    status = json.loads(result.out)
    assert set(status) == STATUS_KEYS
    manifest = json.loads((published_run.shared / WEEK.label / "manifest.json").read_text())
    org = json.loads((published_run.data / "state" / "org.json").read_text())
    extracted = json.loads((published_run.data / "raw" / "_extract_report.json").read_text())

    assert status["published_weeks"] == [WEEK.label]
    newest = status["newest_week"]
    assert newest["week"] == WEEK.label
    assert newest["pairs_published"] == len(manifest["packets"]) > 0
    # Who the week left out and why: the same people the week index names.
    index = (published_run.shared / WEEK.label / "index.html").read_text(encoding="utf-8")
    assert newest["left_out"], "the baseline org has users without a packet"
    for user in newest["left_out"]:
        assert user["user_id"] in index and user["reason"] and user["why"]
    assert status["org"]["org_id"] == org["org_id"]

    last = status["last_run"]
    assert set(last) == LAST_RUN_KEYS
    assert last["week"] == WEEK.label and last["outcome"] == "succeeded"
    assert last["failed_step"] is None and last["error"] is None
    assert last["launcher"] == "salesprep run" and last["run_id"].startswith("salesprep-cli/")
    assert last["seconds"] > 0
    assert [s["name"] for s in last["steps"]] == [
        "check_week", "extract", "check_raw", "load_learnings", "build_marts", "check_marts",
        "render_packets", "publish",
    ]  # fmt: skip
    assert {s["outcome"] for s in last["steps"]} == {"succeeded"}
    assert last["api_calls"] == extracted["totals"]["api_calls"] > 0
    assert status["running_now"] is None

    freshness = status["freshness"]
    assert set(freshness) == FRESHNESS_KEYS
    assert freshness["extracted_for_week"] == WEEK.label and freshness["partial_week"] is False
    freshest = datetime.fromisoformat(freshness["freshest_record"])
    # The org's data ends with the week (the week guard allows 72 hours before its end).
    assert WEEK.end("UTC") - timedelta(hours=72) <= freshest <= WEEK.end("UTC")
    assert freshness["dbt_week"] == WEEK.label and freshness["dbt_sources"].get("pass", 0) > 0

    text = _status(run, published_run).out
    assert f"published weeks   1: {WEEK.label}" in text
    assert f"newest week       {WEEK.label}: {len(manifest['packets'])} pairs published" in text
    assert f"{len(newest['left_out'])} user(s) got no packet:" in text
    assert newest["left_out"][0]["why"] in text
    assert "succeeded" in text and f"API calls         {last['api_calls']:,}" in text
    assert "source freshness  freshest record" in text and "dbt source freshness" in text


def test_status_after_a_run_that_failed_at_the_raw_checkpoint(republish, run):
    # A deal moved to a stage the org does not know, a minute ago: the incremental extraction
    # reads it, and the raw checkpoint stops the run before anything is built.
    stamp = f"{datetime.now(UTC) - timedelta(minutes=1):%Y-%m-%dT%H:%M:%S}.000Z"
    edit_rows(
        republish.org,
        "Opportunity",
        lambda rows: rows[0].update(
            StageName="Bogus stage", SystemModstamp=stamp, LastModifiedDate=stamp
        ),
    )
    failed = run(republish.args())
    assert failed.code == 1 and "raw data-quality checkpoint failed" in failed.line
    # A pipe (not a terminal) gets progress as log lines: the one changed deal is the COUNT().
    assert re.search(r"extract objects: started \(\d+ objects\)", failed.out)
    assert "extract Opportunity: done, 1/1 rows (100%)" in failed.out

    result = _status(run, republish, "--json")
    assert result.code == 0, result.err
    status = json.loads(result.out)
    last = status["last_run"]
    assert last["outcome"] == "failed" and last["failed_step"] == "check_raw"
    assert "raw data-quality checkpoint failed" in last["error"]
    assert last["quality_report"].endswith(f"_quality/{WEEK.label}/index.html")
    assert [(s["name"], s["outcome"]) for s in last["steps"]] == [
        ("check_week", "succeeded"), ("extract", "succeeded"), ("check_raw", "failed"),
    ]  # fmt: skip
    assert last["api_calls"] > 0  # the extraction finished: its calls are known
    # The published week is still the one the earlier run published, with who it left out.
    assert status["published_weeks"] == [WEEK.label]
    assert status["newest_week"]["left_out"]

    text = _status(run, republish).out
    assert "FAILED at step check_raw" in text
    assert "error: raw data-quality checkpoint failed" in text
    assert f"_quality/{WEEK.label}/index.html" in text
