"""The run lease: one weekly run at a time owns the data directory.

Every run writes the same raw landing zone and the same DuckDB build file, so two runs must
never interleave, whatever started them (the schedule, a manual trigger, a backfill whose own
`max_active_runs` Airflow applies independently of the DAG's, or `salesprep run` by hand). The
first task of a DAG run claims a lock file in the data directory, and a teardown task releases
it; `salesprep run` holds the same lease for its whole run (`cli_lease`), renewing its expiry
while it works. A run that finds the lease taken waits (or the CLI refuses, naming the holder);
a lease whose holder is gone is taken over: a DAG run no longer active (killed, timed out,
marked failed), a CLI process that no longer runs on this host, or any lease past its expiry.

Where the lease lives (`lease_place`): a file in the data directory (the default: one machine,
or a shared disk with atomic exclusive create), or an object beside the shared data on S3
(`runs.object_lease`, conditional writes) for workers that share no disk. The functions
below take either.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesprep.runs.process_owner import ProcessOwner

if TYPE_CHECKING:
    from salesprep.config import Settings
    from salesprep.runs.object_lease import ObjectLease

    # A data directory (the lease file in it) or the lease object on S3.
    LeasePlace = Path | ObjectLease

log = logging.getLogger(__name__)

LEASE_FILE = "run.lease"
# The `dag_id` of a lease `salesprep run` holds (its run_id names the process).
CLI_HOLDER = "salesprep-cli"


class LeaseError(RuntimeError):
    """The lease file cannot be read or written; the message names the file."""


class LeaseBusyError(LeaseError):
    """Another live run holds the data directory; the message names it."""


@dataclass(frozen=True)
class Lease:
    """Who holds the data directory: a DAG run or a `salesprep run` process. Two leases are
    the same holder when dag and run match; host, pid and the times describe it."""

    dag_id: str
    run_id: str
    host: str = field(default="", compare=False)
    pid: int = field(default=0, compare=False)
    since: str = field(default="", compare=False)
    expires_at: str = field(default="", compare=False)

    @property
    def owner(self) -> str:
        return f"{self.dag_id}/{self.run_id}"

    @property
    def is_cli(self) -> bool:
        return self.dag_id == CLI_HOLDER

    def describe(self) -> str:
        """The holder in words, for the line a refused run prints."""
        who = (
            f"salesprep run (pid {self.pid} on {self.host})"
            if self.is_cli
            else f"DAG run {self.owner}"
        )
        return who + (f" since {self.since}" if self.since else "")

    def stale(self, now: datetime | None = None) -> bool | None:
        """True when its holder is certainly gone: a process of this host that no longer runs,
        or an expiry in the past; False when it certainly runs; None when only the scheduler
        can tell (a DAG run's lease before its expiry)."""
        if self.pid and self.host:
            running = ProcessOwner(self.host, self.pid).is_running()
            if running is not None:
                return not running
        if self.expires_at:
            try:
                expires = datetime.fromisoformat(self.expires_at)
            except ValueError:
                return True
            return expires <= (now or datetime.now(UTC))
        return None


def lease_from_dict(data: dict[str, Any]) -> Lease:
    """A lease as its file (or object) holds it."""
    return Lease(
        dag_id=str(data["dag_id"]),
        run_id=str(data["run_id"]),
        host=str(data.get("host", "")),
        pid=int(data.get("pid", 0) or 0),
        since=str(data.get("since", "")),
        expires_at=str(data.get("expires_at", "")),
    )


def lease_place(settings: Settings) -> LeasePlace:
    """Where the run lease of these settings lives (`storage.lease`): the data directory, or
    the object beside the shared data."""
    if settings.storage.lease_kind == "file":
        return Path(settings.data_dir)
    from salesprep.runs.object_lease import ObjectLease
    from salesprep.storage import filesystem

    if not settings.storage.enabled:
        raise LeaseError(
            "storage.lease=object (SALESPREP_STORAGE__LEASE) needs storage.url on S3; "
            "set SALESPREP_STORAGE__URL or use the file lease"
        )
    fs, root = filesystem(settings)
    return ObjectLease.under(fs, root)


def lease_path(data_dir: Path) -> Path:
    """The lease file of a data directory."""
    return Path(data_dir) / "state" / LEASE_FILE


def current_lease(data_dir: LeasePlace) -> Lease | None:
    """The lease held now, or None."""
    if not isinstance(data_dir, Path):
        return data_dir.current()
    path = lease_path(data_dir)
    try:
        return lease_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LeaseError(f"the run lease {path} cannot be read: {exc}; delete it by hand") from exc


def claim_lease(data_dir: LeasePlace, lease: Lease, is_active: Callable[[Lease], bool]) -> bool:
    """Take the lease for `lease`'s run: True when it holds it (now or already), False when
    another active run holds it. `is_active(holder)` says whether the holder's run is still
    queued or running; a lease left by an inactive run is taken over."""
    if not isinstance(data_dir, Path):
        return data_dir.claim(lease, is_active)
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


def release_lease(data_dir: LeasePlace, lease: Lease) -> bool:
    """Give the lease back if `lease`'s run holds it; True when it did."""
    if not isinstance(data_dir, Path):
        return data_dir.release(lease)
    holder = current_lease(data_dir)
    if holder != lease:
        return False
    _remove_if_held(lease_path(data_dir), lease)
    log.info("run %s released the data dir lease", lease.owner)
    return True


def renew_lease(data_dir: LeasePlace, lease: Lease) -> bool:
    """Move the expiry of `lease` (held by this process) to its new `expires_at`; False when
    it no longer holds the lease (taken over after a stall)."""
    if not isinstance(data_dir, Path):
        return data_dir.renew(lease)
    path = lease_path(data_dir)
    if current_lease(data_dir) != lease:
        return False
    fresh = path.with_name(f"{path.name}.{os.getpid()}.renew")
    try:
        fresh.write_text(json.dumps(asdict(lease)), encoding="utf-8")
        os.replace(fresh, path)
    except OSError as exc:
        fresh.unlink(missing_ok=True)
        raise LeaseError(f"renewing the run lease {path} failed: {exc}") from exc
    return True


@contextlib.contextmanager
def cli_lease(data_dir: LeasePlace, *, wait_seconds: float, ttl_seconds: float) -> Iterator[Lease]:
    """Hold the data dir lease for one `salesprep run`: wait up to `wait_seconds` for a live
    holder, else raise LeaseBusyError naming it; take over a stale one. While held, a
    background thread renews its expiry every third of `ttl_seconds`."""
    owner = ProcessOwner.current()
    now = datetime.now(UTC)
    lease = Lease(
        dag_id=CLI_HOLDER,
        run_id=f"{owner.host}-{owner.pid}-{now:%Y%m%dT%H%M%S}",
        host=owner.host,
        pid=owner.pid,
        since=now.isoformat(timespec="seconds"),
        expires_at=(now + timedelta(seconds=ttl_seconds)).isoformat(timespec="seconds"),
    )
    deadline = time.monotonic() + wait_seconds
    while not claim_lease(data_dir, lease, lambda holder: not holder.stale()):
        holder = current_lease(data_dir)
        if time.monotonic() >= deadline:
            waited = f" after waiting {wait_seconds:g}s" if wait_seconds else ""
            raise LeaseBusyError(
                f"the data dir {data_dir} is in use by "
                f"{holder.describe() if holder else 'another run'}{waited}: wait for it to end, "
                "or pass --wait SECONDS to wait for it"
            )
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
    stop = threading.Event()

    def heartbeat() -> None:
        current = lease
        while not stop.wait(ttl_seconds / 3):
            expires = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
            renewed = replace(current, expires_at=expires.isoformat(timespec="seconds"))
            try:
                if not renew_lease(data_dir, renewed):
                    log.error("the data dir lease %s was taken over", lease.owner)
                    return
            except LeaseError as exc:
                log.error("%s", exc)
            current = renewed

    thread = threading.Thread(target=heartbeat, name="salesprep-lease", daemon=True)
    thread.start()
    try:
        yield lease
    finally:
        stop.set()
        thread.join()
        release_lease(data_dir, lease)


def _create(path: Path, lease: Lease) -> bool:
    payload = json.dumps(asdict(lease)).encode("utf-8")
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
