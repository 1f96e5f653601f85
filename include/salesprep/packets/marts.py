"""Reads the packet marts (docs/data-contracts.md) for one week from the warehouse, checking
each table and column exists, so contract drift fails with a message naming it. The first
stage of the packet layer: marts → context → render → publish."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesprep.config import Settings
from salesprep.warehouse.connection import (
    Marts,
    WarehouseReadError,
    Which,
    as_marts,
    open_marts,
)
from salesprep.weeks import Week

if TYPE_CHECKING:
    import duckdb

# Only the columns the packets use; a mart may carry more.
MART_COLUMNS: dict[str, tuple[str, ...]] = {
    "dim_sales_pairs": (
        "pair_id",
        "manager_id",
        "manager_name",
        "manager_email",
        "manager_time_zone",
        "rep_id",
        "rep_name",
        "rep_email",
        "rep_title",
        "rep_role_name",
    ),
    "rpt_pair_metrics_weekly": (
        "pair_id",
        "manager_id",
        "rep_id",
        "week",
        "metric",
        "this_week",
        "prior_week",
        "avg_4w",
        "team_median",
        "is_logged",
    ),
    "fct_rep_activity_weekly": (
        "rep_id",
        "week",
        "week_start",
        "week_end",
        "calls",
        "emails",
        "meetings",
        "opportunities_created",
        "pipeline_created",
        "closed_won_count",
        "closed_won_amount",
        "closed_lost_count",
        "pipeline_created_null_amounts",
        "is_calls_logged",
        "is_emails_logged",
        "is_meetings_logged",
    ),
    "fct_rep_quota_weekly": (
        "rep_id",
        "week",
        "quarter_start",
        "quarter_end",
        "quarter_label",
        "quota_amount",
        "quota_rows_without_rate",
        "won_to_date",
        "attainment",
        "elapsed",
        "pacing",
        "open_pipeline",
        "coverage",
        "is_below_pacing",
        "performance_conversation_recommended",
    ),
    "fct_deal_movement_weekly": (
        "opportunity_id",
        "week",
        "week_start",
        "week_end",
        "rep_id",
        "opportunity_name",
        "account_name",
        "amount",
        "amount_original",
        "currency_original",
        "forecast_category",
        "record_type",
        "close_date",
        "stage_start",
        "stage_end",
        "movement",
        "is_open_end",
        "days_in_stage",
        "stage_threshold_days",
        "is_stage_aging",
        "last_activity_date",
        "days_since_last_activity",
        "is_no_activity",
        "close_date_pushes_90d",
        "is_close_date_pushed",
        "is_stuck",
        "stuck_reasons",
        "loss_reason",
        "next_step",
        "cycle_days",
    ),
    "fct_fast_movers_weekly": (
        "opportunity_id",
        "week",
        "rep_id",
        "reason",
        "cycle_days",
        "cycle_p25_days",
        "stages_advanced",
    ),
    "fct_large_deals_weekly": ("opportunity_id", "week", "rep_id", "large_deal_threshold"),
    "rpt_rep_feedback_themes_weekly": (
        "rep_id",
        "week",
        "theme_key",
        "theme_label",
        "escalate_to",
        "lost_deals",
        "lost_amount",
        "next_step_mentions",
        "mentions",
        "is_escalated",
        "theme_rank",
    ),
    "rpt_feedback_mentions_weekly": (
        "week",
        "theme_key",
        "mention_kind",
        "rep_id",
        "source_id",
        "opportunity_name",
        "amount",
        "stage_name",
        "mention_week",
        "mention_text",
        "mention_rank",
    ),
    "rpt_feedback_escalations_weekly": (
        "week",
        "theme_key",
        "theme_label",
        "escalate_to",
        "lost_deals",
        "lost_amount",
        "reps",
        "feedback_entries",
        "mentions",
        "is_escalated",
        "escalation_rank",
    ),
    "rpt_pair_learnings_weekly": (
        "pair_id",
        "manager_id",
        "rep_id",
        "week",
        "learning_id",
        "learning_week",
        "kind",
        "theme",
        "body",
        "is_shareable",
        "is_own_pair",
        "source_manager_id",
        "source_rep_id",
        "source_manager_name",
        "source_rep_name",
        "match_reasons",
        "why",
        "relevance_rank",
    ),
    "dim_reps": ("user_id", "user_name", "manager_name"),
    "dim_organization": ("corporate_currency", "default_locale"),
    "fct_unconverted_amounts_weekly": (
        "rep_id",
        "week",
        "amount_kind",
        "source_object",
        "record_id",
        "record_name",
        "currency_iso_code",
        "amount_original",
        "rate_date",
    ),
    "fct_learnings": (
        "learning_id",
        "week",
        "pair_id",
        "manager_id",
        "manager_name",
        "rep_id",
        "rep_name",
        "kind",
        "theme",
        "theme_key",
        "theme_label",
        "body",
        "is_shareable",
        "tags",
        "stage_name",
        "industry",
    ),
    # The manager's team page (packets/team.py): the team in the order to prepare, its
    # field-feedback themes and its weekly numbers for the trend chart.
    "rpt_manager_team_weekly": (
        "pair_id",
        "manager_id",
        "manager_name",
        "rep_id",
        "rep_name",
        "week",
        "attention_rank",
        "attention_reason",
        "quota_amount",
        "attainment",
        "pacing",
        "open_pipeline",
        "coverage",
        "weeks_below_pacing",
        "performance_conversation_recommended",
        "stuck_deals",
        "stuck_amount",
        "newly_stuck_deals",
        "close_it_or_kill_it_deals",
        "open_actions",
        "overdue_actions",
        "done_actions",
    ),
    "rpt_manager_feedback_themes_weekly": (
        "manager_id",
        "week",
        "theme_key",
        "theme_label",
        "escalate_to",
        "reps",
        "lost_deals",
        "lost_amount",
        "next_step_mentions",
        "mentions",
        "is_escalated",
        "theme_rank",
    ),
    "rpt_manager_team_trend_weekly": (
        "manager_id",
        "week",
        "reps",
        "calls",
        "emails",
        "meetings",
        "pipeline_created",
        "closed_won_amount",
        "open_pipeline",
        "stuck_deals",
        "stuck_amount",
    ),
    # "Since our last 1:1": last week's stuck deals and this week's newly stuck ones.
    "rpt_stuck_deal_followups_weekly": (
        "pair_id",
        "rep_id",
        "opportunity_id",
        "week",
        "opportunity_name",
        "account_name",
        "amount",
        "close_date",
        "stage_start",
        "stage_end",
        "movement",
        "outcome",
        "was_stuck_last_week",
        "is_stuck",
        "previous_stuck_reasons",
        "stuck_reasons",
        "stuck_weeks",
        "stuck_since_week",
        "is_close_it_or_kill_it",
    ),
    # The pair's agreed actions and what the CRM shows since the 1:1.
    "rpt_pair_actions_weekly": (
        "pair_id",
        "manager_id",
        "rep_id",
        "week",
        "action_id",
        "recorded_week",
        "owner",
        "due_date",
        "body",
        "is_shareable",
        "status",
        "done_week",
        "opportunity_id",
        "opportunity_name",
        "is_opportunity_found",
        "deal_activities_since",
        "last_deal_activity_date",
        "stage_at_1on1",
        "stage_now",
        "is_stage_changed",
        "close_date_at_1on1",
        "close_date_now",
        "is_close_date_changed",
        "deal_closed_since",
    ),
    # Learnings entries the format or the checks refused, for the data-quality appendix.
    "fct_learnings_rejected": (
        "pair_id",
        "week",
        "source_path",
        "entry_number",
        "problem_key",
        "problem",
        "fix",
    ),
}

TREND_WEEKS = 13
# The weeks the feedback marts count (dbt macros feedback_weeks and digest_weeks), named in
# the packets' and the digest's text: losses of the 4 weeks up to the week, and the learnings
# recorded for the 4 weeks before it.
FEEDBACK_WEEKS = 4
DIGEST_WEEKS = 4

Row = dict[str, Any]


def connect_warehouse(
    settings: Settings, path: Path | None = None, *, which: Which = "published"
) -> Marts:
    """A read-only connection to the marts on the settings' target (`which`: the published
    ones by default; the weekly run renders from the checked build, before it publishes both
    together), or to the DuckDB file at `path`."""
    try:
        return open_marts(settings, which, path=path)
    except WarehouseReadError as exc:
        raise MartError(str(exc)) from exc


class MartError(LookupError):
    """A packet mart that is missing or not shaped as docs/data-contracts.md says."""


@dataclass
class WeekMarts:
    """The mart rows one week's packets are built from, grouped for lookup by pair or rep."""

    week: Week
    pairs: list[Row]
    metrics: dict[str, dict[str, Row]]
    activity: dict[str, dict[str, Row]]
    quota: dict[str, dict[str, Row]]
    deals: dict[str, list[Row]]
    fast_movers: dict[str, list[Row]]
    trend_weeks: list[str]
    quota_weeks: list[str]
    feedback_weeks: list[str]
    lessons: dict[str, list[Row]] = field(default_factory=dict)
    people: dict[str, Row] = field(default_factory=dict)
    shared_learnings: list[Row] = field(default_factory=list)
    digest_weeks: list[str] = field(default_factory=list)
    activity_data_missing: bool = False
    tables: dict[str, str] = field(default_factory=dict)
    # The corporate currency and the org's default locale (dim_organization).
    currency: str = "USD"
    org_locale: str | None = None
    # Kinds (calls, emails, meetings) the org does not log in Salesforce this week.
    activity_not_logged: list[str] = field(default_factory=list)
    unconverted: dict[str, list[Row]] = field(default_factory=dict)
    # Per rep: the ids of its large open deals, and its field-feedback themes in packet order.
    large_deals: dict[str, set[str]] = field(default_factory=dict)
    feedback_themes: dict[str, list[Row]] = field(default_factory=dict)
    # Every mention of a theme this week (ordered by theme, kind, rank), and the same by rep.
    feedback_mentions: list[Row] = field(default_factory=list)
    mentions_by_rep: dict[str, list[Row]] = field(default_factory=dict)
    # The learnings digest's themes across all teams, in its order.
    escalations: list[Row] = field(default_factory=list)
    # Per manager: the team in the order to prepare (attention_rank), the team's feedback
    # themes in page order, and the team's numbers by week (the trend weeks it has).
    team: dict[str, list[Row]] = field(default_factory=dict)
    team_themes: dict[str, list[Row]] = field(default_factory=dict)
    team_trend: dict[str, dict[str, Row]] = field(default_factory=dict)
    # By pair: its stuck-deal follow-ups (last week's first, then newly stuck; close it or
    # kill it first within each, then by amount), its agreed actions (due date first) and its
    # rejected learnings entries (newest file first).
    stuck_followups: dict[str, list[Row]] = field(default_factory=dict)
    actions: dict[str, list[Row]] = field(default_factory=dict)
    rejected_learnings: dict[str, list[Row]] = field(default_factory=dict)


