"""The manager's team page end to end on the generated demo org (the session's shared build):
the team marts summed from the marts they read, recomputed here; each published team page
against rpt_manager_team_weekly (order, reason, numbers), the team's themes and trend; and the
managers' notices naming the first two reps of the mart's order."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
from markupsafe import escape

from salesprep.packets.formatting import MoneyFormat, format_ratio, resolve_money_locale
from salesprep.packets.layout import TEAMS_JSON
from salesprep.packets.publish import publish_rendered_week
from salesprep.packets.render import render_week
from salesprep.packets.team import attention_why

from .demo_builds import DEMO_WEEK, DemoBuild, demo_full_build

pytestmark = pytest.mark.slow

TEAM_COLUMNS = (
    "manager_id, rep_id, rep_name, attention_rank, attention_reason, pacing, coverage, "
    "quota_amount, weeks_below_pacing, performance_conversation_recommended, stuck_deals, "
    "stuck_amount, newly_stuck_deals, close_it_or_kill_it_deals, open_actions, overdue_actions"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return demo_full_build(tmp_path_factory)


@pytest.fixture(scope="module")
def week_dir(built: DemoBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("team-page")
    render_week(DEMO_WEEK, built.settings, root / "rendered", warehouse=built.published)
    publish_rendered_week(root / "rendered", str(root / "shared"), DEMO_WEEK)
    return root / "shared" / DEMO_WEEK.label


def _team(built: DemoBuild) -> dict[str, list[dict]]:
    names = [c.strip() for c in TEAM_COLUMNS.split(",")]
    rows = built.rows(
        f"select {TEAM_COLUMNS} from rpt_manager_team_weekly where week = ? "
        "order by manager_id, attention_rank",
        [DEMO_WEEK.label],
    )
    team: dict[str, list[dict]] = defaultdict(list)
    for values in rows:
        row = dict(zip(names, values, strict=True))
        team[row["manager_id"]].append(row)
    return dict(team)


def _manager_pages(week_dir: Path) -> dict[str, str]:
    """manager_id → the HTML of their team page (the manifest names each manager's folder)."""
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    slugs = {p["manager_id"]: p["manager_slug"] for p in manifest["packets"]}
    return {m: (week_dir / s / "index.html").read_text(encoding="utf-8") for m, s in slugs.items()}


def _section(page: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S)
    assert match, f"no section #{section_id}"
    return match.group(0)


def _rows(section: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>", 1)[1], re.S)


def test_the_team_trend_sums_the_reps_weekly_numbers(built: DemoBuild) -> None:
    prep = built.rows(
        "select p.week, t.manager_id, p.calls, p.emails, p.meetings, p.closed_won_amount, "
        "t.open_pipeline, t.stuck_deals, t.stuck_amount from rpt_pair_prep_weekly p "
        "join rpt_manager_team_weekly t using (pair_id, week)"
    )
    expected: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, 0.0, 0.0, 0, 0.0])
    for week, manager, *values in prep:
        sums = expected[(manager, week)]
        sums[0] += 1
        for i, value in enumerate(values, start=1):
            sums[i] += value or 0
    trend = built.rows(
        "select manager_id, week, reps, calls, emails, meetings, closed_won_amount, "
        "open_pipeline, stuck_deals, stuck_amount from rpt_manager_team_trend_weekly"
    )
    assert len(trend) == len(expected) >= 2 * 10
    for manager, week, *values in trend:
        assert [v or 0 for v in values] == pytest.approx(expected[(manager, week)]), (manager, week)
    assert any(stuck for *_, stuck in trend)


def test_the_team_themes_sum_the_reps_themes(built: DemoBuild) -> None:
    reps = built.rows(
        "select s.manager_id, f.week, f.theme_key, f.rep_id, f.lost_deals, f.lost_amount, "
        "f.next_step_mentions from rpt_rep_feedback_themes_weekly f "
        "join dim_sales_pairs s using (rep_id)"
    )
    expected: dict[tuple, list] = defaultdict(lambda: [set(), 0, 0.0, 0])
    for manager, week, theme, rep, lost, amount, steps in reps:
        sums = expected[(manager, week, theme)]
        sums[0].add(rep)
        sums[1] += lost
        sums[2] += amount
        sums[3] += steps
    themes = built.rows(
        "select manager_id, week, theme_key, reps, lost_deals, lost_amount, next_step_mentions, "
        "escalate_to, is_escalated, theme_rank from rpt_manager_feedback_themes_weekly"
    )
    assert len(themes) == len(expected) > 0
    by_team: dict[tuple, list] = defaultdict(list)
    for manager, week, theme, n_reps, lost, amount, steps, escalate_to, escalated, rank in themes:
        reps_, lost_, amount_, steps_ = expected[(manager, week, theme)]
        assert (n_reps, lost, steps) == (len(reps_), lost_, steps_)
        assert amount == pytest.approx(amount_)
        assert escalated == (escalate_to is not None and lost >= 2)
        by_team[(manager, week)].append((rank, -(lost + steps), -amount, theme))
    # Ranked by mentions, then amount lost, then key; ranks 1..n per team and week.
    for ranked in by_team.values():
        ranked.sort()
        assert [r[0] for r in ranked] == list(range(1, len(ranked) + 1))
        assert [r[1:] for r in ranked] == sorted(r[1:] for r in ranked)
    assert any(escalated for *_, escalated, _ in themes)


