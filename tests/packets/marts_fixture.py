"""A tiny warehouse with the packet marts of docs/data-contracts.md, hand-written rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from salesprep.weeks import Week

WEEK = Week.parse("2026-W10")

M1 = "005000000000M01AAA"
M2 = "005000000000M02AAB"
R1 = "005000000000R01AAC"  # steady rep with stuck deals, fast movers and lost deals
R2 = "005000000000R02AAD"  # hostile strings everywhere, underperforming
R3 = "005000000000R03AAE"  # same name as R1, no quota
R4 = "005000000000R04AAF"  # another team, quiet rep

HOSTILE = "<script>alert('x')</script> | ../../etc/passwd *bold* _it_ [link](x) `code` 🚀 שלום"
HOSTILE_MULTILINE = "line one\nline | two <b>bold</b> ](javascript:alert(1))"

COLUMNS: dict[str, list[tuple[str, str]]] = {
    "dim_sales_pairs": [
        ("pair_id", "varchar"),
        ("manager_id", "varchar"),
        ("manager_name", "varchar"),
        ("manager_email", "varchar"),
        ("rep_id", "varchar"),
        ("rep_name", "varchar"),
        ("rep_email", "varchar"),
        ("rep_title", "varchar"),
        ("rep_role_name", "varchar"),
    ],
    "rpt_pair_metrics_weekly": [
        ("pair_id", "varchar"),
        ("manager_id", "varchar"),
        ("rep_id", "varchar"),
        ("week", "varchar"),
        ("metric", "varchar"),
        ("this_week", "double"),
        ("prior_week", "double"),
        ("avg_4w", "double"),
        ("team_median", "double"),
        ("is_logged", "boolean"),
    ],
    "fct_rep_activity_weekly": [
        ("rep_id", "varchar"),
        ("week", "varchar"),
        ("week_start", "date"),
        ("week_end", "date"),
        ("calls", "bigint"),
        ("emails", "bigint"),
        ("meetings", "bigint"),
        ("opportunities_created", "bigint"),
        ("pipeline_created", "decimal(18,2)"),
        ("closed_won_count", "bigint"),
        ("closed_won_amount", "decimal(18,2)"),
        ("closed_lost_count", "bigint"),
        ("pipeline_created_null_amounts", "bigint"),
        ("is_calls_logged", "boolean"),
        ("is_emails_logged", "boolean"),
        ("is_meetings_logged", "boolean"),
    ],
    "fct_rep_quota_weekly": [
        ("rep_id", "varchar"),
        ("week", "varchar"),
        ("quarter_start", "date"),
        ("quarter_end", "date"),
        ("quarter_label", "varchar"),
        ("quota_amount", "double"),
        ("quota_rows_without_rate", "integer"),
        ("won_to_date", "double"),
        ("attainment", "double"),
        ("elapsed", "double"),
        ("pacing", "double"),
        ("open_pipeline", "double"),
        ("coverage", "double"),
        ("is_below_pacing", "boolean"),
        ("performance_conversation_recommended", "boolean"),
    ],
    "fct_deal_movement_weekly": [
        ("opportunity_id", "varchar"),
        ("week", "varchar"),
        ("week_start", "date"),
        ("week_end", "date"),
        ("rep_id", "varchar"),
        ("opportunity_name", "varchar"),
        ("account_id", "varchar"),
        ("account_name", "varchar"),
        ("industry", "varchar"),
        ("amount", "double"),
        ("amount_original", "double"),
        ("currency_original", "varchar"),
        ("close_date", "date"),
        ("forecast_category", "varchar"),
        ("record_type", "varchar"),
        ("created_at", "timestamp"),
        ("stage_start", "varchar"),
        ("stage_end", "varchar"),
        ("sort_order_start", "integer"),
        ("sort_order_end", "integer"),
        ("movement", "varchar"),
        ("is_open_end", "boolean"),
        ("days_in_stage", "integer"),
        ("stage_threshold_days", "double"),
        ("is_stage_aging", "boolean"),
        ("last_activity_date", "date"),
        ("days_since_last_activity", "integer"),
        ("is_no_activity", "boolean"),
        ("close_date_pushes_90d", "integer"),
        ("is_close_date_pushed", "boolean"),
        ("is_stuck", "boolean"),
        ("stuck_reasons", "varchar"),
        ("loss_reason", "varchar"),
        ("next_step", "varchar"),
        ("cycle_days", "integer"),
    ],
    "fct_fast_movers_weekly": [
        ("opportunity_id", "varchar"),
        ("week", "varchar"),
        ("rep_id", "varchar"),
        ("reason", "varchar"),
        ("cycle_days", "integer"),
        ("cycle_p25_days", "double"),
        ("stages_advanced", "integer"),
    ],
    "fct_large_deals_weekly": [
        ("opportunity_id", "varchar"),
        ("week", "varchar"),
        ("rep_id", "varchar"),
        ("amount", "double"),
        ("large_deal_threshold", "double"),
        ("open_deals_with_amount", "integer"),
    ],
    "rpt_rep_feedback_themes_weekly": [
        ("rep_id", "varchar"),
        ("week", "varchar"),
        ("theme_key", "varchar"),
        ("theme_label", "varchar"),
        ("escalate_to", "varchar"),
        ("lost_deals", "integer"),
        ("lost_amount", "double"),
        ("next_step_mentions", "integer"),
        ("mentions", "integer"),
        ("is_escalated", "boolean"),
        ("theme_rank", "integer"),
    ],
    "rpt_feedback_mentions_weekly": [
        ("week", "varchar"),
        ("theme_key", "varchar"),
        ("mention_kind", "varchar"),
        ("rep_id", "varchar"),
        ("source_id", "varchar"),
        ("opportunity_name", "varchar"),
        ("amount", "double"),
        ("stage_name", "varchar"),
        ("mention_week", "varchar"),
        ("mention_text", "varchar"),
        ("mention_rank", "integer"),
    ],
    "rpt_feedback_escalations_weekly": [
        ("week", "varchar"),
        ("theme_key", "varchar"),
        ("theme_label", "varchar"),
        ("escalate_to", "varchar"),
        ("lost_deals", "integer"),
        ("lost_amount", "double"),
        ("reps", "integer"),
        ("feedback_entries", "integer"),
        ("mentions", "integer"),
        ("is_escalated", "boolean"),
        ("escalation_rank", "integer"),
    ],
    "rpt_pair_learnings_weekly": [
        ("pair_id", "varchar"),
        ("manager_id", "varchar"),
        ("rep_id", "varchar"),
        ("week", "varchar"),
        ("learning_id", "varchar"),
        ("learning_week", "varchar"),
        ("kind", "varchar"),
        ("theme", "varchar"),
        ("body", "varchar"),
        ("is_shareable", "boolean"),
        ("is_own_pair", "boolean"),
        ("source_manager_id", "varchar"),
        ("source_rep_id", "varchar"),
        ("source_manager_name", "varchar"),
        ("source_rep_name", "varchar"),
        ("match_reasons", "varchar"),
        ("why", "varchar"),
        ("relevance_rank", "bigint"),
    ],
    "dim_reps": [
        ("user_id", "varchar"),
        ("user_name", "varchar"),
        ("manager_name", "varchar"),
    ],
    "dim_organization": [
        ("corporate_currency", "varchar"),
        ("default_locale", "varchar"),
    ],
    "fct_unconverted_amounts_weekly": [
        ("rep_id", "varchar"),
        ("week", "varchar"),
        ("amount_kind", "varchar"),
        ("source_object", "varchar"),
        ("record_id", "varchar"),
        ("record_name", "varchar"),
        ("currency_iso_code", "varchar"),
        ("amount_original", "double"),
        ("rate_date", "date"),
    ],
    "fct_learnings": [
        ("learning_id", "varchar"),
        ("week", "varchar"),
        ("pair_id", "varchar"),
        ("manager_id", "varchar"),
        ("manager_name", "varchar"),
        ("rep_id", "varchar"),
        ("rep_name", "varchar"),
        ("kind", "varchar"),
        ("theme", "varchar"),
        ("theme_key", "varchar"),
        ("theme_label", "varchar"),
        ("body", "varchar"),
        ("is_shareable", "boolean"),
        ("tags", "varchar"),
        ("stage_name", "varchar"),
        ("industry", "varchar"),
    ],
    "rpt_manager_team_weekly": [
        ("pair_id", "varchar"),
        ("manager_id", "varchar"),
        ("manager_name", "varchar"),
        ("rep_id", "varchar"),
        ("rep_name", "varchar"),
        ("week", "varchar"),
        ("attention_rank", "integer"),
        ("attention_reason", "varchar"),
        ("quota_amount", "double"),
        ("attainment", "double"),
        ("pacing", "double"),
        ("open_pipeline", "double"),
        ("coverage", "double"),
        ("weeks_below_pacing", "integer"),
        ("performance_conversation_recommended", "boolean"),
        ("stuck_deals", "integer"),
        ("stuck_amount", "double"),
        ("newly_stuck_deals", "integer"),
        ("close_it_or_kill_it_deals", "integer"),
        ("open_actions", "integer"),
        ("overdue_actions", "integer"),
        ("done_actions", "integer"),
    ],
    "rpt_manager_feedback_themes_weekly": [
        ("manager_id", "varchar"),
        ("week", "varchar"),
        ("theme_key", "varchar"),
        ("theme_label", "varchar"),
        ("escalate_to", "varchar"),
        ("reps", "integer"),
        ("lost_deals", "integer"),
        ("lost_amount", "double"),
        ("next_step_mentions", "integer"),
        ("mentions", "integer"),
        ("is_escalated", "boolean"),
        ("theme_rank", "integer"),
    ],
    "rpt_manager_team_trend_weekly": [
        ("manager_id", "varchar"),
        ("week", "varchar"),
        ("reps", "integer"),
        ("calls", "integer"),
        ("emails", "integer"),
        ("meetings", "integer"),
        ("pipeline_created", "double"),
        ("closed_won_amount", "double"),
        ("open_pipeline", "double"),
        ("stuck_deals", "integer"),
        ("stuck_amount", "double"),
    ],
    "rpt_stuck_deal_followups_weekly": [
        ("pair_id", "varchar"),
        ("rep_id", "varchar"),
        ("opportunity_id", "varchar"),
        ("week", "varchar"),
        ("opportunity_name", "varchar"),
        ("account_name", "varchar"),
        ("amount", "double"),
        ("close_date", "date"),
        ("stage_start", "varchar"),
        ("stage_end", "varchar"),
        ("movement", "varchar"),
        ("outcome", "varchar"),
        ("was_stuck_last_week", "boolean"),
        ("is_stuck", "boolean"),
        ("previous_stuck_reasons", "varchar"),
        ("stuck_reasons", "varchar"),
        ("stuck_weeks", "integer"),
        ("stuck_since_week", "varchar"),
        ("is_close_it_or_kill_it", "boolean"),
    ],
    "rpt_pair_actions_weekly": [
        ("pair_id", "varchar"),
        ("manager_id", "varchar"),
        ("rep_id", "varchar"),
        ("week", "varchar"),
        ("action_id", "varchar"),
        ("recorded_week", "varchar"),
        ("owner", "varchar"),
        ("due_date", "date"),
        ("body", "varchar"),
        ("is_shareable", "boolean"),
        ("status", "varchar"),
        ("done_week", "varchar"),
        ("opportunity_id", "varchar"),
        ("opportunity_name", "varchar"),
        ("is_opportunity_found", "boolean"),
        ("deal_activities_since", "integer"),
        ("last_deal_activity_date", "date"),
        ("stage_at_1on1", "varchar"),
        ("stage_now", "varchar"),
        ("is_stage_changed", "boolean"),
        ("close_date_at_1on1", "date"),
        ("close_date_now", "date"),
        ("is_close_date_changed", "boolean"),
        ("deal_closed_since", "varchar"),
    ],
    "fct_learnings_rejected": [
        ("pair_id", "varchar"),
        ("week", "varchar"),
        ("source_path", "varchar"),
        ("entry_number", "integer"),
        ("problem_key", "varchar"),
        ("problem", "varchar"),
        ("fix", "varchar"),
    ],
}

PAIRS = [
    dict(
        pair_id="P1",
        manager_id=M1,
        manager_name="Dana Manager",
        manager_email="dana@example.com",
        rep_id=R1,
        rep_name="Alex Rep",
        rep_email="alex1@example.com",
        rep_title="AE",
        rep_role_name="Sales",
    ),
    dict(
        pair_id="P2",
        manager_id=M1,
        manager_name="Dana Manager",
        manager_email="dana@example.com",
        rep_id=R2,
        rep_name=HOSTILE,
        rep_email="x@example.com",
        rep_title=HOSTILE,
        rep_role_name="Sales",
    ),
    dict(
        pair_id="P3",
        manager_id=M1,
        manager_name="Dana Manager",
        manager_email="dana@example.com",
        rep_id=R3,
        rep_name="Alex Rep",
        rep_email="alex3@example.com",
        rep_title="AE",
        rep_role_name="Sales",
    ),
    dict(
        pair_id="P4",
        manager_id=M2,
        manager_name="Ølaf Ñúñez",
        manager_email="olaf@example.com",
        rep_id=R4,
        rep_name="Quiet Rep",
        rep_email="quiet@example.com",
        rep_title="SDR",
        rep_role_name="Sales",
    ),
]

# metric: (this_week, prior_week, avg_4w, team_median) per rep
METRICS: dict[str, dict[str, tuple[float | None, ...]]] = {
    R1: {
        "calls": (8, 15, 20, 12),  # −60% and −12: a "why" question
        "emails": (30, 28, 29, 30),
        "meetings": (5, 4, 4.5, 4),
        "opportunities_created": (2, 1, 1.25, 2),
        "pipeline_created": (45000, 10000, 12500, 30000),  # moved
        "closed_won_count": (1, 0, 0.25, 1),
        "closed_won_amount": (25000, 0, 6250, 25000),  # moved
        "closed_lost_count": (1, 0, 0.5, 1),
    },
    R2: {
        "calls": (3, 4, 5, 12),
        "emails": (10, 12, 11, 30),
        "meetings": (1, 1, 1, 4),
        "opportunities_created": (0, 0, 0.5, 2),
        "pipeline_created": (0, 0, 3000, 30000),
        "closed_won_count": (0, 0, 0, 1),
        "closed_won_amount": (0, 0, 0, 25000),
        "closed_lost_count": (1, 0, 0, 1),
    },
    R3: {
        "calls": (12, 12, 12, 12),
        "emails": (31, 30, 30.75, 30),
        "meetings": (4, 4, 4, 4),
        "opportunities_created": (2, 2, 2, 2),
        "pipeline_created": (30000, 20000, 25000.5, 30000),
        "closed_won_count": (1, 1, 1, 1),
        "closed_won_amount": (25000, 20000, 22500, 25000),
        # closed_lost_count missing on purpose: the packet must say so, not invent a 0.
    },
    R4: {
        "calls": (2, 1, 1.5, 2),
        "emails": (1, 2, 1.75, 1),
        "meetings": (0, 1, 0.5, 0),
        "opportunities_created": (0, 0, 0, 0),
        "pipeline_created": (0, 0, 0, 0),
        "closed_won_count": (0, 0, 0, 0),
        "closed_won_amount": (0, 0, 0, 0),
        "closed_lost_count": (0, 0, 0, 0),
    },
}


def _activity_rows() -> list[dict[str, Any]]:
    rows = []
    for rep, series in ((R1, 10), (R2, 10), (R3, 4), (R4, 10)):
        for i in range(series):
            week = WEEK.shift(-i)
            base = METRICS[rep]
            rows.append(
                dict(
                    rep_id=rep,
                    week=week.label,
                    week_start=week.start_date,
                    week_end=week.end_date,
                    calls=int(base["calls"][0]) + (i % 3),
                    emails=int(base["emails"][0]) + (i % 2),
                    meetings=int(base["meetings"][0]),
                    opportunities_created=int(base["opportunities_created"][0]),
                    pipeline_created=base["pipeline_created"][0] if i == 0 else 10000 + i,
                    closed_won_count=int(base["closed_won_count"][0]),
                    closed_won_amount=base["closed_won_amount"][0],
                    closed_lost_count=1 if i == 0 and rep != R4 else 0,
                    pipeline_created_null_amounts=1 if rep == R1 and i == 0 else 0,
                    is_calls_logged=True,
                    is_emails_logged=True,
                    is_meetings_logged=True,
                )
            )
    return rows


def _quota_rows() -> list[dict[str, Any]]:
    rows = []
    q_start, q_end = date(2026, 1, 1), date(2026, 4, 1)
    r2_pacing = {0: 0.4, 1: 0.8, 2: 0.6, 3: 0.5}
    for i in range(4):
        label = WEEK.shift(-i).label
        rows.append(
            dict(
                rep_id=R1,
                week=label,
                quarter_start=q_start,
                quarter_end=q_end,
                quarter_label="FY2026 Q1",
                quota_amount=200000.0,
                quota_rows_without_rate=0,
                won_to_date=110000.0,
                attainment=0.55,
                elapsed=0.5,
                pacing=1.1,
                open_pipeline=180000.0,
                coverage=2.0,
                is_below_pacing=False,
                performance_conversation_recommended=False,
            )
        )
        rows.append(
            dict(
                rep_id=R2,
                week=label,
                quarter_start=q_start,
                quarter_end=q_end,
                quarter_label="FY2026 Q1",
                quota_amount=150000.0,
                quota_rows_without_rate=0,
                won_to_date=15000.0,
                attainment=0.1,
                elapsed=0.5,
                pacing=r2_pacing[i],
                open_pipeline=20000.0,
                coverage=0.148,
                is_below_pacing=r2_pacing[i] < 0.7,
                performance_conversation_recommended=i == 0,
            )
        )
        rows.append(
            dict(
                rep_id=R3,
                week=label,
                quarter_start=q_start,
                quarter_end=q_end,
                quarter_label="FY2026 Q1",
                quota_amount=None,
                quota_rows_without_rate=0,
                won_to_date=25000.0,
                attainment=None,
                elapsed=0.5,
                pacing=None,
                open_pipeline=30000.0,
                coverage=None,
                is_below_pacing=None,
                performance_conversation_recommended=False,
            )
        )
    return rows


def _deal(opp: str, rep: str, name: str, amount: float | None, movement: str, **kw: Any) -> dict:
    row = {c: None for c, _ in COLUMNS["fct_deal_movement_weekly"]}
    row.update(
        opportunity_id=opp,
        week=kw.pop("week", WEEK.label),
        rep_id=rep,
        opportunity_name=name,
        account_name=kw.pop("account_name", "Acme"),
        amount=amount,
        amount_original=amount,
        currency_original="USD",
        # Salesforce's default categories: Closed when won, Omitted when lost.
        forecast_category={"won": "Closed", "lost": "Omitted"}.get(movement, "Pipeline"),
        movement=movement,
        is_open_end=movement not in ("won", "lost"),
        is_stuck=False,
        stuck_reasons="",
        is_no_activity=False,
        close_date_pushes_90d=0,
    )
    wk = Week.parse(row["week"])
    row.update(week_start=wk.start_date, week_end=wk.end_date)
    row.update(kw)
    return row


DEALS = [
    _deal(
        "006000000000D01AAA",
        R1,
        "Globex expansion",
        120000.0,
        "unchanged",
        forecast_category="Commit",
        stage_start="Negotiation",
        stage_end="Negotiation",
        days_in_stage=45,
        stage_threshold_days=21.0,
        is_stage_aging=True,
        last_activity_date=date(2026, 3, 5),
        days_since_last_activity=4,
        close_date_pushes_90d=3,
        is_close_date_pushed=True,
        is_stuck=True,
        stuck_reasons="stage_aging,close_date_pushed",
        close_date=date(2026, 3, 31),
        next_step="Send the signed order form",  # matches no theme: counts nowhere
    ),
    _deal(
        "006000000000D02AAA",
        R1,
        "Initech | pilot",
        80000.0,
        "unchanged",
        stage_start="Proposal",
        stage_end="Proposal",
        days_in_stage=10,
        stage_threshold_days=30.0,
        last_activity_date=date(2026, 2, 17),
        days_since_last_activity=20,
        is_no_activity=True,
        is_stuck=True,
        stuck_reasons="no_activity",
        close_date=date(2026, 3, 27),
    ),
    _deal(
        "006000000000D03AAA",
        R1,
        "Small deal",
        5000.0,
        "unchanged",
        stage_start="Qualification",
        stage_end="Qualification",
        days_in_stage=40,
        stage_threshold_days=30.0,
        is_stage_aging=True,
        is_stuck=True,
        stuck_reasons="stage_aging",
        close_date=date(2026, 4, 30),
    ),
    _deal(
        "006000000000D04AAA",
        R1,
        "Won deal",
        25000.0,
        "won",
        stage_start="Negotiation",
        stage_end="Closed Won",
        cycle_days=20,
        close_date=date(2026, 3, 4),
    ),
    _deal(
        "006000000000D05AAA",
        R1,
        "Lost one",
        15000.0,
        "lost",
        stage_start="Proposal",
        stage_end="Closed Lost",
        loss_reason="Price too high",
        close_date=date(2026, 3, 3),
        next_step="Pricing review",  # a closed deal's next step is no open concern
    ),
    _deal(
        "006000000000D06AAA",
        R1,
        "New opp",
        45000.0,
        "new",
        stage_start=None,
        stage_end="Prospecting",
        days_in_stage=3,
        close_date=date(2026, 6, 30),
        next_step="Walk Dana through the implementation plan",
    ),
    _deal(
        "006000000000D07AAA",
        R1,
        "Jumped",
        30000.0,
        "advanced",
        forecast_category="Best Case",
        stage_start="Qualification",
        stage_end="Negotiation",
        sort_order_start=2,
        sort_order_end=4,
        days_in_stage=2,
        close_date=date(2026, 5, 15),
        next_step="Pricing concession request with finance",
    ),
    _deal(
        "006000000000D08AAA",
        R1,
        "No amount yet",
        None,
        "unchanged",
        stage_start="Prospecting",
        stage_end="Prospecting",
        days_in_stage=5,
    ),
    # R1's losses in earlier weeks feed the field-feedback themes.
    _deal(
        "006000000000L01AAA",
        R1,
        "Hooli",
        40000.0,
        "lost",
        week=WEEK.shift(-1).label,
        loss_reason="Concerned about the implementation timeline",
    ),
    _deal(
        "006000000000L02AAA",
        R1,
        "Vandelay",
        20000.0,
        "lost",
        week=WEEK.shift(-2).label,
        loss_reason="Implementation took too long; went with a competitor",
    ),
    _deal(
        "006000000000L03AAA",
        R1,
        "Too old to count",
        99000.0,
        "lost",
        week=WEEK.shift(-6).label,
        loss_reason="Price",
    ),
    # R2: hostile CRM text.
    _deal(
        "006000000000H01AAA",
        R2,
        HOSTILE,
        60000.0,
        "unchanged",
        account_name=HOSTILE_MULTILINE,
        stage_start="Proposal",
        stage_end=HOSTILE,
        days_in_stage=50,
        stage_threshold_days=30.0,
        is_stage_aging=True,
        is_stuck=True,
        stuck_reasons="stage_aging",
        next_step=f"Implementation plan {HOSTILE_MULTILINE}",
    ),
    _deal(
        "006000000000H02AAA",
        R2,
        "Lost | deal",
        10000.0,
        "lost",
        loss_reason=HOSTILE_MULTILINE,
    ),
]

FAST_MOVERS = [
    dict(
        opportunity_id="006000000000D04AAA",
        week=WEEK.label,
        rep_id=R1,
        reason="fast_cycle",
        cycle_days=20,
        cycle_p25_days=35.0,
        stages_advanced=None,
    ),
    dict(
        opportunity_id="006000000000D07AAA",
        week=WEEK.label,
        rep_id=R1,
        reason="stage_jump",
        cycle_days=None,
        cycle_p25_days=None,
        stages_advanced=2,
    ),
]


def _metric_rows() -> list[dict[str, Any]]:
    rows = []
    for pair in PAIRS:
        for metric, values in METRICS[pair["rep_id"]].items():
            rows.append(
                dict(
                    pair_id=pair["pair_id"],
                    manager_id=pair["manager_id"],
                    rep_id=pair["rep_id"],
                    week=WEEK.label,
                    metric=metric,
                    this_week=values[0],
                    prior_week=values[1],
                    avg_4w=values[2],
                    team_median=values[3],
                    is_logged=True,
                )
            )
    return rows


# Learnings recorded before WEEK: P4's shared lesson, P1's private note, P2's hostile feedback
# (shared), and a private note of P3 that only P3 may ever see.
PRIVATE_NOTE = "Private: Alex's manager will chase the CFO before quarter end"
LEARNINGS = [
    dict(
        learning_id="L1",
        week="2026-W09",
        pair_id="P4",
        manager_id=M2,
        manager_name="Ølaf Ñúñez",
        rep_id=R4,
        rep_name="Quiet Rep",
        kind="lesson",
        theme="implementation timeline",
        theme_key="implementation",
        theme_label="Implementation timeline",
        body="Bring the services lead to the second call; the timeline worry disappears.",
        is_shareable=True,
        tags="healthcare",
        stage_name="Negotiation/Review",
        industry="Healthcare",
    ),
    dict(
        learning_id="L2",
        week="2026-W09",
        pair_id="P1",
        manager_id=M1,
        manager_name="Dana Manager",
        rep_id=R1,
        rep_name="Alex Rep",
        kind="lesson",
        theme="follow up",
        theme_key="follow up",
        theme_label="Follow up",
        body=PRIVATE_NOTE,
        is_shareable=False,
        tags="",
    ),
    dict(
        learning_id="L3",
        week="2026-W08",
        pair_id="P2",
        manager_id=M1,
        manager_name="Dana Manager",
        rep_id=R2,
        rep_name=HOSTILE,
        kind="feedback",
        theme="price",
        theme_key="price",
        theme_label="Price",
        body=HOSTILE_MULTILINE,
        is_shareable=True,
        tags="",
    ),
    dict(
        learning_id="L4",
        week="2026-W09",
        pair_id="P3",
        manager_id=M1,
        manager_name="Dana Manager",
        rep_id=R3,
        rep_name="Alex Rep",
        kind="feedback",
        theme="security review",
        theme_key="security review",
        theme_label="Security review",
        body="Private to P3: the security review questionnaire takes three weeks",
        is_shareable=False,
        tags="",
    ),
]


def _lesson_row(pair: dict, learning: dict, rank: int, reasons: str, why: str) -> dict:
    return dict(
        pair_id=pair["pair_id"],
        manager_id=pair["manager_id"],
        rep_id=pair["rep_id"],
        week=WEEK.label,
        learning_id=learning["learning_id"],
        learning_week=learning["week"],
        kind=learning["kind"],
        theme=learning["theme"],
        body=learning["body"],
        is_shareable=learning["is_shareable"],
        is_own_pair=learning["pair_id"] == pair["pair_id"],
        source_manager_id=learning["manager_id"],
        source_rep_id=learning["rep_id"],
        source_manager_name=learning["manager_name"],
        source_rep_name=learning["rep_name"],
        match_reasons=reasons,
        why=why,
        relevance_rank=rank,
    )


def _pair_lesson_rows() -> list[dict[str, Any]]:
    p1, p2, p3, p4 = PAIRS
    l1, l2, l3, l4 = LEARNINGS
    own = "recorded in this pair's own 1:1 of 2026-W09"
    return [
        _lesson_row(p1, l1, 1, "stage,theme", "same stage as 1 open deal(s) (Negotiation/Review)"),
        _lesson_row(p1, l2, 2, "own_pair", own),
        _lesson_row(p1, l3, 3, "theme", "theme price matches recent loss reasons"),
        _lesson_row(p2, l3, 1, "own_pair", "recorded in this pair's own 1:1 of 2026-W08"),
        _lesson_row(p3, l4, 1, "own_pair", own),
        _lesson_row(p4, l1, 1, "own_pair", own),
    ]


# What the feedback marts hold for these deals and learnings (docs/data-contracts.md): the
# large open deals (at or above the rep's 75th-percentile open amount), the themes the loss
# reasons of the last 4 weeks and the open deals' next steps name, and the digest's escalations.
IMPLEMENTATION = ("implementation", "Implementation timeline", "the head of services")
PRICE = ("price", "Price", "sales leadership (pricing)")
COMPETITOR = ("competitor", "Competitor", "product marketing (competitive intelligence)")
OTHER = ("other", "Other reasons", None)


def _large_deal_rows(
    reps: dict[str, tuple[int, dict[str, float]]], r1_threshold: float = 80000.0
) -> list[dict[str, Any]]:
    """Per rep: how many open deals have an amount, and those at or above the bar."""
    thresholds = {R1: r1_threshold, R2: 60000.0}
    return [
        dict(
            opportunity_id=opp,
            week=WEEK.label,
            rep_id=rep,
            amount=amount,
            large_deal_threshold=thresholds[rep],
            open_deals_with_amount=count,
        )
        for rep, (count, deals) in reps.items()
        for opp, amount in deals.items()
    ]


def _theme_row(rep: str, theme: tuple, rank: int, lost: int, amount: float, steps: int) -> dict:
    key, label, to = theme
    return dict(
        rep_id=rep,
        week=WEEK.label,
        theme_key=key,
        theme_label=label,
        escalate_to=to,
        lost_deals=lost,
        lost_amount=amount,
        next_step_mentions=steps,
        mentions=lost + steps,
        is_escalated=to is not None and lost >= 2,
        theme_rank=rank,
    )


def _mention(theme: str, kind: str, rank: int, source: str, text: str, **kw: Any) -> dict:
    deal = next((d for d in DEALS if d["opportunity_id"] == source), {})
    return dict(
        week=WEEK.label,
        theme_key=theme,
        mention_kind=kind,
        rep_id=kw.get("rep_id", deal.get("rep_id")),
        source_id=source,
        opportunity_name=deal.get("opportunity_name"),
        amount=kw.get("amount", deal.get("amount")),
        stage_name=deal.get("stage_end") if kind == "next_step" else None,
        mention_week=kw.get("mention_week", deal.get("week")),
        mention_text=text,
        mention_rank=rank,
    )


def _mention_rows(new_opp_amount: float = 45000.0) -> list[dict[str, Any]]:
    l01, l02 = "006000000000L01AAA", "006000000000L02AAA"
    l01_reason = "Concerned about the implementation timeline"
    l02_reason = "Implementation took too long; went with a competitor"
    return [
        _mention("implementation", "loss_reason", 1, l01, l01_reason),
        _mention("implementation", "loss_reason", 2, l02, l02_reason),
        _mention("competitor", "loss_reason", 1, l02, l02_reason),
        _mention("price", "loss_reason", 1, "006000000000D05AAA", "Price too high"),
        _mention("other", "loss_reason", 1, "006000000000H02AAA", HOSTILE_MULTILINE),
        _mention(
            "implementation",
            "next_step",
            1,
            "006000000000H01AAA",
            f"Implementation plan {HOSTILE_MULTILINE}",
        ),
        _mention(
            "implementation",
            "next_step",
            2,
            "006000000000D06AAA",
            "Walk Dana through the implementation plan",
            amount=new_opp_amount,
        ),
        _mention(
            "price", "next_step", 1, "006000000000D07AAA", "Pricing concession request with finance"
        ),
        _mention(
            "price", "feedback", 1, "L3", HOSTILE_MULTILINE, rep_id=R2, amount=None,
            mention_week="2026-W08",
        ),
    ]  # fmt: skip


def _escalation_rows() -> list[dict[str, Any]]:
    rows = []
    for rank, (theme, lost, amount, feedback) in enumerate(
        ((IMPLEMENTATION, 2, 60000.0, 0), (PRICE, 1, 15000.0, 1), (COMPETITOR, 1, 20000.0, 0),
         (OTHER, 1, 10000.0, 0)),
        start=1,
    ):  # fmt: skip
        key, label, to = theme
        rows.append(
            dict(
                week=WEEK.label,
                theme_key=key,
                theme_label=label,
                escalate_to=to,
                lost_deals=lost,
                lost_amount=amount,
                reps=1,
                feedback_entries=feedback,
                mentions=lost + feedback,
                is_escalated=to is not None and lost + feedback >= 2,
                escalation_rank=rank,
            )
        )
    return rows


# The team pages (rpt_manager_team_weekly and friends): M1's team in the order to prepare, R2
# (hostile text) first for the performance conversation, R1 for deals to close or kill, R3
# last without a quota; M2's only rep by pacing.
def _team_row(pair: dict, rank: int, reason: str, **kw: Any) -> dict:
    base = dict(
        pair_id=pair["pair_id"],
        manager_id=pair["manager_id"],
        manager_name=pair["manager_name"],
        rep_id=pair["rep_id"],
        rep_name=pair["rep_name"],
        week=WEEK.label,
        attention_rank=rank,
        attention_reason=reason,
        quota_amount=None,
        attainment=None,
        pacing=None,
        open_pipeline=0.0,
        coverage=None,
        weeks_below_pacing=0,
        performance_conversation_recommended=False,
        stuck_deals=0,
        stuck_amount=0.0,
        newly_stuck_deals=0,
        close_it_or_kill_it_deals=0,
        open_actions=0,
        overdue_actions=0,
        done_actions=0,
    )
    return {**base, **kw}


TEAM = [
    _team_row(
        PAIRS[1], 1, "performance_conversation", quota_amount=200000.0, attainment=0.1,
        pacing=0.2, open_pipeline=60000.0, coverage=0.33, weeks_below_pacing=4,
        performance_conversation_recommended=True, stuck_deals=1, stuck_amount=60000.0,
        newly_stuck_deals=1, open_actions=1, overdue_actions=2,
    ),
    _team_row(
        PAIRS[0], 2, "close_it_or_kill_it", quota_amount=300000.0, attainment=0.5,
        pacing=1.1, open_pipeline=280000.0, coverage=1.87, weeks_below_pacing=0,
        stuck_deals=2, stuck_amount=200000.0, close_it_or_kill_it_deals=1, open_actions=2,
        done_actions=1,
    ),
    _team_row(PAIRS[2], 3, "none", open_pipeline=30000.0),
    _team_row(
        PAIRS[3], 1, "pacing", quota_amount=50000.0, attainment=0.4, pacing=0.9,
        open_pipeline=0.0, coverage=0.0,
    ),
]  # fmt: skip


def _followup(
    pair: str, rep: str, opp: str, name: str, amount: float | None, outcome: str, **kw: Any
) -> dict[str, Any]:
    row = {c: None for c, _ in COLUMNS["rpt_stuck_deal_followups_weekly"]}
    row.update(
        pair_id=pair,
        rep_id=rep,
        opportunity_id=opp,
        week=WEEK.label,
        opportunity_name=name,
        account_name="Acme",
        amount=amount,
        movement="unchanged",
        outcome=outcome,
        was_stuck_last_week=outcome != "newly_stuck",
        is_stuck=outcome in ("newly_stuck", "still_stuck"),
        previous_stuck_reasons="",
        stuck_reasons="",
        stuck_weeks=1,
        stuck_since_week=WEEK.label,
        is_close_it_or_kill_it=False,
    )
    row.update(kw)
    return row


# "Since our last 1:1" of R1 (Small deal and Globex close it or kill it, Won deal won, Jumped
# advanced, Initech newly stuck) and R2 (the hostile deal, still stuck).
FOLLOWUPS = [
    _followup(
        "P1", R1, "006000000000D01AAA", "Globex expansion", 120000.0, "still_stuck",
        stage_start="Negotiation", stage_end="Negotiation", close_date=date(2026, 3, 31),
        previous_stuck_reasons="stage_aging,close_date_pushed",
        stuck_reasons="stage_aging,close_date_pushed", stuck_weeks=4,
        stuck_since_week="2026-W07", is_close_it_or_kill_it=True,
    ),
    _followup(
        "P1", R1, "006000000000D03AAA", "Small deal", 5000.0, "still_stuck",
        stage_start="Qualification", stage_end="Qualification",
        previous_stuck_reasons="stage_aging", stuck_reasons="stage_aging", stuck_weeks=5,
        stuck_since_week="2026-W06", is_close_it_or_kill_it=True,
    ),
    _followup(
        "P1", R1, "006000000000D04AAA", "Won deal", 25000.0, "won", movement="won",
        stage_start="Negotiation", stage_end="Closed Won",
        previous_stuck_reasons="no_activity",
        stuck_weeks=2, stuck_since_week="2026-W08",
    ),
    _followup(
        "P1", R1, "006000000000D07AAA", "Jumped", 30000.0, "advanced", movement="advanced",
        stage_start="Qualification", stage_end="Negotiation",
        previous_stuck_reasons="stage_aging",
        stuck_weeks=1, stuck_since_week="2026-W09",
    ),
    _followup(
        "P1", R1, "006000000000D02AAA", "Initech | pilot", 80000.0, "newly_stuck",
        stage_start="Proposal", stage_end="Proposal", stuck_reasons="no_activity",
    ),
    _followup(
        "P2", R2, "006000000000H01AAA", HOSTILE, 60000.0, "still_stuck",
        account_name=HOSTILE_MULTILINE, stage_start="Proposal", stage_end=HOSTILE,
        previous_stuck_reasons="stage_aging", stuck_reasons="stage_aging", stuck_weeks=2,
        stuck_since_week="2026-W09",
    ),
    # Another week: never read for WEEK.
    _followup("P1", R1, "006000000000D08AAA", "Other week", None, "newly_stuck",
              week=WEEK.shift(-1).label),
]  # fmt: skip


def _action_row(pair: dict, action_id: str, status: str, body: str, **kw: Any) -> dict:
    row = {c: None for c, _ in COLUMNS["rpt_pair_actions_weekly"]}
    row.update(
        pair_id=pair["pair_id"],
        manager_id=pair["manager_id"],
        rep_id=pair["rep_id"],
        week=WEEK.label,
        action_id=action_id,
        recorded_week=WEEK.shift(-1).label,
        owner="rep",
        due_date=date(2026, 3, 20),
        body=body,
        is_shareable=False,
        status=status,
        is_opportunity_found=False,
        is_stage_changed=False,
        is_close_date_changed=False,
    )
    row.update(kw)
    return row


ACTIONS = [
    # Overdue, on Globex: the close date moved and two activities were logged since the 1:1.
    _action_row(
        PAIRS[0], "cfo-call", "overdue", "Book the CFO call before the pricing review.",
        recorded_week="2026-W08", due_date=date(2026, 3, 6),
        opportunity_id="006000000000D01AAA", opportunity_name="Globex expansion",
        is_opportunity_found=True, deal_activities_since=2,
        last_deal_activity_date=date(2026, 3, 5), stage_at_1on1="Negotiation",
        stage_now="Negotiation", close_date_at_1on1=date(2026, 3, 20),
        close_date_now=date(2026, 3, 31), is_close_date_changed=True,
    ),
    _action_row(
        PAIRS[0], "security-pack", "done", "Send the *security* pack.", owner="manager",
        done_week="2026-W09", is_shareable=True,
    ),
    # Open, on Initech: nothing in the CRM yet.
    _action_row(
        PAIRS[0], "pilot-plan", "open", "Agree the pilot success criteria.",
        opportunity_id="006000000000D02AAA", opportunity_name="Initech | pilot",
        is_opportunity_found=True, deal_activities_since=0, stage_at_1on1="Proposal",
        stage_now="Proposal", close_date_at_1on1=date(2026, 3, 27),
        close_date_now=date(2026, 3, 27),
    ),
    _action_row(PAIRS[1], "hostile", "open", HOSTILE_MULTILINE),
    _action_row(PAIRS[0], "other-week", "open", "Never read", week=WEEK.shift(-1).label),
]  # fmt: skip

R1_LEARNINGS_FILE = "learnings/2026-W09/dana-manager-00000m01aaa/alex-rep-00000r01aac.md"
REJECTED = [
    dict(
        pair_id="P1", week="2026-W09", source_path=R1_LEARNINGS_FILE, entry_number=3,
        problem_key="owner", problem="must be rep or manager, not 'boss'",
        fix="write owner: rep or owner: manager",
    ),
    # This week's own file and a file without a pair never reach a packet of WEEK.
    dict(
        pair_id="P1", week=WEEK.label, source_path="learnings/2026-W10/x/y.md", entry_number=1,
        problem_key="theme", problem="NOT-SHOWN this week", fix="x",
    ),
    dict(
        pair_id=None, week=None, source_path="notes.md", entry_number=None, problem_key=None,
        problem="NOT-SHOWN without a pair", fix="x",
    ),
]  # fmt: skip


def _team_theme_row(manager: str, theme: tuple, rank: int, reps: int, lost: int, amount: float,
                    steps: int) -> dict:  # fmt: skip
    key, label, escalate_to = theme
    return dict(
        manager_id=manager,
        week=WEEK.label,
        theme_key=key,
        theme_label=label,
        escalate_to=escalate_to,
        reps=reps,
        lost_deals=lost,
        lost_amount=amount,
        next_step_mentions=steps,
        mentions=lost + steps,
        is_escalated=escalate_to is not None and lost >= 2,
        theme_rank=rank,
    )


def _team_trend_rows() -> list[dict[str, Any]]:
    """M1's team over the last 3 weeks (older weeks missing: gaps in the chart), M2's this
    week only."""
    rows = []
    for back, (calls, pipeline) in enumerate(((23, 370000.0), (31, 350000.0), (40, 300000.0))):
        rows.append(
            dict(manager_id=M1, week=WEEK.shift(-back).label, reps=3, calls=calls, emails=71,
                 meetings=10, pipeline_created=75000.0, closed_won_amount=50000.0,
                 open_pipeline=pipeline, stuck_deals=3, stuck_amount=260000.0)
        )  # fmt: skip
    rows.append(
        dict(manager_id=M2, week=WEEK.label, reps=1, calls=2, emails=1, meetings=0,
             pipeline_created=0.0, closed_won_amount=0.0, open_pipeline=0.0, stuck_deals=0,
             stuck_amount=0.0)
    )  # fmt: skip
    return rows


def table_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "dim_sales_pairs": PAIRS,
        "rpt_pair_metrics_weekly": _metric_rows(),
        "fct_rep_activity_weekly": _activity_rows(),
        "fct_rep_quota_weekly": _quota_rows(),
        "fct_deal_movement_weekly": DEALS,
        "fct_fast_movers_weekly": FAST_MOVERS,
        # R1's open amounts 5k, 30k, 45k, 80k, 120k: the 75th percentile is 80k.
        "fct_large_deals_weekly": _large_deal_rows(
            {
                R1: (5, {"006000000000D01AAA": 120000.0, "006000000000D02AAA": 80000.0}),
                R2: (1, {"006000000000H01AAA": 60000.0}),
            }
        ),
        "rpt_rep_feedback_themes_weekly": [
            _theme_row(R1, IMPLEMENTATION, 1, 2, 60000.0, 1),
            _theme_row(R1, PRICE, 2, 1, 15000.0, 1),
            _theme_row(R1, COMPETITOR, 3, 1, 20000.0, 0),
            _theme_row(R2, OTHER, 1, 1, 10000.0, 0),
            _theme_row(R2, IMPLEMENTATION, 2, 0, 0.0, 1),
        ],
        "rpt_feedback_mentions_weekly": _mention_rows(),
        "rpt_feedback_escalations_weekly": _escalation_rows(),
        "rpt_pair_learnings_weekly": _pair_lesson_rows(),
        "fct_learnings": LEARNINGS,
        "dim_reps": [
            dict(user_id=p["rep_id"], user_name=p["rep_name"], manager_name=p["manager_name"])
            for p in PAIRS
        ],
        "dim_organization": [dict(corporate_currency="USD", default_locale="en_US")],
        "fct_unconverted_amounts_weekly": [],
        "rpt_manager_team_weekly": TEAM,
        "rpt_manager_feedback_themes_weekly": [
            _team_theme_row(M1, IMPLEMENTATION, 1, 2, 2, 60000.0, 2),
            _team_theme_row(M1, PRICE, 2, 1, 1, 15000.0, 1),
            _team_theme_row(M1, COMPETITOR, 3, 1, 1, 20000.0, 0),
            _team_theme_row(M1, OTHER, 4, 1, 1, 10000.0, 0),
        ],
        "rpt_manager_team_trend_weekly": _team_trend_rows(),
        "rpt_stuck_deal_followups_weekly": FOLLOWUPS,
        "rpt_pair_actions_weekly": ACTIONS,
        "fct_learnings_rejected": REJECTED,
    }


# The international variant: corporate currency EUR in German, a deal in USD (converted) and
# one in JPY without a rate, a quota row in JPY without a rate (R2), and an org that keeps its
# emails outside Salesforce (not logged this week).
INTL_USD_DEAL = "006000000000D06AAA"  # "New opp": 45,000 USD = 41,400 EUR
INTL_JPY_DEAL = "006000000000D03AAA"  # "Small deal": 800,000 JPY, no rate
INTL_QUOTA_ROW = "0J9000000000Q02AAA"


def international_table_rows() -> dict[str, list[dict[str, Any]]]:
    tables = table_rows()
    tables["dim_organization"] = [dict(corporate_currency="EUR", default_locale="de_DE_EURO")]
    for row in tables["rpt_pair_metrics_weekly"]:
        if row["metric"] == "emails":
            row.update(this_week=None, prior_week=None, avg_4w=None, team_median=None)
            row.update(is_logged=False)
    for row in tables["fct_rep_activity_weekly"]:
        if row["week"] == WEEK.label:
            row.update(emails=None, is_emails_logged=False)
    deals = [dict(row) for row in tables["fct_deal_movement_weekly"]]
    for row in deals:
        row["currency_original"] = "EUR"
        if row["opportunity_id"] == INTL_USD_DEAL and row["week"] == WEEK.label:
            row.update(amount=41400.0, amount_original=45000.0, currency_original="USD")
        if row["opportunity_id"] == INTL_JPY_DEAL:
            row.update(amount=None, amount_original=800000.0, currency_original="JPY")
        if row["opportunity_id"] == "006000000000H01AAA":
            row.update(record_type=HOSTILE, forecast_category="Commit")
    tables["fct_deal_movement_weekly"] = deals
    # R1's open amounts without the JPY deal: 30k, 41.4k, 80k, 120k, so the bar is 90k.
    tables["fct_large_deals_weekly"] = [
        row for row in tables["fct_large_deals_weekly"] if row["rep_id"] != R1
    ] + _large_deal_rows({R1: (4, {"006000000000D01AAA": 120000.0})}, r1_threshold=90000.0)
    tables["rpt_feedback_mentions_weekly"] = _mention_rows(new_opp_amount=41400.0)
    for row in tables["fct_rep_quota_weekly"]:
        if row["rep_id"] == R2:
            row.update(quota_amount=None, attainment=None, pacing=None, coverage=None)
            row.update(is_below_pacing=None, performance_conversation_recommended=False)
            row.update(quota_rows_without_rate=1)
    unconverted = dict(
        rep_id=R1,
        week=WEEK.label,
        source_object="Opportunity",
        record_id=INTL_JPY_DEAL,
        record_name="Small deal",
        currency_iso_code="JPY",
        amount_original=800000.0,
        rate_date=date(2026, 4, 30),
    )
    tables["fct_unconverted_amounts_weekly"] = [
        {**unconverted, "amount_kind": "deal_amount"},
        {**unconverted, "amount_kind": "open_pipeline"},
        dict(
            rep_id=R2,
            week=WEEK.label,
            amount_kind="quota_amount",
            source_object="ForecastingQuota",
            record_id=INTL_QUOTA_ROW,
            record_name=None,
            currency_iso_code="JPY",
            amount_original=20000000.0,
            rate_date=None,
        ),
    ]
    return tables


def write_warehouse(path: Path, tables: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """Create the packet marts in a DuckDB file at `path` and fill them (default rows:
    table_rows(), a single-currency org)."""
    con = duckdb.connect(str(path))
    try:
        for table, rows in (tables or table_rows()).items():
            columns = COLUMNS[table]
            con.execute(
                f"create table {table} ("
                + ", ".join(f"{name} {type_}" for name, type_ in columns)
                + ")"
            )
            placeholders = ", ".join("?" for _ in columns)
            if not rows:
                continue
            con.executemany(
                f"insert into {table} values ({placeholders})",
                [[row.get(name) for name, _ in columns] for row in rows],
            )
    finally:
        con.close()
    return path
