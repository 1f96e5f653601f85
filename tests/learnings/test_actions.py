"""Agreed actions through the real loop: pairs record actions in their learnings files, mark one
done a week later and make mistakes; the next run's load step and dbt give each action its
status and, for a deal, what the CRM shows since the 1:1 (checked against the oracle's reading
of the org), and list every rejected entry for its pair."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

import duckdb
import pytest

from salesprep import pipeline
from salesprep.config import Settings
from salesprep.warehouse import build_warehouse

from .conftest import PREVIOUS, WEEK, LearningsRun, Pair

REPO = Path(__file__).resolve().parents[2]
RECORDED = PREVIOUS.shift(-1)  # the 1:1 before last
ACTION_MODELS = (
    "path:models/staging/learnings path:models/intermediate/learnings"
    " path:models/marts/learnings rpt_manager_team_weekly"
)


@dataclass
class ActionsRun:
    settings: Settings
    a: Pair
    b: Pair
    c: Pair
    deal: str
    load_summary: dict

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        with duckdb.connect(str(self.settings.build_warehouse_path), read_only=True) as con:
            cursor = con.execute(sql, params or [])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _action(action_id: str, body: str = "", **keys: str) -> str:
    lines = ["---", "kind: action", f"id: {action_id}", *(f"{k}: {v}" for k, v in keys.items())]
    return "\n".join([*lines, "---", body, ""])


@pytest.fixture(scope="module")
def actions_run(learnings_run: LearningsRun, tmp_path_factory: pytest.TempPathFactory):
    """The learnings loop's data dir and shared folder, copied, with actions written into it."""
    data_dir = tmp_path_factory.mktemp("actions-run")
    shutil.copytree(learnings_run.settings.data_dir, data_dir, dirs_exist_ok=True)
    shared = data_dir / "shared"
    settings = Settings(data_dir=data_dir, shared_folder=str(shared), dbt_unit_tests=False)
    a, b, c = (learnings_run.extras[k] for k in ("a", "b", "c"))
    # The pairs of the week before last are those of last week (its manifest, as published).
    (shared / RECORDED.label).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        shared / PREVIOUS.label / "manifest.json", shared / RECORDED.label / "manifest.json"
    )
    with duckdb.connect(str(settings.build_warehouse_path), read_only=True) as con:
        # A deal of A's rep live at both ends of the follow-up (the 1:1 before last, this week).
        deal = con.execute(
            "select opportunity_id from fct_deal_movement_weekly where rep_id = ? and week = ?"
            " and opportunity_id in (select opportunity_id from fct_deal_movement_weekly"
            " where week = ?) order by opportunity_id limit 1",
            [a.rep_id, WEEK.label, RECORDED.label],
        ).fetchone()[0]

    files = {
        a.learnings_path(shared, RECORDED): [
            _action("done-one", "Send the security pack.", owner="rep", due="2030-01-01"),
            _action(
                "deal-1",
                "Map the buying committee.",
                owner="manager",
                due="2030-01-01",
                opportunity_id=deal,
            ),
        ],
        a.learnings_path(shared, PREVIOUS): [
            _action("done-one", "Sent.", status="done"),
            _action("late", "Update the close plan.", owner="rep", due=PREVIOUS.start_date),
            _action("open-1", "Call <script>alert(1)</script>.", owner="rep", due="2030-01-01"),
        ],
        b.learnings_path(shared, PREVIOUS): [
            "---\ntheme: mutual plan\n---\nKEPT beside a bad action.\n",
            _action("bad", "Whose is it?", owner="boss", due="2030-01-01"),
            _action("private-b", "B's own.", owner="rep", due="2030-01-01"),
        ],
        c.learnings_path(shared, PREVIOUS): [_action("never-recorded", status="done")],
    }
    for path, entries in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        existing = path.read_text("utf-8") + "\n" if path.exists() else ""
        path.write_text(existing + "\n".join(entries), encoding="utf-8")

    load_summary = pipeline.load_learnings(WEEK, settings)
    build_warehouse(settings, WEEK, select=ACTION_MODELS)
    return ActionsRun(settings, a, b, c, deal, load_summary)


def _actions(run: ActionsRun, week: str = WEEK.label) -> dict[tuple[str, str], dict]:
    rows = run.rows("select * from rpt_pair_actions_weekly where week = ?", [week])
    return {(r["pair_id"], r["action_id"]): r for r in rows}


