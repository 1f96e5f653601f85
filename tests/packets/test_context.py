"""Packet contexts from the marts: the METRICS.md keys, numbers equal to the mart rows, and the
guide's sections (questions, stuck evidence, themes, coaching, agenda) derived as documented."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from salesprep.config import Settings
from salesprep.packets.context import MAX_LESSONS, build_contexts, contexts_from_marts
from salesprep.packets.marts import MartError, read_week_marts
from salesprep.packets.model import METRIC_NAMES, Lesson

from .marts_fixture import M1, M2, R1, R2, R3, R4, WEEK, write_warehouse

QUOTA_KEYS = {
    "won_to_date",
    "amount",
    "attainment",
    "elapsed",
    "pacing",
    "open_pipeline",
    "coverage",
}
DEAL_KEYS = {
    "opportunity_id",
    "name",
    "amount",
    "stage_start",
    "stage_end",
    "movement",
    "days_in_stage",
    "is_stuck",
    "stuck_reasons",
    "close_date_pushes_90d",
}


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_one_context_per_pair_in_manager_then_rep_order(contexts):
    assert [(c.manager.id, c.rep.id) for c in contexts] == [
        (M1, R2),  # "<script>…" sorts before "Alex Rep"
        (M1, R1),
        (M1, R3),
        (M2, R4),
    ]


def test_json_has_every_metrics_md_key(contexts):
    for ctx in contexts:
        data = json.loads(ctx.to_json())
        for key in ("schema_version", "week", "week_start", "week_end"):
            assert key in data
        assert data["week"] == "2026-W10"
        assert data["week_start"] == "2026-03-02"
        assert data["week_end"] == "2026-03-09"
        assert {"id", "name"} <= set(data["manager"])
        assert {"id", "name"} <= set(data["rep"])
        assert set(data["metrics"]) == set(METRIC_NAMES)
        for values in data["metrics"].values():
            assert {"this_week", "prior_week", "avg_4w", "team_median"} <= set(values)
        assert data["quota"] is None or set(data["quota"]) >= QUOTA_KEYS
        for deal in data["deals"]:
            assert set(deal) >= DEAL_KEYS
            assert isinstance(deal["stuck_reasons"], list)
        for mover in data["fast_movers"]:
            assert "opportunity_id" in mover
        assert isinstance(data["performance_conversation_recommended"], bool)
        assert 30 <= data["agenda"]["minutes"] <= 60


def test_metric_numbers_equal_the_mart_rows(contexts, con):
    for ctx in contexts:
        data = json.loads(ctx.to_json())
        rows = _rows(
            con,
            "select * from rpt_pair_metrics_weekly where pair_id = ? and week = ?",
            [ctx.pair_id, WEEK.label],
        )
        assert rows, ctx.pair_id
        for row in rows:
            got = data["metrics"][row["metric"]]
            for key in ("this_week", "prior_week", "avg_4w", "team_median"):
                assert got[key] == row[key], (ctx.rep.id, row["metric"], key)


def test_quota_and_deal_numbers_equal_the_mart_rows(by_rep, con):
    data = json.loads(by_rep[R1].to_json())
    (row,) = _rows(
        con, "select * from fct_rep_quota_weekly where rep_id = ? and week = ?", [R1, WEEK.label]
    )
    assert data["quota"]["amount"] == row["quota_amount"]
    for key in ("won_to_date", "attainment", "elapsed", "pacing", "open_pipeline", "coverage"):
        assert data["quota"][key] == row[key], key
    deals = _rows(
        con,
        "select * from fct_deal_movement_weekly where rep_id = ? and week = ?",
        [R1, WEEK.label],
    )
    by_id = {d["opportunity_id"]: d for d in data["deals"]}
    assert set(by_id) == {d["opportunity_id"] for d in deals}
    for row in deals:
        got = by_id[row["opportunity_id"]]
        assert got["name"] == row["opportunity_name"]
        assert got["amount"] == row["amount"]
        assert got["movement"] == row["movement"]
        assert got["days_in_stage"] == row["days_in_stage"]
        assert got["close_date_pushes_90d"] == row["close_date_pushes_90d"]
        assert got["is_stuck"] == row["is_stuck"]
        assert ",".join(got["stuck_reasons"]) == row["stuck_reasons"]


def test_deals_sorted_by_amount_and_stuck_evidence_shown(by_rep):
    ctx = by_rep[R1]
    amounts = [d.amount for d in ctx.deals if d.amount is not None]
    assert amounts == sorted(amounts, reverse=True)
    assert ctx.deals[-1].amount is None  # null amounts last
    globex, initech, small = ctx.stuck_deals
    assert [e.code for e in globex.evidence] == ["stage_aging", "close_date_pushed"]
    aging, pushed = globex.evidence
    assert (aging.threshold, aging.actual) == (21, 45)
    assert (pushed.threshold, pushed.actual) == (2, 3)
    (quiet,) = initech.evidence
    assert (quiet.code, quiet.threshold, quiet.actual) == ("no_activity", 14, 20)
    # The mart flags the deals stuck 3+ weeks running "close it or kill it"; only those.
    assert globex.suggestion == (
        "Stuck 4 weeks in a row. Close it or kill it: agree one concrete next step with the "
        "buyer this week, with a date, or mark the deal Closed Lost so the time goes to deals "
        "that move."
    )
    assert (globex.stuck_weeks, globex.close_it_or_kill_it) == (4, True)
    assert small.suggestion.startswith("Stuck 5 weeks in a row. Close it or kill it")
    assert initech.suggestion is None and not initech.close_it_or_kill_it
    assert initech.stuck_weeks == 1


def test_why_questions_only_for_metrics_that_moved_30_percent_and_3_units(by_rep):
    assert [q.metric for q in by_rep[R1].questions] == [
        "calls",
        "pipeline_created",
        "closed_won_amount",
    ]
    calls = by_rep[R1].questions[0].text
    assert "8" in calls and "20" in calls and "−60%" in calls
    # closed_won_count went 0.25 → 1 (+300%) but by less than 3: no question.
    assert "closed_won_count" not in [q.metric for q in by_rep[R1].questions]
    assert by_rep[R4].questions == []


def test_coaching_opens_with_close_it_or_kill_it_then_large_stuck_deals(by_rep):
    # Close it or kill it first, longest stuck first (Small deal is not large); then the large
    # stuck deals (open amounts 5k, 30k, 45k, 80k, 120k: the 75th percentile is 80k).
    coaching = by_rep[R1].coaching
    assert [(c.name, c.close_it_or_kill_it) for c in coaching] == [
        ("Small deal", True),
        ("Globex expansion", True),
        ("Initech | pilot", False),
    ]
    small, globex, initech = coaching
    assert small.prompts[0].startswith("Stuck 5 weeks in a row. Close it or kill it:")
    assert len(small.prompts) == 2  # close it or kill it, stage aging; not large
    assert len(globex.prompts) == 4  # close it or kill it, stage aging, close pushes, size
    assert any("Re-qualify" in p for p in globex.prompts)
    assert len(initech.prompts) == 2  # no activity, deal size
    assert by_rep[R2].coaching[0].close_it_or_kill_it is False


def test_field_feedback_themes_from_recent_losses(by_rep):
    themes = {t.theme: t for t in by_rep[R1].feedback_themes}
    assert set(themes) == {"implementation", "competitor", "price"}  # W04's loss is too old
    impl = themes["implementation"]
    assert (len(impl.deals), impl.amount) == (2, 60000)
    assert impl.escalate and impl.escalate_to == "the head of services"
    assert not themes["price"].escalate
    assert by_rep[R1].feedback_themes[0].theme == "implementation"


def test_open_deals_next_steps_count_toward_their_themes(by_rep):
    themes = {t.theme: t for t in by_rep[R1].feedback_themes}
    impl, price = themes["implementation"], themes["price"]
    assert [(n.name, n.next_step) for n in impl.next_steps] == [
        ("New opp", "Walk Dana through the implementation plan")
    ]
    assert impl.count == 3 and [d.opportunity_id for d in impl.deals] == [
        "006000000000L01AAA",
        "006000000000L02AAA",
    ]
    # The lost deal's own next step ("Pricing review") is no open concern: one mention only.
    assert [n.opportunity_id for n in price.next_steps] == ["006000000000D07AAA"]
    assert (price.count, len(price.deals), price.amount) == (2, 1, 15000)
    # One lost deal plus one mention stays below the escalation rule (lost deals only).
    assert not price.escalate
    assert themes["competitor"].next_steps == []
    # "Send the signed order form" matches no theme and makes no "other" entry.
    assert all(n.opportunity_id != "006000000000D01AAA" for t in themes.values()
               for n in t.next_steps)  # fmt: skip
    communication = next(s for s in by_rep[R1].agenda.sections if s.key == "communication")
    line = next(i for i in communication.items if "Implementation" in i)
    assert line == (
        "Field feedback: Implementation timeline × 2 lost ($60,000), 1 open deal's next step "
        "mentions it, take it to the head of services"
    )


def test_a_theme_with_only_next_step_mentions_is_listed(by_rep):
    themes = {t.theme: t for t in by_rep[R2].feedback_themes}
    impl = themes["implementation"]
    assert impl.deals == [] and impl.amount == 0 and impl.count == 1
    assert not impl.escalate
    assert impl.next_steps[0].opportunity_id == "006000000000H01AAA"


def test_fast_movers_are_the_reps_own(by_rep):
    movers = by_rep[R1].fast_movers
    assert [(m.opportunity_id, m.reason) for m in movers] == [
        ("006000000000D04AAA", "fast_cycle"),
        ("006000000000D07AAA", "stage_jump"),
    ]
    assert movers[0].name == "Won deal" and "20 days" in movers[0].prompt
    assert "Qualification → Negotiation" in movers[1].prompt
    assert by_rep[R2].fast_movers == []


def test_quota_null_is_none_not_zero(by_rep):
    ctx = by_rep[R3]
    assert ctx.quota is None
    assert json.loads(ctx.to_json())["quota"] is None
    assert "Quota: no quota set for this quarter." in ctx.manager_prep[0].details
    assert not ctx.performance_conversation_recommended


def test_underperformance_switches_the_agenda(by_rep):
    flagged, steady = by_rep[R2], by_rep[R1]
    assert flagged.performance_conversation_recommended
    assert flagged.agenda.kind == "performance"
    assert "3 of the last 4 weeks" in flagged.agenda.reason
    assert [w.week for w in flagged.agenda.pacing_history] == [
        "2026-W07",
        "2026-W08",
        "2026-W09",
        "2026-W10",
    ]
    assert flagged.agenda.minutes >= 45
    assert steady.agenda.kind == "standard"
    assert steady.agenda.reason is None
    assert [s.key for s in steady.agenda.sections] == [
        "context",
        "communication",
        "coaching",
        "next_steps",
    ]


def test_agenda_minutes_follow_how_much_there_is_to_discuss(contexts, by_rep):
    for ctx in contexts:
        assert 30 <= ctx.agenda.minutes <= 60
        assert ctx.agenda.minutes % 5 == 0
        assert sum(s.minutes for s in ctx.agenda.sections) == ctx.agenda.minutes
    assert by_rep[R1].agenda.minutes == 60  # lots to discuss, capped
    assert by_rep[R4].agenda.minutes == 30  # nothing to discuss, the floor


def test_cadence_is_weekly_with_volume_notes(by_rep):
    assert all(c.cadence.recommendation == "weekly" for c in by_rep.values())
    assert by_rep[R1].cadence.volume == "normal"
    assert by_rep[R4].cadence.volume == "low"
    assert "very low" in by_rep[R4].cadence.note


def test_initiatives_per_team_and_per_rep(by_rep):
    titles = {rep: [i.title for i in ctx.initiatives] for rep, ctx in by_rep.items()}
    assert titles[R1] == ["Prepare for the healthcare vertical", "Pilot the new discovery script"]
    assert titles[R3] == ["Prepare for the healthcare vertical"]
    assert titles[R4] == ["Prepare for the healthcare vertical", "Team 2 only"]
    assert by_rep[R1].initiatives[0].due == "2026-06-30"
    # Shown in both preps.
    assert "Prepare for the healthcare vertical (in progress)" in by_rep[R1].manager_prep[2].details
    assert "Prepare for the healthcare vertical (in progress)" in by_rep[R1].rep_prep[1].details


def test_no_initiatives_file_gives_a_note(con, settings):
    bare = settings.model_copy(update={"initiatives_file": None})
    ctx = build_contexts(con, WEEK, bare)[0]
    assert ctx.initiatives == []
    assert "SALESPREP_INITIATIVES_FILE" in ctx.initiatives_note


def test_lessons_come_from_the_learnings_mart_most_relevant_first(by_rep):
    r1 = by_rep[R1].lessons
    assert [lesson.learning_id for lesson in r1] == ["L1", "L2", "L3"]
    shared, own, feedback = r1
    assert not shared.own and shared.shareable
    assert shared.source == "Quiet Rep with Ølaf Ñúñez" and shared.week == "2026-W09"
    assert shared.why == "same stage as 1 open deal(s) (Negotiation/Review)"
    # The pair's own private note: flagged, and "recorded in this pair's own 1:1" is not
    # repeated as a reason since the source says so.
    assert own.own and not own.shareable and own.source == "your own 1:1, private"
    assert own.why is None
    assert feedback.kind == "feedback" and feedback.theme == "price"
    prep = by_rep[R1].manager_prep[1].details
    assert prep[0].startswith("Share the lesson on implementation timeline from Quiet Rep")
    assert prep[1].startswith("Follow up on your own lesson on follow up (2026-W09)")
    coaching = next(s for s in by_rep[R1].agenda.sections if s.key == "coaching").items
    assert "Share 2 lesson(s) from other 1:1s." in coaching
    assert "Follow up on 1 note(s) from your own earlier 1:1s." in coaching


def test_private_learnings_stay_in_their_pair(by_rep):
    owners = {
        rep: {lesson.learning_id for lesson in ctx.lessons if not lesson.shareable}
        for rep, ctx in by_rep.items()
    }
    assert owners == {R1: {"L2"}, R2: set(), R3: {"L4"}, R4: set()}


def test_a_private_learning_offered_to_another_pair_is_an_error(con, settings):
    marts = read_week_marts(con, WEEK, 4)
    leaked = dict(marts.lessons["P3"][0], pair_id="P1", manager_id=M1, rep_id=R1)
    marts.lessons["P1"] = [*marts.lessons["P1"], leaked]
    with pytest.raises(MartError, match=r"private learning L4 .* to pair P1"):
        contexts_from_marts(marts, settings)


def test_extra_lessons_are_scoped_and_none_recorded_yet_without_any(con, settings):
    marts = read_week_marts(con, WEEK, 4)
    marts.lessons = {}
    lessons = [
        Lesson(text="Bring the services lead to the second call", source="Dana / Alex"),
        Lesson(text="Team 2 only lesson", manager_id=M2),
    ]
    plain = {c.rep.id: c for c in contexts_from_marts(marts, settings)}
    assert plain[R1].lessons == []
    assert any("None recorded yet" in d for d in plain[R1].manager_prep[1].details)
    got = {c.rep.id: c for c in contexts_from_marts(marts, settings, lessons)}
    assert [lesson.text for lesson in got[R1].lessons] == [
        "Bring the services lead to the second call"
    ]
    assert len(got[R4].lessons) == 2


def test_lessons_beyond_the_cap_are_counted(con, settings):
    marts = read_week_marts(con, WEEK, 4)
    row = marts.lessons["P4"][0]
    marts.lessons["P4"] = [dict(row, learning_id=f"X{i}") for i in range(MAX_LESSONS + 3)]
    ctx = {c.rep.id: c for c in contexts_from_marts(marts, settings)}[R4]
    assert len(ctx.lessons) == MAX_LESSONS and ctx.lessons_not_shown == 3


def test_each_packet_says_where_to_record_its_learnings(contexts):
    paths = {ctx.rep.id: ctx.learnings_file for ctx in contexts}
    assert paths[R1] == "learnings/2026-W10/dana-manager-00m01aaa/alex-rep-00r01aac.md"
    assert paths[R4] == "learnings/2026-W10/olaf-nunez-00m02aab/quiet-rep-00r04aaf.md"
    assert len(set(paths.values())) == len(paths)  # two Alex Reps get two files


def test_data_quality_appendix(by_rep):
    dq = by_rep[R1].data_quality
    assert dq.pipeline_created_null_amounts == 1
    assert dq.deals_without_amount == 1
    assert any("no Amount" in n for n in dq.notes)
    missing = by_rep[R3]
    assert missing.data_quality.missing_metrics == ["closed_lost_count"]
    line = missing.metric("closed_lost_count")
    assert (line.this_week, line.avg_4w) == (None, None)


def test_trend_covers_13_weeks_from_the_activity_mart(by_rep, con):
    ctx = by_rep[R1]
    assert len(ctx.trend_weeks) == 13 and ctx.trend_weeks[-1] == WEEK.label
    calls = ctx.metric("calls").trend
    assert calls[:3] == [None, None, None]  # the fixture has 10 weeks of data
    rows = _rows(
        con,
        "select week, calls from fct_rep_activity_weekly where rep_id = ? order by week",
        [R1],
    )
    assert calls[3:] == [r["calls"] for r in rows]


def test_json_is_deterministic(con, settings, contexts):
    again = build_contexts(con, WEEK, settings)
    assert [c.to_json() for c in again] == [c.to_json() for c in contexts]


def test_missing_mart_is_named(tmp_path: Path, settings):
    path = write_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as rw:
        rw.execute("drop table fct_fast_movers_weekly")
    with duckdb.connect(str(path), read_only=True) as ro, pytest.raises(MartError) as err:
        build_contexts(ro, WEEK, settings)
    assert "fct_fast_movers_weekly" in str(err.value)


def test_missing_column_is_named(tmp_path: Path, settings):
    path = write_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as rw:
        rw.execute("alter table fct_rep_quota_weekly drop column coverage")
    with duckdb.connect(str(path), read_only=True) as ro, pytest.raises(MartError) as err:
        build_contexts(ro, WEEK, settings)
    assert "fct_rep_quota_weekly" in str(err.value) and "coverage" in str(err.value)


def test_marts_in_a_dbt_schema_are_found(tmp_path: Path, settings):
    """dbt-duckdb may build marts into a schema such as main_marts."""
    path = write_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(path)) as rw:
        rw.execute("create schema main_marts")
        for (table,) in rw.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall():
            rw.execute(f"create table main_marts.{table} as select * from main.{table}")
            rw.execute(f"drop table main.{table}")
    with duckdb.connect(str(path), read_only=True) as ro:
        assert len(build_contexts(ro, WEEK, settings)) == 4


def test_initiatives_file_errors_name_the_file(tmp_path: Path, con, settings):
    bad = tmp_path / "initiatives.yml"
    bad.write_text("initiatives:\n  - status: planned\n", encoding="utf-8")
    from salesprep.packets.initiatives import InitiativesError

    with pytest.raises(InitiativesError) as err:
        build_contexts(con, WEEK, settings.model_copy(update={"initiatives_file": bad}))
    assert str(bad) in str(err.value) and "title" in str(err.value)


def test_settings_type(settings):
    assert isinstance(settings, Settings)
