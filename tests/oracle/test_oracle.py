"""Proof of the metric oracle: hand-built org folders whose every METRICS.md answer is known."""

from __future__ import annotations

import csv
import random
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from .metrics import (
    STUCK_REASON_ORDER,
    OracleInputError,
    compute_stuck_followups,
    load_org,
    recompute_week,
    rules_from_settings,
)

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
    # Config month 2: W10's quarter is 2026-02-01 .. 2026-05-01 (FY2027 Q1, named by its end);
    # of R1's rows only the one starting 2026-04-01 (80000) falls in it, and only W2 (10000,
    # 03-05) is won from 02-01 to week_end; elapsed = 36 / 89 days.
    fiscal = recompute_week(_quota_org(tmp_path), WEEK, rules={"fiscal_year_start_month": 2})
    q = fiscal.quota[R1]
    assert (q["quarter_label"], q["quarter_start"], q["quarter_end"]) == (
        "FY2027 Q1",
        date(2026, 2, 1),
        date(2026, 5, 1),
    )
    assert (q["amount"], q["won_to_date"]) == (80000.0, 10000.0)
    assert q["elapsed"] == pytest.approx(36 / 89)


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


# ----------------------------------------------------------------------------- currency


def _currency(
    iso: str, rate: float | None, *, corporate: bool = False, active: bool = True
) -> dict:
    return {
        "Id": f"02c00000000000{iso}0",
        "IsoCode": iso,
        "ConversionRate": rate,
        "IsActive": active,
        "IsCorporate": corporate,
    }


def _dated(iso: str, rate: float, start: date, next_start: date | None) -> dict:
    return {
        "Id": f"04w0000{iso}{start:%Y%m%d}",
        "IsoCode": iso,
        "ConversionRate": rate,
        "StartDate": start,
        "NextStartDate": next_start,
    }


def _in(currency: str | None, deal: tuple[dict, list[dict]]) -> tuple[dict, list[dict]]:
    """The deal with its record and every history row in `currency`, as Salesforce writes it."""
    opp, history = deal
    opp["CurrencyIsoCode"] = currency
    for row in history:
        row["CurrencyIsoCode"] = currency
    return opp, history


def _multi_currency_org(tmp_path: Path) -> Path:
    d = date
    feb1 = datetime(2026, 2, 1)
    p, won = "Prospecting", "Closed Won"
    currencies = [
        _currency("USD", 1.0, corporate=True),
        _currency("EUR", 0.5),  # EUR has dated rates: this static one is for its quotas only
        _currency("GBP", 0.5),  # no dated rows: static for deals too
        _currency("JPY", 100.0, active=False),  # an inactive currency still converts
        _currency("CHF", 0.0),  # 0 is no rate
    ]  # SEK has no CurrencyType row at all: no rate
    dated = [
        _dated("EUR", 0.8, d(2025, 1, 1), d(2026, 3, 1)),
        _dated("EUR", 1.25, d(2026, 3, 1), d(2026, 4, 1)),  # nothing from 2026-04-01 on
        _dated("USD", 3.0, d(2025, 1, 1), None),  # the corporate rate is 1 whatever this says
    ]
    # HIST is EUR now; its row before week_end was written in GBP (the row at week_end is not
    # before it).
    hist = _deal(
        "HIST", R1, [(feb1, p, d(2026, 3, 25), 5000.0), (WEEK_END, p, d(2026, 3, 25), 5000.0)]
    )
    _in("EUR", hist)
    hist[1][0]["CurrencyIsoCode"] = "GBP"
    nocur = _deal(
        "HISTNOCUR",
        R1,
        [(feb1, p, d(2026, 2, 25), 1000.0), (datetime(2026, 3, 10), p, d(2026, 3, 25), 1000.0)],
    )
    _in("EUR", nocur)
    nocur[1][0]["CurrencyIsoCode"] = None  # no currency of its own: the opportunity's (EUR)
    deals = [
        _in("EUR", _deal("EURNEW", R1, [(datetime(2026, 3, 3, 10), p, d(2026, 3, 20), 1000.0)])),
        _in("GBP", _deal("GBPNEW", R1, [(datetime(2026, 3, 4), p, d(2026, 3, 31), 300.0)])),
        _in("CHF", _deal("CHFNEW", R1, [(datetime(2026, 3, 4), p, d(2026, 3, 31), 500.0)])),
        _in(None, _deal("USDNEW", R1, [(datetime(2026, 3, 4), p, d(2026, 3, 31), 100.0)])),
        _in(
            "EUR",
            _deal(
                "EURWON",
                R1,
                [(feb1, p, d(2026, 3, 5), 1000.0), (datetime(2026, 3, 5, 12), won, d(2026, 3, 5))],
            ),
        ),
        _in(
            "EUR",
            _deal(
                "EURFEB",
                R1,
                [
                    (datetime(2026, 1, 10), p, d(2026, 2, 10), 400.0),
                    (datetime(2026, 2, 10, 12), won, d(2026, 2, 10), 400.0),
                ],
            ),
        ),
        _in(
            "EUR",
            _deal(
                "EURMAR1",
                R1,
                [
                    (feb1, p, d(2026, 3, 1), 1000.0),
                    (datetime(2026, 3, 1, 12), won, d(2026, 3, 1), 1000.0),
                ],
            ),
        ),
        _in(
            "JPY",
            _deal(
                "JPYWON",
                R1,
                [
                    (feb1, p, d(2026, 3, 6), 30000.0),
                    (datetime(2026, 3, 6, 12), won, d(2026, 3, 6), 30000.0),
                ],
            ),
        ),
        _in(
            "SEK",
            _deal(
                "SEKWON",
                R1,
                [(feb1, p, d(2026, 3, 6), 1000.0), (datetime(2026, 3, 6, 12), won, d(2026, 3, 6))],
            ),
        ),
        _in("EUR", _deal("EURAPR", R1, [(feb1, p, d(2026, 4, 15), 1000.0)])),
        _in("EUR", _deal("EURAPR1", R1, [(feb1, p, d(2026, 4, 1), 700.0)])),
        hist,
        nocur,
    ]
    quotas = [
        {**_quota(R1, d(2026, 1, 1), 10000), "CurrencyIsoCode": "EUR"},
        {**_quota(R2, d(2026, 1, 1), 5000), "CurrencyIsoCode": "USD"},
        {**_quota(R2, d(2026, 1, 1), 1000), "CurrencyIsoCode": "SEK"},
    ]
    return _org(
        tmp_path,
        deals,
        CurrencyType=currencies,
        DatedConversionRate=dated,
        ForecastingQuota=quotas,
    )


