"""End to end: from one 1:1 to the next, as the rendered packets show it.

The shared demo org's warehouse (tests/warehouse/demo_builds.py, built once per session) is
copied; its pairs record agreed actions in their learnings files three weeks before the demo
week (one for each thing the CRM can show since the 1:1, on deals picked from the warehouse),
mark one done a week later and write a bad entry. The next run's steps (load the learnings,
rebuild the learnings models, render, publish) give the demo week's packets; each action's
status and CRM signals must read right in the published .json, .md and .html. The same
warehouse's stuck deals give every outcome of "Since our last 1:1" somewhere in its weeks:
the packet of the week and pair where each occurs must show it.
"""

from __future__ import annotations

import html
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape
from warehouse.demo_builds import DEMO_WEEK, demo_full_build

from salesprep import pipeline
from salesprep.config import Settings
from salesprep.packets.context import build_contexts
from salesprep.packets.formatting import escape_markdown, format_date
from salesprep.packets.render import render_packet
from salesprep.warehouse import build_warehouse
from salesprep.weeks import Week

pytestmark = pytest.mark.slow

WEEK = DEMO_WEEK
RECORDED = WEEK.shift(-3)  # the 1:1 that agreed the actions
DONE = WEEK.shift(-1)  # the 1:1 that marked one done
ACTION_MODELS = (
    "path:models/staging/learnings path:models/intermediate/learnings path:models/marts/learnings"
)
FAR = "2030-01-01"


@dataclass
class FollowThrough:
    settings: Settings
    packets: dict[str, dict[str, str]]  # pair_id → json / md / html text
    expected: dict[str, tuple[str, str]]  # action id → (pair_id, the signal it was set up for)
    actions: dict[tuple[str, str], dict]  # (pair_id, action_id) → mart row
    bad_entry: int  # the bad entry's number in its file

    def packet(self, pair_id: str) -> tuple[dict, str, str]:
        files = self.packets[pair_id]
        return json.loads(files["json"]), files["md"], files["html"]


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _entry(action_id: str, body: str = "", **keys: str) -> str:
    lines = ["---", "kind: action", f"id: {action_id}", *(f"{k}: {v}" for k, v in keys.items())]
    return "\n".join([*lines, "---", body, ""])


def _pick_deals(con: duckdb.DuckDBPyConnection, reps: set[str]) -> dict[str, dict]:
    """One deal per CRM signal, open at the end of RECORDED, of a paired rep: closed since,
    stage changed (still open), close date changed (still open), activity logged since."""
    at_1on1 = _rows(
        con,
        "select opportunity_id, rep_id, stage_end, close_date from fct_deal_movement_weekly"
        " where week = ? and is_open_end order by opportunity_id",
        [RECORDED.label],
    )
    now = {
        r["opportunity_id"]: r
        for r in _rows(
            con,
            "select opportunity_id, stage_end, close_date, is_open_end, last_activity_date"
            " from fct_deal_movement_weekly where week = ?",
            [WEEK.label],
        )
    }
    closed = {
        r["opportunity_id"]: r["movement"]
        for r in _rows(
            con,
            "select opportunity_id, movement from fct_deal_movement_weekly"
            " where week > ? and week <= ? and movement in ('won', 'lost')",
            [RECORDED.label, WEEK.label],
        )
    }
    picked: dict[str, dict] = {}
    for deal in at_1on1:
        oid = deal["opportunity_id"]
        later = now.get(oid)
        if deal["rep_id"] not in reps or oid in {d["opportunity_id"] for d in picked.values()}:
            continue
        if "closed" not in picked and oid in closed:
            picked["closed"] = {**deal, "closed": closed[oid]}
        elif later is None or not later["is_open_end"]:
            continue
        elif "stage" not in picked and later["stage_end"] != deal["stage_end"]:
            picked["stage"] = {**deal, "now": later}
        elif "close_date" not in picked and later["close_date"] != deal["close_date"]:
            picked["close_date"] = {**deal, "now": later}
        elif (
            "activity" not in picked
            and later["last_activity_date"] is not None
            and later["last_activity_date"] >= RECORDED.end_date
        ):
            picked["activity"] = deal
    missing = {"closed", "stage", "close_date", "activity"} - set(picked)
    assert not missing, f"the demo org has no deal showing {missing} since {RECORDED.label}"
    return picked


