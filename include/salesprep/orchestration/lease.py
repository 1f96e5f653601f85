"""The run lease: one weekly run at a time owns the data directory.

Every run writes the same raw landing zone and the same DuckDB build file, so two runs must
never interleave, whatever started them (the schedule, a manual trigger, a backfill whose own
`max_active_runs` Airflow applies independently of the DAG's). The first task of a run claims
a lock file in the data directory, and a teardown task releases it. A run that finds the lease
taken waits; a lease whose run is no longer active (killed, marked failed by hand) is taken over.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

LEASE_FILE = "run.lease"


class LeaseError(RuntimeError):
    """The lease file cannot be read or written; the message names the file."""


@dataclass(frozen=True)
class Lease:
    """Who holds the data directory: a DAG run."""

    dag_id: str
    run_id: str

    @property
    def owner(self) -> str:
        return f"{self.dag_id}/{self.run_id}"


def lease_path(data_dir: Path) -> Path:
    """The lease file of a data directory."""
    return Path(data_dir) / "state" / LEASE_FILE


def current_lease(data_dir: Path) -> Lease | None:
    """The lease held now, or None."""
    path = lease_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Lease(dag_id=str(data["dag_id"]), run_id=str(data["run_id"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LeaseError(f"the run lease {path} cannot be read: {exc}; delete it by hand") from exc


def claim_lease(data_dir: Path, lease: Lease, is_active: Callable[[Lease], bool]) -> bool:
    """Take the lease for `lease`'s run: True when it holds it (now or already), False when
    another active run holds it. `is_active(holder)` says whether the holder's run is still
    queued or running; a lease left by an inactive run is taken over."""
    path = lease_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        if _create(path, lease):
            log.info("run %s took the data dir lease %s", lease.owner, path)
            return True
        holder = current_lease(data_dir)
        if holder is None:
            continue  # released between our attempt and the read: try again
        if holder == lease:
            return True
        if is_active(holder):
            log.info("data dir %s is leased to active run %s: waiting", data_dir, holder.owner)
            return False
        log.warning(
            "run %s left the data dir lease %s without releasing it and is no longer active: "
            "taking it over",
            holder.owner,
            path,
        )
        _remove_if_held(path, holder)
    return False


def release_lease(data_dir: Path, lease: Lease) -> bool:
    """Give the lease back if `lease`'s run holds it; True when it did."""
    holder = current_lease(data_dir)
    if holder != lease:
        return False
    _remove_if_held(lease_path(data_dir), lease)
    log.info("run %s released the data dir lease", lease.owner)
    return True


def _create(path: Path, lease: Lease) -> bool:
    payload = json.dumps({"dag_id": lease.dag_id, "run_id": lease.run_id}).encode("utf-8")
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    except OSError as exc:
        raise LeaseError(f"creating the run lease {path} failed: {exc}") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)
    return True


def _remove_if_held(path: Path, holder: Lease) -> None:
    # Rename first so that a concurrent claimer never removes a lease it did not read.
    aside = path.with_name(f"{path.name}.{os.getpid()}.stale")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return
    try:
        moved = json.loads(aside.read_text(encoding="utf-8"))
        if (moved.get("dag_id"), moved.get("run_id")) != (holder.dag_id, holder.run_id):
            os.replace(aside, path)  # someone else's fresh lease: put it back
            return
    except (OSError, ValueError) as exc:
        raise LeaseError(f"checking the run lease {path} failed: {exc}") from exc
    aside.unlink(missing_ok=True)