def test_multi_currency_amounts_convert_by_dated_and_static_rates(tmp_path: Path) -> None:
    result = recompute_week(_multi_currency_org(tmp_path), WEEK)
    assert result.currency == "USD"
    cents = {"abs": 0.005}
    # Deals as of week_end (amount / rate, the rate of the as-of currency and CloseDate):
    #   EURNEW 1000 EUR closing 03-20: dated 1.25 -> 800;  GBPNEW 300 GBP: static 0.5 -> 600
    #   CHFNEW: CHF rate 0 -> null;  USDNEW: no code = corporate -> 100
    #   EURWON closes 03-05: 1.25 -> 800;  JPYWON 30000 / 100 (inactive JPY) -> 300
    #   SEKWON: SEK has no CurrencyType row -> null
    #   EURAPR closes 04-15: EUR has dated rows but none covers it -> null (not static 0.5)
    #   EURAPR1 closes 04-01, the last row's NextStartDate (exclusive) -> null too
    #   HIST: the row before week_end is 5000 in GBP (its own code; the opportunity's EUR
    #     would give 5000 / 1.25 = 4000): 5000 / 0.5 = 10000
    #   HISTNOCUR: the row has no code -> EUR; its CloseDate then was 02-25 -> 0.8 -> 1250
    #     (the current CloseDate 03-25 would give 800)
    expected = {
        "EURNEW": (800.0, 1000.0, "EUR"),
        "GBPNEW": (600.0, 300.0, "GBP"),
        "CHFNEW": (None, 500.0, "CHF"),
        "USDNEW": (100.0, 100.0, "USD"),
        "EURWON": (800.0, 1000.0, "EUR"),
        "JPYWON": (300.0, 30000.0, "JPY"),
        "SEKWON": (None, 1000.0, "SEK"),
        "EURAPR": (None, 1000.0, "EUR"),
        "EURAPR1": (None, 700.0, "EUR"),
        "HIST": (10000.0, 5000.0, "GBP"),
        "HISTNOCUR": (1250.0, 1000.0, "EUR"),
    }
    assert set(result.deals) == set(expected)  # EURFEB, EURMAR1 closed before week_start
    for oid, (amount, original, code) in expected.items():
        deal = result.deals[oid]
        got = (deal["amount"], deal["amount_original"], deal["currency_original"])
        if amount is None:
            assert got == (None, original, code), oid
        else:
            assert got == (pytest.approx(amount, **cents), original, code), oid

    m = result.metrics[R1]
    # Created this week: EURNEW 800 + GBPNEW 600 + CHFNEW (no rate: nothing) + USDNEW 100.
    assert m["pipeline_created"]["this_week"] == pytest.approx(1500.0, **cents)
    assert m["opportunities_created"]["this_week"] == 4
    # Won this week: EURWON 800 + JPYWON 300 + SEKWON (no rate: nothing); the count is 3.
    assert m["closed_won_amount"]["this_week"] == pytest.approx(1100.0, **cents)
    assert m["closed_won_count"]["this_week"] == 3
    # Won on Sunday 03-01 (W09): NextStartDate is exclusive, so 1000 / 1.25 = 800, not 1250.
    assert m["closed_won_amount"]["prior_week"] == pytest.approx(800.0, **cents)
    assert result.pipeline_created_null_amounts[R1] == 0  # an amount without rate is not null

    q = result.quota[R1]
    # The quota row is 10000 EUR at the STATIC rate 0.5 -> 20000 (the dated 0.8 would be 12500).
    assert q["amount"] == pytest.approx(20000.0, **cents)
    # Won from 01-01 to week_end: EURFEB 400 / 0.8 = 500 (02-10) + EURMAR1 800 + EURWON 800
    #   + JPYWON 300 = 2400; SEKWON adds nothing.
    assert q["won_to_date"] == pytest.approx(2400.0, **cents)
    # Open, closing 03-09 .. 03-31: EURNEW 800 + GBPNEW 600 + USDNEW 100 + HIST 10000 = 11500;
    #   CHFNEW adds nothing, HISTNOCUR was overdue (02-25), EURAPR(1) are next quarter.
    assert q["open_pipeline"] == pytest.approx(11500.0, **cents)
    assert q["coverage"] == pytest.approx(11500 / (20000 - 2400))
    assert q["quarter_label"] == "FY2026 Q1"
    # R2: one of its two quota rows is in SEK, which has no rate: no quota, never 5000.
    assert result.quota[R2] is None
    assert result.quota_missing_reason == {R1: None, R2: "no_rate"}
    assert result.quota_rows_without_rate[R2] == [
        {
            "quota_id": f"Q-{R2[-3:]}-2026-01-01-1000",
            "currency": "SEK",
            "amount_original": 1000.0,
            "start_date": date(2026, 1, 1),
        }
    ]

    listed = [
        (u["rep_id"], u["opportunity_id"], u["currency"], u["amount_original"], u["number"])
        for u in result.unconverted_amounts
    ]
    assert listed == [
        (R1, "CHFNEW", "CHF", 500.0, "pipeline_created"),
        (R1, "SEKWON", "SEK", 1000.0, "closed_won_amount"),
        (R1, "SEKWON", "SEK", 1000.0, "won_to_date"),
        (R1, "CHFNEW", "CHF", 500.0, "open_pipeline"),
        (R1, "CHFNEW", "CHF", 500.0, "deal_amount"),
        (R1, "EURAPR", "EUR", 1000.0, "deal_amount"),
        (R1, "EURAPR1", "EUR", 700.0, "deal_amount"),
        (R1, "SEKWON", "SEK", 1000.0, "deal_amount"),
    ]