@pytest.fixture(scope="module")
def follow_through(tmp_path_factory: pytest.TempPathFactory) -> FollowThrough:
    built = demo_full_build(tmp_path_factory)
    data_dir = tmp_path_factory.mktemp("follow-through")
    shutil.copytree(built.settings.data_dir, data_dir, dirs_exist_ok=True)
    shared = data_dir / "shared"
    settings = Settings(data_dir=data_dir, shared_folder=str(shared), dbt_unit_tests=False)

    # The 1:1 of RECORDED discussed its packets: render and publish them for their manifest,
    # which maps the learnings files' slugs to pairs (the done marker's week has the same).
    pipeline.render_packets(RECORDED, settings)
    pipeline.publish(RECORDED, settings)
    manifest = json.loads((shared / RECORDED.label / "manifest.json").read_text("utf-8"))
    (shared / DONE.label).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        shared / RECORDED.label / "manifest.json", shared / DONE.label / "manifest.json"
    )
    pairs = {(p["manager_id"], p["rep_id"]): p for p in manifest["packets"]}
    by_rep = {rep: p for (_, rep), p in pairs.items()}

    with duckdb.connect(str(settings.build_warehouse_path), read_only=True) as con:
        deals = _pick_deals(con, set(by_rep))

    def path(pair: dict, week: Week) -> Path:
        return shared / "learnings" / week.label / pair["manager_slug"] / f"{pair['rep_slug']}.md"

    def pair_id(pair: dict) -> str:
        return f"{pair['manager_id']}-{pair['rep_id']}"

    files: dict[Path, list[str]] = {}
    expected: dict[str, tuple[str, str]] = {}
    for signal, deal in deals.items():
        pair = by_rep[deal["rep_id"]]
        action_id = f"crm-{signal.replace('_', '-')}"
        files.setdefault(path(pair, RECORDED), []).append(
            _entry(
                action_id,
                f"Follow {signal} up.",
                owner="manager",
                due=FAR,
                opportunity_id=deal["opportunity_id"],
            )
        )
        expected[action_id] = (pair_id(pair), signal)
    first = next(iter(sorted(pairs.values(), key=lambda p: (p["manager_id"], p["rep_id"]))))
    files.setdefault(path(first, RECORDED), []).extend(
        [
            _entry("send-pack", "Send the security pack.", owner="rep", due=FAR),
            _entry("late", "Update the close plan.", owner="rep", due=RECORDED.start_date),
            _entry("nothing-yet", "Book the QBR <b>now</b>.", owner="rep", due=FAR),
            _entry("bad", "Whose is it?", owner="boss", due=FAR),
        ]
    )
    bad_entry = len(files[path(first, RECORDED)])
    files.setdefault(path(first, DONE), []).append(_entry("send-pack", "Sent.", status="done"))
    expected |= {
        "send-pack": (pair_id(first), "done"),
        "late": (pair_id(first), "overdue"),
        "nothing-yet": (pair_id(first), "open"),
    }
    for file, entries in files.items():
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("\n".join(entries), encoding="utf-8")

    pipeline.load_learnings(WEEK, settings)
    build_warehouse(settings, WEEK, select=ACTION_MODELS)
    pipeline.render_packets(WEEK, settings)
    pipeline.publish(WEEK, settings)

    week_dir = shared / WEEK.label
    published = json.loads((week_dir / "manifest.json").read_text("utf-8"))
    packets = {
        f"{p['manager_id']}-{p['rep_id']}": {
            kind: (week_dir / rel).read_text("utf-8") for kind, rel in p["paths"].items()
        }
        for p in published["packets"]
    }
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        actions = {
            (r["pair_id"], r["action_id"]): r
            for r in _rows(
                con, "select * from rpt_pair_actions_weekly where week = ?", [WEEK.label]
            )
        }
    return FollowThrough(settings, packets, expected, actions, bad_entry)


