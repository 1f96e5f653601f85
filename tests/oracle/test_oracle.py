"""Proof of the metric oracle: hand-built org folders whose every METRICS.md answer is known."""

from __future__ import annotations

import csv
import random
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from .metrics import STUCK_REASON_ORDER, OracleInputError, load_org, recompute_week

WEEK = "2026-W10"  # Monday 2026-03-02 to Monday 2026-03-09 (exclusive)
WEEK_START = datetime(2026, 3, 2)
WEEK_END = datetime(2026, 3, 9)
M, R1, R2, R3 = (
    "005000000000000MGR",
    "005000000000000RP1",
    "005000000000000RP2",
    "005000000000000RP3",
)
LATE = date(2026, 3, 31)


# ----------------------------------------------------------------------------- org builders


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):  # naive values are UTC instants
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_org(org_dir: Path, objects: dict[str, list[dict[str, Any]]]) -> Path:
    """One Data Export CSV per object; the header is the union of the rows' keys."""
    org_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in objects.items():
        header: list[str] = []
        for row in rows:
            header += [k for k in row if k not in header]
        with (org_dir / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_cell(row.get(k)) for k in header])
    return org_dir


def _user(uid: str, manager: str | None, *, active: bool = True, role: str | None = None) -> dict:
    return {
        "Id": uid,
        "Name": f"User {uid[-3:]}",
        "IsActive": active,
        "ManagerId": manager,
        "UserRoleId": role,
    }


def _team(*extra: dict) -> list[dict]:
    return [_user(M, None), _user(R1, M), _user(R2, M), *extra]


_CLOSED = {"Closed Won": (True, True), "Closed Lost": (True, False)}


def _deal(
    oid: str, owner: str, steps: list[tuple], *, deleted: bool = False
) -> tuple[dict, list[dict]]:
    """An Opportunity and its OpportunityHistory: steps are (at, stage[, close_date[, amount]]).

    The first step is the creation; the current record is the last step.
    """
    full = [
        (s[0], s[1], s[2] if len(s) > 2 else LATE, s[3] if len(s) > 3 else 1000.0) for s in steps
    ]
    _, stage, close, amount = full[-1]
    closed, won = _CLOSED.get(stage, (False, False))
    opp = {
        "Id": oid,
        "Name": f"Deal {oid}",
        "OwnerId": owner,
        "StageName": stage,
        "Amount": amount,
        "CloseDate": close,
        "IsClosed": closed,
        "IsWon": won,
        "CreatedDate": full[0][0],
        "IsDeleted": deleted,
    }
    history = [
        {
            "Id": f"{oid}-H{i:02d}",
            "OpportunityId": oid,
            "StageName": s,
            "CloseDate": c,
            "Amount": a,
            "CreatedDate": t,
            "IsDeleted": False,
        }
        for i, (t, s, c, a) in enumerate(full)
    ]
    return opp, history


def _org(tmp_path: Path, deals: list[tuple[dict, list[dict]]], **objects: list[dict]) -> Path:
    objects.setdefault("User", _team())
    objects["Opportunity"] = [d[0] for d in deals] + objects.get("Opportunity", [])
    objects["OpportunityHistory"] = [h for d in deals for h in d[1]] + objects.get(
        "OpportunityHistory", []
    )
    return _write_org(tmp_path / "org", objects)


def _task(
    tid: str,
    owner: str,
    day: date,
    *,
    subtype: str | None = "Call",
    type_: str | None = None,
    closed: bool = True,
    what: str | None = None,
    deleted: bool = False,
) -> dict:
    return {
        "Id": tid,
        "OwnerId": owner,
        "WhatId": what,
        "ActivityDate": day,
        "IsClosed": closed,
        "TaskSubtype": subtype,
        "Type": type_,
        "IsDeleted": deleted,
    }


def _event(
    eid: str, owner: str, start: datetime, *, what: str | None = None, deleted: bool = False
) -> dict:
    return {
        "Id": eid,
        "OwnerId": owner,
        "WhatId": what,
        "StartDateTime": start,
        "IsDeleted": deleted,
    }


def _days_before_end(days: float) -> datetime:
    return WEEK_END - timedelta(days=days)


# ----------------------------------------------------------------------------- who gets a packet


def test_pairs_and_no_packet_reasons(tmp_path: Path) -> None:
    x, r3, r4, r5, r6, r7, r8, r9, r10 = (f"00500000000000X{n:03d}" for n in range(9))
    users = _team(
        _user(x, None, active=False),
        _user(r3, x),  # inactive manager
        _user(r4, None),  # no manager
        _user(r5, r6),  # r5 <-> r6: a cycle
        _user(r6, r5),
        _user(r7, r7),  # manages themselves
        _user(r8, M, active=False),  # inactive rep: not considered
        _user(r9, r5),  # reports into the cycle
        _user(r10, "005000000000NOSUCH"),  # manager not in the folder
    )
    org = _org(tmp_path, [], User=users)
    result = recompute_week(org, WEEK)
    assert result.pairs == {(M, R1), (M, R2)}
    assert result.no_packet == {
        M: "has_reports",
        r3: "inactive_manager",
        r4: "no_manager",
        r5: "manager_cycle",
        r6: "manager_cycle",
        r7: "manager_cycle",
        r9: "manager_cycle",
        r10: "no_manager",
    }
    assert set(result.metrics) == {R1, R2}


