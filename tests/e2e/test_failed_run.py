"""A run stopped by a quality gate publishes only its quality report, and keeps last week's."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest

from salesprep.demo_org import generate_org
from salesprep.weeks import Week

WEEK = Week.parse("2026-W47")

pytestmark = pytest.mark.slow


def test_a_blocked_run_publishes_its_quality_report_and_nothing_else(tmp_path):
    org = tmp_path / "org"
    generate_org(org, reps=3, managers=1, weeks=6, seed=2, end_week=WEEK)
    # A negative amount: the raw checkpoint must stop the run before anything is built.
    path = org / "Opportunity.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    live = next(row for row in rows if row["IsDeleted"] == "false")
    live["Amount"] = "-5000"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    shared = tmp_path / "shared"
    result = subprocess.run(
        [
            sys.executable, "-m", "salesprep.cli", "run", "--week", WEEK.label,
            "--org", str(org), "--data-dir", str(tmp_path / "data"),
            "--shared-folder", str(shared),
        ],
        env=dict(os.environ), capture_output=True, text=True, timeout=600,
    )  # fmt: skip

    assert result.returncode == 1
    assert "Opportunity.Amount" in result.stderr and "Traceback" not in result.stderr
    report = shared / "_quality" / WEEK.label / "index.html"
    assert report.is_file(), result.stdout[-2000:]
    text = report.read_text(encoding="utf-8")
    assert "check_raw" in text and "Opportunity" in text
    assert not (shared / WEEK.label).exists()
    assert not (tmp_path / "data" / "warehouse" / "salesprep.duckdb").exists()
