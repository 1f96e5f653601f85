"""Key initiatives: the YAML file (`Settings.initiatives_file`) sales ops keep, and which
initiatives apply to which manager–rep pair."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from salesprep.packets.model import Initiative

log = logging.getLogger(__name__)

EXAMPLE = """\
initiatives:
  - title: Prepare for the healthcare vertical
    status: in progress        # free text: planned, in progress, blocked, done
    owner: Head of Sales
    due: 2026-12-31
    note: Two reference customers by quarter end
    managers: []               # manager ids; empty = every team
    reps: []                   # rep ids; empty = every rep of those teams
"""

NO_FILE_NOTE = (
    "No key initiatives are configured. To list initiatives in every packet, write a YAML "
    "file with an `initiatives:` list (title, status, optional owner, due, note, managers, "
    "reps) and point SALESPREP_INITIATIVES_FILE at it."
)


class InitiativesError(ValueError):
    """The initiatives file exists but cannot be read or is not shaped as documented."""


class _InitiativeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    status: str = "not set"
    owner: str | None = None
    due: str | None = None
    note: str | None = None
    managers: list[str] = Field(default_factory=list)
    reps: list[str] = Field(default_factory=list)

    @field_validator("due", mode="before")
    @classmethod
    def _due_text(cls, value: object) -> object:
        # YAML reads an unquoted 2026-12-31 as a date; keep it as the ISO text it was.
        return value.isoformat() if isinstance(value, date) else value

    @field_validator("managers", "reps", mode="before")
    @classmethod
    def _ids_text(cls, value: object) -> object:
        if isinstance(value, str):
            return [value]
        return value


class _InitiativesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    initiatives: list[_InitiativeSpec] = Field(default_factory=list)


class InitiativeBook:
    """The initiatives of one run, answering which apply to a pair."""

    def __init__(self, specs: list[_InitiativeSpec], note: str | None) -> None:
        self._specs = specs
        self.note = note

    def for_pair(self, manager_id: str, rep_id: str) -> list[Initiative]:
        """Initiatives for every team, for this manager's team, or for this rep; file order."""
        chosen = []
        for spec in self._specs:
            if spec.managers and manager_id not in spec.managers:
                continue
            if spec.reps and rep_id not in spec.reps:
                continue
            if spec.reps:
                scope = "this rep"
            elif spec.managers:
                scope = "this team"
            else:
                scope = "all teams"
            chosen.append(
                Initiative(
                    title=spec.title,
                    status=spec.status,
                    owner=spec.owner,
                    due=spec.due,
                    note=spec.note,
                    scope=scope,
                )
            )
        return chosen


def load_initiatives(path: Path | None) -> InitiativeBook:
    """Read the initiatives file; no file configured (or not there yet) gives an empty book
    with a note on how to add one, a malformed file raises InitiativesError."""
    if path is None:
        return InitiativeBook([], NO_FILE_NOTE)
    path = Path(path)
    if not path.exists():
        log.warning("initiatives file %s does not exist; packets will say how to add one", path)
        return InitiativeBook(
            [], f"The initiatives file {path} does not exist yet. " + NO_FILE_NOTE
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InitiativesError(f"initiatives file {path}: cannot read it: {exc}") from exc
    if raw is None:
        raw = {}
    if isinstance(raw, list):
        raw = {"initiatives": raw}
    try:
        parsed = _InitiativesFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InitiativesError(
            f"initiatives file {path} is not shaped like the example "
            f"(initiatives: [{{title, status, ...}}]): {problems}"
        ) from exc
    note = None if parsed.initiatives else f"The initiatives file {path} lists none."
    return InitiativeBook(parsed.initiatives, note)
