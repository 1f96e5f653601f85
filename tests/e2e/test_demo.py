"""`salesprep demo` end to end at a small size (issue 16): two consecutive weeks through Airflow
(`airflow dags test`), with the demo's sample lessons, feedback and actions recorded between
them and its sample initiatives file, so that the second week's packets close the loop.

Checked on the second week: packets for both weeks, the pre-set weekly 1:1 `.ics` of every pair
in the manager's time zone, the prior lessons and initiatives in the packets, the fullest packet
printed by Chromium on at most 4 A4 pages, and the actions and stuck follow-up marts holding the
week's rows.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from icalendar import Calendar

from salesprep.weeks import Week

from browser import Browser, chromium_path, pdf_pages

pytestmark = pytest.mark.slow

REPS, MANAGERS, WEEKS = 8, 2, 13


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    command = [
        sys.executable,
        "-m",
        "salesprep.cli",
        "demo",
        "--dir",
        str(root),
        "--reps",
        str(REPS),
        "--managers",
        str(MANAGERS),
        "--weeks",
        str(WEEKS),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    assert "recorded the 1:1s of" in result.stdout
    return root


@pytest.fixture(scope="module")
def weeks(demo: Path) -> tuple[Week, Week]:
    labels = sorted(p.name for p in (demo / "shared").iterdir() if p.name[:2] == "20")
    assert len(labels) == 2, labels
    first, second = (Week.parse(label) for label in labels)
    assert second == first.shift(1)
    return first, second


def _manifest(demo: Path, week: Week) -> dict:
    return json.loads((demo / "shared" / week.label / "manifest.json").read_text())


def _packets(demo: Path, week: Week) -> list[dict]:
    folder = demo / "shared" / week.label
    return [
        json.loads((folder / p["paths"]["json"]).read_text())
        for p in _manifest(demo, week)["packets"]
    ]


def test_both_weeks_are_published_with_a_packet_per_pair(demo, weeks):
    first = weeks[0]
    counts = [len(_manifest(demo, week)["packets"]) for week in weeks]
    assert counts[0] == counts[1] >= REPS - 2
    for week in weeks:
        folder = demo / "shared" / week.label
        for packet in _manifest(demo, week)["packets"]:
            assert {"html", "md", "json", "ics"} <= set(packet["paths"])
            assert all((folder / path).is_file() for path in packet["paths"].values())
    # The pairs recorded their 1:1 of the first week, nothing later.
    recorded = sorted((demo / "shared" / "learnings").iterdir())
    assert [p.name for p in recorded] == [first.label]
    assert len(list((recorded[0]).rglob("*.md"))) == counts[0]


def test_every_pair_has_its_weekly_1on1_in_the_managers_time_zone(demo, weeks):
    _, second = weeks
    with (demo / "org" / "User.csv").open(newline="", encoding="utf-8") as file:
        zones = {u["Id"]: u["TimeZoneSidKey"] for u in csv.DictReader(file)}
    folder = demo / "shared" / second.label
    for packet in _manifest(demo, second)["packets"]:
        ics = (folder / packet["paths"]["ics"]).read_bytes()
        (event,) = Calendar.from_ical(ics).walk("VEVENT")
        assert event["dtstart"].params["TZID"] == zones[packet["manager_id"]]
        start = event.decoded("dtstart")
        # The default slot: Tuesday 10:00 of the week after the packet's week, every week.
        assert start.date() == second.end_date + timedelta(days=1)
        assert (start.hour, start.minute) == (10, 0)
        assert event["rrule"]["FREQ"] == ["WEEKLY"]
        assert f"Prep packet of {second.label}: {packet['rep_slug']}.html" in str(
            event["description"]
        )
        html = (folder / packet["paths"]["html"]).read_text()
        assert f'href="{packet["rep_slug"]}.ics"' in html
        index = (folder / packet["manager_slug"] / "index.html").read_text()
        assert f'href="{packet["rep_slug"]}.ics"' in index


def test_second_week_packets_show_prior_lessons_and_initiatives(demo, weeks):
    first, second = weeks
    assert not any(p["lessons"] for p in _packets(demo, first))
    packets = _packets(demo, second)
    for packet in packets:
        assert "Enter the healthcare vertical" in {i["title"] for i in packet["initiatives"]}
        # Each pair's own lesson of the first week's 1:1 comes back in its next packet.
        assert any(lesson["own"] for lesson in packet["lessons"]), packet["rep"]["name"]
    # Shareable lessons reach other teams' packets and the week's digest.
    assert any(not lesson["own"] for p in packets for lesson in p["lessons"])
    digest = (demo / "shared" / second.label / "learnings.html").read_text()
    assert "Bring the services lead" in digest or "Anchor on the cost" in digest


@pytest.mark.skipif(chromium_path() is None, reason="Chromium is not installed")
def test_the_fullest_packet_prints_to_at_most_4_a4_pages(demo, weeks, tmp_path):
    _, second = weeks
    folder = demo / "shared" / second.label
    pages = [folder / p["paths"]["html"] for p in _manifest(demo, second)["packets"]]
    fullest = max(pages, key=lambda page: page.stat().st_size)
    with Browser() as browser:
        data = browser.print_pdf(fullest.as_uri(), tmp_path / "packet.pdf", "A4")
    assert 1 <= pdf_pages(data) <= 4, (fullest.name, pdf_pages(data))


def test_actions_and_stuck_follow_ups_have_second_week_rows(demo, weeks):
    first, second = weeks
    warehouse = demo / "data" / "warehouse" / "salesprep.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        actions = con.execute(
            "select status, opportunity_id is not null, deal_activities_since, is_stage_changed, "
            "recorded_week from rpt_pair_actions_weekly where week = ?",
            [second.label],
        ).fetchall()
        followups = con.execute(
            "select outcome, count(*) from rpt_stuck_deal_followups_weekly where week = ? "
            "group by outcome",
            [second.label],
        ).fetchall()
        pairs = con.execute("select count(*) from dim_sales_pairs").fetchone()[0]
    finally:
        con.close()
    assert {row[4] for row in actions} == {first.label}
    statuses = {row[0] for row in actions}
    assert {"open", "overdue"} <= statuses
    # Every pair's manager action (no deal) is overdue by the second week's end.
    assert sum(1 for row in actions if row[0] == "overdue" and not row[1]) == pairs
    # The deal-linked follow-ups the CRM changed show it.
    assert any(row[1] and (row[2] or row[3]) for row in actions)
    outcomes = dict(followups)
    assert {"newly_stuck", "still_stuck"} & set(outcomes), outcomes
