"""The manager's team page (`<manager>/index.html`) and its data (`teams.json`): the team in
the mart's order with the reason, each rep's numbers in the corporate currency, the team's
field-feedback themes and trend chart, CRM text escaped, links to every packet."""

from __future__ import annotations

import html
import json
import re

import pytest
from markupsafe import escape

from salesprep.packets.context import week_money
from salesprep.packets.layout import TEAMS_JSON, pair_slugs
from salesprep.packets.marts import read_week_marts
from salesprep.packets.publish import PublishError, publish_week
from salesprep.packets.render import render_packet
from salesprep.packets.team import TeamDataError, WeekTeams, parse_teams, team_pages

from .marts_fixture import HOSTILE, M1, M2, PAIRS, R1, R2, R3, R4, WEEK


@pytest.fixture(scope="module")
def teams(con, settings) -> WeekTeams:
    marts = read_week_marts(con, WEEK, settings.metrics.underperformance_window_weeks)
    return team_pages(marts, settings, week_money(marts, settings))


@pytest.fixture(scope="module")
def published(tmp_path_factory, rendered, teams):
    root = tmp_path_factory.mktemp("team") / "shared"
    publish_week(rendered, str(root), WEEK, {TEAMS_JSON: teams.to_json()})
    slugs = pair_slugs(
        (p["manager_id"], p["manager_name"], p["rep_id"], p["rep_name"]) for p in PAIRS
    )
    return root / WEEK.label, slugs


def _page(published, manager_id: str) -> str:
    week_dir, slugs = published
    m_slug = {m: s for (m, _), (s, _) in slugs.items()}[manager_id]
    return (week_dir / m_slug / "index.html").read_text(encoding="utf-8")


def _section(page: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S)
    assert match, f"no section #{section_id}"
    return match.group(0)


def _rows(section: str) -> list[str]:
    body = section.split("<tbody>", 1)[1]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_the_team_follows_the_marts_order_with_the_reason(teams):
    dana = teams.manager(M1)
    assert [(r.rep_id, r.rank, r.reason) for r in dana.reps] == [
        (R2, 1, "performance_conversation"),
        (R1, 2, "close_it_or_kill_it"),
        (R3, 3, "none"),
    ]
    assert [r.why for r in dana.first] == [
        "performance conversation recommended (pacing 0.20×, below pace in 4 of the last 4 weeks)",
        "1 deal stuck 3+ weeks in a row: close it or kill it",
    ]
    assert dana.reps[2].why == "no quota this quarter, nothing flagged"
    assert [r.why for r in teams.manager(M2).reps] == ["pacing 0.90×, nothing else flagged"]
    assert [t.theme_key for t in dana.themes] == ["implementation", "price", "competitor", "other"]
    assert teams.manager(M2).themes == []


def test_the_trend_has_a_value_per_week_and_gaps_where_the_mart_has_no_row(teams):
    dana = teams.manager(M1)
    assert dana.trend_weeks[-1] == WEEK.label and len(dana.trend_weeks) == 13
    assert dana.trend["calls"][-3:] == [40, 31, 23]
    assert dana.trend["open_pipeline"][-3:] == [300000, 350000, 370000]
    assert dana.trend["calls"][:-3] == [None] * 10


def test_teams_json_round_trips_and_bad_data_is_named(teams):
    text = teams.to_json()
    assert parse_teams(text) == teams
    assert parse_teams(text).to_json() == text
    with pytest.raises(TeamDataError, match=r"teams\.json"):
        parse_teams('{"week": "2026-W10"}')
    with pytest.raises(TeamDataError, match=r"teams\.json"):
        parse_teams("not json")


def test_the_page_lists_the_team_in_order_with_numbers_and_packet_links(published, teams):
    page = _page(published, M1)
    _, slugs = published
    team = _section(page, "team")
    rows = _rows(team)
    assert len(rows) == 3
    for row, rep in zip(rows, teams.manager(M1).reps, strict=True):
        rep_slug = slugs[(M1, rep.rep_id)][1]
        assert f'href="{rep_slug}.html"' in row
        assert f'data-label="Order">{rep.rank}</td>' in row
        assert str(escape(rep.why)) in row
    # R2: pacing and coverage as ratios, stuck deals with their value in the corporate currency,
    # overdue actions marked, the performance flag.
    first = rows[0]
    assert 'data-label="Pacing">0.20×' in first and 'data-label="Coverage">0.33×' in first
    assert 'data-label="Stuck deals">1 · $60,000' in first and "1 new" in first
    assert 'class="num down" data-label="Overdue actions">2<' in first
    assert "performance conversation</span>" in first
    # R1: one deal to close or kill, actions open.
    assert 'data-label="Close it or kill it">1<' in rows[1]
    assert 'data-label="Open actions">2<' in rows[1]
    assert 'data-label="Stuck deals">2 · $200,000' in rows[1]
    # R3 has no quota: nothing to pace or cover.
    assert 'data-label="Pacing">—' in rows[2] and 'data-label="Coverage">—' in rows[2]

    attention = _section(page, "first")
    order = [
        html.unescape(name)
        for name in re.findall(r"<strong>\d\. <a [^>]*><bdi>(.*?)</bdi>", attention)
    ]
    assert order == [HOSTILE, "Alex Rep"]

    packets = _section(page, "packets")
    for pair in PAIRS[:3]:
        assert f'href="{slugs[(M1, pair["rep_id"])][1]}.html"' in packets
    assert 'href="../teams.json"' in page


