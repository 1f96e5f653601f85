"""A Postgres database of a test's own on the server the suite uses (127.0.0.1:5432 here and
in CI): skipped, with the reason, where no server answers; dropped when the test is done."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from salesprep.config import PostgresSettings
from salesprep.warehouse.postgres import conninfo


def reachable_or_skip(target: PostgresSettings) -> PostgresSettings:
    """`target`, once its server answers; else the test skips, naming the server."""
    try:
        with psycopg.connect(conninfo(target, "postgres"), connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {target.host}:{target.port}: {exc}")
    return target


@contextlib.contextmanager
def throwaway_database(purpose: str, **fields: Any) -> Iterator[PostgresSettings]:
    """Settings for a new database `salesprep_test_<purpose>_<random>` (`fields`: the other
    PostgresSettings), which the code under test creates; dropped afterwards, connections and
    all."""
    name = f"salesprep_test_{purpose}_{uuid.uuid4().hex[:8]}"
    target = reachable_or_skip(PostgresSettings(database=name, **fields))
    try:
        yield target
    finally:
        with psycopg.connect(conninfo(target, "postgres"), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
