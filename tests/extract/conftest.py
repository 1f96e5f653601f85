"""Fixtures for extraction tests: sample orgs served by the emulator, reached over HTTP through
SalesforceHook and an `AIRFLOW_CONN_SALESFORCE_DEFAULT` environment variable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from extract.sample_org import write_sample_org
from salesprep.config import Settings
from salesprep.salesforce.connection import connect, salesforce_conn_env


@dataclass
class ServedOrg:
    org_dir: Path
    base_url: str
    sf: Any
    settings: Settings


@contextmanager
def serve_org(org_dir: Path, settings: Settings) -> Iterator[ServedOrg]:
    """Serve `org_dir` with the emulator and connect to it the way a task does."""
    from salesprep.emulator import Credentials, run_emulator

    with run_emulator(org_dir) as handle, pytest.MonkeyPatch.context() as patch:
        for name, value in salesforce_conn_env(handle.base_url, Credentials()).items():
            patch.setenv(name, value)
        yield ServedOrg(org_dir, handle.base_url, connect(settings), settings)


@pytest.fixture(scope="session")
def sample_org_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_org(tmp_path_factory.mktemp("sample") / "org")


@pytest.fixture(scope="session")
def sample_extract(tmp_path_factory: pytest.TempPathFactory, sample_org_dir: Path):
    """The sample org extracted once: (served org, raw root, report)."""
    from salesprep.salesforce.extract import extract_org

    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    with serve_org(sample_org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings)
        yield served, settings.raw_root, report