def test_corporate_currency_from_currency_type_else_config(tmp_path: Path) -> None:
    p = "Prospecting"
    deals = [
        _in("EUR", _deal("EURNEW", R1, [(datetime(2026, 3, 3), p, LATE, 1000.0)])),
        _in(None, _deal("PLAIN", R1, [(datetime(2026, 3, 3), p, LATE, 300.0)])),
    ]
    # The corporate row says EUR: EUR amounts stay, the config code is not used.
    eur = _org(tmp_path / "eur", deals, CurrencyType=[_currency("EUR", 1.0, corporate=True)])
    corporate = recompute_week(eur, WEEK, rules={"currency_code": "GBP"})
    assert corporate.currency == "EUR"
    assert corporate.deals["PLAIN"]["currency_original"] == "EUR"  # no code: corporate
    # CurrencyType rows but none corporate: the config code (GBP, rate 1); EUR at 0.5 -> 2000.
    deals = [
        _in("EUR", _deal("EURNEW", R1, [(datetime(2026, 3, 3), p, LATE, 1000.0)])),
        _in("GBP", _deal("GBPNEW", R1, [(datetime(2026, 3, 3), p, LATE, 300.0)])),
    ]
    none = _org(tmp_path / "none", deals, CurrencyType=[_currency("EUR", 0.5)])
    result = recompute_week(none, WEEK, rules={"currency_code": "GBP"})
    assert result.currency == "GBP"
    assert result.deals["EURNEW"]["amount"] == 2000.0
    assert result.deals["GBPNEW"]["amount"] == 300.0
    assert result.metrics[R1]["pipeline_created"]["this_week"] == 2300.0
    # No CurrencyType rows: a single-currency org in the config code, amounts as they are.
    single = _org(tmp_path / "single", [_deal("D", R1, [(datetime(2026, 3, 3), p, LATE, 70.0)])])
    plain = recompute_week(single, WEEK, rules={"currency_code": "CAD"})
    assert plain.currency == "CAD"
    assert (plain.deals["D"]["amount"], plain.deals["D"]["amount_original"]) == (70.0, 70.0)
    assert plain.deals["D"]["currency_original"] == "CAD"
    assert recompute_week(single, WEEK).currency == "USD"  # the default
    assert plain.unconverted_amounts == []


# ----------------------------------------------------------------------------- fiscal quarters


def _organization(start_month: int | None, *, start_name: bool = False) -> list[dict]:
    return [
        {
            "Id": "00D000000000000ORG",
            "Name": "Org",
            "FiscalYearStartMonth": start_month,
            "UsesStartDateAsFiscalYearName": start_name,
        }
    ]


