"""The demo org behaves like a real sales team's org. Each check here can fail: it reads the
CSVs back and recomputes what a sales-ops analyst would look at."""

from __future__ import annotations

import itertools
import statistics
import unicodedata
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from salesprep.catalog import objects_for
from salesprep.org_folder import parse_datetime

from .conftest import ARGS, END_WEEK, Org

WINDOW_START = END_WEEK.shift(-(ARGS["weeks"] - 1)).start(tz="UTC")
WINDOW_END = END_WEEK.end(tz="UTC")
STANDARD_STAGES = [
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
]
THEMES = {
    "implementation": ("implementation", "onboarding", "go-live", "rollout"),
    "price": ("price", "pricing", "budget cut", "cost", "discount"),
    "competitor": ("competitor", "vendor"),
    "no_decision": ("no decision", "timing", "on hold", "shelved", "went dark", "deprioritized"),
}


def _by(rows: list[dict[str, str]], key: str) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def _history(org: Org) -> dict[str, list[dict[str, str]]]:
    grouped = _by(org.rows("OpportunityHistory"), "OpportunityId")
    for rows in grouped.values():
        rows.sort(key=lambda r: (r["CreatedDate"], r["Id"]))
    return grouped


def _stages(org: Org) -> dict[str, dict[str, str]]:
    return {r["ApiName"]: r for r in org.rows("OpportunityStage")}


def _live(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if r.get("IsDeleted") != "true"]


def test_stage_table_is_the_standard_salesforce_list(org: Org) -> None:
    rows = sorted(org.rows("OpportunityStage"), key=lambda r: int(r["SortOrder"]))
    assert [r["ApiName"] for r in rows] == STANDARD_STAGES
    assert all(r["MasterLabel"] == r["ApiName"] for r in rows)
    assert [r["IsClosed"] for r in rows] == ["false"] * 8 + ["true"] * 2
    assert [r["IsWon"] for r in rows] == ["false"] * 8 + ["true", "false"]
    assert [int(r["DefaultProbability"]) for r in rows] == [10, 10, 20, 50, 60, 70, 75, 90, 100, 0]
    assert rows[-1]["ForecastCategoryName"] == "Omitted" and rows[-2]["ForecastCategoryName"] == (
        "Closed"
    )


def test_team_has_a_vp_managers_reps_and_an_admin(org: Org) -> None:
    users = {u["Id"]: u for u in org.rows("User")}
    profiles = {p["Id"]: p["Name"] for p in org.rows("Profile")}
    roles = {r["Id"]: r for r in org.rows("UserRole")}
    assert set(profiles.values()) == {"Standard User", "Sales Manager", "System Administrator"}
    roots = [u for u in users.values() if not u["ManagerId"]]
    vp = next(u for u in roots if u["Title"] == "VP Sales")
    admin = next(u for u in roots if profiles[u["ProfileId"]] == "System Administrator")
    assert len(roots) == 2 and admin["IsActive"] == "true"
    assert not roles[vp["UserRoleId"]]["ParentRoleId"]
    managers = [u for u in users.values() if u["ManagerId"] == vp["Id"] and u["IsActive"] == "true"]
    assert len(managers) == ARGS["managers"]
    reports = Counter(u["ManagerId"] for u in users.values() if u["IsActive"] == "true")
    assert all(reports[m["Id"]] >= 1 for m in managers)
    active_reps = [
        u for u in users.values() if u["Id"] in org.summary.personas and u["IsActive"] == "true"
    ]
    assert len(active_reps) == ARGS["reps"]
    for rep in active_reps:
        manager = users[rep["ManagerId"]]
        # The role hierarchy mirrors the reporting line: rep role under the manager's role.
        assert roles[rep["UserRoleId"]]["ParentRoleId"] == manager["UserRoleId"]
        assert roles[manager["UserRoleId"]]["ParentRoleId"] == vp["UserRoleId"]
        assert profiles[rep["ProfileId"]] == "Standard User"
    assert set(org.summary.personas.values()) == {"top", "steady", "struggling", "new_hire"}


