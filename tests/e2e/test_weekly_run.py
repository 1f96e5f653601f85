"""End to end: a generated org, served over HTTP, through `salesprep run` to published packets.

Every number in every packet `.json` is recomputed straight from the org CSVs by the
independent oracle (tests/oracle/metrics.py) and must agree.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from oracle.metrics import load_org, recompute_week

from salesprep.demo_org import generate_org
from salesprep.weeks import Week

WEEK = Week.parse("2026-W47")
TZ = "America/Los_Angeles"
METRICS = (
    "calls",
    "emails",
    "meetings",
    "opportunities_created",
    "pipeline_created",
    "closed_won_count",
    "closed_won_amount",
    "closed_lost_count",
)

pytestmark = pytest.mark.slow


def _salesprep(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "salesprep.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    org = root / "org"
    generate_org(org, reps=9, managers=2, weeks=14, seed=5, end_week=WEEK)
    env = dict(os.environ, SALESPREP_ORG_TIMEZONE=TZ, PYTHONHASHSEED="1")
    args = ["run", "--week", WEEK.label, "--org", str(org)]
    first = _salesprep(
        *args, "--data-dir", str(root / "data"), "--shared-folder", str(root / "shared"), env=env
    )
    assert first.returncode == 0, first.stderr[-3000:]
    assert f"packets for {WEEK.label}: {root / 'shared' / WEEK.label}\n" in first.stdout
    # The re-run is another server's: another data dir, another hash seed (set iteration).
    again = _salesprep(
        *args,
        "--data-dir",
        str(root / "elsewhere" / "data-again"),
        "--shared-folder",
        str(root / "shared-again"),
        env={**env, "PYTHONHASHSEED": "2"},
    )
    assert again.returncode == 0, again.stderr[-3000:]
    week_dir = root / "shared" / WEEK.label
    manifest = json.loads((week_dir / "manifest.json").read_text())
    packets = {
        p["rep_id"]: json.loads((week_dir / p["paths"]["json"]).read_text())
        for p in manifest["packets"]
    }
    oracle = recompute_week(load_org(org, tz=TZ), WEEK.label, tz=TZ)
    return {
        "root": root,
        "org": org,
        "week_dir": week_dir,
        "manifest": manifest,
        "packets": packets,
        "oracle": oracle,
    }


def _close(actual, expected, where):
    if expected is None or actual is None:
        assert actual == expected, where
    else:
        assert actual == pytest.approx(expected, rel=1e-9, abs=1e-6), where


def test_every_pair_gets_exactly_one_packet(run):
    pairs = {(p["manager_id"], p["rep_id"]) for p in run["manifest"]["packets"]}
    assert pairs == run["oracle"].pairs
    assert len(run["manifest"]["packets"]) == len(pairs)
    for packet in run["manifest"]["packets"]:
        for kind, path in packet["paths"].items():
            data = (run["week_dir"] / path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == packet["sha256"][kind], path
    assert (run["week_dir"] / "index.html").is_file()


def test_packet_metrics_match_the_independent_recomputation(run):
    for rep_id, packet in run["packets"].items():
        expected = run["oracle"].metrics[rep_id]
        for name in METRICS:
            for stat in ("this_week", "prior_week", "avg_4w", "team_median"):
                _close(
                    packet["metrics"][name][stat], expected[name][stat], f"{rep_id} {name} {stat}"
                )


def test_packet_deals_match_the_independent_recomputation(run):
    oracle = run["oracle"]
    for rep_id, packet in run["packets"].items():
        expected = {i: d for i, d in oracle.deals.items() if d["rep_id"] == rep_id}
        assert {d["opportunity_id"] for d in packet["deals"]} == set(expected), rep_id
        for deal in packet["deals"]:
            want = expected[deal["opportunity_id"]]
            where = f"{rep_id} {deal['opportunity_id']}"
            for key in (
                "movement",
                "stage_start",
                "stage_end",
                "days_in_stage",
                "is_stuck",
                "close_date_pushes_90d",
            ):
                assert deal[key] == want[key], f"{where} {key}"
            assert sorted(deal["stuck_reasons"]) == sorted(want["stuck_reasons"]), where
            _close(deal["amount"], want["amount"], f"{where} amount")
        fast = {i for i in oracle.fast_movers if oracle.deals[i]["rep_id"] == rep_id}
        assert {f["opportunity_id"] for f in packet["fast_movers"]} == fast, rep_id


def test_packet_quota_and_performance_flag_match(run):
    oracle = run["oracle"]
    for rep_id, packet in run["packets"].items():
        want = oracle.quota[rep_id]
        if want is None:
            assert packet["quota"] is None, rep_id
        else:
            for key in (
                "won_to_date",
                "amount",
                "attainment",
                "elapsed",
                "pacing",
                "open_pipeline",
                "coverage",
            ):
                _close(packet["quota"][key], want[key], f"{rep_id} quota {key}")
        assert (
            packet["performance_conversation_recommended"]
            == oracle.performance_conversation_recommended[rep_id]
        ), rep_id
        assert 30 <= packet["agenda"]["minutes"] <= 60


def test_a_packet_holds_only_its_own_reps_deals(run):
    with (run["org"] / "Opportunity.csv").open(encoding="utf-8") as handle:
        owner = {row["Id"]: row["OwnerId"] for row in csv.DictReader(handle)}
    for rep_id, packet in run["packets"].items():
        for deal in [*packet["deals"], *packet["fast_movers"]]:
            assert owner[deal["opportunity_id"]] == rep_id, deal["opportunity_id"]
        assert len(packet["rep"]["id"]) == 18 and packet["rep"]["id"] == rep_id


def test_a_rerun_of_the_same_week_gives_the_same_bytes(run):
    """The whole published tree, dbt docs included, byte for byte, though the re-run had
    another data dir and hash seed; and no page names a path of the server."""
    first = run["root"] / "shared"
    again = run["root"] / "shared-again"
    names = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert any(name.name == "index.html" and "docs" in name.parts for name in names)
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes(), name
        text = (first / name).read_bytes()
        assert str(run["root"]).encode() not in text, name
        assert str(Path(__file__).resolve().parents[2]).encode() not in text, name


def test_bad_input_gets_one_clear_line_and_a_nonzero_exit(tmp_path):
    env = dict(os.environ)
    bad_week = _salesprep("run", "--week", "2026-W60", env=env)
    assert bad_week.returncode == 2
    assert "2026-W60" in bad_week.stderr and "Traceback" not in bad_week.stderr
    missing = _salesprep(
        "run",
        "--week",
        WEEK.label,
        "--org",
        str(tmp_path / "nope"),
        "--data-dir",
        str(tmp_path / "d"),
        env=env,
    )
    assert missing.returncode == 1
    assert "nope" in missing.stderr and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr


def test_stuck_deal_followups_in_the_published_warehouse_match_the_oracle(run):
    """Since our last 1:1, in the warehouse BI reads after `salesprep run`: the stuck deals of
    the week before and of this week, their outcomes and streaks, recomputed by the oracle from
    the first week with data (I30), in the org's timezone."""
    import duckdb
    from oracle.metrics import compute_stuck_followups

    published = run["root"] / "data" / "warehouse" / "salesprep.duckdb"
    with duckdb.connect(str(published), read_only=True) as conn:
        weeks = [
            w
            for (w,) in conn.execute(
                "select week from intermediate.int_weeks order by week"
            ).fetchall()
        ]
        got = {
            (row[0], row[1]): row[2:]
            for row in conn.execute(
                "select week, opportunity_id, outcome, stuck_weeks, is_close_it_or_kill_it"
                " from rpt_stuck_deal_followups_weekly"
            ).fetchall()
        }
    org = load_org(run["org"], tz=TZ)
    followups = compute_stuck_followups([recompute_week(org, w, tz=TZ) for w in weeks])
    want = {
        (week, oid): (f["outcome"], f["stuck_weeks"], f["close_it_or_kill_it"])
        for week, deals in followups.items()
        for oid, f in deals.items()
    }
    assert got == want
    assert {outcome for outcome, _, _ in want.values()} >= {"newly_stuck", "still_stuck"}