def _fiscal_org(tmp_path: Path, organization: list[dict], **objects: list[dict]) -> Path:
    d = date
    opps = [
        _closed("JAN20", R1, d(2026, 1, 20), 2000),  # calendar Q1, not February-year Q1
        _closed("FEB10", R1, d(2026, 2, 10), 3000),
    ]
    quotas = [
        _quota(R1, d(2026, 1, 1), 5000),
        _quota(R1, d(2026, 2, 1), 10000),  # monthly rows
        _quota(R1, d(2026, 3, 1), 10000),
        _quota(R1, d(2026, 4, 1), 10000),
        _quota(R1, d(2026, 5, 1), 7000),
    ]
    return _org(
        tmp_path,
        [],
        Opportunity=opps,
        ForecastingQuota=quotas,
        **({"Organization": organization} if organization else {}),
        **objects,
    )


def test_february_fiscal_year_sums_monthly_quota_rows_and_names_the_year(tmp_path: Path) -> None:
    ends = load_org(_fiscal_org(tmp_path / "ends", _organization(2)))
    q = recompute_week(ends, WEEK).quota[R1]
    # Week's last day 2026-03-08: quarter 2026-02-01 .. 2026-05-01, the first of the fiscal year
    # that starts 2026-02-01 and ends 2027-01-31, so named 2027 (UsesStartDate... false).
    assert (q["quarter_label"], q["quarter_start"], q["quarter_end"]) == (
        "FY2027 Q1",
        date(2026, 2, 1),
        date(2026, 5, 1),
    )
    # The three monthly rows 02-01, 03-01, 04-01: 10000 each; 01-01 and 05-01 are outside.
    assert q["amount"] == 30000.0
    assert q["won_to_date"] == 3000.0  # FEB10 only; JAN20 is in the previous quarter
    assert q["elapsed"] == pytest.approx(36 / 89)  # 02-01 .. 03-09 of 02-01 .. 05-01
    assert q["pacing"] == pytest.approx(0.1 / (36 / 89))
    # W04 (last day 2026-01-25): 2025-11-01 .. 2026-02-01, Q4 of the year ending 2026-01-31.
    w04 = recompute_week(ends, "2026-W04")
    assert w04.quarter["quarter_label"] == "FY2026 Q4"
    assert (w04.quarter["quarter_start"], w04.quarter["quarter_end"]) == (
        date(2025, 11, 1),
        date(2026, 2, 1),
    )
    # W05 ends on Sunday 2026-02-01: the week belongs to the quarter of its last day.
    assert recompute_week(ends, "2026-W05").quarter["quarter_label"] == "FY2027 Q1"

    starts = load_org(_fiscal_org(tmp_path / "starts", _organization(2, start_name=True)))
    assert recompute_week(starts, WEEK).quota[R1]["quarter_label"] == "FY2026 Q1"
    assert recompute_week(starts, "2026-W04").quarter["quarter_label"] == "FY2025 Q4"

    # Config overrides the Organization row: calendar Q1, rows 01-01 + 02-01 + 03-01 = 25000.
    calendar = recompute_week(
        _fiscal_org(tmp_path / "ends", _organization(2)),
        WEEK,
        rules={"fiscal_year_start_month": 1},
    )
    q1 = calendar.quota[R1]
    assert (q1["quarter_label"], q1["amount"], q1["won_to_date"]) == ("FY2026 Q1", 25000.0, 5000.0)
    assert q1["elapsed"] == pytest.approx(67 / 90)
    assert calendar.quarter["quarter_source"] == "standard"
    # No Organization row and no config: January.
    bare = recompute_week(_fiscal_org(tmp_path / "bare", []), WEEK).quota[R1]
    assert (bare["quarter_start"], bare["amount"]) == (date(2026, 1, 1), 25000.0)
    # The pacing history (W07..W10) uses each week's own quarter, all FY2027 Q1 here: the 3000
    # won on 02-10 gives attainment 0.1 from W07 on; W07 elapsed 02-01 .. 02-16 = 15 of 89 days.
    history = recompute_week(ends, WEEK).pacing_history[R1]
    elapsed = [(d - date(2026, 2, 1)).days / 89 for d in (date(2026, 2, 16), date(2026, 2, 23))]
    assert history[:2] == pytest.approx([0.1 / elapsed[0], 0.1 / elapsed[1]])


