"""The run lease where it lives (decision 48): the data dir's file (one machine), a row in
the Postgres warehouse and an object on S3 written conditionally (workers on several hosts,
against moto's S3 API) keep the same promises: one holder at a time, a retry keeps it, only
the holder releases or renews it, a stale holder is taken over, a busy lease is refused
naming its holder. tests/storage/test_object_lease.py has what is S3's own."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from postgres_db import throwaway_database

from salesprep.config import PostgresSettings, Settings
from salesprep.runs.lease import (
    FileLeaseStore,
    Lease,
    LeaseBusyError,
    LeaseStore,
    PostgresLeaseStore,
    claim_lease,
    cli_lease,
    current_lease,
    lease_store,
    release_lease,
    renew_lease,
)
from salesprep.runs.object_lease import ObjectLease
from salesprep.runs.process_owner import this_host


@pytest.fixture(scope="module")
def database() -> Iterator[PostgresSettings]:
    with throwaway_database("lease") as target:
        yield target


@pytest.fixture(params=["file", "postgres", "object"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LeaseStore:
    if request.param == "file":
        return FileLeaseStore(tmp_path)
    if request.param == "object":
        s3_server = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("bucket")
        return ObjectLease.under(s3_server.filesystem(), f"{bucket}/salesprep")
    target: PostgresSettings = request.getfixturevalue("database")
    # A schema of its own per case: leases of different published schemas are independent.
    return PostgresLeaseStore(target.model_copy(update={"schema_name": f"s{uuid.uuid4().hex}"}))


def test_one_run_holds_the_lease_others_wait_until_it_is_released(store: LeaseStore) -> None:
    first, second = Lease("salesprep_weekly", "run-a"), Lease("salesprep_weekly", "run-b")
    assert claim_lease(store, first, is_active=lambda holder: True)
    assert claim_lease(store, first, is_active=lambda holder: True)  # a retry keeps it
    assert not claim_lease(store, second, is_active=lambda holder: holder == first)
    assert current_lease(store) == first
    assert not release_lease(store, second)  # not the holder: nothing happens
    assert current_lease(store) == first
    assert release_lease(store, first)
    assert current_lease(store) is None
    assert claim_lease(store, second, is_active=lambda holder: True)


def test_a_lease_left_by_a_run_that_is_no_longer_active_is_taken_over(store: LeaseStore) -> None:
    dead, live = Lease("salesprep_weekly", "killed"), Lease("salesprep_weekly", "next")
    assert claim_lease(store, dead, is_active=lambda holder: True)
    seen: list[Lease] = []
    assert claim_lease(store, live, is_active=lambda holder: seen.append(holder) or False)
    assert seen == [dead]
    assert current_lease(store) == live


def test_of_runs_claiming_at_once_exactly_one_gets_the_lease(store: LeaseStore) -> None:
    leases = [Lease("salesprep_weekly", f"run-{n}") for n in range(6)]
    won: list[Lease] = []
    failures: list[BaseException] = []
    start = threading.Barrier(len(leases))

    def claim(lease: Lease) -> None:
        start.wait()
        try:
            if claim_lease(store, lease, is_active=lambda holder: True):
                won.append(lease)
        except BaseException as exc:  # e.g. a lease read before it was written
            failures.append(exc)

    threads = [threading.Thread(target=claim, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(won) == 1
    assert current_lease(store) == won[0]


def test_only_the_holder_renews_its_expiry(store: LeaseStore) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    held = Lease("salesprep-cli", "me", host=this_host(), pid=1, expires_at="2000-01-01T00:00:00")
    assert claim_lease(store, held, is_active=lambda holder: True)
    assert not renew_lease(store, Lease("salesprep-cli", "other", expires_at=later))
    assert renew_lease(store, Lease("salesprep-cli", "me", expires_at=later))
    assert current_lease(store).expires_at == later


def test_a_cli_run_is_refused_naming_a_live_holder_and_takes_over_a_dead_one(
    store: LeaseStore, live_pid: int, dead_pid: int
) -> None:
    live = Lease("salesprep-cli", "other", host=this_host(), pid=live_pid, since="then")
    assert claim_lease(store, live, is_active=lambda holder: True)
    with (
        pytest.raises(LeaseBusyError, match=rf"in use by salesprep run \(pid {live_pid} on "),
        cli_lease(store, wait_seconds=0, ttl_seconds=60),
    ):
        pass
    assert current_lease(store) == live
    assert release_lease(store, live)

    dead = Lease("salesprep-cli", "killed", host=this_host(), pid=dead_pid)
    assert claim_lease(store, dead, is_active=lambda holder: True)
    with cli_lease(store, wait_seconds=0, ttl_seconds=60) as lease:
        assert current_lease(store) == lease != dead
    assert current_lease(store) is None  # released when the run ended


def test_the_settings_pick_the_store(tmp_path: Path) -> None:
    assert isinstance(lease_store(Settings(data_dir=tmp_path)), FileLeaseStore)
    on_postgres = Settings(data_dir=tmp_path, dbt_target="postgres")
    assert isinstance(lease_store(on_postgres), PostgresLeaseStore)
    pinned = Settings(data_dir=tmp_path, dbt_target="postgres", run_lease="file")
    assert isinstance(lease_store(pinned), FileLeaseStore)
    assert isinstance(
        lease_store(Settings(data_dir=tmp_path, run_lease="postgres")), PostgresLeaseStore
    )