def test_each_status_of_an_action(actions_run: ActionsRun) -> None:
    a = actions_run.a
    pair = f"{a.manager_id}-{a.rep_id}"
    rows = _actions(actions_run)
    statuses = {action: r["status"] for (p, action), r in rows.items() if p == pair}
    assert statuses == {"done-one": "done", "deal-1": "open", "late": "overdue", "open-1": "open"}
    assert rows[(pair, "done-one")]["done_week"] == PREVIOUS.label
    assert rows[(pair, "open-1")]["body"] == "Call <script>alert(1)</script>."
    # Last week's packet showed done-one open; the one after this week will not list it.
    before = _actions(actions_run, PREVIOUS.label)
    assert before[(pair, "done-one")]["status"] == "open"
    assert {action for (p, action) in before if p == pair} == {"done-one", "deal-1"}


def test_a_deal_linked_action_shows_the_crm_since_the_1on1(actions_run: ActionsRun) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from oracle.metrics import load_org

    a = actions_run.a
    row = _actions(actions_run)[(f"{a.manager_id}-{a.rep_id}", "deal-1")]
    org = load_org(actions_run.settings.data_dir / "org", tz=actions_run.settings.org_timezone)
    opp = org.opportunities[actions_run.deal]
    start, end = RECORDED.end_date, WEEK.end_date
    at_1on1 = opp.state_at(datetime.combine(start, time()), org.stages, org.money)
    now = opp.state_at(datetime.combine(end, time()), org.stages, org.money)
    activities = [d for d in org.task_dates_by_what.get(opp.id, []) if start <= d < end]
    activities += [
        t.date() for t in org.event_times_by_what.get(opp.id, []) if start <= t.date() < end
    ]
    assert row["is_opportunity_found"] is True
    assert row["deal_activities_since"] == len(activities)
    assert row["last_deal_activity_date"] == max(activities, default=None)
    assert (row["stage_at_1on1"], row["stage_now"]) == (at_1on1.stage, now.stage)
    assert row["is_stage_changed"] is (at_1on1.stage != now.stage)
    assert (row["close_date_at_1on1"], row["close_date_now"]) == (
        at_1on1.close_date,
        now.close_date,
    )
    closed = ("won" if now.is_won else "lost") if now.is_closed and not at_1on1.is_closed else None
    assert row["deal_closed_since"] == closed


def test_actions_stay_with_their_pair(actions_run: ActionsRun) -> None:
    rows = actions_run.rows("select manager_id, rep_id, action_id from fct_learning_actions")
    owners = {r["action_id"]: (r["manager_id"], r["rep_id"]) for r in rows}
    b = actions_run.b
    assert owners["private-b"] == (b.manager_id, b.rep_id)
    listed = actions_run.rows(
        "select distinct pair_id from rpt_pair_actions_weekly where action_id = 'private-b'"
    )
    assert listed == [{"pair_id": f"{b.manager_id}-{b.rep_id}"}]
    team = actions_run.rows(
        "select rep_id, open_actions, overdue_actions, done_actions from rpt_manager_team_weekly"
        " where week = ? and rep_id in (?, ?)",
        [WEEK.label, actions_run.a.rep_id, b.rep_id],
    )
    counts = {
        r["rep_id"]: (r["open_actions"], r["overdue_actions"], r["done_actions"]) for r in team
    }
    assert counts == {actions_run.a.rep_id: (2, 1, 1), b.rep_id: (1, 0, 0)}


def test_bad_entries_are_rejected_one_by_one_and_listed_per_pair(actions_run: ActionsRun) -> None:
    b, c = actions_run.b, actions_run.c
    summary = actions_run.load_summary
    b_file = f"learnings/{PREVIOUS.label}/{b.manager_slug}/{b.rep_slug}.md"
    assert any(m.startswith(f"{b_file} entry 5 (owner): ") for m in summary["learnings_rejected"])
    kept = actions_run.rows("select body from fct_learnings where source_path = ?", [b_file])
    assert {"KEPT beside a bad action."} <= {r["body"] for r in kept}
    rejected = actions_run.rows(
        "select pair_id, source_path, entry_number, problem_key, problem, fix"
        " from fct_learnings_rejected order by source_path, entry_number"
    )
    by_pair = {(r["pair_id"], r["problem_key"]) for r in rejected}
    assert (f"{b.manager_id}-{b.rep_id}", "owner") in by_pair
    orphan = [r for r in rejected if r["pair_id"] == f"{c.manager_id}-{c.rep_id}"]
    assert [(r["problem_key"], r["problem"]) for r in orphan] == [
        ("id", "no action with id never-recorded was recorded by this pair for an earlier week")
    ]
    assert all(r["fix"] for r in rejected)


def test_load_summary_is_json(actions_run: ActionsRun) -> None:
    json.dumps(actions_run.load_summary)  # the step's summary travels through XCom