def test_custom_fiscal_year_periods_and_days_outside_them(tmp_path: Path) -> None:
    d = date
    years = [{"Id": "022000000000000FY1", "Name": "2027", "StartDate": d(2026, 1, 4)}]
    periods = [
        {
            "Id": "026000000000000PQ1",
            "FiscalYearSettingsId": "022000000000000FY1",
            "Type": "Quarter",
            "StartDate": d(2026, 1, 4),
            "EndDate": d(2026, 4, 4),
            "Number": 1,
        },
        {  # its FiscalYearSettings row is missing: named like a standard year of its EndDate
            "Id": "026000000000000PQ2",
            "FiscalYearSettingsId": "022000000000000FYX",
            "Type": "Quarter",
            "StartDate": d(2026, 4, 5),
            "EndDate": d(2026, 7, 4),
            "Number": 2,
        },
        {  # not a quarter: ignored
            "Id": "026000000000000PM2",
            "FiscalYearSettingsId": "022000000000000FY1",
            "Type": "Month",
            "StartDate": d(2026, 2, 1),
            "EndDate": d(2026, 2, 28),
            "Number": 2,
        },
    ]
    opps = [
        _closed("EARLY", R1, d(2026, 1, 3), 5000),  # the day before the custom Q1
        _closed("IN", R1, d(2026, 1, 5), 2000),
    ]
    quotas = [
        _quota(R1, d(2026, 1, 4), 9000),
        _quota(R1, d(2026, 2, 1), 1000),
        _quota(R1, d(2026, 4, 5), 8000),
        _quota(R1, d(2025, 10, 1), 4000),
        _quota(R1, d(2026, 1, 1), 500),  # in no custom quarter and not in Q4 2025
    ]
    org_dir = _org(
        tmp_path,
        [],
        Opportunity=opps,
        ForecastingQuota=quotas,
        Organization=_organization(1),
        FiscalYearSettings=years,
        Period=periods,
    )
    org = load_org(org_dir)
    # W10 (last day 03-08) is in Q1 = [2026-01-04, 2026-04-05): quota 9000 + 1000, won 2000
    # (IN; EARLY is before the quarter), elapsed 01-04 .. 03-09 = 64 of 91 days.
    q = recompute_week(org, WEEK).quota[R1]
    assert (q["quarter_label"], q["quarter_start"], q["quarter_end"]) == (
        "FY2027 Q1",
        date(2026, 1, 4),
        date(2026, 4, 5),
    )
    assert (q["amount"], q["won_to_date"]) == (10000.0, 2000.0)
    assert q["elapsed"] == pytest.approx(64 / 91)
    assert q["quarter_source"] == "period"
    # W07 (last day 02-15) is in the Month period too: only quarters count.
    assert recompute_week(org, "2026-W07").quarter["quarter_start"] == date(2026, 1, 4)
    # 2026-W01 ends on Sunday 2026-01-04, Q1's first day (StartDate is inclusive).
    assert recompute_week(org, "2026-W01").quarter["quarter_label"] == "FY2027 Q1"
    # W14 ends on Q2's first day 04-05: Q2 = [04-05, 07-05), named 2026 (year of its EndDate
    # by the standard January rule); quota 8000; elapsed 1 of 91 days.
    q14 = recompute_week(org, "2026-W14").quota[R1]
    assert (q14["quarter_label"], q14["amount"]) == ("FY2026 Q2", 8000.0)
    assert q14["elapsed"] == pytest.approx(1 / 91)
    # W13 (last day 03-29): EndDate 04-04 is inclusive, so still Q1.
    assert recompute_week(org, "2026-W13").quarter["quarter_label"] == "FY2027 Q1"
    # 2025-W51 (last day 2025-12-21) is in no Period: the standard calendar Q4 2025.
    w51 = recompute_week(org, "2025-W51")
    assert w51.quarter["quarter_label"] == "FY2025 Q4"
    assert w51.quarter["quarter_source"] == "standard"
    assert w51.quota[R1]["amount"] == 4000.0
    # A day before the first Period (2026-01-02) falls back to the standard Q1 2026.
    fallback = org.quarter_of(date(2026, 1, 2))
    assert (fallback.label, fallback.start, fallback.end) == (
        "FY2026 Q1",
        date(2026, 1, 1),
        date(2026, 4, 1),
    )


def test_bad_fiscal_start_month_is_named(tmp_path: Path) -> None:
    with pytest.raises(OracleInputError, match="FiscalYearStartMonth 13"):
        load_org(_fiscal_org(tmp_path, _organization(13)))
    with pytest.raises(OracleInputError, match="fiscal_year_start_month=0"):
        load_org(_fiscal_org(tmp_path, _organization(2)), rules={"fiscal_year_start_month": 0})


# ----------------------------------------------------------------------------- forecast category