def read_week_marts(
    source: Marts | duckdb.DuckDBPyConnection, week: Week, quota_window: int
) -> WeekMarts:
    """Every row the packets of `week` need, in a deterministic order, from the marts (an
    open DuckDB connection is read as the marts of its file)."""
    con = as_marts(source)
    tables = {name: _resolve_table(con, name) for name in MART_COLUMNS}
    trend_weeks = [week.shift(-i).label for i in range(TREND_WEEKS - 1, -1, -1)]
    quota_weeks = [week.shift(-i).label for i in range(max(quota_window, 1) - 1, -1, -1)]
    feedback_weeks = [week.shift(-i).label for i in range(FEEDBACK_WEEKS - 1, -1, -1)]

    pairs = _select(
        con,
        tables,
        "dim_sales_pairs",
        "true",
        [],
        "manager_name, manager_id, rep_name, rep_id",
    )
    metric_rows = _select(
        con, tables, "rpt_pair_metrics_weekly", "week = ?", [week.label], "pair_id, metric"
    )
    activity_rows = _select(
        con,
        tables,
        "fct_rep_activity_weekly",
        "week >= ? and week <= ?",
        [trend_weeks[0], week.label],
        "rep_id, week",
    )
    quota_rows = _select(
        con,
        tables,
        "fct_rep_quota_weekly",
        "week >= ? and week <= ?",
        [quota_weeks[0], week.label],
        "rep_id, week",
    )
    deal_rows = _select(
        con,
        tables,
        "fct_deal_movement_weekly",
        "week = ?",
        [week.label],
        "rep_id, amount desc nulls last, opportunity_id",
    )
    large_rows = _select(
        con, tables, "fct_large_deals_weekly", "week = ?", [week.label], "rep_id, opportunity_id"
    )
    theme_rows = _select(
        con,
        tables,
        "rpt_rep_feedback_themes_weekly",
        "week = ?",
        [week.label],
        "rep_id, theme_rank",
    )
    mention_rows = _select(
        con,
        tables,
        "rpt_feedback_mentions_weekly",
        "week = ?",
        [week.label],
        "theme_key nulls first, mention_kind, mention_rank, source_id",
    )
    escalation_rows = _select(
        con,
        tables,
        "rpt_feedback_escalations_weekly",
        "week = ?",
        [week.label],
        "escalation_rank",
    )
    fast_rows = _select(
        con,
        tables,
        "fct_fast_movers_weekly",
        "week = ?",
        [week.label],
        "rep_id, opportunity_id, reason",
    )

    lesson_rows = _select(
        con,
        tables,
        "rpt_pair_learnings_weekly",
        "week = ?",
        [week.label],
        "pair_id, relevance_rank, learning_id",
    )
    digest_weeks = [week.shift(-i).label for i in range(DIGEST_WEEKS, 0, -1)]
    # Only shareable entries ever leave their pair: private ones are not even read here.
    shared_rows = _select(
        con,
        tables,
        "fct_learnings",
        "is_shareable and week >= ? and week < ?",
        [digest_weeks[0], week.label],
        "week desc, theme, learning_id",
    )

    team_rows = _select(
        con,
        tables,
        "rpt_manager_team_weekly",
        "week = ?",
        [week.label],
        "manager_id, attention_rank",
    )
    team_theme_rows = _select(
        con,
        tables,
        "rpt_manager_feedback_themes_weekly",
        "week = ?",
        [week.label],
        "manager_id, theme_rank",
    )
    team_trend_rows = _select(
        con,
        tables,
        "rpt_manager_team_trend_weekly",
        "week >= ? and week <= ?",
        [trend_weeks[0], week.label],
        "manager_id, week",
    )
    followup_rows = _select(
        con,
        tables,
        "rpt_stuck_deal_followups_weekly",
        "week = ?",
        [week.label],
        "pair_id, was_stuck_last_week desc, is_close_it_or_kill_it desc, stuck_weeks desc, "
        "amount desc nulls last, opportunity_id",
    )
    action_rows = _select(
        con,
        tables,
        "rpt_pair_actions_weekly",
        "week = ?",
        [week.label],
        "pair_id, due_date nulls last, recorded_week, action_id",
    )
    # The entries of the files the run for `week` read (weeks before it); a file that is not
    # under a week folder has no pair, so it never reaches a packet.
    rejected_rows = _select(
        con,
        tables,
        "fct_learnings_rejected",
        "pair_id is not null and week < ?",
        [week.label],
        "pair_id, week desc, source_path, entry_number nulls first, problem_key nulls first",
    )

    people = _select(con, tables, "dim_reps", "true", [], "user_id")
    organization = _select(con, tables, "dim_organization", "true", [], "corporate_currency")
    if len(organization) != 1:
        raise MartError(f"dim_organization has {len(organization)} rows, not 1: rebuild the marts")
    unconverted_rows = _select(
        con,
        tables,
        "fct_unconverted_amounts_weekly",
        "week = ?",
        [week.label],
        "rep_id, record_id, amount_kind",
    )

    metrics: dict[str, dict[str, Row]] = defaultdict(dict)
    for row in metric_rows:
        metrics[row["pair_id"]][row["metric"]] = row
    activity: dict[str, dict[str, Row]] = defaultdict(dict)
    for row in activity_rows:
        activity[row["rep_id"]][row["week"]] = row
    quota: dict[str, dict[str, Row]] = defaultdict(dict)
    for row in quota_rows:
        quota[row["rep_id"]][row["week"]] = row

    # The mart leaves is_no_activity null only in weeks the org logs no kind of activity.
    open_deals = [row for row in deal_rows if row["is_open_end"]]
    activity_missing = bool(open_deals) and all(row["is_no_activity"] is None for row in open_deals)
    # Whether the org logs a kind is the same for every rep of a week.
    week_activity = [row for row in activity_rows if row["week"] == week.label]
    not_logged = [
        kind
        for kind in ("calls", "emails", "meetings")
        if week_activity and not any(row[f"is_{kind}_logged"] for row in week_activity)
    ]

    return WeekMarts(
        week=week,
        pairs=pairs,
        metrics=dict(metrics),
        activity=dict(activity),
        quota=dict(quota),
        deals=_group(deal_rows),
        fast_movers=_group(fast_rows),
        trend_weeks=trend_weeks,
        quota_weeks=quota_weeks,
        feedback_weeks=feedback_weeks,
        lessons=_group(lesson_rows, "pair_id"),
        shared_learnings=shared_rows,
        people={row["user_id"]: row for row in people},
        digest_weeks=digest_weeks,
        activity_data_missing=activity_missing,
        tables=tables,
        currency=organization[0]["corporate_currency"],
        org_locale=organization[0]["default_locale"],
        activity_not_logged=not_logged,
        unconverted=_group(unconverted_rows),
        large_deals={
            rep: {row["opportunity_id"] for row in rows} for rep, rows in _group(large_rows).items()
        },
        feedback_themes=_group(theme_rows),
        feedback_mentions=mention_rows,
        mentions_by_rep=_group(mention_rows),
        escalations=escalation_rows,
        team=_group(team_rows, "manager_id"),
        team_themes=_group(team_theme_rows, "manager_id"),
        team_trend={
            manager: {row["week"]: row for row in rows}
            for manager, rows in _group(team_trend_rows, "manager_id").items()
        },
        stuck_followups=_group(followup_rows, "pair_id"),
        actions=_group(action_rows, "pair_id"),
        rejected_learnings=_group(rejected_rows, "pair_id"),
    )


