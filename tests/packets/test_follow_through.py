"""From one 1:1 to the next on the hand-written marts: "Since our last 1:1", agreed actions and
what the CRM shows since, close it or kill it from the mart's flag, rejected learnings entries;
and the wording functions behind them."""

from __future__ import annotations

from datetime import date

import pytest

from salesprep.packets import discussion
from salesprep.packets.context import _action
from salesprep.packets.marts import MartError
from salesprep.packets.model import AgreedAction, StuckFollowup

from .marts_fixture import ACTIONS, HOSTILE, PAIRS, R1, R2, R4, WEEK


def _followup(outcome: str, **kw) -> StuckFollowup:
    base = dict(
        opportunity_id="006000000000X01AAA",
        name="Deal",
        account_name=None,
        amount=1000,
        close_date=None,
        stage_start="Proposal",
        stage_end="Negotiation",
        movement="unchanged",
        outcome=outcome,
        is_stuck=outcome in ("still_stuck", "newly_stuck"),
        stuck_reasons=[],
        previous_stuck_reasons=[],
        stuck_weeks=3,
        stuck_since_week="2026-W08",
        close_it_or_kill_it=False,
        summary="",
    )
    return StuckFollowup(**(base | kw))


@pytest.mark.parametrize(
    ("outcome", "kw", "words"),
    [
        ("won", {}, "Closed won since the last 1:1, after being stuck 3 weeks in a row."),
        ("lost", {"stuck_weeks": 1}, "Closed lost since the last 1:1, after being stuck 1 week."),
        (
            "advanced",
            {},
            "Advanced a stage (Proposal → Negotiation); no longer stuck, after being stuck 3 "
            "weeks in a row.",
        ),
        (
            "advanced",
            {"is_stuck": True, "stuck_weeks": 4},
            "Advanced a stage (Proposal → Negotiation) but still stuck: 4 weeks in a row.",
        ),
        ("still_stuck", {}, "Still stuck: 3 weeks in a row, since 2026-W08."),
        (
            "unstuck",
            {"stuck_weeks": 2},
            "Moving again without a stage change; no longer stuck, after being stuck 2 weeks "
            "in a row.",
        ),
        (
            "newly_stuck",
            {"stuck_reasons": ["no_activity", "close_date_pushed"]},
            "Newly stuck this week: no recent activity, close date pushed.",
        ),
    ],
)
def test_followup_summary_words_each_outcome(outcome, kw, words):
    assert discussion.followup_summary(_followup(outcome, **kw)) == words


def test_since_summary_counts_outcomes_and_says_so_for_a_first_packet():
    last = [
        _followup("won"),
        _followup("still_stuck", close_it_or_kill_it=True),
        _followup("still_stuck"),
        _followup("unstuck"),
    ]
    new = [_followup("newly_stuck")]
    assert discussion.since_summary(last, new, first_week=False) == (
        "Of the 4 deal(s) stuck at the last 1:1: 1 won, 1 moving again, 2 still stuck "
        "(1 to close or kill). 1 deal(s) newly stuck this week."
    )
    assert discussion.since_summary([], [], first_week=False) == (
        "No deal was stuck at the last 1:1. No deal newly stuck this week."
    )
    assert discussion.since_summary([], new, first_week=True) == (
        "First packet for this pair: there is no earlier week to follow up, so every stuck "
        "deal is new. 1 deal(s) newly stuck this week."
    )


def _agreed(**kw) -> AgreedAction:
    base = dict(
        action_id="a",
        owner="rep",
        due_date=date(2026, 3, 20),
        text="t",
        status="open",
        recorded_week="2026-W09",
        done_week=None,
        shareable=False,
        opportunity_id=None,
        opportunity_name=None,
        is_opportunity_found=False,
        deal_activities_since=None,
        last_deal_activity_date=None,
        stage_at_1on1=None,
        stage_now=None,
        is_stage_changed=False,
        close_date_at_1on1=None,
        close_date_now=None,
        is_close_date_changed=False,
        deal_closed_since=None,
    )
    return AgreedAction(**(base | kw))


def test_action_crm_words_each_signal():
    assert discussion.action_crm(_agreed()) == []
    deal = dict(opportunity_id="006000000000X01AAA", is_opportunity_found=True)
    assert discussion.action_crm(_agreed(**deal, deal_activities_since=0)) == [
        "No activity logged on the deal since the 1:1."
    ]
    everything = _agreed(
        **deal,
        deal_closed_since="lost",
        is_stage_changed=True,
        stage_at_1on1="Proposal",
        stage_now="Closed Lost",
        is_close_date_changed=True,
        close_date_at_1on1=date(2026, 3, 20),
        close_date_now=date(2026, 3, 4),
        deal_activities_since=1,
        last_deal_activity_date=date(2026, 3, 3),
    )
    assert discussion.action_crm(everything) == [
        "Deal closed lost since the 1:1.",
        "Stage changed: Proposal → Closed Lost.",
        "Close date changed: Fri 20 Mar 2026 → Wed 4 Mar 2026.",
        "1 activity logged on the deal since the 1:1 (last Tue 3 Mar 2026).",
    ]
    missing = _agreed(opportunity_id="006000000000X09AAA")
    assert discussion.action_crm(missing) == [
        "The CRM has no deal 006000000000X09AAA up to this week: check the opportunity_id in "
        "the learnings file."
    ]


