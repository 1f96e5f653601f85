"""A hand-made org for the deal-movement marts: one deal per movement and per stuck reason,
with every expected value computed by hand in test_deals.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from salesprep.catalog import OBJECTS
from salesprep.org_folder import read_object, write_object

WEEK = "2025-W10"  # Monday 2025-03-03 to Monday 2025-03-10 (exclusive); quarter Q1 2025
MANAGER, REP = "005000000000000MGR", "005000000000000REP"
ACCOUNT = "001000000000000ACC"


def opp_id(name: str) -> str:
    """The 18-character Opportunity id of a named scenario deal."""
    return f"006{name.upper():0>15}"[:18]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class _Org:
    """Collects rows per object; history ids follow insertion order."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {
            "Opportunity": [],
            "OpportunityHistory": [],
            "OpportunityFieldHistory": [],
            "Task": [],
            "Event": [],
        }

    def deal(
        self,
        name: str,
        created: str,
        steps: list[tuple[str, str, str]],
        amount: float = 1000.0,
        **extra: Any,
    ) -> None:
        """A deal created at `created` whose history is `steps` of (time, stage, close date);
        the first step is written at creation and the current record is the last step."""
        oid = opp_id(name)
        for when, stage, close in steps:
            self.rows["OpportunityHistory"].append(
                {
                    "Id": f"008{len(self.rows['OpportunityHistory']) + 1:015d}",
                    "OpportunityId": oid,
                    "StageName": stage,
                    "Amount": amount,
                    "CloseDate": date.fromisoformat(close),
                    "IsDeleted": False,
                    "CreatedDate": _utc(when),
                }
            )
        _, stage, close = steps[-1]
        self.rows["Opportunity"].append(
            {
                "Id": oid,
                "Name": f"Deal {name}",
                "AccountId": ACCOUNT,
                "OwnerId": REP,
                "StageName": stage,
                "Amount": amount,
                "CloseDate": date.fromisoformat(close),
                "IsClosed": stage.startswith("Closed"),
                "IsWon": stage == "Closed Won",
                "IsDeleted": False,
                "CreatedDate": _utc(created),
                **extra,
            }
        )

    def close_date_change(self, name: str, when: str, old: str, new: str) -> None:
        self.rows["OpportunityFieldHistory"].append(
            {
                "Id": f"017{len(self.rows['OpportunityFieldHistory']) + 1:015d}",
                "OpportunityId": opp_id(name),
                "Field": "CloseDate",
                "OldValue": old,
                "NewValue": new,
                "IsDeleted": False,
                "CreatedDate": _utc(when),
            }
        )

    def task(self, name: str, day: str, *, closed: bool = True) -> None:
        self.rows["Task"].append(
            {
                "Id": f"00T{len(self.rows['Task']) + 1:015d}",
                "OwnerId": REP,
                "WhatId": opp_id(name),
                "Subject": "Follow-up",
                "ActivityDate": date.fromisoformat(day),
                "IsClosed": closed,
                "TaskSubtype": "Call",
                "IsDeleted": False,
                "CreatedDate": _utc(f"{day}T09:00:00"),
            }
        )

    def event(self, name: str, start: str) -> None:
        self.rows["Event"].append(
            {
                "Id": f"00U{len(self.rows['Event']) + 1:015d}",
                "OwnerId": REP,
                "WhatId": opp_id(name),
                "Subject": "Meeting",
                "StartDateTime": _utc(start),
                "IsDeleted": False,
                "CreatedDate": _utc(start),
            }
        )