def test_omitted_deals_are_left_out_of_open_pipeline(tmp_path: Path) -> None:
    feb1, after = datetime(2026, 2, 1), datetime(2026, 3, 10)
    close = date(2026, 3, 20)

    def deal(oid: str, amount: float, record: str | None, *rows: tuple[datetime, str | None]):
        opp, history = _deal(oid, R1, [(at, "Prospecting", close, amount) for at, _ in rows])
        for row, (_, category) in zip(history, rows, strict=True):
            row["ForecastCategory"] = category
        opp["ForecastCategoryName"] = record
        return opp, history

    deals = [
        deal("FC_PIPE", 1000.0, "Pipeline", (feb1, "Pipeline")),
        deal("FC_OMIT", 2000.0, "Omitted", (feb1, "Omitted")),
        # Omitted only after week_end: as of week_end it is Pipeline and counts.
        deal("FC_LATER", 4000.0, "Omitted", (feb1, "Pipeline"), (after, "Omitted")),
        # The row has no category: the record's current one (Omitted).
        deal("FC_EMPTY", 8000.0, "Omitted", (feb1, None)),
        deal("FC_BEST", 16000.0, "Best Case", (feb1, "BestCase")),
        deal("FC_COMMIT", 32000.0, "Commit", (feb1, "Forecast")),
    ]
    no_rows = {
        "Id": "FC_NOROWS",
        "OwnerId": R1,
        "StageName": "Prospecting",
        "Amount": 64000.0,
        "CloseDate": close,
        "IsClosed": False,
        "IsWon": False,
        "ForecastCategoryName": "Omitted",
        "CreatedDate": feb1,
    }
    org = _org(
        tmp_path,
        deals,
        Opportunity=[no_rows],
        ForecastingQuota=[_quota(R1, date(2026, 1, 1), 100000)],
    )
    result = recompute_week(org, WEEK)
    categories = {oid: deal["forecast_category"] for oid, deal in result.deals.items()}
    assert categories == {
        "FC_PIPE": "Pipeline",
        "FC_OMIT": "Omitted",
        "FC_LATER": "Pipeline",
        "FC_EMPTY": "Omitted",
        "FC_BEST": "Best Case",  # history API name normalised to the label
        "FC_COMMIT": "Commit",
        "FC_NOROWS": "Omitted",
    }
    q = result.quota[R1]
    # 1000 + 4000 + 16000 + 32000: FC_OMIT, FC_EMPTY and FC_NOROWS are Omitted.
    assert q["open_pipeline"] == 53000.0
    assert q["coverage"] == pytest.approx(0.53)
    # An Omitted deal is still a deal of the packet, with its movement.
    assert result.deals["FC_OMIT"]["movement"] == "unchanged"


# ----------------------------------------------------------------------------- activity not logged


def test_a_kind_the_org_does_not_log_is_null_not_zero(tmp_path: Path) -> None:
    we = WEEK_END.date()  # 2026-03-09; the 91-day window starts 2025-12-08
    stranger = "005000000000000XXX"  # not a User of the folder
    tasks = [
        _task("T1", R2, we - timedelta(days=92), subtype="Email"),  # 2025-12-07: too old
        _task("T2", R1, date(2026, 3, 3), subtype="Email", closed=False),  # open: not an email
        _task("T3", R1, date(2026, 3, 3), subtype="Email", deleted=True),
        _task("T4", M, date(2026, 3, 3), subtype="Call"),  # the manager's call: calls logged
        _task("T5", R1, date(2026, 3, 4), subtype="Call"),
        _task("T6", R1, date(2026, 3, 4), subtype="Task", what="QUIET"),  # neither kind
    ]
    events = [_event("E1", stranger, WEEK_END - timedelta(days=91))]  # first instant in window
    deals = [_deal("QUIET", R1, [(datetime(2026, 1, 1), "Prospecting")])]
    org = load_org(_org(tmp_path, deals, Task=tasks, Event=events))
    result = recompute_week(org, WEEK)
    assert result.activity_logged == {"calls": True, "emails": False, "meetings": True}
    assert result.activity_not_logged == ["emails"]
    nothing = dict.fromkeys(("this_week", "prior_week", "avg_4w", "team_median"))
    assert result.metrics[R1]["emails"] == nothing
    assert result.metrics[R2]["emails"] == nothing
    assert result.metrics[R1]["calls"] == {
        "this_week": 1,
        "prior_week": 0,
        "avg_4w": 0.0,
        "team_median": 0.5,
    }
    assert result.metrics[R1]["meetings"]["this_week"] == 0  # logged, but not by R1
    # A kind is logged, so no_activity is evaluated: QUIET's only Task is dated 03-04 (a closed
    # Task of any type is activity on the deal), so it is not stuck for want of activity.
    assert result.deals["QUIET"]["no_activity"] is False
    # In W09 (week_end 2026-03-02) the email of 2025-12-07 is inside its 91 days: logged, 0.
    w09 = recompute_week(org, "2026-W09")
    assert w09.activity_logged["emails"] is True
    assert w09.metrics[R1]["emails"]["this_week"] == 0
    # W11 (week_end 03-16): the event of 2025-12-08 is now 98 days old, the calls are recent.
    assert recompute_week(org, "2026-W11").activity_not_logged == ["emails", "meetings"]