def test_action_status_words_and_counts():
    assert _agreed().status_text == "open (due Fri 20 Mar 2026)"
    assert _agreed(status="overdue").status_text == "overdue (due Fri 20 Mar 2026)"
    assert _agreed(status="done", done_week="2026-W09").status_text == "done (marked for 2026-W09)"
    actions = [_agreed(), _agreed(status="overdue"), _agreed(status="overdue")]
    assert discussion.actions_summary(actions) == (
        "Agreed actions: 1 open, 2 overdue, 0 done since the last 1:1."
    )
    assert discussion.actions_summary([]) == "Agreed actions: none open from earlier 1:1s."


def test_rejected_message_and_close_or_kill_words():
    assert discussion.rejected_message("f.md", 3, "owner", "bad", "fix it") == (
        "Learnings entry rejected, f.md entry 3 (owner): bad; fix: fix it"
    )
    assert discussion.rejected_message("f.md", None, None, "unreadable", "save as UTF-8") == (
        "Learnings entry rejected, f.md: unreadable; fix: save as UTF-8"
    )
    assert discussion.close_or_kill_suggestion(3).startswith(
        "Stuck 3 weeks in a row. Close it or kill it: agree one concrete next step"
    )


def test_since_last_1on1_of_a_pair(by_rep):
    since = by_rep[R1].since_last_1on1
    assert since.previous_week == WEEK.shift(-1).label and since.first_week is False
    assert [(f.name, f.outcome, f.stuck_weeks, f.close_it_or_kill_it) for f in since.last_week] == [
        ("Small deal", "still_stuck", 5, True),
        ("Globex expansion", "still_stuck", 4, True),
        ("Won deal", "won", 2, False),
        ("Jumped", "advanced", 1, False),
    ]
    assert [(f.name, f.stuck_reasons) for f in since.newly_stuck] == [
        ("Initech | pilot", ["no_activity"])
    ]
    # Another week's row is not read; a rep without follow-ups gets plain sentences.
    assert "Other week" not in {f.name for f in since.last_week + since.newly_stuck}
    assert by_rep[R4].since_last_1on1.summary == (
        "No deal was stuck at the last 1:1. No deal newly stuck this week."
    )


def test_actions_of_a_pair_in_due_date_order_with_the_crm_since(by_rep):
    actions = by_rep[R1].actions
    assert [(a.action_id, a.status) for a in actions] == [
        ("cfo-call", "overdue"),
        ("pilot-plan", "open"),
        ("security-pack", "done"),
    ]
    assert actions[0].crm == [
        "Close date changed: Fri 20 Mar 2026 → Tue 31 Mar 2026.",
        "2 activities logged on the deal since the 1:1 (last Thu 5 Mar 2026).",
    ]
    assert actions[1].crm == ["No activity logged on the deal since the 1:1."]
    assert actions[2].crm == [] and actions[2].shareable
    agenda = by_rep[R1].agenda.sections[0].items
    assert agenda[:2] == [
        "Since our last 1:1: " + by_rep[R1].since_last_1on1.summary,
        "Agreed actions: 1 open, 1 overdue, 1 done since the last 1:1.",
    ]
    assert "Stuck deals: close it or kill it for Globex expansion, Small deal." in agenda
    assert by_rep[R4].actions == []


def test_an_action_of_another_pair_is_refused():
    row = next(r for r in ACTIONS if r["action_id"] == "hostile")
    with pytest.raises(MartError, match="followed up only in their own pair's packets"):
        _action(row, PAIRS[0])
    assert _action(row, PAIRS[1]).text == row["body"]


def test_rejected_entries_of_earlier_weeks_reach_the_appendix(by_rep):
    dq = by_rep[R1].data_quality
    (entry,) = dq.rejected_learnings
    assert (entry.entry_number, entry.problem_key) == (3, "owner")
    assert entry.message in dq.notes
    assert not any(
        "NOT-SHOWN" in note for ctx in by_rep.values() for note in ctx.data_quality.notes
    )


def test_hostile_text_in_the_new_sections_is_inert(rendered):
    packet = next(p for p in rendered if p.rep_id == R2)
    since = packet.html.split('<div id="since-last-1on1">', 1)[1].split('<div id="actions">')[0]
    actions = packet.html.split('<div id="actions">', 1)[1].split("</div>\n<h3>Key metrics")[0]
    for part in (since, actions):
        assert "<script>" not in part and "<b>bold</b>" not in part
    assert "&lt;script&gt;" in since and "&lt;b&gt;bold&lt;/b&gt;" in actions
    md_since = packet.markdown.split("### Since our last 1:1", 1)[1].split("### Key metrics")[0]
    assert HOSTILE not in md_since
    assert all(line.count("|") >= 5 for line in md_since.splitlines() if line.startswith("|"))


def test_json_carries_the_new_keys(by_rep):
    data = by_rep[R1].to_dict()
    assert data["schema_version"] == "1.2"
    assert data["since_last_1on1"]["last_week"][0]["outcome"] == "still_stuck"
    assert {a["action_id"] for a in data["actions"]} == {"cfo-call", "pilot-plan", "security-pack"}
    assert data["data_quality"]["rejected_learnings"][0]["problem_key"] == "owner"
    globex = next(d for d in data["deals"] if d["name"] == "Globex expansion")
    assert (globex["stuck_weeks"], globex["close_it_or_kill_it"]) == (4, True)
    assert [c["close_it_or_kill_it"] for c in data["coaching"]] == [True, True, False]
    assert by_rep[R4].to_dict()["since_last_1on1"]["last_week"] == []