def test_pairs_role_filter_from_config(tmp_path: Path) -> None:
    roles = [
        {"Id": "00E000000000000AE1", "Name": "Account Executive"},
        {"Id": "00E000000000000SE1", "Name": "Sales Engineer"},
    ]
    users = [
        _user(M, None),
        _user(R1, M, role="00E000000000000AE1"),
        _user(R2, M, role="00E000000000000SE1"),
    ]
    org = _org(tmp_path, [], User=users, UserRole=roles)
    assert recompute_week(org, WEEK).pairs == {(M, R1), (M, R2)}
    excluded = recompute_week(org, WEEK, rules={"exclude_roles": ["Sales Engineer"]})
    assert excluded.pairs == {(M, R1)}
    assert excluded.no_packet[R2] == "excluded_by_config"
    included = recompute_week(org, WEEK, rules={"include_roles": ["Sales Engineer"]})
    assert included.pairs == {(M, R2)}


# ----------------------------------------------------------------------------- activity metrics


def test_activity_metrics_with_subtype_fallback_and_deleted_rows(tmp_path: Path) -> None:
    d = date
    tasks = [
        _task("T01", R1, d(2026, 3, 2), subtype="Call"),
        _task("T02", R1, d(2026, 3, 8), subtype=None, type_="Call"),  # fallback to Type
        _task("T03", R1, d(2026, 3, 4), subtype="Email", type_="Call"),  # subtype wins
        _task("T04", R1, d(2026, 3, 4), subtype="Task", type_="Call"),  # neither
        _task("T05", R1, d(2026, 3, 4), subtype="Call", closed=False),  # open
        _task("T06", R1, d(2026, 3, 4), subtype="Call", deleted=True),
        _task("T07", R1, d(2026, 3, 9), subtype="Call"),  # next week
        _task("T08", R1, d(2026, 3, 1), subtype="Call"),  # prior week (W09)
        _task("T09", R1, d(2026, 2, 2), subtype="Call"),  # W06: in the 4-week average
        _task("T10", R1, d(2026, 1, 26), subtype="Call"),  # W05: outside it
        _task("T11", R2, d(2026, 3, 3), subtype="Call"),
        _task("T12", M, d(2026, 3, 3), subtype="Call"),  # the manager is no rep
        _task("T13", R1, d(2026, 3, 5), subtype=None, type_="Email"),
    ]
    events = [
        _event("E1", R1, datetime(2026, 3, 3, 10)),
        _event("E2", R1, datetime(2026, 3, 3, 11), deleted=True),
        _event("E3", R1, datetime(2026, 3, 9, 0, 0)),  # the first instant of next week
    ]
    opps = [
        {
            "Id": "O1",
            "OwnerId": R1,
            "StageName": "Prospecting",
            "Amount": 1000,
            "CloseDate": LATE,
            "IsClosed": False,
            "IsWon": False,
            "CreatedDate": datetime(2026, 3, 3, 9),
        },
        {
            "Id": "O2",
            "OwnerId": R1,
            "StageName": "Prospecting",
            "Amount": None,
            "CloseDate": LATE,
            "IsClosed": False,
            "IsWon": False,
            "CreatedDate": datetime(2026, 3, 4, 9),
        },
        {
            "Id": "O3",
            "OwnerId": R1,
            "StageName": "Closed Won",
            "Amount": 5000,
            "CloseDate": d(2026, 3, 5),
            "IsClosed": True,
            "IsWon": True,
            "CreatedDate": datetime(2026, 1, 10),
        },
        {
            "Id": "O4",
            "OwnerId": R1,
            "StageName": "Closed Lost",
            "Amount": 700,
            "CloseDate": d(2026, 3, 6),
            "IsClosed": True,
            "IsWon": False,
            "CreatedDate": datetime(2026, 1, 10),
        },
        {
            "Id": "O5",
            "OwnerId": R1,
            "StageName": "Closed Won",
            "Amount": 9000,
            "CloseDate": d(2026, 3, 9),
            "IsClosed": True,
            "IsWon": True,
            "CreatedDate": datetime(2026, 1, 10),
        },
        {
            "Id": "O6",
            "OwnerId": R1,
            "StageName": "Prospecting",
            "Amount": 999,
            "CloseDate": LATE,
            "IsClosed": False,
            "IsWon": False,
            "CreatedDate": datetime(2026, 3, 3),
            "IsDeleted": True,
        },
        {
            "Id": "O7",
            "OwnerId": R1,
            "StageName": "Prospecting",
            "Amount": 300,
            "CloseDate": LATE,
            "IsClosed": False,
            "IsWon": False,
            "CreatedDate": datetime(2026, 2, 25),
        },
        {
            "Id": "O8",
            "OwnerId": R2,
            "StageName": "Prospecting",
            "Amount": 500,
            "CloseDate": LATE,
            "IsClosed": False,
            "IsWon": False,
            "CreatedDate": datetime(2026, 3, 5),
        },
    ]
    org = _org(tmp_path, [], Task=tasks, Event=events, Opportunity=opps)
    m = recompute_week(org, WEEK).metrics

    assert m[R1]["calls"] == {"this_week": 2, "prior_week": 1, "avg_4w": 0.5, "team_median": 1.5}
    assert m[R2]["calls"]["this_week"] == 1
    assert m[R1]["emails"] == {"this_week": 2, "prior_week": 0, "avg_4w": 0.0, "team_median": 1.0}
    assert m[R1]["meetings"]["this_week"] == 1
    assert m[R1]["opportunities_created"]["this_week"] == 2  # the deleted O6 never counts
    assert m[R1]["opportunities_created"]["prior_week"] == 1
    assert m[R1]["pipeline_created"] == {
        "this_week": 1000.0,  # the null Amount of O2 counts as 0
        "prior_week": 300.0,
        "avg_4w": 75.0,
        "team_median": 750.0,
    }
    assert m[R1]["closed_won_count"]["this_week"] == 1
    assert m[R1]["closed_won_amount"]["this_week"] == 5000.0
    assert m[R1]["closed_lost_count"]["this_week"] == 1
    assert m[R2]["closed_won_count"]["team_median"] == 0.5
    assert recompute_week(org, WEEK).pipeline_created_null_amounts == {R1: 1, R2: 0}


