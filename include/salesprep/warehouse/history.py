"""One Salesforce org per data directory: the warehouse history a data directory keeps (the
incremental marts, the weekly opportunity snapshots, the landing zone and its watermarks)
belongs to the org whose Id the first successful extraction recorded.

A run connected to another org stops before it extracts anything (`check_org`), naming both
orgs and the two ways out: another data directory, or `salesprep run --reset-history`, which
drops the old org's history (`reset_history`) and lets the run start afresh. Without that
guard the incremental marts would keep the old org's rows next to the new org's, and the run
would die later in dbt's relationship tests with no clear message.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salesprep.config import Settings

log = logging.getLogger(__name__)

ORG_FILE = "org.json"
ORG_FILE_VERSION = 1
# Salesforce compares record Ids case-sensitively on their first 15 characters; the 18-character
# form only adds a case-insensitive checksum. A session Id carries the 15-character org Id.
_ID_LENGTH = 15


class OrgHistoryError(RuntimeError):
    """The data directory's org record cannot be read or written; the message names the file."""


class OrgMismatchError(RuntimeError):
    """The run is connected to another org than the one the data directory's history belongs
    to; the one-line message names both orgs and the two ways out."""


@dataclass(frozen=True)
class DataDirOrg:
    """The org a data directory's warehouse history belongs to."""

    org_id: str
    org_name: str = ""
    recorded_at: str = ""
    # Where the record came from: `org.json`, or the extraction state of a data directory
    # written before the record existed.
    source: str = ORG_FILE

    def is_org(self, org_id: str) -> bool:
        return same_org(self.org_id, org_id)

    @property
    def label(self) -> str:
        return f"{self.org_id} ({self.org_name})" if self.org_name else self.org_id


def same_org(a: str, b: str) -> bool:
    """Whether two org Ids (15 or 18 characters) name the same org."""
    return a[:_ID_LENGTH] == b[:_ID_LENGTH]


def full_org_id(org_id: str) -> str:
    """The 18-character form of a 15-character org Id (as Setup shows it); others unchanged."""
    from salesprep.demo_org.ids import BASE62, checksum

    if len(org_id) == _ID_LENGTH and all(c in BASE62 for c in org_id):
        return org_id + checksum(org_id)
    return org_id


def org_path(settings: Settings) -> Path:
    """Where the data directory records its org: `<data_dir>/state/org.json`."""
    return Path(settings.state_dir) / ORG_FILE


