"""The extraction state: per object, the cursor field and the high-water mark the next
incremental window starts from, saved as one JSON file written atomically.

The state names the landing zone it describes (the extract report's `run_id`) and the org;
a state that does not match both is ignored and the run backfills in full.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STATE_FILE = "salesforce_extract_state.json"
STATE_VERSION = 1


@dataclass
class ObjectState:
    """Where the next window of one object starts, and the query it was read with."""

    cursor: str
    watermark: str  # ISO 8601 UTC; the end of the last committed window
    fields: list[str] = field(default_factory=list)

    @property
    def watermark_at(self) -> datetime:
        return datetime.fromisoformat(self.watermark)


@dataclass
class ExtractState:
    org_id: str
    run_id: str
    saved_at: str = ""
    objects: dict[str, ObjectState] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExtractState:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unknown state version {data.get('version')!r}")
        objects = {name: ObjectState(**values) for name, values in data["objects"].items()}
        return cls(
            org_id=str(data["org_id"]),
            run_id=str(data["run_id"]),
            saved_at=str(data.get("saved_at", "")),
            objects=objects,
        )


def load_state(path: Path) -> ExtractState | None:
    """The saved state, or None when there is none or it cannot be read (logged: the run
    then backfills, which is always safe)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ExtractState.from_dict(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the unreadable extraction state %s (%s): full backfill", path, exc)
        return None


def save_state(path: Path, state: ExtractState) -> Path:
    """Write `state` to `path` atomically: a temporary file in the same folder, flushed to
    disk, then renamed over the old one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(state.to_dict(), indent=2, sort_keys=True) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return path
    try:
        os.fsync(directory)
    except OSError:
        pass
    finally:
        os.close(directory)
    return path