def test_event_near_midnight_is_bucketed_in_the_org_timezone(tmp_path: Path) -> None:
    # Berlin is UTC+1 in March 2026: week W10 starts at 2026-03-01T23:00Z there.
    events = [
        _event("E1", R1, datetime(2026, 3, 1, 23, 30)),  # Berlin Mon 00:30 (W10); UTC Sun (W09)
        _event("E2", R1, datetime(2026, 3, 8, 23, 30)),  # Berlin Mon 00:30 (W11); UTC Sun (W10)
    ]
    deals = [
        _deal(
            "D1",
            R1,
            [
                (datetime(2026, 2, 1), "Prospecting"),
                (datetime(2026, 3, 1, 23, 30), "Qualification"),
            ],
        ),
        _deal("D2", R1, [(datetime(2026, 3, 8, 23, 30), "Prospecting")]),
    ]
    org = _org(tmp_path, deals, Event=events)
    berlin = recompute_week(org, WEEK, tz="Europe/Berlin")
    utc = recompute_week(org, WEEK)
    assert (
        berlin.metrics[R1]["meetings"]["this_week"],
        berlin.metrics[R1]["meetings"]["prior_week"],
    ) == (1, 0)
    assert (
        utc.metrics[R1]["meetings"]["this_week"],
        utc.metrics[R1]["meetings"]["prior_week"],
    ) == (1, 1)
    assert berlin.metrics[R1]["opportunities_created"]["this_week"] == 0
    assert utc.metrics[R1]["opportunities_created"]["this_week"] == 1
    assert berlin.deals["D1"]["movement"] == "advanced"
    assert utc.deals["D1"]["movement"] == "unchanged"
    assert utc.deals["D1"]["stage_end"] == "Qualification"
    assert "D2" not in berlin.deals  # created in Berlin's W11
    assert utc.deals["D2"]["movement"] == "new"


# ----------------------------------------------------------------------------- deal movement


def test_every_movement_kind(tmp_path: Path) -> None:
    feb1, jan5, jan20 = datetime(2026, 2, 1), datetime(2026, 1, 5), datetime(2026, 1, 20)
    at = lambda day, hour=10: datetime(2026, 3, day, hour)  # noqa: E731
    deals = [
        _deal("ADV", R1, [(feb1, "Prospecting"), (at(4), "Qualification")]),
        _deal("JUMP2", R1, [(feb1, "Prospecting"), (at(4), "Needs Analysis")]),
        _deal("REG", R1, [(feb1, "Qualification"), (at(3), "Prospecting")]),
        _deal(
            "UNCH", R1, [(feb1, "Prospecting", LATE, 1000.0), (at(3), "Prospecting", LATE, 2000.0)]
        ),
        _deal("WON", R1, [(feb1, "Prospecting"), (at(5), "Closed Won")]),
        _deal("LOST", R1, [(feb1, "Prospecting"), (at(5), "Closed Lost")]),
        _deal("NEW", R1, [(at(3), "Prospecting")]),
        _deal("NEWWON", R1, [(at(3), "Prospecting"), (at(6), "Closed Won")]),
        _deal(
            "REOPEN", R1, [(jan5, "Prospecting"), (jan20, "Closed Lost"), (at(4), "Qualification")]
        ),
        _deal("CLOSEDBOTH", R1, [(jan5, "Prospecting"), (jan20, "Closed Won")]),
        _deal("ATSTART", R1, [(WEEK_START, "Prospecting")]),  # created at week_start: new
        _deal("ATEND", R1, [(WEEK_END, "Prospecting")]),  # created at week_end: next week's
        _deal("CHANGEATEND", R1, [(feb1, "Prospecting"), (WEEK_END, "Closed Won")]),
        _deal("LATER", R1, [(feb1, "Prospecting"), (datetime(2026, 3, 10), "Qualification")]),
        _deal("MGR", M, [(feb1, "Prospecting"), (at(4), "Qualification")]),  # not a rep's deal
    ]
    no_rows = {
        "Id": "NOROWS",
        "OwnerId": R2,
        "StageName": "Qualification",
        "Amount": 10,
        "CloseDate": LATE,
        "IsClosed": False,
        "IsWon": False,
        "CreatedDate": feb1,
    }
    org = _org(tmp_path, deals, Opportunity=[no_rows])
    result = recompute_week(org, WEEK)
    movements = {oid: deal["movement"] for oid, deal in result.deals.items()}
    assert movements == {
        "ADV": "advanced",
        "JUMP2": "advanced",
        "REG": "regressed",
        "UNCH": "unchanged",
        "WON": "won",
        "LOST": "lost",
        "NEW": "new",
        "NEWWON": "won",
        "REOPEN": "reopened",
        "ATSTART": "new",
        "CHANGEATEND": "unchanged",
        "LATER": "unchanged",
        "NOROWS": "unchanged",
    }
    deals_ = result.deals
    assert (deals_["ADV"]["stage_start"], deals_["ADV"]["stage_end"]) == (
        "Prospecting",
        "Qualification",
    )
    assert deals_["NEW"]["stage_start"] is None
    assert deals_["NEWWON"]["stage_start"] is None
    assert (deals_["REOPEN"]["stage_start"], deals_["REOPEN"]["stage_end"]) == (
        "Closed Lost",
        "Qualification",
    )
    assert deals_["LATER"]["stage_end"] == "Prospecting"  # history after week_end is ignored
    assert deals_["UNCH"]["amount"] == 2000.0
    assert deals_["NOROWS"]["stage_end"] == "Qualification"
    assert deals_["ADV"]["rep_id"] == R1
    # Stage jumps: 2 stages is a fast mover, 1 is not.
    # WON and NEWWON close on LATE (after week_end): no won cycle in the window, no percentile.
    assert result.won_cycle_p25_days is None
    assert result.fast_movers == {"JUMP2"}
    assert result.fast_mover_reasons["JUMP2"] == ["stage_jump"]
    assert "ADV" not in result.fast_movers


