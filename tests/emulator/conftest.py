"""Fixtures for the emulator tests: a small generated org folder and an emulator serving it."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce

from salesprep.emulator import Credentials, EmulatorHandle, run_emulator
from salesprep.org_folder import write_object
from salesprep.salesforce.session import InstanceRewritingSession

API_VERSION = "62.0"
OPPORTUNITY_COUNT = 4321
STAGES = ["Prospecting", "Qualification", "Proposal", "Closed Won", "Closed Lost"]
NAMES = ["Acme", "acme", "Globex", "O'Brien & Sons", "Initech", "Umbrella", "zeta", "ZETA"]
# Opportunity columns of the test org: every catalog field except NextStep and
# Loss_Reason__c, plus two extra columns the catalog does not declare.
OPPORTUNITY_FIELDS = [
    "Id",
    "Name",
    "AccountId",
    "OwnerId",
    "StageName",
    "Amount",
    "CloseDate",
    "Probability",
    "ForecastCategoryName",
    "Type",
    "LeadSource",
    "Description",
    "IsClosed",
    "IsWon",
    "IsDeleted",
    "CreatedDate",
    "LastModifiedDate",
    "SystemModstamp",
]
EXTRA_COLUMNS = ["Region__c", "LegacyCode"]


@dataclass
class OrgFixture:
    path: Path
    opportunities: list[dict[str, Any]]
    users: list[dict[str, Any]]

    def live_opportunities(self) -> list[dict[str, Any]]:
        return [o for o in self.opportunities if not o["IsDeleted"]]


def _opportunities(rng: random.Random) -> list[dict[str, Any]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(OPPORTUNITY_COUNT):
        stage = rng.choice(STAGES)
        created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        rows.append(
            {
                "Id": f"006{i:015d}",
                "Name": f"{rng.choice(NAMES)} deal {i}" if i % 97 else None,
                "AccountId": f"001{rng.randrange(50):015d}",
                "OwnerId": f"005{rng.randrange(8):015d}",
                "StageName": stage,
                "Amount": None if i % 11 == 0 else float(rng.randrange(0, 500) * 250),
                "CloseDate": date(2026, 1, 1) + timedelta(days=rng.randrange(0, 120)),
                "Probability": float(rng.choice([10, 20, 50, 100, 0])),
                "ForecastCategoryName": "Pipeline",
                "Type": rng.choice(["New Business", "Renewal", None]),
                "LeadSource": rng.choice(["Web", "Partner", None]),
                "Description": 'line one\nline two, "quoted"' if i % 13 == 0 else None,
                "IsClosed": stage.startswith("Closed"),
                "IsWon": stage == "Closed Won",
                "IsDeleted": i % 17 == 0,
                "CreatedDate": created,
                "LastModifiedDate": created + timedelta(hours=5),
                "SystemModstamp": created + timedelta(hours=5, seconds=30),
                "Region__c": rng.choice(["EMEA", "AMER", ""]),
                "LegacyCode": f"L-{i}",
            }
        )
    return rows


def _add_extra_columns(path: Path, rows: list[dict[str, Any]]) -> None:
    """Append columns the catalog does not know (write_object only writes catalog fields)."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    lines[0] += EXTRA_COLUMNS
    for line, row in zip(lines[1:], rows, strict=True):
        line += [row[c] for c in EXTRA_COLUMNS]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(lines)


def build_org(path: Path) -> OrgFixture:
    rng = random.Random(20260105)
    opportunities = _opportunities(rng)
    opp_path = write_object(path, "Opportunity", opportunities, OPPORTUNITY_FIELDS)
    _add_extra_columns(opp_path, opportunities)
    users = [
        {
            "Id": f"005{i:015d}",
            "Name": f"User {i}",
            "IsActive": i != 3,
            "ManagerId": None if i == 0 else "005000000000000000",
            "CreatedDate": datetime(2025, 6, 1, 12, 0, 0, 123000, tzinfo=UTC),
        }
        for i in range(8)
    ]
    user_path = write_object(
        path, "User", users, ["Id", "Name", "IsActive", "ManagerId", "CreatedDate"]
    )
    # Data Export files may start with a BOM and use any header case.
    text = user_path.read_text(encoding="utf-8")
    user_path.write_text("\ufeff" + text.replace("IsActive", "ISACTIVE", 1), encoding="utf-8")
    (path / "Event.csv").write_text("", encoding="utf-8")  # present, no rows at all
    return OrgFixture(path, opportunities, users)


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> OrgFixture:
    return build_org(tmp_path_factory.mktemp("org"))


@pytest.fixture(scope="session")
def emulator(org: OrgFixture) -> Iterator[EmulatorHandle]:
    with run_emulator(org.path) as handle:
        yield handle


def connect(handle: EmulatorHandle, **kwargs: Any) -> Salesforce:
    """A simple-salesforce client logged in to `handle` with the SOAP username-password flow."""
    credentials: Credentials = handle.credentials
    options: dict[str, Any] = {
        "username": credentials.username,
        "password": credentials.password,
        "security_token": credentials.security_token,
        "version": API_VERSION,
    }
    options.update(kwargs)
    return Salesforce(session=InstanceRewritingSession(handle.base_url), **options)


@pytest.fixture(scope="session")
def sf(emulator: EmulatorHandle) -> Salesforce:
    return connect(emulator)
