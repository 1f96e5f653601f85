"""The run lease on S3 by conditional writes (`runs.object_lease`), against moto's S3 API: what
is S3's own (tests/robustness/test_lease_stores.py holds what every lease store promises)."""

from __future__ import annotations

import threading

import pytest

from salesprep.config import Settings, StorageSettings
from salesprep.runs.lease import (
    FileLeaseStore,
    Lease,
    LeaseError,
    claim_lease,
    current_lease,
    lease_store,
    release_lease,
    renew_lease,
)
from salesprep.runs.object_lease import ObjectLease


def _place(s3_server, bucket: str) -> ObjectLease:
    return ObjectLease.under(s3_server.filesystem(), f"{bucket}/salesprep")


def test_a_lease_taken_over_is_no_longer_the_dead_holders(s3_server, bucket):
    """The promises every store keeps are in tests/robustness/test_lease_stores.py; on S3 the
    run thought dead can neither release nor renew what it lost, and a release deletes the
    object."""
    place = _place(s3_server, bucket)
    dead, live = Lease("weekly", "dead"), Lease("weekly", "live")
    assert claim_lease(place, dead, is_active=lambda holder: True)
    assert claim_lease(place, live, is_active=lambda holder: False)
    assert not release_lease(place, dead)
    assert not renew_lease(place, dead)
    assert current_lease(place) == live
    assert release_lease(place, live)
    assert not s3_server.filesystem().exists(f"{bucket}/salesprep/state/run.lease")


def test_racing_claimers_one_wins(s3_server, bucket):
    """Eight workers claim at once, none of them judging the others inactive: exactly one
    holds the lease (the store refuses every other `If-None-Match: *` write)."""
    won: list[str] = []
    start = threading.Barrier(8)

    def claim(index: int) -> None:
        place = _place(s3_server, bucket)  # a filesystem of its own, like another host
        start.wait()
        if claim_lease(place, Lease("weekly", f"run-{index}"), is_active=lambda holder: True):
            won.append(f"run-{index}")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert current_lease(_place(s3_server, bucket)).run_id == won[0]


def test_takeover_of_a_changed_lease_is_refused(s3_server, bucket):
    """The takeover writes only if the lease is still the stale one it read (`If-Match`)."""
    place = _place(s3_server, bucket)
    assert claim_lease(place, Lease("weekly", "old"), is_active=lambda holder: True)
    _, etag = place._read()
    assert claim_lease(place, Lease("weekly", "new"), is_active=lambda holder: False)
    assert not place._put(Lease("weekly", "late"), etag=etag)
    assert current_lease(place).run_id == "new"


def test_lease_store_follows_the_settings(s3_server, bucket, tmp_path):
    local = Settings(data_dir=tmp_path)
    assert isinstance(lease_store(local), FileLeaseStore)
    on_s3 = Settings(
        data_dir=tmp_path,
        storage=StorageSettings(url=f"s3://{bucket}/salesprep", options=s3_server.options),
    )
    store = lease_store(on_s3)
    assert isinstance(store, ObjectLease)
    assert str(store) == f"s3://{bucket}/salesprep/state/run.lease"
    # The file lease stays available on S3 storage (a shared disk for the data dir).
    forced = on_s3.model_copy(update={"run_lease": "file"})
    assert isinstance(lease_store(forced), FileLeaseStore)
    assert lease_store(forced).path == tmp_path / "state" / "run.lease"
    # A Postgres warehouse's lease row is seen by every worker already: it wins under auto.
    on_postgres = on_s3.model_copy(update={"dbt_target": "postgres"})
    assert on_postgres.lease_kind == "postgres"


def test_object_lease_refuses_a_store_without_conditional_writes(tmp_path):
    import fsspec

    with pytest.raises(LeaseError, match="needs conditional writes"):
        ObjectLease.under(fsspec.filesystem("memory"), "/salesprep")