def test_the_page_has_the_teams_themes_and_trend_chart(published):
    page = _page(published, M1)
    themes = _rows(_section(page, "feedback"))
    assert [re.search(r'<td class="lead">(.*?)</td>', row).group(1) for row in themes] == [
        "Implementation timeline",
        "Price",
        "Competitor",
        "Other reasons",
    ]
    assert "take to the head of services" in themes[0]  # 2 losses across the team
    assert "sales leadership (pricing) if it recurs" in themes[1]
    assert 'data-label="Lost amount">$60,000<' in themes[0]
    trend = _section(page, "trend")
    assert trend.count("<svg") == 1
    assert "2025-W50 to 2026-W10" in trend and "open pipeline" in trend


def test_crm_text_on_the_team_page_is_escaped(published):
    page = _page(published, M1)
    assert "<script>" not in page
    assert str(escape(HOSTILE)) in page


def test_teams_json_is_published_beside_the_week_index(published, teams):
    week_dir, _ = published
    assert json.loads((week_dir / TEAMS_JSON).read_text(encoding="utf-8")) == json.loads(
        teams.to_json()
    )
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    assert TEAMS_JSON in {f["path"] for f in manifest["files"]}


def test_money_on_the_team_page_is_the_corporate_currency_in_the_org_locale(
    tmp_path, intl_contexts, settings
):
    import duckdb

    from .marts_fixture import international_table_rows, write_warehouse

    path = write_warehouse(tmp_path / "intl.duckdb", international_table_rows())
    con = duckdb.connect(str(path), read_only=True)
    try:
        marts = read_week_marts(con, WEEK, 4)
    finally:
        con.close()
    teams = team_pages(marts, settings, week_money(marts, settings))
    assert (teams.currency, teams.money_locale) == ("EUR", "de_DE")
    rendered = [render_packet(ctx) for ctx in intl_contexts.values()]
    publish_week(rendered, str(tmp_path / "shared"), WEEK, {TEAMS_JSON: teams.to_json()})
    [page] = [
        p.read_text(encoding="utf-8")
        for p in (tmp_path / "shared" / WEEK.label).glob("*/index.html")
        if "Dana Manager" in p.read_text(encoding="utf-8")
    ]
    assert "200.000\xa0€" in _section(page, "team")
    assert "amounts in EUR" in page


def test_a_week_without_team_data_lists_its_packets_only(tmp_path, rendered):
    publish_week(rendered, str(tmp_path), WEEK)
    pages = list((tmp_path / WEEK.label).glob("*/index.html"))
    assert len(pages) == 2
    for path in pages:
        page = path.read_text(encoding="utf-8")
        assert 'id="packets"' in page and 'id="team"' not in page and "teams.json" not in page


def test_team_data_of_another_week_or_malformed_is_refused(tmp_path, rendered, teams):
    other = WeekTeams(**{**teams.__dict__, "week": "2026-W09"})
    with pytest.raises(PublishError, match=r"teams\.json is for 2026-W09, not 2026-W10"):
        publish_week(rendered, str(tmp_path), WEEK, {TEAMS_JSON: other.to_json()})
    with pytest.raises(PublishError, match=r"teams\.json is not the team data"):
        publish_week(rendered, str(tmp_path), WEEK, {TEAMS_JSON: "[]"})
    assert not (tmp_path / WEEK.label).exists()


def test_the_rendered_week_carries_the_team_data(tmp_path, settings):
    from salesprep.packets import publish_rendered_week
    from salesprep.packets.render import render_week

    render_week(WEEK, settings, tmp_path / "rendered")
    data = json.loads((tmp_path / "rendered" / "extra" / TEAMS_JSON).read_text(encoding="utf-8"))
    assert [m["manager_id"] for m in data["managers"]] == [M1, M2]
    publish_rendered_week(tmp_path / "rendered", str(tmp_path / "shared"), WEEK)
    pages = sorted((tmp_path / "shared" / WEEK.label).glob("*/index.html"))
    assert all('id="team"' in p.read_text(encoding="utf-8") for p in pages)
    assert data["managers"][1]["reps"][0]["rep_id"] == R4