def test_edge_cases_exist(org: Org) -> None:
    users = {u["Id"]: u for u in org.rows("User")}
    edge = org.summary.edge_cases
    orphan = users[edge["rep_with_inactive_manager"]]
    assert orphan["IsActive"] == "true"
    assert users[orphan["ManagerId"]]["IsActive"] == "false"
    assert orphan["ManagerId"] == edge["inactive_manager"]
    assert not any(u["ManagerId"] == orphan["Id"] for u in users.values())
    former = users[edge["inactive_rep"]]
    assert former["IsActive"] == "false"
    left = parse_datetime(former["LastModifiedDate"])
    owned = [o for o in org.rows("Opportunity") if o["OwnerId"] == former["Id"]]
    assert len(owned) >= 5 and all(parse_datetime(o["CreatedDate"]) < left for o in owned)
    assert any(o["IsClosed"] == "false" for o in owned)  # stale deals left behind
    no_quota = users[edge["rep_without_quota"]]
    assert users[no_quota["ManagerId"]]["IsActive"] == "true"
    assert not any(q["QuotaOwnerId"] == no_quota["Id"] for q in org.rows("ForecastingQuota"))
    active = {i for i, u in users.items() if u["IsActive"] == "true"}
    pairs = [
        u
        for u in users.values()
        if u["Id"] in org.summary.personas and u["Id"] in active and u["ManagerId"] in active
    ]
    assert len(pairs) == org.summary.pairs == ARGS["reps"] - 1


def test_names_include_hard_strings(org: Org) -> None:
    names = [u["Name"] for u in org.rows("User")]
    assert any("'" in n for n in names)
    assert any(
        any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", n)) for n in names
    )
    assert any(any("CYRILLIC" in unicodedata.name(c, "") for c in n) for n in names)
    accounts = [a["Name"] for a in org.rows("Account")]
    assert any("," in a for a in accounts) and any('"' in a for a in accounts)
    assert len(set(accounts)) == len(accounts)
    industries = Counter(a["Industry"] for a in org.rows("Account"))
    assert len(industries) >= 10 and industries.most_common(1)[0][1] < len(accounts) / 3


def test_nothing_is_dated_outside_the_window(org: Org) -> None:
    last_day = END_WEEK.last_day.isoformat()
    first_day = WINDOW_START.date().isoformat()
    for sobject in objects_for():
        rows = org.rows(sobject.name)
        for f in sobject.fields_for():
            if f.type == "datetime":
                for row in rows:
                    if row[f.name]:
                        instant = parse_datetime(row[f.name])
                        assert WINDOW_START <= instant < WINDOW_END, (sobject.name, f.name, row)
            elif f.type == "date" and f.name == "ActivityDate":
                assert all(first_day <= r[f.name] <= last_day for r in rows if r[f.name])
    opportunities = org.rows("Opportunity")
    assert all(o["CloseDate"] <= last_day for o in opportunities if o["IsClosed"] == "true")
    for row in org.rows("OpportunityHistory"):
        if row["StageName"] in ("Closed Won", "Closed Lost"):
            assert row["CloseDate"] <= last_day
    # Only a plan looks ahead: open deals expected to close after the window.
    assert any(o["CloseDate"] > last_day for o in opportunities if o["IsClosed"] == "false")
    assert all(q["StartDate"] <= last_day for q in org.rows("ForecastingQuota"))


