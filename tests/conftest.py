"""Suite-wide setup: keep every tool's state inside a temporary folder, never in $HOME."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from s3_server import S3Server, moto_s3

_STATE = tempfile.mkdtemp(prefix="salesprep-tests-")
for name, value in {
    "AIRFLOW_HOME": os.path.join(_STATE, "airflow"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
    "MPLCONFIGDIR": os.path.join(_STATE, "matplotlib"),
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "False",
    # A test that forgets to name a data directory must not write into the checkout.
    "SALESPREP_DATA_DIR": os.path.join(_STATE, "data"),
}.items():
    os.environ.setdefault(name, value)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real S3 API for the session (tests/s3_server.py), started on first use."""
    with moto_s3() as server:
        yield server


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    """A new empty bucket on the session's S3 server."""
    return s3_server.new_bucket()