def test_movement_and_jumps_use_the_orgs_stage_table(tmp_path: Path) -> None:
    stages = [
        {
            "Id": "S1",
            "ApiName": "Discovery",
            "MasterLabel": "Discovery",
            "SortOrder": 10,
            "IsClosed": False,
            "IsWon": False,
            "IsActive": True,
        },
        {
            "Id": "S2",
            "ApiName": "Demo",
            "MasterLabel": "Product Demo",
            "SortOrder": 20,
            "IsClosed": False,
            "IsWon": False,
            "IsActive": True,
        },
        {
            "Id": "S3",
            "ApiName": "Contract",
            "MasterLabel": "Contract",
            "SortOrder": 30,
            "IsClosed": False,
            "IsWon": False,
            "IsActive": True,
        },
        {
            "Id": "S4",
            "ApiName": "Signed",
            "MasterLabel": "Signed",
            "SortOrder": 40,
            "IsClosed": True,
            "IsWon": True,
            "IsActive": True,
        },
        {
            "Id": "S5",
            "ApiName": "Dead",
            "MasterLabel": "Dead",
            "SortOrder": 50,
            "IsClosed": True,
            "IsWon": False,
            "IsActive": True,
        },
    ]
    feb1, mar4 = datetime(2026, 2, 1), datetime(2026, 3, 4)
    deals = [
        _deal("JUMP", R1, [(feb1, "Discovery"), (mar4, "Contract")]),
        _deal("REG", R1, [(feb1, "Demo"), (mar4, "Discovery")]),
        _deal("WIN", R1, [(feb1, "Discovery"), (mar4, "Signed")]),
        _deal("DIE", R1, [(feb1, "Demo"), (mar4, "Dead")]),
        # "Closed Won" is not a stage of this org: an unknown, open stage.
        _deal("ODD", R1, [(feb1, "Discovery"), (mar4, "Closed Lost")]),
    ]
    result = recompute_week(_org(tmp_path, deals, OpportunityStage=stages), WEEK)
    assert result.stage_source == "org"
    assert {k: v["movement"] for k, v in result.deals.items()} == {
        "JUMP": "advanced",
        "REG": "regressed",
        "WIN": "won",
        "DIE": "lost",
        "ODD": "lost",  # closed/won taken from the current records in that stage
    }
    assert result.deals["JUMP"]["stages_advanced"] == 2  # ranks, not SortOrder 30 - 10
    assert result.fast_mover_reasons["JUMP"] == ["stage_jump"]


# ----------------------------------------------------------------------------- stuck: stage aging


def _exits(prefix: str, stage: str, start: datetime, days: list[int]) -> list:
    """Closed deals (owned by R2) that spent `days` in `stage` and then were lost."""
    return [
        _deal(f"{prefix}{i}", R2, [(start, stage), (start + timedelta(days=n), "Closed Lost")])
        for i, n in enumerate(days)
    ]


def test_stage_aging_at_and_beyond_each_threshold(tmp_path: Path) -> None:
    deals = [
        # Qualification: 5 exits in the window, median 24 days -> threshold 36.
        *_exits("QX", "Qualification", datetime(2025, 10, 1), [20, 22, 24, 26, 28]),
        # An exit before the 365-day window (2024-12-18) that would raise the median if counted.
        *_exits("QOLD", "Qualification", datetime(2024, 6, 1), [200]),
        # Needs Analysis: median 4 days -> 1.5 x 4 = 6 -> the floor of 14 applies.
        *_exits("NX", "Needs Analysis", datetime(2025, 11, 1), [2, 3, 4, 5, 6]),
        # Prospecting: 3 exits here + 1 from BROKEN = 4 < 5 -> 30 days, although 1.5 x 100 = 150.
        *_exits("PX", "Prospecting", datetime(2025, 6, 1), [100, 100, 100]),
        _deal("P30", R1, [(_days_before_end(30), "Prospecting")]),
        _deal("P31", R1, [(_days_before_end(31), "Prospecting")]),
        _deal("P30H", R1, [(_days_before_end(30 + 1 / 24), "Prospecting")]),  # 30 whole days
        _deal("Q36", R1, [(_days_before_end(36), "Qualification")]),
        _deal("Q37", R1, [(_days_before_end(37), "Qualification")]),
        _deal("N14", R1, [(_days_before_end(14), "Needs Analysis")]),
        _deal("N15", R1, [(_days_before_end(15), "Needs Analysis")]),
        # The latest unbroken run started 31 days ago; an Amount change does not restart it.
        _deal(
            "BROKEN",
            R1,
            [
                (datetime(2025, 12, 1), "Prospecting"),
                (datetime(2026, 1, 1), "Value Proposition"),
                (_days_before_end(31), "Prospecting", LATE, 1000.0),
                (_days_before_end(17), "Prospecting", LATE, 5000.0),
            ],
        ),
    ]
    no_rows = {
        "Id": "NOROWS",
        "OwnerId": R1,
        "StageName": "Prospecting",
        "Amount": 10,
        "CloseDate": LATE,
        "IsClosed": False,
        "IsWon": False,
        "CreatedDate": _days_before_end(36),
    }
    result = recompute_week(_org(tmp_path, deals, Opportunity=[no_rows]), WEEK)

    thresholds = result.stage_thresholds
    assert thresholds["Qualification"] == {"exits": 5, "median_days": 24.0, "threshold_days": 36.0}
    assert thresholds["Needs Analysis"]["threshold_days"] == 14.0
    assert thresholds["Prospecting"] == {"exits": 4, "median_days": None, "threshold_days": 30.0}
    expected = {
        "P30": (30, False),
        "P31": (31, True),
        "P30H": (30, False),
        "Q36": (36, False),
        "Q37": (37, True),
        "N14": (14, False),
        "N15": (15, True),
        "BROKEN": (31, True),
        "NOROWS": (36, True),
    }
    for oid, (days, stuck) in expected.items():
        deal = result.deals[oid]
        assert (deal["days_in_stage"], deal["is_stuck"]) == (days, stuck), oid
        assert deal["stuck_reasons"] == (["stage_aging"] if stuck else []), oid
        # No Task and no Event data at all: the no_activity rule is off, not fired everywhere.
        assert deal["no_activity"] is None
    assert result.has_activity_data is False