def test_no_activity_rule_is_off_when_the_org_logs_no_kind(tmp_path: Path) -> None:
    tasks = [
        _task("T1", R1, date(2025, 11, 1), subtype="Call"),  # older than 91 days
        _task("T2", R1, date(2026, 1, 20), subtype="Task", what="BUSY"),  # no kind
    ]
    deals = [
        _deal("QUIET", R1, [(datetime(2026, 1, 1), "Prospecting")]),
        _deal("BUSY", R1, [(datetime(2026, 1, 1), "Prospecting")]),
    ]
    org = _org(tmp_path, deals, Task=tasks)
    result = recompute_week(org, WEEK, rules={"stuck_fallback_days": 1000})
    assert result.has_activity_data is True  # there is Task data, but none of the three kinds
    assert result.activity_not_logged == ["calls", "emails", "meetings"]
    assert result.deals["QUIET"]["no_activity"] is None
    assert result.deals["QUIET"]["stuck_reasons"] == []
    assert all(v is None for v in result.metrics[R1]["calls"].values())
    assert result.metrics[R1]["opportunities_created"]["this_week"] == 0  # not an activity kind
    # One call by anyone in the 91 days switches the rule on: QUIET (no activity ever) and BUSY
    # (its Task of 01-20 is older than 14 days) are then stuck for want of activity.
    tasks.append(_task("T3", M, date(2026, 3, 4), subtype="Call"))
    logged = recompute_week(
        _org(tmp_path / "logged", deals, Task=tasks), WEEK, rules={"stuck_fallback_days": 1000}
    )
    assert logged.activity_not_logged == ["emails", "meetings"]
    assert logged.deals["QUIET"]["stuck_reasons"] == ["no_activity"]
    assert logged.deals["BUSY"]["no_activity"] is True


# ----------------------------------------------------------------------------- record types


def test_record_types_include_and_exclude(tmp_path: Path) -> None:
    record_types = [
        {
            "Id": "012000000000000NB1",
            "Name": "New Business",
            "DeveloperName": "New_Business",
            "SobjectType": "Opportunity",
        },
        {
            "Id": "012000000000000RN1",
            "Name": "Renewal",
            "DeveloperName": "Renewal",
            "SobjectType": "Opportunity",
        },
    ]
    p, won = "Prospecting", "Closed Won"
    feb1, mar3, mar5 = datetime(2026, 2, 1), datetime(2026, 3, 3), datetime(2026, 3, 5)

    def typed(oid: str, record_type: str | None, steps: list[tuple]) -> tuple[dict, list[dict]]:
        opp, history = _deal(oid, R1, steps)
        opp["RecordTypeId"] = record_type
        return opp, history

    deals = [
        typed("NB", "012000000000000NB1", [(mar3, p, LATE, 1000.0)]),
        typed("RN", "012000000000000RN1", [(mar3, p, LATE, 2000.0)]),
        typed("NONE", None, [(mar3, p, LATE, 4000.0)]),
        typed("UNK", "012000000000000XYZ", [(mar3, p, LATE, 8000.0)]),  # not in RecordType
        typed(
            "RNWON",
            "012000000000000RN1",
            [(feb1, p, mar5.date(), 16000.0), (mar5, won, mar5.date(), 16000.0)],
        ),
        typed(
            "NBWON",
            "012000000000000NB1",
            [(feb1, p, mar5.date(), 32000.0), (mar5, won, mar5.date(), 32000.0)],
        ),
    ]
    tasks = [_task("T1", R1, date(2026, 3, 4), what="RN")]  # activity on a left-out deal
    org = _org(
        tmp_path,
        deals,
        RecordType=record_types,
        Task=tasks,
        ForecastingQuota=[_quota(R1, date(2026, 1, 1), 100000)],
    )

    def numbers(rules: dict | None) -> tuple:
        r = recompute_week(org, WEEK, rules=rules)
        m = r.metrics[R1]
        return (
            m["opportunities_created"]["this_week"],
            m["pipeline_created"]["this_week"],
            m["closed_won_count"]["this_week"],
            m["closed_won_amount"]["this_week"],
            r.quota[R1]["won_to_date"],
            r.quota[R1]["open_pipeline"],
            set(r.deals),
            r.left_out_by_record_type,
            m["calls"]["this_week"],
        )

    everything = recompute_week(org, WEEK)
    assert {oid: d["record_type"] for oid, d in everything.deals.items()} == {
        "NB": "New Business",
        "RN": "Renewal",
        "NONE": None,
        "UNK": None,
        "RNWON": "Renewal",
        "NBWON": "New Business",
    }
    # Open pipeline closes LATE (03-31): NB 1000 + RN 2000 + NONE 4000 + UNK 8000.
    assert numbers(None) == (
        4,
        15000.0,
        2,
        48000.0,
        48000.0,
        15000.0,
        {"NB", "RN", "NONE", "UNK", "RNWON", "NBWON"},
        set(),
        1,
    )
    # Renewals left out: no opportunity without a record type or of an unknown one is dropped.
    assert numbers({"record_types": {"exclude": ["Renewal"]}}) == (
        3,
        13000.0,
        1,
        32000.0,
        32000.0,
        13000.0,
        {"NB", "NONE", "UNK", "NBWON"},
        {"RN", "RNWON"},
        1,  # the call on RN still counts: it is the rep's activity
    )
    # Only New Business: opportunities without a (known) record type go too.
    only_new = (
        1,
        1000.0,
        1,
        32000.0,
        32000.0,
        1000.0,
        {"NB", "NBWON"},
        {"RN", "RNWON", "NONE", "UNK"},
        1,
    )
    assert numbers({"record_types": {"include": ["New_Business"]}}) == only_new
    assert (
        numbers({"record_types": {"include": ["New_Business", "Renewal"], "exclude": ["Renewal"]}})
        == only_new
    )
    # DeveloperName, not the Name: "New Business" matches nothing.
    assert numbers({"record_types": {"include": ["New Business"]}})[0] == 0


