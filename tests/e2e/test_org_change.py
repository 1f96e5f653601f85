"""A second org in the same data directory: `salesprep run` stops before extracting anything
with one line on stderr, and `--reset-history` drops the first org's warehouse history so the
marts hold only the second org's rows."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from salesprep.demo_org import generate_org
from salesprep.weeks import Week

FIRST_WEEK = Week.parse("2026-W45")
SECOND_WEEK = Week.parse("2026-W47")

pytestmark = pytest.mark.slow


def _salesprep(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "salesprep.cli", *args]
    return subprocess.run(
        command, env=dict(os.environ), capture_output=True, text=True, timeout=900
    )


def _names(org: Path) -> set[str]:
    with (org / "Opportunity.csv").open(encoding="utf-8") as handle:
        return {row["Name"] for row in csv.DictReader(handle)}


def _org_id(org: Path) -> str:
    with (org / "Organization.csv").open(encoding="utf-8") as handle:
        return next(csv.DictReader(handle))["Id"]


def test_a_second_org_stops_cleanly_and_reset_history_switches_the_data_dir(tmp_path: Path):
    first, second = tmp_path / "first", tmp_path / "second"
    generate_org(first, reps=3, managers=1, weeks=6, seed=2, end_week=FIRST_WEEK)
    generate_org(second, reps=3, managers=1, weeks=4, seed=3, end_week=SECOND_WEEK)
    first_id, second_id = _org_id(first), _org_id(second)
    assert first_id != second_id
    data, shared = tmp_path / "data", tmp_path / "shared"
    common = ["--data-dir", str(data), "--shared-folder", str(shared)]

    done = _salesprep("run", "--week", FIRST_WEEK.label, "--org", str(first), *common)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((data / "raw" / "_extract_report.json").read_text())

    refused = _salesprep("run", "--week", SECOND_WEEK.label, "--org", str(second), *common)
    assert refused.returncode == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert first_id in lines[0] and second_id in lines[0]
    assert "--data-dir" in lines[0] and "salesprep run --reset-history" in lines[0]
    assert "Traceback" not in refused.stderr
    # Nothing was extracted: the first org's landing zone is the one its run left.
    assert json.loads((data / "raw" / "_extract_report.json").read_text()) == report

    reset = _salesprep(
        "run", "--week", SECOND_WEEK.label, "--org", str(second), *common, "--reset-history"
    )
    assert reset.returncode == 0, reset.stderr[-3000:]
    assert reset.stderr == ""
    assert json.loads((data / "state" / "org.json").read_text())["org_id"] == second_id

    # The first org ran W40..W45; the second has data for W44..W47 only. Without the reset the
    # incremental marts and the snapshots would keep the first org's W40..W43.
    second_weeks = {SECOND_WEEK.shift(-n).label for n in range(4)}
    names = _names(second)
    only_first = _names(first) - names
    for warehouse in (data / "warehouse" / "build.duckdb", data / "warehouse" / "salesprep.duckdb"):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            for mart in (
                "fct_opportunity_snapshots_weekly",
                "fct_deal_movement_weekly",
                "rpt_pair_prep_weekly",
                "fct_rep_activity_weekly",
            ):
                weeks = {w for (w,) in con.execute(f"select distinct week from {mart}").fetchall()}
                assert weeks and weeks <= second_weeks, (warehouse.name, mart, weeks)
            movement = {
                n
                for (n,) in con.execute(
                    "select distinct opportunity_name from fct_deal_movement_weekly"
                ).fetchall()
            }
            assert movement and movement <= names and not movement & only_first