def test_stage_threshold_rules_are_configurable(tmp_path: Path) -> None:
    deals = [_deal("P31", R1, [(_days_before_end(31), "Prospecting")])]
    org = _org(tmp_path, deals)
    assert recompute_week(org, WEEK).deals["P31"]["is_stuck"] is True
    relaxed = recompute_week(org, WEEK, rules={"stuck_fallback_days": 31})
    assert relaxed.deals["P31"]["is_stuck"] is False


# ----------------------------------------------------------------------------- stuck: no activity


def test_no_activity_at_and_beyond_its_thresholds(tmp_path: Path) -> None:
    old = datetime(2026, 2, 1)
    we = WEEK_END.date()
    ids = [
        "QUIET15",
        "QUIET14",
        "TASKIN",
        "TASKOUT",
        "TASKOPEN",
        "TASKDEL",
        "EVENTIN",
        "EVENTOUT",
        "TASKAFTER",
    ]
    created = {"QUIET15": _days_before_end(15), "QUIET14": _days_before_end(14)}
    deals = [_deal(oid, R1, [(created.get(oid, old), "Prospecting")]) for oid in ids]
    tasks = [
        _task("T1", R2, we - timedelta(days=14), what="TASKIN"),  # first day of the window
        _task("T2", R1, we - timedelta(days=15), what="TASKOUT"),
        _task("T3", R1, we - timedelta(days=2), what="TASKOPEN", closed=False),
        _task("T4", R1, we - timedelta(days=2), what="TASKDEL", deleted=True),
        _task("T5", R1, we, what="TASKAFTER"),  # dated at week_end: outside
    ]
    events = [
        _event("E1", R1, _days_before_end(14), what="EVENTIN"),
        _event("E2", R1, _days_before_end(14) - timedelta(minutes=1), what="EVENTOUT"),
    ]
    org = _org(tmp_path, deals, Task=tasks, Event=events)
    result = recompute_week(org, WEEK, rules={"stuck_fallback_days": 100})
    assert result.has_activity_data is True
    stuck = {oid for oid, d in result.deals.items() if d["is_stuck"]}
    assert stuck == {"QUIET15", "TASKOUT", "TASKOPEN", "TASKDEL", "EVENTOUT", "TASKAFTER"}
    for oid in stuck:
        assert result.deals[oid]["stuck_reasons"] == ["no_activity"]
    assert result.deals["QUIET14"]["no_activity"] is False  # 14 days old is not "more than 14"
    assert result.deals["TASKIN"]["last_activity_date"] == we - timedelta(days=14)
    assert result.deals["TASKOUT"]["last_activity_date"] == we - timedelta(days=15)


# ----------------------------------------------------------------------------- stuck: close date


def test_close_date_pushes_from_both_history_objects(tmp_path: Path) -> None:
    nov1, dec15, feb10 = datetime(2025, 11, 1), datetime(2025, 12, 15), datetime(2026, 2, 10)
    window_start = _days_before_end(90)  # 2025-12-09 00:00
    d = date
    p = "Prospecting"
    deals = [
        _deal(
            "PUSH2", R1, [(nov1, p, d(2026, 1, 31)), (dec15, p, d(2026, 2, 28)), (feb10, p, LATE)]
        ),
        _deal(
            "PULLBACK",
            R1,
            [(nov1, p, d(2026, 1, 31)), (dec15, p, d(2026, 2, 28)), (feb10, p, d(2026, 2, 15))],
        ),
        _deal(
            "OLDPUSH",
            R1,
            [
                (nov1, p, d(2026, 1, 31)),
                (window_start - timedelta(hours=1), p, d(2026, 2, 28)),
                (feb10, p, LATE),
            ],
        ),
        _deal(
            "EDGE",
            R1,
            [(nov1, p, d(2026, 1, 31)), (window_start, p, d(2026, 2, 28)), (feb10, p, LATE)],
        ),
        _deal(
            "AMOUNTS",
            R1,
            [
                (nov1, p, d(2026, 1, 31), 10.0),
                (dec15, p, d(2026, 2, 28), 10.0),
                (datetime(2025, 12, 20), p, d(2026, 2, 28), 20.0),
                (feb10, p, LATE, 20.0),
            ],
        ),
        _deal(
            "WONPUSHED",
            R1,
            [
                (nov1, p, d(2026, 1, 31)),
                (dec15, p, d(2026, 2, 28)),
                (feb10, p, d(2026, 3, 4)),
                (datetime(2026, 3, 4), "Closed Won", d(2026, 3, 4)),
            ],
        ),
        _deal("FIELDHIST", R1, [(nov1, p, LATE)]),
        _deal(
            "BOTH", R1, [(nov1, p, d(2026, 1, 31)), (dec15, p, d(2026, 2, 28)), (feb10, p, LATE)]
        ),
    ]
    field_history = [
        {
            "Id": "F1",
            "OpportunityId": "FIELDHIST",
            "Field": "CloseDate",
            "OldValue": "2026-01-31",
            "NewValue": "2026-02-28",
            "CreatedDate": datetime(2025, 12, 20),
        },
        {
            "Id": "F2",
            "OpportunityId": "FIELDHIST",
            "Field": "CloseDate",
            "OldValue": "2026-02-28",
            "NewValue": "2026-03-31",
            "CreatedDate": datetime(2026, 1, 20),
        },
        {
            "Id": "F3",
            "OpportunityId": "FIELDHIST",
            "Field": "Amount",
            "OldValue": "1",
            "NewValue": "2",
            "CreatedDate": datetime(2026, 1, 21),
        },
        {
            "Id": "F4",
            "OpportunityId": "FIELDHIST",
            "Field": "CloseDate",
            "OldValue": "2026-03-31",
            "NewValue": "2026-04-30",
            "CreatedDate": datetime(2026, 1, 22),
            "IsDeleted": True,
        },
        {
            "Id": "F5",
            "OpportunityId": "BOTH",
            "Field": "CloseDate",
            "OldValue": "2026-01-31",
            "NewValue": "2026-02-28",
            "CreatedDate": dec15,
        },
        {
            "Id": "F6",
            "OpportunityId": "BOTH",
            "Field": "CloseDate",
            "OldValue": "2026-02-28",
            "NewValue": "2026-03-31",
            "CreatedDate": feb10,
        },
    ]
    org = _org(tmp_path, deals, OpportunityFieldHistory=field_history)
    result = recompute_week(org, WEEK, rules={"stuck_fallback_days": 1000})
    pushes = {oid: deal["close_date_pushes_90d"] for oid, deal in result.deals.items()}
    assert pushes == {
        "PUSH2": 2,
        "PULLBACK": 1,
        "OLDPUSH": 1,
        "EDGE": 2,
        "AMOUNTS": 2,
        "WONPUSHED": 2,
        "FIELDHIST": 2,
        "BOTH": 2,  # the same two pushes in both objects count once
    }
    stuck = {oid for oid, deal in result.deals.items() if deal["is_stuck"]}
    assert stuck == {"PUSH2", "EDGE", "AMOUNTS", "FIELDHIST", "BOTH"}  # a won deal is not stuck
    assert result.deals["PUSH2"]["stuck_reasons"] == ["close_date_pushed"]