def _action_row_html(page: str, action_id: str) -> str:
    row = page.split(f"<code>{action_id}</code>", 1)[1]
    return row.split("</tr>", 1)[0]


def _action_item_md(text: str, action_id: str) -> str:
    item = text.split(f"- **{escape_markdown(action_id)}** (", 1)[1]
    return item.split("\n- **", 1)[0].split("\n### ", 1)[0]


@pytest.mark.parametrize(
    ("action_id", "status", "status_words"),
    [
        ("send-pack", "done", f"done (marked for {DONE.label})"),
        ("late", "overdue", f"overdue (due {format_date(RECORDED.start_date)})"),
        ("nothing-yet", "open", f"open (due {format_date(FAR)})"),
    ],
)
def test_each_status_of_an_action_in_the_packet(follow_through, action_id, status, status_words):
    pair, _ = follow_through.expected[action_id]
    data, md, page = follow_through.packet(pair)
    (action,) = [a for a in data["actions"] if a["action_id"] == action_id]
    assert action["status"] == status
    assert action["recorded_week"] == RECORDED.label
    assert action["crm"] == [] and action["opportunity_id"] is None
    assert status_words in _action_item_md(md, action_id)
    row = _action_row_html(page, action_id)
    assert f'<span class="tag{" bad" if status == "overdue" else ""}">{status}</span>' in row
    if action_id == "nothing-yet":
        # The pair's text is escaped in both forms; a private action is marked so.
        assert "Book the QBR &lt;b&gt;now&lt;/b&gt;." in row and "private" in row
        assert "Book the QBR <b>now</b>." not in page
        assert escape_markdown("Book the QBR <b>now</b>.") in _action_item_md(md, action_id)
    assert "Agreed actions: " in md.split("## 1. Context")[0]  # the agenda counts them


def test_open_and_overdue_actions_are_counted_in_the_agenda(follow_through):
    pair, _ = follow_through.expected["late"]
    data, md, _ = follow_through.packet(pair)
    counts = {s: sum(1 for a in data["actions"] if a["status"] == s) for s in ("open", "overdue")}
    (context,) = [s for s in data["agenda"]["sections"] if s["key"] == "context"]
    done = sum(1 for a in data["actions"] if a["status"] == "done")
    line = (
        f"Agreed actions: {counts['open']} open, {counts['overdue']} overdue, {done} done since "
        "the last 1:1."
    )
    assert line in context["items"]
    assert escape_markdown(line) in md


@pytest.mark.parametrize("signal", ["closed", "stage", "close_date", "activity"])
def test_each_crm_signal_of_a_deal_linked_action_in_the_packet(follow_through, signal):
    action_id = f"crm-{signal.replace('_', '-')}"
    pair, _ = follow_through.expected[action_id]
    row = follow_through.actions[(pair, action_id)]
    if signal == "closed":
        want = f"Deal closed {row['deal_closed_since']} since the 1:1."
        assert row["deal_closed_since"] in ("won", "lost")
    elif signal == "stage":
        want = f"Stage changed: {row['stage_at_1on1']} → {row['stage_now']}."
        assert row["is_stage_changed"]
    elif signal == "close_date":
        want = (
            f"Close date changed: {format_date(row['close_date_at_1on1'])} → "
            f"{format_date(row['close_date_now'])}."
        )
        assert row["is_close_date_changed"]
    else:
        n = row["deal_activities_since"]
        assert n >= 1
        want = (
            f"{n} activit{'y' if n == 1 else 'ies'} logged on the deal since the 1:1 (last "
            f"{format_date(row['last_deal_activity_date'])})."
        )
    data, md, page = follow_through.packet(pair)
    (action,) = [a for a in data["actions"] if a["action_id"] == action_id]
    assert action["status"] == "open" and action["opportunity_id"] == row["opportunity_id"]
    assert want in action["crm"]
    assert f"  - {escape_markdown(want)}" in _action_item_md(md, action_id)
    assert f"<li>{escape(want)}</li>" in _action_row_html(page, action_id)