def test_history_agrees_with_the_current_record(org: Org) -> None:
    stages = _stages(org)
    history = _history(org)
    changes = _by(org.rows("OpportunityFieldHistory"), "OpportunityId")
    for opp in org.rows("Opportunity"):
        rows = history[opp["Id"]]
        last = rows[-1]
        for column in ("StageName", "Amount", "CloseDate", "Probability"):
            assert opp[column] == last[column], (opp["Id"], column)
        stage = stages[opp["StageName"]]
        assert (opp["IsClosed"], opp["IsWon"]) == (stage["IsClosed"], stage["IsWon"])
        assert opp["Probability"] == stage["DefaultProbability"]
        assert opp["ForecastCategoryName"] == stage["ForecastCategoryName"]
        assert rows[0]["CreatedDate"] == opp["CreatedDate"]
        stamps = [r["CreatedDate"] for r in rows]
        assert stamps == sorted(set(stamps)), opp["Id"]
        assert opp["LastModifiedDate"] == opp["SystemModstamp"] >= last["CreatedDate"]
        if opp["IsDeleted"] == "false":
            assert opp["SystemModstamp"] == last["CreatedDate"]
        assert {r["IsDeleted"] for r in rows} == {opp["IsDeleted"]}
        assert bool(opp["Loss_Reason__c"]) == (opp["StageName"] == "Closed Lost")
        expected = []
        for before, after in itertools.pairwise(rows):
            for column in ("StageName", "Amount", "CloseDate"):
                if before[column] != after[column]:
                    expected.append((after["CreatedDate"], column, before[column], after[column]))
        logged = sorted(
            (c["CreatedDate"], c["Field"], c["OldValue"], c["NewValue"])
            for c in changes.get(opp["Id"], [])
        )
        assert logged == sorted(expected), opp["Id"]


def test_deals_move_through_stages_like_real_deals(org: Org) -> None:
    order = {name: int(row["SortOrder"]) for name, row in _stages(org).items()}
    skips = regressions = reopened = 0
    dwell_days: list[float] = []
    for rows in _history(org).values():
        moves = [
            r for i, r in enumerate(rows) if i == 0 or r["StageName"] != rows[i - 1]["StageName"]
        ]
        for before, after in itertools.pairwise(moves):
            gap = parse_datetime(after["CreatedDate"]) - parse_datetime(before["CreatedDate"])
            # Days, not instantly: a deal never changes stage twice within half a day.
            assert gap >= timedelta(hours=12), after["OpportunityId"]
            a, b = order[before["StageName"]], order[after["StageName"]]
            if a <= 8 and b <= 8:
                skips += b - a >= 2
                regressions += b < a
            reopened += a >= 9 and b <= 8
            dwell_days.append(gap.total_seconds() / 86_400)
    opportunities = org.rows("Opportunity")
    assert skips >= 10 and regressions >= 5 and reopened >= 1
    assert statistics.median(dwell_days) >= 4
    live = _live(opportunities)
    won = sum(o["IsWon"] == "true" for o in live)
    lost = sum(o["StageName"] == "Closed Lost" for o in live)
    assert 0.15 <= won / (won + lost) <= 0.5
    assert sum(o["Amount"] == "" for o in live) >= 5
    assert 1 <= sum(o["IsDeleted"] == "true" for o in opportunities) < len(opportunities) / 50
    open_deals = [o for o in live if o["IsClosed"] == "false"]
    assert sum(bool(o["NextStep"]) for o in open_deals) >= 0.7 * len(open_deals)
    # Stalled deals: in the same stage for 8 weeks or more at the window's end.
    history = _history(org)
    stalled = 0
    for opp in open_deals:
        rows = history[opp["Id"]]
        start = rows[-1]
        for row in reversed(rows):
            if row["StageName"] != opp["StageName"]:
                break
            start = row
        stalled += WINDOW_END - parse_datetime(start["CreatedDate"]) >= timedelta(weeks=8)
    assert stalled >= 5


def test_close_dates_get_pushed_again_and_again(org: Org) -> None:
    pushes: dict[str, list[datetime]] = defaultdict(list)
    for change in org.rows("OpportunityFieldHistory"):
        if change["Field"] == "CloseDate" and change["NewValue"] > change["OldValue"]:
            pushes[change["OpportunityId"]].append(parse_datetime(change["CreatedDate"]))
    opportunities = _live(org.rows("Opportunity"))
    assert sum(len(p) >= 2 for p in pushes.values()) >= 0.05 * len(opportunities)
    horizon = WINDOW_END - timedelta(days=90)
    recent = [
        o
        for o in opportunities
        if o["IsClosed"] == "false" and sum(t >= horizon for t in pushes[o["Id"]]) >= 2
    ]
    assert len(recent) >= 3