# ----------------------------------------------------------------------------- fast movers


def _won(oid: str, owner: str, created: date, cycle: int) -> tuple[dict, list[dict]]:
    close = created + timedelta(days=cycle)
    start = datetime.combine(created, datetime.min.time()) + timedelta(hours=9)
    return _deal(
        oid,
        owner,
        [
            (start, "Prospecting", close),
            (
                datetime.combine(close, datetime.min.time()) + timedelta(hours=12),
                "Closed Won",
                close,
            ),
        ],
    )


def test_fast_movers_use_the_25th_percentile_of_won_cycles(tmp_path: Path) -> None:
    deals = [
        *[_won(f"PAST{c}", R2, date(2025, 9, 1), c) for c in (10, 20, 30, 40, 50)],
        _won("ANCIENT", R2, date(2025, 1, 1), 1),  # closed 2025-01-02: outside the 365 days
        _won("FAST", R1, date(2026, 2, 19), 15),  # closes 2026-03-06, this week
        _won("SLOW", R1, date(2026, 2, 9), 25),
    ]
    org = _org(tmp_path, deals)
    result = recompute_week(org, WEEK)
    # Cycles 10, 15, 20, 25, 30, 40, 50 -> 25th percentile 17.5 (linear interpolation).
    assert result.won_cycle_p25_days == 17.5
    assert result.deals["FAST"]["cycle_days"] == 15
    assert result.fast_movers == {"FAST"}
    assert result.fast_mover_reasons == {"FAST": ["fast_cycle"]}
    # At the percentile counts ("at or below"): the median is exactly 25.
    median = recompute_week(org, WEEK, rules={"fast_mover_cycle_percentile": 0.5})
    assert median.won_cycle_p25_days == 25.0
    assert median.fast_movers == {"FAST", "SLOW"}


# ----------------------------------------------------------------------------- quota


def _quota(owner: str, start: date, amount: float) -> dict:
    return {
        "Id": f"Q-{owner[-3:]}-{start}-{amount}",
        "QuotaOwnerId": owner,
        "StartDate": start,
        "QuotaAmount": amount,
    }


def _closed(oid: str, owner: str, close: date, amount: float | None, *, won: bool = True) -> dict:
    return {
        "Id": oid,
        "OwnerId": owner,
        "StageName": "Closed Won" if won else "Closed Lost",
        "Amount": amount,
        "CloseDate": close,
        "IsClosed": True,
        "IsWon": won,
        "CreatedDate": datetime(2025, 12, 1),
    }