def write_deals_org(org_dir: Path, *, with_activity: bool = True) -> Path:
    """Write the scenario as Data Export CSVs (standard stages: no OpportunityStage rows)."""
    org = _Org()
    # Movements in 2025-W10.
    org.deal(
        "won",
        "2025-01-06T10:00:00",
        [
            ("2025-01-06T10:00:00", "Prospecting", "2025-03-31"),
            ("2025-02-01T00:00:00", "Qualification", "2025-03-31"),
            ("2025-03-05T12:00:00", "Closed Won", "2025-03-05"),
        ],
        amount=5000.0,
    )
    org.deal(
        "lost",
        "2025-02-03T00:00:00",
        [
            ("2025-02-03T00:00:00", "Prospecting", "2025-03-20"),
            ("2025-03-04T00:00:00", "Closed Lost", "2025-03-04"),
        ],
        amount=700.0,
        Loss_Reason__c="Price",
    )
    org.deal(
        "new",
        "2025-03-04T08:00:00",
        [("2025-03-04T08:00:00", "Prospecting", "2025-05-30")],
        amount=1200.0,
    )
    # Created and closed in the same week: the close wins.
    org.deal(
        "sameweek",
        "2025-03-04T09:00:00",
        [
            ("2025-03-04T09:00:00", "Prospecting", "2025-03-06"),
            ("2025-03-06T09:00:00", "Closed Won", "2025-03-06"),
        ],
        amount=300.0,
    )
    org.deal(
        "reopened",
        "2024-12-02T00:00:00",
        [
            ("2024-12-02T00:00:00", "Prospecting", "2025-01-15"),
            ("2025-01-15T00:00:00", "Closed Lost", "2025-01-15"),
            ("2025-03-05T00:00:00", "Negotiation/Review", "2025-03-28"),
        ],
        amount=2000.0,
    )
    # Qualification (position 2) to Proposal/Price Quote (position 7): a 5-stage jump.
    org.deal(
        "advanced",
        "2025-01-06T00:00:00",
        [
            ("2025-01-06T00:00:00", "Prospecting", "2025-03-31"),
            ("2025-01-10T00:00:00", "Qualification", "2025-03-31"),
            ("2025-03-05T00:00:00", "Proposal/Price Quote", "2025-03-31"),
        ],
        amount=4000.0,
    )
    org.deal(
        "regressed",
        "2025-01-06T00:00:00",
        [
            ("2025-01-06T00:00:00", "Perception Analysis", "2025-03-31"),
            ("2025-03-06T00:00:00", "Value Proposition", "2025-03-31"),
        ],
    )
    # Value Proposition since 2024-12-02 10:00 (close-date edits keep the run unbroken):
    # 97 whole days at week_end; no activity; CloseDate pushed twice in the 90 days, recorded in
    # both OpportunityHistory and OpportunityFieldHistory (must count 2, not 4).
    org.deal(
        "aging",
        "2024-11-04T00:00:00",
        [
            ("2024-11-04T00:00:00", "Prospecting", "2025-03-31"),
            ("2024-12-02T10:00:00", "Value Proposition", "2025-03-31"),
            ("2025-01-20T00:00:00", "Value Proposition", "2025-04-30"),
            ("2025-02-20T00:00:00", "Value Proposition", "2025-05-31"),
        ],
        amount=8000.0,
    )
    org.close_date_change("aging", "2025-01-20T00:00:00", "2025-03-31", "2025-04-30")
    org.close_date_change("aging", "2025-02-20T00:00:00", "2025-04-30", "2025-05-31")
    # Five deals that left Needs Analysis after 10, 12, 20, 30 and 40 days: median 20, so the
    # Needs Analysis threshold is max(14, 1.5 x 20) = 30 days.
    for n, days in enumerate((10, 12, 20, 30, 40), start=1):
        entered = date(2024, 12, 1 + n)
        left = date.fromordinal(entered.toordinal() + days)
        org.deal(
            f"filler{n}",
            f"{entered.isoformat()}T00:00:00",
            [
                (f"{entered.isoformat()}T00:00:00", "Needs Analysis", "2025-02-28"),
                (f"{left.isoformat()}T00:00:00", "Closed Lost", left.isoformat()),
            ],
        )
    # Needs Analysis for 28 days (<= 30): not aging; an Event 2025-03-03 is recent activity.
    org.deal(
        "na_ok",
        "2025-02-10T00:00:00",
        [("2025-02-10T00:00:00", "Needs Analysis", "2025-03-31")],
    )
    org.event("na_ok", "2025-03-03T15:00:00")
    # Needs Analysis for 32 days (> 30): aging; a closed Task dated exactly week_end - 14 days
    # still counts as recent activity.
    org.deal(
        "na_old",
        "2025-02-06T00:00:00",
        [("2025-02-06T00:00:00", "Needs Analysis", "2025-03-31")],
    )
    org.task("na_old", "2025-02-24")
    # 10 days old: too young for no_activity; an open Task does not count as activity anyway.
    org.deal(
        "young",
        "2025-02-28T00:00:00",
        [("2025-02-28T00:00:00", "Prospecting", "2025-04-30")],
    )
    org.task("young", "2025-03-05", closed=False)
    if not with_activity:
        org.rows["Task"], org.rows["Event"] = [], []

    write_object(org_dir, "Profile", [{"Id": "00e000000000000PRF", "Name": "Standard User"}])
    write_object(
        org_dir, "User", [_user(MANAGER, "Mona Manager", None), _user(REP, "Rita Rep", MANAGER)]
    )
    write_object(
        org_dir,
        "Account",
        [{"Id": ACCOUNT, "Name": "Acme", "Industry": "Manufacturing", "OwnerId": REP}],
    )
    for name, rows in org.rows.items():
        write_object(org_dir, name, rows)
    return org_dir


def _user(uid: str, name: str, manager: str | None) -> dict[str, Any]:
    first, _, last = name.partition(" ")
    return {
        "Id": uid,
        "Name": name,
        "FirstName": first,
        "LastName": last,
        "Username": f"{first.lower()}@example.com",
        "Email": f"{first.lower()}@example.com",
        "IsActive": True,
        "ManagerId": manager,
        "ProfileId": "00e000000000000PRF",
        "CreatedDate": _utc("2024-01-01T00:00:00"),
    }


def org_to_raw(org_dir: Path, raw_root: Path) -> Path:
    """The raw landing zone of an org folder (one Parquet file per catalog object)."""
    for sobject in OBJECTS:
        folder = raw_root / sobject.name
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(read_object(org_dir, sobject.name).table, folder / f"{sobject.name}.parquet")
    return raw_root
