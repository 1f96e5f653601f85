"""Small demo orgs generated once per test session, and a reader that caches their CSVs."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from salesprep.demo_org import INTERNATIONAL, OrgSummary, generate_org
from salesprep.weeks import Week

END_WEEK = Week.parse("2026-W10")  # mid-quarter, so quota pacing has weeks behind it
ARGS = {"reps": 10, "managers": 3, "weeks": 26, "seed": 7, "end_week": END_WEEK}


@dataclass
class Org:
    """A generated org folder, its summary and cached rows (as CSV strings, header-keyed)."""

    path: Path
    summary: OrgSummary

    def __post_init__(self) -> None:
        self._cache: dict[str, list[dict[str, str]]] = {}

    def rows(self, name: str) -> list[dict[str, str]]:
        if name not in self._cache:
            with (self.path / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
                self._cache[name] = list(csv.DictReader(handle))
        return self._cache[name]


def _generate(factory: pytest.TempPathFactory, name: str, args: dict[str, Any]) -> Org:
    path = factory.mktemp(name) / "org"
    return Org(path, generate_org(path, **args))


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    return _generate(tmp_path_factory, "demo-org", ARGS)


@pytest.fixture(scope="session")
def org_again(tmp_path_factory: pytest.TempPathFactory) -> Org:
    return _generate(tmp_path_factory, "demo-org-again", ARGS)


@pytest.fixture(scope="session")
def org_other_seed(tmp_path_factory: pytest.TempPathFactory) -> Org:
    return _generate(tmp_path_factory, "demo-org-seed-8", {**ARGS, "seed": 8})


# A realistic international org, plus the edge case of a currency without any rate.
INTERNATIONAL_ARGS = {
    "reps": 8,
    "managers": 3,
    "weeks": 30,
    "seed": 11,
    "end_week": END_WEEK,
    "shape": INTERNATIONAL,
    "currency_without_rate": "CHF",
}
# A custom 4-4-5 fiscal year named by its start, static rates only, monthly quotas, meetings not
# logged; longer than a year, so the oldest activities are archived.
CUSTOM_ARGS = {
    "reps": 5,
    "managers": 2,
    "weeks": 60,
    "seed": 12,
    "end_week": END_WEEK,
    "currencies": ("USD", "EUR"),
    "custom_fiscal_year": True,
    "fiscal_start_month": 2,
    "fiscal_year_named_by_start": True,
    "monthly_quotas": True,
    "meetings": False,
}


@pytest.fixture(scope="session")
def international(tmp_path_factory: pytest.TempPathFactory) -> Org:
    return _generate(tmp_path_factory, "demo-org-international", INTERNATIONAL_ARGS)


@pytest.fixture(scope="session")
def custom_calendar(tmp_path_factory: pytest.TempPathFactory) -> Org:
    return _generate(tmp_path_factory, "demo-org-custom-calendar", CUSTOM_ARGS)