def _quota_org(tmp_path: Path, *, with_quota: bool = True) -> Path:
    d = date
    r4, r5 = "005000000000000RP4", "005000000000000RP5"
    users = _team(_user(R3, M), _user(r4, M), _user(r5, M))
    opps = [
        _closed("W1", R1, d(2026, 1, 15), 30000),
        _closed("W2", R1, d(2026, 3, 5), 10000),
        _closed("W3", R1, d(2026, 3, 10), 5000),  # after week_end
        _closed("W4", R1, d(2025, 12, 20), 7000),  # previous quarter
        _closed("W5", R1, d(2026, 3, 4), 9999, won=False),
        _closed("W6", R1, d(2026, 4, 2), 8000),  # Q2
        _closed("W7", R1, d(2026, 3, 31), 3000),  # last day of Q1
        _closed("V1", R2, d(2026, 2, 10), 12000),
        _closed("X1", r4, d(2026, 1, 15), 30000),
        _closed("X2", r4, d(2026, 3, 5), 30000),  # W10
        _closed("Y1", r5, d(2026, 1, 15), 30000),
        _closed("Y2", r5, d(2026, 2, 25), 30000),  # W09
    ]
    feb1 = datetime(2026, 2, 1)
    p = "Prospecting"
    deals = [
        # As of week_end it closes 2026-03-20; a later change moved it to April.
        _deal(
            "P1",
            R1,
            [
                (feb1, p, d(2026, 3, 20), 20000.0),
                (datetime(2026, 3, 12), p, d(2026, 4, 30), 20000.0),
            ],
        ),
        _deal("P2", R1, [(feb1, p, d(2026, 3, 25), None)]),
        _deal("P3", R1, [(feb1, p, d(2026, 4, 5), 15000.0)]),  # next quarter
        _deal("P4", R1, [(feb1, p, d(2026, 3, 1), 4000.0)]),  # overdue
        _deal("P5", R1, [(feb1, p, d(2026, 3, 9), 1000.0)]),  # closes on week_end's date
        _deal("P6", R1, [(feb1, p, d(2026, 3, 31), 2000.0)]),  # last day of the quarter
        _deal("P7", R2, [(feb1, p, d(2026, 3, 20), 500.0)]),
    ]
    quotas = [
        _quota(R1, d(2026, 1, 1), 60000),
        _quota(R1, d(2026, 1, 1), 40000),
        _quota(R1, d(2025, 10, 1), 50000),
        _quota(R1, d(2026, 4, 1), 80000),
        _quota(R2, d(2026, 1, 1), 10000),
        _quota(r4, d(2026, 1, 1), 100000),
        _quota(r5, d(2026, 1, 1), 100000),
    ]
    extra = {"ForecastingQuota": quotas} if with_quota else {}
    return _org(tmp_path, deals, User=users, Opportunity=opps, **extra)


def test_quota_block_with_and_without_rows(tmp_path: Path) -> None:
    result = recompute_week(_quota_org(tmp_path), WEEK)
    q = result.quota[R1]
    assert q["amount"] == 100000.0
    assert q["won_to_date"] == 40000.0
    assert q["attainment"] == pytest.approx(0.4)
    assert q["elapsed"] == pytest.approx(67 / 90)
    assert q["pacing"] == pytest.approx(0.4 / (67 / 90))
    assert q["open_pipeline"] == 23000.0  # P1 20000 + P2 0 + P5 1000 + P6 2000
    assert q["coverage"] == pytest.approx(23000 / 60000)
    assert result.quota[R3] is None  # no ForecastingQuota rows: null, never 0%

    met = result.quota[R2]
    assert met["attainment"] == pytest.approx(1.2)
    assert met["open_pipeline"] == 500.0
    assert met["coverage"] is None  # quota already met


def test_quota_quarter_is_the_one_containing_the_weeks_last_day(tmp_path: Path) -> None:
    org = load_org(_quota_org(tmp_path))
    q14 = recompute_week(org, "2026-W14").quota[R1]  # Mon 03-30 .. Sun 04-05: Q2
    assert (q14["quarter_start"], q14["amount"]) == (date(2026, 4, 1), 80000.0)
    assert q14["won_to_date"] == 8000.0
    assert q14["elapsed"] == pytest.approx(5 / 91)
    q13 = recompute_week(org, "2026-W13").quota[R1]  # Mon 03-23 .. Sun 03-29: Q1
    assert q13["quarter_start"] == date(2026, 1, 1)
    fiscal = recompute_week(_quota_org(tmp_path), WEEK, rules={"fiscal_year_start_month": 2})
    assert fiscal.quota[R1] is None  # the quarter starts 2026-02-01; no rows start then


def test_quota_missing_object_means_no_quota(tmp_path: Path) -> None:
    result = recompute_week(_quota_org(tmp_path, with_quota=False), WEEK)
    assert set(result.quota.values()) == {None}
    assert not any(result.performance_conversation_recommended.values())


def test_performance_conversation_needs_3_of_the_last_4_weeks_below_pacing(tmp_path: Path) -> None:
    r4, r5 = "005000000000000RP4", "005000000000000RP5"
    result = recompute_week(_quota_org(tmp_path), WEEK)
    # R1: 30000 of 100000 until W10 -> pacing .59, .51, .45, then .54 (W10) -> 4 of 4 below.
    assert [round(p, 3) for p in result.pacing_history[R1]] == [0.587, 0.509, 0.45, 0.537]
    assert result.performance_conversation_recommended[R1] is True
    # r4 reaches .81 in W10 only: 3 of 4 below. r5 reaches .9 in W09: 2 of 4 below.
    assert [p < 0.7 for p in result.pacing_history[r4]] == [True, True, True, False]
    assert result.performance_conversation_recommended[r4] is True
    assert [p < 0.7 for p in result.pacing_history[r5]] == [True, True, False, False]
    assert result.performance_conversation_recommended[r5] is False
    assert result.performance_conversation_recommended[R2] is False
    assert result.performance_conversation_recommended[R3] is False  # no quota at all


# ----------------------------------------------------------------------------- input handling


def test_deleted_rows_are_ignored_everywhere(tmp_path: Path) -> None:
    feb1 = datetime(2026, 2, 1)
    opp, history = _deal("D1", R1, [(feb1, "Prospecting"), (datetime(2026, 3, 4), "Qualification")])
    history[-1]["IsDeleted"] = True
    opp["StageName"] = "Prospecting"
    gone = _deal("GONE", R1, [(datetime(2026, 3, 3), "Prospecting")], deleted=True)
    tasks = [_task("T1", R1, date(2026, 3, 3), deleted=True)]
    org = _org(tmp_path, [(opp, history), gone], Task=tasks)
    result = recompute_week(org, WEEK)
    assert result.deals["D1"]["movement"] == "unchanged"
    assert "GONE" not in result.deals
    assert result.metrics[R1]["opportunities_created"]["this_week"] == 0
    assert result.metrics[R1]["calls"]["this_week"] == 0
    assert result.has_activity_data is False  # only deleted Task rows: no activity data


