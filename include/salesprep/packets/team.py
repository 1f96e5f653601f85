"""The managers' team pages of a week, as data: `teams.json`, published beside the week index,
from which publish renders each `<manager-slug>/index.html` and the notification names the
reps who need attention first.

Everything here is selected from the marts (rpt_manager_team_weekly for the order and its
reason, rpt_manager_feedback_themes_weekly for the team's themes, rpt_manager_team_trend_weekly
for the trend) and worded; nothing is counted, summed or ranked here."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from salesprep.config import Settings
from salesprep.packets.formatting import MoneyFormat, format_ratio
from salesprep.packets.layout import TEAMS_JSON
from salesprep.packets.marts import Row, WeekMarts
from salesprep.packets.model import SCHEMA_VERSION, plain_number, to_plain

# The series of the team trend chart (charts.team_trend_svg), columns of the trend mart.
TREND_SERIES = ("calls", "emails", "meetings", "open_pipeline", "stuck_amount")


class TeamDataError(ValueError):
    """A teams.json that is not what team_pages writes; the message names the problem."""


@dataclass
class TeamRep:
    """One rep on the team page, in the order to prepare (`rank`), with why they are there."""

    rep_id: str
    rep_name: str
    rank: int
    reason: str
    why: str
    quota_amount: float | None
    attainment: float | None
    pacing: float | None
    coverage: float | None
    open_pipeline: float | None
    weeks_below_pacing: int | None
    performance_conversation_recommended: bool
    stuck_deals: int
    stuck_amount: float
    newly_stuck_deals: int
    close_it_or_kill_it_deals: int
    open_actions: int
    overdue_actions: int
    done_actions: int


@dataclass
class TeamTheme:
    """A field-feedback theme of the team, in page order."""

    theme_key: str
    label: str
    escalate_to: str | None
    reps: int
    lost_deals: int
    lost_amount: float
    next_step_mentions: int
    mentions: int
    is_escalated: bool


@dataclass
class TeamPage:
    """One manager's team for the week."""

    manager_id: str
    manager_name: str
    reps: list[TeamRep]
    themes: list[TeamTheme]
    # The trend chart: the weeks, and per series in TREND_SERIES a value per week (None where
    # the mart has no row or the org logs no such activity).
    trend_weeks: list[str]
    trend: dict[str, list[float | int | None]]
    activity_not_logged: list[str] = field(default_factory=list)

    @property
    def first(self) -> list[TeamRep]:
        """The two reps who need attention first."""
        return self.reps[:2]