def test_loss_reasons_repeat_a_few_themes_in_varied_words(org: Org) -> None:
    reasons = [o["Loss_Reason__c"] for o in _live(org.rows("Opportunity")) if o["Loss_Reason__c"]]
    themes: Counter[str] = Counter()
    for reason in reasons:
        text = reason.lower()
        for theme, words in THEMES.items():
            if any(w in text for w in words):
                themes[theme] += 1
                break
    assert sum(themes.values()) >= 0.95 * len(reasons)
    assert all(themes[t] >= 0.08 * len(reasons) for t in THEMES), themes
    assert len(set(reasons)) >= 15


def _won_by_owner(org: Org) -> Counter[str]:
    won: Counter[str] = Counter()
    for opp in _live(org.rows("Opportunity")):
        if opp["IsWon"] == "true" and opp["Amount"]:
            won[opp["OwnerId"]] += float(opp["Amount"])
    return won


def test_personas_differ_in_won_amount(org: Org) -> None:
    won = _won_by_owner(org)
    edge = set(org.summary.edge_cases.values())
    by_persona: dict[str, list[float]] = defaultdict(list)
    for user_id, persona in org.summary.personas.items():
        if user_id not in edge:
            by_persona[persona].append(won[user_id])
    mean = {p: statistics.mean(v) for p, v in by_persona.items()}
    assert mean["top"] > 1.3 * mean["steady"], mean
    assert mean["steady"] > 1.3 * mean["struggling"], mean
    assert mean["new_hire"] < mean["steady"], mean