def reason_codes(value: str | None) -> list[str]:
    """A mart's comma-separated stuck-reason codes (`stuck_reasons`, `previous_stuck_reasons`)
    as a list, in the mart's order; none for null or empty."""
    return [code for code in (value or "").split(",") if code]


def _group(rows: list[Row], key: str = "rep_id") -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return dict(grouped)


def _select(
    con: Marts,
    tables: dict[str, str],
    name: str,
    where: str,
    params: list[Any],
    order_by: str,
) -> list[Row]:
    columns = MART_COLUMNS[name]
    column_list = ", ".join(f'"{c}"' for c in columns)
    # Identifiers come from MART_COLUMNS and the catalog lookup; values are bound parameters.
    sql = f"select {column_list} from {tables[name]} where {where} order by {order_by}"
    try:
        result = con.query(sql, params)
    except WarehouseReadError as exc:
        raise MartError(f"reading {name} for the packets failed: {exc}") from exc
    return [dict(zip(columns, values, strict=True)) for values in result]


def _resolve_table(con: Marts, name: str) -> str:
    """The qualified name of mart `name`, preferring the current database and schema, after
    checking it has every column the packets read."""
    try:
        found = con.query(
            """
            select table_catalog, table_schema,
                table_catalog = current_database() as in_db,
                table_schema = current_schema() as in_schema
            from information_schema.tables
            where table_name = ?
            order by in_db desc, in_schema desc, table_catalog, table_schema
            """,
            [name],
        )
    except WarehouseReadError as exc:
        raise MartError(f"looking up mart {name} in the warehouse failed: {exc}") from exc
    if not found:
        raise MartError(
            f"mart {name} is not in the warehouse: build the marts (dbt) and publish the "
            "warehouse before rendering packets"
        )
    best = [row for row in found if row[2:] == found[0][2:]]
    if len(best) > 1:
        where = ", ".join(f"{c}.{s}" for c, s, *_ in best)
        raise MartError(f"mart {name} is ambiguous: it exists in {where}")
    catalog, schema = found[0][0], found[0][1]
    try:
        rows = con.query(
            "select column_name from information_schema.columns "
            "where table_catalog = ? and table_schema = ? and table_name = ?",
            [catalog, schema, name],
        )
    except WarehouseReadError as exc:
        raise MartError(f"looking up the columns of mart {name} failed: {exc}") from exc
    columns = {row[0] for row in rows}
    missing = [c for c in MART_COLUMNS[name] if c not in columns]
    if missing:
        raise MartError(
            f"mart {catalog}.{schema}.{name} lacks column(s) {', '.join(missing)} "
            "that docs/data-contracts.md promises"
        )
    return f'"{catalog}"."{schema}"."{name}"'