def test_actions_stay_in_their_pairs_packets(follow_through):
    for pair, files in follow_through.packets.items():
        data = json.loads(files["json"])
        own = {a for a, (p, _) in follow_through.expected.items() if p == pair}
        assert {a["action_id"] for a in data["actions"]} == own, pair
        for action_id in set(follow_through.expected) - own:
            assert f"<code>{action_id}</code>" not in files["html"], (pair, action_id)


def test_a_bad_entry_is_one_message_in_the_appendix_and_never_fails_the_run(follow_through):
    pair, _ = follow_through.expected["late"]
    data, md, page = follow_through.packet(pair)
    (bad,) = data["data_quality"]["rejected_learnings"]
    number = follow_through.bad_entry
    assert (bad["entry_number"], bad["problem_key"], bad["week"]) == (
        number,
        "owner",
        RECORDED.label,
    )
    assert bad["message"].startswith(
        f"Learnings entry rejected, {bad['source_path']} entry {number} (owner): "
    )
    assert "boss" in bad["message"] and "fix: " in bad["message"]
    assert bad["message"] in data["data_quality"]["notes"]
    appendix_md = md.split("## Appendix: data quality", 1)[1]
    assert f"- {escape_markdown(bad['message'])}" in appendix_md
    appendix = page.split('<section id="data-quality"', 1)[1]
    assert f"<li>{escape(bad['message'])}</li>" in appendix
    assert "bad" not in {a["action_id"] for a in data["actions"]}


# --- Since our last 1:1, over every week of the demo warehouse ---------------------------------

LABELS = {
    "won": "Won",
    "lost": "Lost",
    "advanced": "Advanced",
    "still_stuck": "Still stuck",
    "unstuck": "Moving again",
    "newly_stuck": "Newly stuck",
}


@pytest.fixture(scope="module")
def stuck_cases(follow_through) -> dict[str, tuple[dict, dict, str, str]]:
    """For each outcome (and close it or kill it, and a streak of 2+ weeks still stuck), the
    latest deal-week of the warehouse showing it, with its pair's packet of that week rendered:
    the mart row, the .json, the .md and the .html."""
    settings = follow_through.settings
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        rows = _rows(
            con,
            "select * from rpt_stuck_deal_followups_weekly order by week desc, opportunity_id",
        )
        first_week = con.execute(
            "select min(week) from intermediate.int_weeks_enumerated"
        ).fetchone()[0]
        cases: dict[str, dict] = {}
        for row in rows:
            keys = [row["outcome"]]
            if row["is_close_it_or_kill_it"]:
                keys.append("close_it_or_kill_it")
            if row["outcome"] == "still_stuck" and row["stuck_weeks"] >= 2:
                keys.append("streak")
            for key in keys:
                cases.setdefault(key, row)
        rendered: dict[tuple[str, str], tuple[dict, str, str]] = {}
        for week in sorted({r["week"] for r in cases.values()} | {first_week}):
            for ctx in build_contexts(con, Week.parse(week), settings):
                packet = render_packet(ctx)
                rendered[(week, ctx.pair_id)] = (ctx.to_dict(), packet.markdown, packet.html)
    out = {key: (row, *rendered[(row["week"], row["pair_id"])]) for key, row in cases.items()}
    out["first_week"] = (
        {"week": first_week},
        *next(v for (w, _), v in rendered.items() if w == first_week),
    )
    return out


