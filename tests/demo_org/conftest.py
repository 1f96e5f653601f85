"""Small demo orgs generated once per test session, and a reader that caches their CSVs."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from salesprep.demo_org import OrgSummary, generate_org
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


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    path = tmp_path_factory.mktemp("demo-org") / "org"
    return Org(path, generate_org(path, **ARGS))


@pytest.fixture(scope="session")
def org_again(tmp_path_factory: pytest.TempPathFactory) -> Org:
    path = tmp_path_factory.mktemp("demo-org-again") / "org"
    return Org(path, generate_org(path, **ARGS))


@pytest.fixture(scope="session")
def org_other_seed(tmp_path_factory: pytest.TempPathFactory) -> Org:
    path = tmp_path_factory.mktemp("demo-org-seed-8") / "org"
    return Org(path, generate_org(path, **{**ARGS, "seed": 8}))
