"""The run lease: one weekly run at a time owns the data directory.

Every run writes the same raw landing zone and the same DuckDB build file, so two runs must
never interleave, whatever started them (the schedule, a manual trigger, a backfill whose own
`max_active_runs` Airflow applies independently of the DAG's, or `salesprep run` by hand). The
first task of a DAG run claims a lock file in the data directory, and a teardown task releases
it; `salesprep run` holds the same lease for its whole run (`cli_lease`), renewing its expiry
while it works. A run that finds the lease taken waits (or the CLI refuses, naming the holder);
a lease whose holder is gone is taken over: a DAG run no longer active (killed, timed out,
marked failed), a CLI process that no longer runs on this host, or any lease past its expiry.

Where the lease lives is a `LeaseStore`: a file in the data directory (`FileLeaseStore`, the
single-machine default), a row in the Postgres warehouse (`PostgresLeaseStore`), or an object
beside the shared data on S3 (`runs.object_lease.ObjectLease`, conditional writes); the last
two are seen by workers on other hosts too (decisions 48 and 44). `lease_store(settings)` picks
by the settings; the functions below take a store, or a data directory for its file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from salesprep.runs.process_owner import ProcessOwner

if TYPE_CHECKING:
    from salesprep.config import PostgresSettings, Settings

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


def lease_path(data_dir: Path) -> Path:
    """The lease file of a data directory."""
    return Path(data_dir) / "state" / LEASE_FILE


class LeaseStore(Protocol):
    """Where the lease lives. Each operation is atomic where it is kept."""

    # What the lease guards, in words: "the data dir ..." or "the warehouse ...".
    description: str

    def create(self, lease: Lease) -> bool:
        """Write `lease` if none is held; False when one is."""
        ...

    def read(self) -> Lease | None: ...

    def replace(self, lease: Lease) -> bool:
        """Overwrite the held lease with `lease` (a new expiry) if its holder holds it."""
        ...

    def remove(self, holder: Lease) -> None:
        """Remove the lease if `holder` holds it (never one someone else just took)."""
        ...


class FileLeaseStore:
    """The lease as a file in the data directory (`state/run.lease`): one machine's runs."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = lease_path(self.data_dir)
        self.description = f"the data dir {self.data_dir}"

    def create(self, lease: Lease) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return _create(self.path, lease)

    def read(self) -> Lease | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return lease_from_dict(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LeaseError(
                f"the run lease {self.path} cannot be read: {exc}; delete it by hand"
            ) from exc

    def replace(self, lease: Lease) -> bool:
        if self.read() != lease:
            return False
        fresh = self.path.with_name(f"{self.path.name}.{os.getpid()}.renew")
        try:
            fresh.write_text(json.dumps(asdict(lease)), encoding="utf-8")
            os.replace(fresh, self.path)
        except OSError as exc:
            fresh.unlink(missing_ok=True)
            raise LeaseError(f"renewing the run lease {self.path} failed: {exc}") from exc
        return True

    def remove(self, holder: Lease) -> None:
        _remove_if_held(self.path, holder)


class PostgresLeaseStore:
    """The lease as a row of `salesprep_state.run_lease` in the warehouse database, one row per
    published schema: every worker that reaches the warehouse sees it, whatever its host."""

    TABLE = "run_lease"

    def __init__(self, target: PostgresSettings) -> None:
        self.target = target
        self.scope = target.schema_name
        self.description = (
            f"the warehouse {target.database}.{target.schema_name} on {target.host}:{target.port}"
        )
        self._ready = False

    def create(self, lease: Lease) -> bool:
        row = asdict(lease)
        return bool(
            self._execute(
                "insert into {} (scope, dag_id, run_id, host, pid, since, expires_at)"
                " values (%(scope)s, %(dag_id)s, %(run_id)s, %(host)s, %(pid)s, %(since)s,"
                " %(expires_at)s) on conflict (scope) do nothing",
                {"scope": self.scope, **row},
            )
        )

    def read(self) -> Lease | None:
        rows = self._execute(
            "select dag_id, run_id, host, pid, since, expires_at from {} where scope = %(scope)s",
            {"scope": self.scope},
            fetch=True,
        )
        if not rows:
            return None
        keys = ("dag_id", "run_id", "host", "pid", "since", "expires_at")
        return lease_from_dict(dict(zip(keys, rows[0], strict=True)))

    def replace(self, lease: Lease) -> bool:
        return bool(
            self._execute(
                "update {} set expires_at = %(expires_at)s where scope = %(scope)s"
                " and dag_id = %(dag_id)s and run_id = %(run_id)s",
                {"scope": self.scope, **asdict(lease)},
            )
        )

    def remove(self, holder: Lease) -> None:
        self._execute(
            "delete from {} where scope = %(scope)s and dag_id = %(dag_id)s"
            " and run_id = %(run_id)s",
            {"scope": self.scope, "dag_id": holder.dag_id, "run_id": holder.run_id},
        )

    def _execute(self, statement: str, params: dict, *, fetch: bool = False) -> object:
        import psycopg
        from psycopg import sql

        from salesprep.warehouse.postgres import CONTROL_SCHEMA, conninfo, ensure_database

        table = sql.Identifier(CONTROL_SCHEMA, self.TABLE)
        try:
            if not self._ready:
                ensure_database(self.target)
            with psycopg.connect(conninfo(self.target), autocommit=True) as conn:
                if not self._ready:
                    conn.execute(
                        sql.SQL("create schema if not exists {}").format(
                            sql.Identifier(CONTROL_SCHEMA)
                        )
                    )
                    conn.execute(
                        sql.SQL(
                            "create table if not exists {} (scope text primary key,"
                            " dag_id text not null, run_id text not null, host text not null,"
                            " pid integer not null, since text not null,"
                            " expires_at text not null)"
                        ).format(table)
                    )
                    self._ready = True
                cursor = conn.execute(sql.SQL(statement).format(table), params)
                return cursor.fetchall() if fetch else cursor.rowcount
        except (psycopg.Error, RuntimeError) as exc:
            raise LeaseError(f"the run lease of {self.description} failed: {exc}") from exc


def lease_store(settings: Settings) -> LeaseStore:
    """The lease store `settings.run_lease` names: the data dir's file, the Postgres
    warehouse's row, or the object beside the shared data on S3 (`auto`: Postgres when dbt
    builds there, else the object when `storage.url` is on S3, else the file)."""
    kind = settings.lease_kind
    if kind == "postgres":
        return PostgresLeaseStore(settings.postgres)
    if kind == "object":
        from salesprep.runs.object_lease import ObjectLease
        from salesprep.storage import filesystem

        if not settings.storage.enabled:
            raise LeaseError(
                "run_lease=object (SALESPREP_RUN_LEASE) needs storage.url on S3; "
                "set SALESPREP_STORAGE__URL or use the file lease"
            )
        fs, root = filesystem(settings)
        return ObjectLease.under(fs, root)
    return FileLeaseStore(settings.data_dir)


def _store(where: Path | LeaseStore) -> LeaseStore:
    if isinstance(where, (str, os.PathLike)):
        return FileLeaseStore(Path(where))
    return where


def lease_from_dict(data: dict) -> Lease:
    """A lease as its file, row or object holds it."""
    return Lease(
        dag_id=str(data["dag_id"]),
        run_id=str(data["run_id"]),
        host=str(data.get("host", "") or ""),
        pid=int(data.get("pid", 0) or 0),
        since=str(data.get("since", "") or ""),
        expires_at=str(data.get("expires_at", "") or ""),
    )


def current_lease(where: Path | LeaseStore) -> Lease | None:
    """The lease held now, or None (`where`: a store, or a data directory)."""
    return _store(where).read()


def claim_lease(where: Path | LeaseStore, lease: Lease, is_active: Callable[[Lease], bool]) -> bool:
    """Take the lease for `lease`'s run: True when it holds it (now or already), False when
    another active run holds it. `is_active(holder)` says whether the holder's run is still
    queued or running; a lease left by an inactive run is taken over."""
    store = _store(where)
    for _ in range(3):
        if store.create(lease):
            log.info("run %s took the lease of %s", lease.owner, store.description)
            return True
        holder = store.read()
        if holder is None:
            continue  # released between our attempt and the read: try again
        if holder == lease:
            return True
        if is_active(holder):
            log.info("%s is leased to active run %s: waiting", store.description, holder.owner)
            return False
        log.warning(
            "run %s left the lease of %s without releasing it and is no longer active: "
            "taking it over",
            holder.owner,
            store.description,
        )
        store.remove(holder)
    return False


def release_lease(where: Path | LeaseStore, lease: Lease) -> bool:
    """Give the lease back if `lease`'s run holds it; True when it did."""
    store = _store(where)
    if store.read() != lease:
        return False
    store.remove(lease)
    log.info("run %s released the lease of %s", lease.owner, store.description)
    return True


def renew_lease(where: Path | LeaseStore, lease: Lease) -> bool:
    """Move the expiry of `lease` (held by this process) to its new `expires_at`; False when
    it no longer holds the lease (taken over after a stall)."""
    return _store(where).replace(lease)


@contextlib.contextmanager
def cli_lease(
    where: Path | LeaseStore, *, wait_seconds: float, ttl_seconds: float
) -> Iterator[Lease]:
    """Hold the lease (of a store, or a data directory's file) for one `salesprep run`: wait
    up to `wait_seconds` for a live holder, else raise LeaseBusyError naming it; take over a
    stale one. While held, a background thread renews its expiry every third of
    `ttl_seconds`."""
    owner = ProcessOwner.current()
    now = datetime.now(UTC)
    lease = Lease(
        dag_id=CLI_HOLDER,
        # A token too: two runs of one process within a second are two holders.
        run_id=f"{owner.host}-{owner.pid}-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
        host=owner.host,
        pid=owner.pid,
        since=now.isoformat(timespec="seconds"),
        expires_at=(now + timedelta(seconds=ttl_seconds)).isoformat(timespec="seconds"),
    )
    store = _store(where)
    deadline = time.monotonic() + wait_seconds
    while not claim_lease(store, lease, lambda holder: not holder.stale()):
        holder = store.read()
        if time.monotonic() >= deadline:
            waited = f" after waiting {wait_seconds:g}s" if wait_seconds else ""
            raise LeaseBusyError(
                f"{store.description} is in use by "
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
                if not renew_lease(store, renewed):
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
        release_lease(store, lease)


def _create(path: Path, lease: Lease) -> bool:
    # Written whole beside it, then linked in (a link fails if the name exists): a claimer
    # never reads a lease that is created but still empty.
    fresh = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    try:
        fresh.write_text(json.dumps(asdict(lease)), encoding="utf-8")
        os.link(fresh, path)
    except FileExistsError:
        return False
    except OSError as exc:
        raise LeaseError(f"creating the run lease {path} failed: {exc}") from exc
    finally:
        fresh.unlink(missing_ok=True)
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