@pytest.mark.parametrize(
    "outcome", ["won", "lost", "advanced", "still_stuck", "unstuck", "newly_stuck"]
)
def test_each_outcome_of_a_stuck_deal_in_the_packet(stuck_cases, outcome):
    assert outcome in stuck_cases, f"no deal of the demo warehouse is {outcome} in any week"
    row, data, md, page = stuck_cases[outcome]
    since = data["since_last_1on1"]
    group = since["newly_stuck"] if outcome == "newly_stuck" else since["last_week"]
    (deal,) = [f for f in group if f["opportunity_id"] == row["opportunity_id"]]
    assert (deal["outcome"], deal["stuck_weeks"]) == (outcome, row["stuck_weeks"])
    assert deal["previous_stuck_reasons"] == [
        r for r in row["previous_stuck_reasons"].split(",") if r
    ]
    name = row["opportunity_name"] or row["opportunity_id"]
    section_md = md.split("### Since our last 1:1", 1)[1].split("### Agreed actions", 1)[0]
    section = page.split('<div id="since-last-1on1">', 1)[1].split('<div id="actions">', 1)[0]
    md_row = next(
        line for line in section_md.splitlines() if line.startswith(f"| {escape_markdown(name)} |")
    )
    html_row = section.split(f"<bdi>{escape(name)}</bdi>", 1)[1].split("</tr>", 1)[0]
    assert deal["summary"] in html.unescape(html_row)
    assert escape_markdown(deal["summary"]) in md_row
    if outcome == "newly_stuck":
        assert "Newly stuck this week" in deal["summary"]
    else:
        assert f"| {LABELS[outcome]}" in md_row and f">{LABELS[outcome]}</span>" in html_row
        weeks = row["stuck_weeks"]
        assert (f"{weeks} weeks in a row" if weeks > 1 else "1 week") in deal["summary"]


def test_still_stuck_shows_its_weeks_in_a_row(stuck_cases):
    row, data, md, page = stuck_cases["streak"]
    (deal,) = [
        f
        for f in data["since_last_1on1"]["last_week"]
        if f["opportunity_id"] == row["opportunity_id"]
    ]
    assert deal["summary"] == (
        f"Still stuck: {row['stuck_weeks']} weeks in a row, since {row['stuck_since_week']}."
    )
    (stuck,) = [d for d in data["deals"] if d["opportunity_id"] == row["opportunity_id"]]
    assert stuck["stuck_weeks"] == row["stuck_weeks"]
    assert f"Stuck {row['stuck_weeks']} weeks in a row · Stage" in md
    assert f"Stuck {row['stuck_weeks']} weeks in a row · Stage <bdi>" in page


def test_close_it_or_kill_it_opens_coaching(stuck_cases):
    row, data, md, page = stuck_cases["close_it_or_kill_it"]
    flagged = [c for c in data["coaching"] if c["close_it_or_kill_it"]]
    assert data["coaching"][: len(flagged)] == flagged  # at the top
    (item,) = [c for c in flagged if c["opportunity_id"] == row["opportunity_id"]]
    assert item["prompts"][0].startswith(
        f"Stuck {row['stuck_weeks']} weeks in a row. Close it or kill it:"
    )
    name = row["opportunity_name"] or row["opportunity_id"]
    coaching_md = md.split("## 3. Coaching", 1)[1]
    assert coaching_md.lstrip().startswith("### Close it or kill it")
    assert f"- **{escape_markdown(name)}**" in coaching_md.split("### Large stuck deals", 1)[0]
    coaching = page.split('<section id="coaching">', 1)[1]
    assert coaching.index("<h3>Close it or kill it</h3>") < coaching.index(escape(name))
    # The agenda's Context item names it.
    (context,) = [s for s in data["agenda"]["sections"] if s["key"] == "context"]
    kill = next(i for i in context["items"] if i.startswith("Stuck deals: close it or kill it"))
    assert name in kill


def test_the_first_packet_of_a_pair_says_there_is_nothing_to_follow_up(stuck_cases):
    _, data, md, page = stuck_cases["first_week"]
    since = data["since_last_1on1"]
    assert since["first_week"] is True and since["last_week"] == []
    assert since["summary"].startswith("First packet for this pair: there is no earlier week")
    assert since["summary"] in md and escape(since["summary"]) in page