def _quarter(day: date) -> tuple[date, date]:
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    end = date(start.year + start.month // 10, (start.month + 2) % 12 + 1, 1)
    return start, end


def test_struggling_reps_pace_below_0_7_and_top_reps_above(org: Org) -> None:
    quotas: Counter[tuple[str, str]] = Counter()
    for q in org.rows("ForecastingQuota"):
        quotas[(q["QuotaOwnerId"], q["StartDate"])] += float(q["QuotaAmount"])
    wins = [
        (o["OwnerId"], o["CloseDate"], float(o["Amount"]))
        for o in _live(org.rows("Opportunity"))
        if o["IsWon"] == "true" and o["Amount"]
    ]

    def pacing(rep: str, weeks_back: int) -> float:
        week = END_WEEK.shift(-weeks_back)
        start, end = _quarter(week.last_day)
        until = min(week.end_date, end)
        won = sum(a for o, d, a in wins if o == rep and start.isoformat() <= d < until.isoformat())
        elapsed = (until - start).days / (end - start).days
        return won / quotas[(rep, start.isoformat())] / elapsed

    personas = org.summary.personas
    struggling = [r for r, p in personas.items() if p == "struggling"]
    for rep in struggling:
        below = sum(pacing(rep, k) < 0.7 for k in range(4))
        assert below >= 3, [round(pacing(rep, k), 2) for k in range(4)]

    def recent(rep: str) -> float:
        return statistics.mean(pacing(rep, k) for k in range(4))

    top = [recent(r) for r, p in personas.items() if p == "top"]
    worst = max(recent(r) for r in struggling)
    assert statistics.median(top) > worst, (top, worst)


def test_new_hires_start_inside_the_window_and_work_only_after(org: Org) -> None:
    users = {u["Id"]: u for u in org.rows("User")}
    hires = [r for r, p in org.summary.personas.items() if p == "new_hire"]
    assert hires
    for rep in hires:
        joined = parse_datetime(users[rep]["CreatedDate"])
        assert WINDOW_START + timedelta(weeks=4) <= joined < WINDOW_END - timedelta(weeks=4)
        owned = [o for o in org.rows("Opportunity") if o["OwnerId"] == rep]
        assert owned and all(parse_datetime(o["CreatedDate"]) >= joined for o in owned)
        events = [e for e in org.rows("Event") if e["OwnerId"] == rep]
        assert events and all(parse_datetime(e["StartDateTime"]) >= joined for e in events)
        tasks = [t for t in org.rows("Task") if t["OwnerId"] == rep]
        assert tasks and all(parse_datetime(t["CreatedDate"]) >= joined for t in tasks)
        assert all(
            q["StartDate"] > joined.date().isoformat()
            for q in org.rows("ForecastingQuota")
            if q["QuotaOwnerId"] == rep
        )


def test_tasks_vary_week_to_week_and_cover_the_metric_rules(org: Org) -> None:
    tasks = org.rows("Task")
    owners = {o["Id"]: o["OwnerId"] for o in org.rows("Opportunity")}
    fallback = [t for t in tasks if t["TaskSubtype"] == "" and t["Type"] == "Call"]
    assert len(fallback) >= 10 and any(t["IsClosed"] == "true" for t in fallback)
    open_tasks = [t for t in tasks if t["IsClosed"] == "false"]
    assert open_tasks and all(t["Status"] != "Completed" for t in open_tasks)
    assert all(t["Status"] == "Completed" for t in tasks if t["IsClosed"] == "true")
    assert 1 <= sum(t["IsDeleted"] == "true" for t in tasks) < len(tasks) / 50
    on_deals = [t for t in tasks if t["WhatId"].startswith("006")]
    assert len(on_deals) >= 0.6 * len(tasks)
    assert all(owners[t["WhatId"]] == t["OwnerId"] for t in on_deals)
    # Calls per rep-week, by the METRICS rule: busy weeks, quiet weeks, vacation weeks.
    calls: Counter[tuple[str, str]] = Counter()
    for t in _live(tasks):
        kind = t["TaskSubtype"] or t["Type"]
        if t["IsClosed"] == "true" and kind == "Call":
            iso = date.fromisoformat(t["ActivityDate"]).isocalendar()
            calls[(t["OwnerId"], f"{iso.year}-W{iso.week:02d}")] += 1
    weeks = [w.label for w in END_WEEK.shift(-(ARGS["weeks"] - 1)).range_to(END_WEEK)]
    steady = [
        r
        for r, p in org.summary.personas.items()
        if p in ("steady", "top") and r not in org.summary.edge_cases.values()
    ]
    quiet = busy = 0
    for rep in steady:
        series = [calls[(rep, w)] for w in weeks]
        assert max(series) >= 1.15 * statistics.median(series), series
        busy += max(series) >= 1.3 * statistics.median(series)
        quiet += min(series) <= 0.2 * statistics.median(series)
    assert busy >= len(steady) // 2 and quiet >= len(steady) // 2, (busy, quiet)


def test_events_are_meetings_in_each_reps_working_hours(org: Org) -> None:
    events = org.rows("Event")
    odd_hours = 0
    for e in events:
        start, end = parse_datetime(e["StartDateTime"]), parse_datetime(e["EndDateTime"])
        assert end - start == timedelta(minutes=int(e["DurationInMinutes"]))
        assert e["WhatId"]
        odd_hours += start.hour >= 21 or start.hour < 6
    # Reps in Sydney or Los Angeles meet at times that are late evening or early morning in UTC.
    assert odd_hours >= 0.1 * len(events)


def test_quotas_are_quarterly_and_sized_by_persona(org: Org) -> None:
    rows = org.rows("ForecastingQuota")
    assert all(q["StartDate"][5:] in ("01-01", "04-01", "07-01", "10-01") for q in rows)
    assert len({(q["QuotaOwnerId"], q["StartDate"]) for q in rows}) == len(rows)
    last_quarter = _quarter(END_WEEK.last_day)[0].isoformat()
    amounts = {
        q["QuotaOwnerId"]: float(q["QuotaAmount"]) for q in rows if q["StartDate"] == last_quarter
    }
    personas = org.summary.personas
    top = statistics.median(a for r, a in amounts.items() if personas[r] == "top")
    steady = statistics.median(a for r, a in amounts.items() if personas[r] == "steady")
    assert top > steady > 0