# ----------------------------------------------------------------------------- settings


def test_rules_from_settings_read_by_attribute_name() -> None:
    from types import SimpleNamespace

    settings = SimpleNamespace(
        metrics=SimpleNamespace(stuck_min_days=21, no_activity_days=10),
        pairs=SimpleNamespace(include_roles=["AE"], exclude_profiles=[]),
        fiscal_year_start_month=None,
        currency_code="EUR",
        record_types=SimpleNamespace(include=[], exclude=["Renewal"]),
        extra_stages=("Demo",),
        org_timezone="Europe/Berlin",
    )
    rules = rules_from_settings(settings)
    assert rules == {
        "stuck_min_days": 21,
        "no_activity_days": 10,
        "include_roles": ["AE"],
        "exclude_profiles": [],
        "fiscal_year_start_month": None,
        "currency_code": "EUR",
        "record_types": settings.record_types,
        "extra_stages": ["Demo"],
    }
    from salesprep.config import Settings

    real = rules_from_settings(Settings())
    assert real["stuck_min_days"] == Settings().metrics.stuck_min_days
    assert "org_timezone" not in real


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
    # Only a deleted Task: the org logs no calls, so the metric is null, not 0.
    assert result.metrics[R1]["calls"]["this_week"] is None
    assert result.activity_not_logged == ["calls", "emails", "meetings"]
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


# ------------------------------------------------------------------ since our last 1:1 (I30)


def _followup_weeks(deals_by_week: list[dict[str, tuple[str, bool]]]) -> list[Any]:
    """Oracle weeks from 2026-W06 on with only what the follow-up reads: movement, stuck."""
    from types import SimpleNamespace

    weeks = []
    for n, deals in enumerate(deals_by_week):
        start = date(2026, 2, 2) + timedelta(weeks=n)
        iso = start.isocalendar()
        weeks.append(
            SimpleNamespace(
                week=f"{iso.year}-W{iso.week:02d}",
                week_start=start,
                deals={
                    oid: {"rep_id": R1, "movement": movement, "is_stuck": stuck}
                    for oid, (movement, stuck) in deals.items()
                },
            )
        )
    return weeks


def test_stuck_followups_every_outcome_and_streak() -> None:
    u, a = "unchanged", "advanced"
    weeks = _followup_weeks(
        [
            {"STILL": (u, True), "WON": (u, True), "GAP": (u, True), "QUIET": (u, False)},
            {"STILL": (u, True), "WON": (u, True), "GAP": (u, False), "QUIET": (u, True)},
            {
                "STILL": (u, True),
                "WON": ("won", False),
                "GAP": (u, True),
                "QUIET": (u, False),
                "ADV": (u, True),
                "LOST": (u, True),
                "BACK": (u, True),
            },
            {
                "STILL": (u, True),
                "GAP": (u, True),
                "ADV": (a, True),
                "LOST": ("lost", False),
                "BACK": ("regressed", False),
                "NEW": ("new", True),
            },
        ]
    )
    followups = compute_stuck_followups(weeks)
    first, second, third, fourth = (followups[w.week] for w in weeks)

    def outcome(rows: dict, oid: str) -> tuple:
        row = rows[oid]
        return row["outcome"], row["stuck_weeks"], row["close_it_or_kill_it"]

    assert {oid: outcome(first, oid) for oid in first} == {
        "STILL": ("newly_stuck", 1, False),
        "WON": ("newly_stuck", 1, False),
        "GAP": ("newly_stuck", 1, False),
    }
    assert outcome(second, "GAP") == ("unstuck", 1, False)
    assert outcome(second, "QUIET") == ("newly_stuck", 1, False)
    assert outcome(third, "STILL") == ("still_stuck", 3, True)
    assert outcome(third, "WON") == ("won", 2, False)
    assert outcome(third, "GAP") == ("newly_stuck", 1, False)  # the run restarts
    assert outcome(third, "QUIET") == ("unstuck", 1, False)
    assert outcome(fourth, "STILL") == ("still_stuck", 4, True)
    assert outcome(fourth, "ADV") == ("advanced", 2, False)
    assert outcome(fourth, "LOST") == ("lost", 1, False)
    assert outcome(fourth, "BACK") == ("unstuck", 1, False)
    assert outcome(fourth, "NEW") == ("newly_stuck", 1, False)
    assert "WON" not in fourth  # closed last week: no movement, nothing to follow up
    assert fourth["STILL"]["stuck_since_week"] == weeks[0].week
    assert compute_stuck_followups(weeks, close_it_or_kill_it_weeks=2)[weeks[3].week]["ADV"][
        "close_it_or_kill_it"
    ]


def test_stuck_followups_need_consecutive_weeks() -> None:
    weeks = _followup_weeks([{}, {}, {}])
    with pytest.raises(OracleInputError, match="does not follow"):
        compute_stuck_followups([weeks[0], weeks[2]])
