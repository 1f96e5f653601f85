"""A hand-made org small enough to compute every mart number by hand (see test_marts.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq

from salesprep.catalog import OBJECTS
from salesprep.org_folder import read_object, write_object
from salesprep.weeks import Week

WEEK = Week.parse("2026-W10")  # Mon 2026-03-02 .. Mon 2026-03-09 (exclusive)
TIMEZONE = "America/New_York"  # DST starts Sun 2026-03-08: bucketing must use local time

# 18-character ids with the right key prefixes; the checksum suffix is not validated here.
VP, M1, M2 = "005000000000001AAA", "005000000000002AAA", "005000000000003AAA"
R1, R2 = "005000000000011AAA", "005000000000012AAA"
R3, R4 = "005000000000013AAA", "005000000000014AAA"
C1, C2, R5 = "005000000000021AAA", "005000000000022AAA", "005000000000023AAA"
R6, R7 = "005000000000031AAA", "005000000000032AAA"
PROFILE_STD, PROFILE_INT = "00e000000000001AAA", "00e000000000002AAA"
ROLE_REP = "00E000000000001AAA"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _user(uid: str, name: str, manager: str | None, *, active: bool = True, **extra) -> dict:
    first, _, last = name.partition(" ")
    return {
        "Id": uid,
        "Name": name,
        "FirstName": first,
        "LastName": last,
        "Username": f"{first.lower()}@example.com",
        "Email": f"{first.lower()}@example.com",
        "Title": "Account Executive",
        "IsActive": active,
        "ManagerId": manager,
        "UserRoleId": ROLE_REP,
        "ProfileId": PROFILE_STD,
        "CreatedDate": _utc("2025-01-01T00:00:00"),
        **extra,
    }


def _task(n: int, owner: str, day: str, *, subtype: str | None, type_: str | None, **extra) -> dict:
    return {
        "Id": f"00T{n:012d}AAA",
        "OwnerId": owner,
        "Subject": f"task {n}",
        "ActivityDate": date.fromisoformat(day),
        "IsClosed": True,
        "TaskSubtype": subtype,
        "Type": type_,
        "IsDeleted": False,
        "CreatedDate": _utc(f"{day}T12:00:00"),
        **extra,
    }


def _opp(n: int, owner: str, created: str, stage: str, close: str, amount, **extra) -> dict:
    closed = stage.startswith("Closed")
    return {
        "Id": f"006{n:012d}AAA",
        "Name": f"Deal {n}",
        "OwnerId": owner,
        "StageName": stage,
        "Amount": amount,
        "CloseDate": date.fromisoformat(close),
        "IsClosed": closed,
        "IsWon": stage == "Closed Won",
        "IsDeleted": False,
        "CreatedDate": _utc(created),
        **extra,
    }


def _history(n: int, opp: int, created: str, stage: str, close: str, amount) -> dict:
    return {
        "Id": f"008{n:012d}AAA",
        "OpportunityId": f"006{opp:012d}AAA",
        "StageName": stage,
        "Amount": amount,
        "CloseDate": date.fromisoformat(close),
        "IsDeleted": False,
        "CreatedDate": _utc(created),
    }


def write_tiny_org(org_dir: Path) -> Path:
    """Write the tiny org as Data Export CSVs; no OpportunityStage (standard stages apply)."""
    write_object(
        org_dir,
        "Profile",
        [
            {"Id": PROFILE_STD, "Name": "Standard User"},
            {"Id": PROFILE_INT, "Name": "Integration"},
        ],
    )
    write_object(org_dir, "UserRole", [{"Id": ROLE_REP, "Name": "Sales Rep"}])
    write_object(
        org_dir,
        "User",
        [
            _user(VP, "Vera President", None, Title="VP Sales"),
            _user(M1, "Mona Manager", VP, Title="Sales Manager", TimeZoneSidKey="Europe/Berlin"),
            _user(M2, "Max Gone", VP, active=False),
            _user(R1, "Rita Rep", M1, TimeZoneSidKey="America/Chicago"),
            _user(R2, "Ravi Rep", M1),
            _user(R3, "Rolf Inactive", M1, active=False),
            _user(R4, "Rosa Orphan", M2),
            _user(C1, "Cyd Loop", C2),
            _user(C2, "Cal Loop", C1),
            _user(R5, "Rex Underloop", C1),
            _user(R6, "Ian Integration", M1, ProfileId=PROFILE_INT),
            _user(R7, "Nora Nomanager", None),
        ],
    )
    write_object(
        org_dir,
        "Task",
        [
            _task(1, R1, "2026-03-03", subtype="Call", type_="Call"),
            # TaskSubtype empty: Type decides.
            _task(2, R1, "2026-03-04", subtype=None, type_="Call"),
            # TaskSubtype wins over Type.
            _task(3, R1, "2026-03-05", subtype="Email", type_="Call"),
            _task(4, R1, "2026-03-05", subtype="Call", type_="Call", IsClosed=False),
            _task(5, R1, "2026-03-05", subtype="Call", type_="Call", IsDeleted=True),
            _task(6, R1, "2026-03-09", subtype="Call", type_="Call"),  # next week
            _task(7, R1, "2026-02-24", subtype="Call", type_="Call"),  # prior week
            _task(8, R2, "2026-03-06", subtype="Call", type_=None),
        ],
    )
    write_object(
        org_dir,
        "Event",
        [
            # 2026-03-09 03:00 UTC is Sunday 23:00 in New York (EDT): this week.
            {
                "Id": "00U000000000001AAA",
                "OwnerId": R1,
                "IsDeleted": False,
                "StartDateTime": _utc("2026-03-09T03:00:00"),
                "CreatedDate": _utc("2026-03-01T00:00:00"),
            },
            # 2026-03-02 04:30 UTC is Sunday 23:30 in New York (EST): the prior week.
            {
                "Id": "00U000000000002AAA",
                "OwnerId": R1,
                "IsDeleted": False,
                "StartDateTime": _utc("2026-03-02T04:30:00"),
                "CreatedDate": _utc("2026-03-01T00:00:00"),
            },
        ],
    )
    write_object(
        org_dir,
        "Opportunity",
        [
            _opp(1, R1, "2026-03-03T15:00:00", "Prospecting", "2026-03-25", 1000.0),
            _opp(2, R1, "2026-03-04T15:00:00", "Qualification", "2026-04-15", None),
            _opp(3, R1, "2026-01-10T15:00:00", "Closed Won", "2026-03-05", 5000.0),
            _opp(4, R1, "2026-01-12T15:00:00", "Closed Lost", "2026-03-06", 700.0),
            _opp(5, R1, "2026-01-15T15:00:00", "Closed Won", "2026-02-10", 3000.0),
            _opp(6, R1, "2026-03-03T15:00:00", "Closed Won", "2026-03-04", 99999.0, IsDeleted=True),
            # Grew after week_end: the week's pipeline must use the history row, not the record.
            _opp(7, R1, "2026-02-01T15:00:00", "Negotiation/Review", "2026-03-31", 9000.0),
            # Lost during the week, reopened after it: not open at week_end.
            _opp(8, R1, "2026-01-20T15:00:00", "Negotiation/Review", "2026-03-27", 4000.0),
        ],
    )
    write_object(
        org_dir,
        "OpportunityHistory",
        [
            _history(1, 7, "2026-02-01T15:00:00", "Prospecting", "2026-03-20", 2000.0),
            _history(2, 7, "2026-03-10T12:00:00", "Negotiation/Review", "2026-03-31", 9000.0),
            _history(3, 8, "2026-01-20T15:00:00", "Prospecting", "2026-03-27", 4000.0),
            _history(4, 8, "2026-03-06T15:00:00", "Closed Lost", "2026-03-06", 4000.0),
            _history(5, 8, "2026-03-12T15:00:00", "Negotiation/Review", "2026-03-27", 4000.0),
        ],
    )
    write_object(
        org_dir,
        "ForecastingQuota",
        [
            {
                "Id": "0J9000000000001AAA",
                "QuotaOwnerId": R1,
                "StartDate": date(2026, 1, 1),
                "QuotaAmount": 12000.0,
            },
            {
                "Id": "0J9000000000002AAA",
                "QuotaOwnerId": R1,
                "StartDate": date(2026, 1, 1),
                "QuotaAmount": 8000.0,
            },
            # Next quarter: must not count for Q1.
            {
                "Id": "0J9000000000003AAA",
                "QuotaOwnerId": R1,
                "StartDate": date(2026, 4, 1),
                "QuotaAmount": 50000.0,
            },
        ],
    )
    return org_dir


def org_to_raw(org_dir: Path, raw_root: Path) -> Path:
    """The raw landing zone of an org folder: `<raw>/<Object>/<Object>.parquet` per object.
    A test fixture only; in production extraction reaches the org over HTTP."""
    for sobject in OBJECTS:
        table = read_object(org_dir, sobject.name).table
        folder = raw_root / sobject.name
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / f"{sobject.name}.parquet")
    return raw_root