def test_missing_optional_objects_and_columns(tmp_path: Path) -> None:
    opps = [
        {
            "Id": "O1",
            "OwnerId": R1,
            "StageName": "Prospecting",
            "CloseDate": LATE,
            "IsClosed": False,
            "IsWon": False,
            "CreatedDate": datetime(2026, 3, 3),
        }
    ]
    org = _write_org(tmp_path / "org", {"User": _team(), "Opportunity": opps})
    result = recompute_week(org, WEEK)
    assert result.metrics[R1]["pipeline_created"]["this_week"] == 0.0
    assert result.pipeline_created_null_amounts[R1] == 1
    assert result.deals["O1"]["movement"] == "new"
    assert result.deals["O1"]["amount"] is None
    assert result.quota == {R1: None, R2: None}
    assert result.stage_source == "standard"
    assert result.has_activity_data is False


def test_bad_input_is_named(tmp_path: Path) -> None:
    org = _write_org(tmp_path / "org", {"Opportunity": []})
    with pytest.raises(OracleInputError, match=r"User\.csv"):
        recompute_week(org, WEEK)
    bad = _write_org(
        tmp_path / "bad", {"User": [{**_user(R1, M), "IsActive": "maybe"}], "Opportunity": []}
    )
    with pytest.raises(OracleInputError, match=r"User.csv IsActive row 2: 'maybe'"):
        recompute_week(bad, WEEK)
    good = _org(tmp_path, [])
    with pytest.raises(OracleInputError, match="2026-W54"):
        recompute_week(good, "2026-W54")
    with pytest.raises(OracleInputError, match="unknown rule 'stuck_days'"):
        recompute_week(good, WEEK, rules={"stuck_days": 3})
    with pytest.raises(OracleInputError, match="Mars/Olympus"):
        recompute_week(good, WEEK, tz="Mars/Olympus")


# ----------------------------------------------------------------------------- size


def _random_org(org_dir: Path, *, reps: int, managers: int, weeks: int, seed: int) -> Path:
    """A plausible org of the given size, for speed and invariant checks only."""
    rng = random.Random(seed)
    standard = [
        "Prospecting",
        "Qualification",
        "Needs Analysis",
        "Value Proposition",
        "Proposal/Price Quote",
        "Negotiation/Review",
    ]
    mgr_ids = [f"005000000000MGR{i:03d}" for i in range(managers)]
    rep_ids = [f"005000000000REP{i:03d}" for i in range(reps)]
    users = [_user("005000000000VP0001", None)]
    users += [_user(m, "005000000000VP0001") for m in mgr_ids]
    users += [_user(r, mgr_ids[i % managers]) for i, r in enumerate(rep_ids)]
    first = datetime(2026, 3, 2) - timedelta(weeks=weeks)
    deals, tasks, events, quotas = [], [], [], []
    n = 0
    for rep in rep_ids:
        quotas += [_quota(rep, date(2025, q, 1), 150000) for q in (7, 10)]
        quotas.append(_quota(rep, date(2026, 1, 1), 150000))
        for week in range(weeks):
            monday = first + timedelta(weeks=week)
            for _ in range(3):
                n += 1
                at = monday + timedelta(hours=rng.randrange(0, 7 * 24))
                steps = [
                    (
                        at,
                        "Prospecting",
                        (at + timedelta(days=60)).date(),
                        rng.choice([None, 5e3, 2e4]),
                    )
                ]
                for _ in range(rng.randrange(0, 5)):
                    at += timedelta(days=rng.randrange(1, 20))
                    stage = rng.choice([*standard, "Closed Won", "Closed Lost"])
                    close = steps[-1][2] + timedelta(days=rng.choice([0, 0, 14]))
                    steps.append((at, stage, close, steps[-1][3]))
                    if stage.startswith("Closed"):
                        break
                deals.append(_deal(f"006{n:015d}", rep, steps))
            for _ in range(30):
                n += 1
                day = (monday + timedelta(days=rng.randrange(7))).date()
                tasks.append(
                    _task(
                        f"00T{n:015d}",
                        rep,
                        day,
                        subtype=rng.choice(["Call", "Email", None]),
                        type_="Call",
                        what=rng.choice([None, deals[-1][0]["Id"]]),
                    )
                )
            for _ in range(4):
                n += 1
                events.append(
                    _event(
                        f"00U{n:015d}",
                        rep,
                        monday + timedelta(hours=rng.randrange(168)),
                        what=deals[-1][0]["Id"],
                    )
                )
    return _org(org_dir, deals, User=users, Task=tasks, Event=events, ForecastingQuota=quotas)


def test_a_30_rep_30_week_org_recomputes_a_week_in_seconds(tmp_path: Path) -> None:
    org_dir = _random_org(tmp_path, reps=30, managers=3, weeks=30, seed=7)
    started = time.perf_counter()
    result = recompute_week(org_dir, "2026-W09")
    elapsed = time.perf_counter() - started
    assert elapsed < 30, f"recomputing one week took {elapsed:.1f}s"
    assert len(result.pairs) == 30
    assert result.deals and result.has_activity_data
    manager_of = {rep: manager for manager, rep in result.pairs}
    for rep, metrics in result.metrics.items():
        team = [r for r, m in manager_of.items() if m == manager_of[rep]]
        for name, values in metrics.items():
            assert set(values) == {"this_week", "prior_week", "avg_4w", "team_median"}
            this_weeks = [result.metrics[r][name]["this_week"] for r in team]
            assert min(this_weeks) <= values["team_median"] <= max(this_weeks)
    for deal in result.deals.values():
        assert deal["is_stuck"] == bool(deal["stuck_reasons"])
        assert deal["is_stuck"] is False or deal["is_open_end"]
        reasons = deal["stuck_reasons"]
        assert reasons == [r for r in STUCK_REASON_ORDER if r in reasons]