def test_each_team_page_shows_the_team_in_the_marts_order(built: DemoBuild, week_dir: Path) -> None:
    currency, locale = built.rows(
        "select corporate_currency, default_locale from dim_organization"
    )[0]
    money = MoneyFormat(currency, resolve_money_locale(built.settings.money_locale, locale))
    metrics = built.settings.metrics
    team = _team(built)
    pages = _manager_pages(week_dir)
    assert set(pages) == set(team) and len(team) == 2
    for manager_id, reps in team.items():
        page = pages[manager_id]
        rows = _rows(_section(page, "team"))
        assert len(rows) == len(reps)
        for row, rep in zip(rows, reps, strict=True):
            assert f"<bdi>{escape(rep['rep_name'])}</bdi>" in row
            assert f'data-label="Order">{rep["attention_rank"]}<' in row
            why = attention_why(
                rep, metrics.close_it_or_kill_it_weeks, metrics.underperformance_window_weeks
            )
            assert str(escape(why)) in row
            assert f'data-label="Pacing">{format_ratio(rep["pacing"])}' in row
            stuck = f'data-label="Stuck deals">{rep["stuck_deals"]}'
            if rep["stuck_deals"]:
                stuck += f" · {money(rep['stuck_amount'])}"
            assert stuck in row
            assert f'Close it or kill it">{rep["close_it_or_kill_it_deals"]}<' in row
            assert f'data-label="Open actions">{rep["open_actions"]}<' in row
            assert ("performance conversation</span>" in row) == bool(
                rep["performance_conversation_recommended"]
            )
        first = _section(page, "first")
        assert [str(escape(r["rep_name"])) for r in reps[:2]] == re.findall(
            r"<strong>\d\. <a [^>]*><bdi>(.*?)</bdi>", first
        )
    # The demo org flags something on every team: the order is not just alphabetical.
    assert any(r["attention_reason"] != "none" for reps in team.values() for r in reps)


def test_each_team_page_has_the_teams_themes_and_trend(built: DemoBuild, week_dir: Path) -> None:
    pages = _manager_pages(week_dir)
    teams = json.loads((week_dir / TEAMS_JSON).read_text(encoding="utf-8"))
    for manager in teams["managers"]:
        manager_id = manager["manager_id"]
        labels = [
            label
            for (label,) in built.rows(
                "select theme_label from rpt_manager_feedback_themes_weekly "
                "where manager_id = ? and week = ? order by theme_rank",
                [manager_id, DEMO_WEEK.label],
            )
        ]
        themes = _rows(_section(pages[manager_id], "feedback"))
        assert [re.search(r'<td class="lead">(.*?)</td>', r).group(1) for r in themes] == [
            str(escape(label)) for label in labels
        ]
        trend = dict(
            built.rows(
                "select week, open_pipeline from rpt_manager_team_trend_weekly "
                "where manager_id = ? and week <= ?",
                [manager_id, DEMO_WEEK.label],
            )
        )
        assert manager["trend"]["open_pipeline"] == [
            pytest.approx(trend[w]) if w in trend else None for w in manager["trend_weeks"]
        ]
        assert _section(pages[manager_id], "trend").count("<svg") == 1


def test_each_manager_is_told_the_first_two_reps_with_the_reason(
    built: DemoBuild, week_dir: Path
) -> None:
    from salesprep.orchestration.notify import manager_emails, manager_notices, read_teams

    shared = str(week_dir.parent)
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    notices = manager_notices(
        manifest,
        manager_emails(built.published),
        "https://intranet.example/1on1s",
        read_teams(shared, DEMO_WEEK.label),
    )
    team = _team(built)
    metrics = built.settings.metrics
    assert len(notices) == len(team)
    for notice in notices:
        reps = team[notice.manager_id]
        assert [(a.rank, a.rep_name) for a in notice.first] == [
            (r["attention_rank"], r["rep_name"]) for r in reps[:2]
        ]
        html = notice.html
        assert notice.folder_url.endswith("/index.html") and notice.folder_url in html
        for rep in reps[:2]:
            why = attention_why(
                rep, metrics.close_it_or_kill_it_weeks, metrics.underperformance_window_weeks
            )
            assert f"{escape(rep['rep_name'])}</a>: {escape(why)}</li>" in html