def recorded_org(settings: Settings) -> DataDirOrg | None:
    """The org the data directory's history belongs to, None for a fresh data directory.

    A data directory from before the record existed names its org in the extraction state
    (the watermarks), which every successful extraction has written since the first one."""
    from salesprep.salesforce.extract import state_path
    from salesprep.salesforce.state import load_state

    path = org_path(settings)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        state = load_state(state_path(settings))
        if state is None:
            return None
        return DataDirOrg(
            full_org_id(state.org_id), recorded_at=state.saved_at, source="extraction state"
        )
    except (OSError, ValueError) as exc:
        raise OrgHistoryError(
            f"the data directory's org record {path} cannot be read ({exc}); restore it, or "
            "delete it if you know the data directory holds the history of the org this run "
            "connects to"
        ) from exc
    try:
        if data.get("version") != ORG_FILE_VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        return DataDirOrg(
            org_id=str(data["org_id"]),
            org_name=str(data.get("org_name") or ""),
            recorded_at=str(data.get("recorded_at") or ""),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise OrgHistoryError(
            f"the data directory's org record {path} is not one salesprep wrote ({exc}); "
            "restore it, or delete it if you know whose history the data directory holds"
        ) from exc


def mismatch_message(settings: Settings, recorded: DataDirOrg, org_id: str) -> str:
    """The one line a run against another org stops with."""
    return (
        f"the data directory {settings.data_dir} holds the warehouse history of Salesforce org "
        f"{recorded.label}, but this run is connected to org {full_org_id(org_id)}; nothing "
        "was extracted. "
        "Either give this org its own data directory (salesprep run --data-dir DIR, or "
        "SALESPREP_DATA_DIR), or drop the old org's warehouse history and snapshots with "
        "`salesprep run --reset-history`"
    )


def check_org(settings: Settings, org_id: str, *, reset: bool = False) -> list[Path]:
    """Stop a run connected to another org than the data directory's (`OrgMismatchError`),
    before anything is extracted; with `reset`, drop the old org's history instead and return
    what was removed. A fresh data directory, or one of this org, passes unchanged: `reset`
    never drops an org's own history (its snapshots cannot be rebuilt from Salesforce)."""
    recorded = recorded_org(settings)
    if recorded is not None and recorded.is_org(org_id):
        if reset:
            log.info(
                "--reset-history: the data directory %s already holds org %s's history; "
                "nothing was reset",
                settings.data_dir,
                recorded.label,
            )
        return []
    if not reset:
        if recorded is not None:
            raise OrgMismatchError(mismatch_message(settings, recorded, org_id))
        return []
    removed = reset_history(settings)
    if removed:
        log.warning(
            "--reset-history: dropped the warehouse history of org %s in %s for org %s (%d paths)",
            recorded.label if recorded else "unknown",
            settings.data_dir,
            full_org_id(org_id),
            len(removed),
        )
    else:
        log.info("--reset-history: %s holds no history; nothing was reset", settings.data_dir)
    return removed


def record_org(settings: Settings, org_id: str, org_name: str = "") -> Path:
    """Record (atomically) that the data directory's history belongs to `org_id`."""
    path = org_path(settings)
    payload = {
        "version": ORG_FILE_VERSION,
        **asdict(
            DataDirOrg(
                org_id=full_org_id(org_id),
                org_name=org_name,
                recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        ),
    }
    payload.pop("source")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise OrgHistoryError(f"cannot record the data directory's org in {path}: {exc}") from exc
    return path


def history_paths(settings: Settings) -> list[Path]:
    """What `reset_history` removes (those that exist): the build and published warehouse
    files (the incremental marts and the weekly snapshots), the dbt build results, the landing
    zone with the extraction watermarks and any half-written landing zone, the rendered packets
    and quality reports of the old org's weeks, and the org record itself. The shared folder
    (packets already published) and the run lease are left alone."""
    from salesprep.salesforce.extract import state_path

    data_dir = Path(settings.data_dir)
    raw_root = Path(settings.raw_root)
    candidates = [
        raw_root,
        *raw_root.parent.glob(f".{raw_root.name}.*"),
        state_path(settings),
        org_path(settings),
    ]
    for warehouse in (settings.build_warehouse_path, settings.published_warehouse_path):
        warehouse = Path(warehouse)
        candidates += [warehouse, warehouse.with_name(warehouse.name + ".wal")]
    candidates += sorted((data_dir / "warehouse").glob("dbt_build_*.json"))
    candidates += [data_dir / "rendered", data_dir / "quality"]
    return [p for p in candidates if p.exists() or p.is_symlink()]


def reset_history(settings: Settings) -> list[Path]:
    """Remove the data directory's warehouse history (`history_paths`); returns what went."""
    removed = []
    for path in history_paths(settings):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as exc:
            raise OrgHistoryError(
                f"--reset-history: cannot remove {path}: {exc}; remove it by hand and run again"
            ) from exc
        removed.append(path)
        log.info("--reset-history: removed %s", path)
    return removed


def landed_organization(raw_root: Path) -> tuple[str, str]:
    """(Id, Name) of the landed Organization row; ('', '') when the org did not let the
    integration user read it."""
    import pyarrow.parquet as pq

    path = Path(raw_root) / "Organization" / "Organization.parquet"
    try:
        rows = pq.read_table(path, columns=["Id", "Name"]).to_pylist()
    except (OSError, KeyError) as exc:
        log.debug("no Organization row in %s: %s", path, exc)
        return "", ""
    row = next((r for r in rows if r["Id"]), None)
    return (str(row["Id"]), str(row["Name"] or "")) if row else ("", "")
