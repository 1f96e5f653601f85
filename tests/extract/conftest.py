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
    handle: Any = None  # the running EmulatorHandle


# Retries in tests back off for milliseconds, not seconds.
FAST_RETRIES = {
    "retry_attempts": 5,
    "retry_backoff_seconds": 0.01,
    "retry_backoff_max_seconds": 0.05,
    "bulk_poll_seconds": 0.02,
    "bulk_poll_max_seconds": 0.1,
}


def make_settings(data_dir: Path, **salesforce: Any) -> Settings:
    """Settings for a test run: data under `data_dir`, fast retries, `salesforce` overrides."""
    return Settings(data_dir=data_dir, salesforce={**FAST_RETRIES, **salesforce})


@contextmanager
def serve_org(org_dir: Path, settings: Settings, *, config: Any = None) -> Iterator[ServedOrg]:
    """Serve `org_dir` with the emulator and connect to it the way a task does."""
    from salesprep.emulator import Credentials, run_emulator

    with run_emulator(org_dir, config=config) as handle, pytest.MonkeyPatch.context() as patch:
        for name, value in salesforce_conn_env(handle.base_url, Credentials()).items():
            patch.setenv(name, value)
        served = ServedOrg(org_dir, handle.base_url, connect(settings), settings)
        served.handle = handle
        yield served


@pytest.fixture(scope="session")
def sample_org_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_org(tmp_path_factory.mktemp("sample") / "org")


@pytest.fixture(scope="session")
def sample_extract(tmp_path_factory: pytest.TempPathFactory, sample_org_dir: Path):
    """The sample org extracted once: (served org, raw root, report)."""
    from salesprep.salesforce.extract import extract_org

    settings = make_settings(tmp_path_factory.mktemp("data"))
    with serve_org(sample_org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings)
        yield served, settings.raw_root, report