@dataclass
class WeekTeams:
    """Every manager's team page of a week, and how its money is written."""

    week: str
    currency: str
    money_locale: str
    managers: list[TeamPage]
    close_it_or_kill_it_weeks: int
    underperformance_window_weeks: int
    schema_version: str = SCHEMA_VERSION

    @property
    def money(self) -> MoneyFormat:
        return MoneyFormat(self.currency, self.money_locale)

    def manager(self, manager_id: str) -> TeamPage | None:
        for page in self.managers:
            if page.manager_id == manager_id:
                return page
        return None

    def to_json(self) -> str:
        """Deterministic: fixed order, no wall-clock values."""
        return json.dumps(to_plain(self), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def attention_why(row: Row, close_weeks: int, window_weeks: int) -> str:
    """Why the rep is where they are in the order, in words, from the mart's reason and the
    counts behind it (rpt_manager_team_weekly)."""
    reason = row["attention_reason"]
    if reason == "performance_conversation":
        below = row["weeks_below_pacing"]
        weeks = (
            f", below pace in {below} of the last {window_weeks} weeks" if below is not None else ""
        )
        return f"performance conversation recommended (pacing {format_ratio(row['pacing'])}{weeks})"
    if reason == "close_it_or_kill_it":
        count = row["close_it_or_kill_it_deals"]
        deals = "deal" if count == 1 else "deals"
        return f"{count} {deals} stuck {close_weeks}+ weeks in a row: close it or kill it"
    if reason == "overdue_actions":
        count = row["overdue_actions"]
        return f"{count} agreed {'action' if count == 1 else 'actions'} overdue"
    if reason == "pacing":
        return f"pacing {format_ratio(row['pacing'])}, nothing else flagged"
    if reason == "none":
        return "no quota this quarter, nothing flagged"
    raise TeamDataError(f"rpt_manager_team_weekly has an unknown attention_reason {reason!r}")


def team_pages(marts: WeekMarts, settings: Settings, money: MoneyFormat) -> WeekTeams:
    """The team page of every manager with a pair this week, managers in dim_sales_pairs
    order, reps in the mart's attention order."""
    close_weeks = settings.metrics.close_it_or_kill_it_weeks
    window = settings.metrics.underperformance_window_weeks
    names: dict[str, str] = {}
    for pair in marts.pairs:
        names.setdefault(pair["manager_id"], pair["manager_name"] or "")
    pages = []
    for manager_id, manager_name in names.items():
        rows = marts.team.get(manager_id, [])
        trend_rows = marts.team_trend.get(manager_id, {})
        pages.append(
            TeamPage(
                manager_id=manager_id,
                manager_name=manager_name,
                reps=[_rep(row, close_weeks, window) for row in rows],
                themes=[_theme(row) for row in marts.team_themes.get(manager_id, [])],
                trend_weeks=list(marts.trend_weeks),
                trend={
                    name: [
                        plain_number(trend_rows[week][name]) if week in trend_rows else None
                        for week in marts.trend_weeks
                    ]
                    for name in TREND_SERIES
                },
                activity_not_logged=list(marts.activity_not_logged),
            )
        )
    return WeekTeams(
        week=marts.week.label,
        currency=money.currency,
        money_locale=money.locale,
        managers=pages,
        close_it_or_kill_it_weeks=close_weeks,
        underperformance_window_weeks=window,
    )


def _rep(row: Row, close_weeks: int, window: int) -> TeamRep:
    return TeamRep(
        rep_id=row["rep_id"],
        rep_name=row["rep_name"] or "",
        rank=row["attention_rank"],
        reason=row["attention_reason"],
        why=attention_why(row, close_weeks, window),
        quota_amount=plain_number(row["quota_amount"]),
        attainment=plain_number(row["attainment"]),
        pacing=plain_number(row["pacing"]),
        coverage=plain_number(row["coverage"]),
        open_pipeline=plain_number(row["open_pipeline"]),
        weeks_below_pacing=row["weeks_below_pacing"],
        performance_conversation_recommended=bool(row["performance_conversation_recommended"]),
        stuck_deals=row["stuck_deals"],
        stuck_amount=plain_number(row["stuck_amount"]),
        newly_stuck_deals=row["newly_stuck_deals"],
        close_it_or_kill_it_deals=row["close_it_or_kill_it_deals"],
        open_actions=row["open_actions"],
        overdue_actions=row["overdue_actions"],
        done_actions=row["done_actions"],
    )


def _theme(row: Row) -> TeamTheme:
    return TeamTheme(
        theme_key=row["theme_key"],
        label=row["theme_label"],
        escalate_to=row["escalate_to"],
        reps=row["reps"],
        lost_deals=row["lost_deals"],
        lost_amount=plain_number(row["lost_amount"]),
        next_step_mentions=row["next_step_mentions"],
        mentions=row["mentions"],
        is_escalated=bool(row["is_escalated"]),
    )


def parse_teams(text: str | bytes) -> WeekTeams:
    """A teams.json as team_pages wrote it; anything else is a TeamDataError naming what."""
    try:
        data = json.loads(text)
        return WeekTeams(
            week=str(data["week"]),
            currency=str(data["currency"]),
            money_locale=str(data["money_locale"]),
            close_it_or_kill_it_weeks=int(data["close_it_or_kill_it_weeks"]),
            underperformance_window_weeks=int(data["underperformance_window_weeks"]),
            schema_version=str(data["schema_version"]),
            managers=[_page(page) for page in data["managers"]],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise TeamDataError(f"{TEAMS_JSON} is not the team data salesprep writes: {exc!r}") from exc


def _page(data: Mapping[str, Any]) -> TeamPage:
    return TeamPage(
        manager_id=str(data["manager_id"]),
        manager_name=str(data["manager_name"]),
        reps=[TeamRep(**rep) for rep in data["reps"]],
        themes=[TeamTheme(**theme) for theme in data["themes"]],
        trend_weeks=[str(week) for week in data["trend_weeks"]],
        trend={str(name): list(values) for name, values in data["trend"].items()},
        activity_not_logged=[str(kind) for kind in data["activity_not_logged"]],
    )
