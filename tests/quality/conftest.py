"""Fixtures for checkpoint tests: a good landing zone and the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from extract.sample_org import write_sample_org

from quality.landing import land_org
from salesprep.config import Settings


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def good_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("good")
    write_sample_org(root / "org")
    land_org(root / "org", root / "raw")
    return root / "raw"
