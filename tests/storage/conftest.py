"""The session's S3 server (tests/s3_server.py), with one bucket per test that asks for one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from s3_server import S3Server, moto_s3


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with moto_s3() as server:
        yield server


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    """A new empty bucket on the session's S3 server."""
    return s3_server.new_bucket()
