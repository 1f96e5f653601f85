"""What the emulator's user may not see: objects and fields hidden as a profile, a permission
set or field-level security hides them in Salesforce.

An org folder may carry `_permissions.yaml` (or `_permissions.json`) listing them, and
`EmulatorConfig.hidden` / `salesprep emulator --hide` add more:

    hidden:
      - ForecastingQuota        # the whole object
      - Opportunity.Amount      # one field

A hidden object answers as an absent one (describe `NOT_FOUND`, SOQL `INVALID_TYPE`); a hidden
field is left out of describe and SOQL naming it fails with `INVALID_FIELD` "No such column",
as Salesforce answers a user without field-level access.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from salesprep.catalog import UnknownObjectError, get_object
from salesprep.emulator.schema import ObjectSchema

# Looked for in this order; the first one present is read.
PERMISSIONS_FILES = ("_permissions.yaml", "_permissions.yml", "_permissions.json")
# Field-level security cannot hide a record's Id or its system audit fields.
ALWAYS_VISIBLE_FIELDS = frozenset(
    {"Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp"}
)
_ENTRY = re.compile(r"^(?P<object>[A-Za-z]\w*)(\.(?P<field>[A-Za-z]\w*))?$", re.ASCII)
_ALWAYS_VISIBLE_KEYS = frozenset(name.lower() for name in ALWAYS_VISIBLE_FIELDS)


class PermissionsError(ValueError):
    """A permissions file or entry that cannot be read; the message names it and the fix."""


@dataclass(frozen=True)
class Permissions:
    """The objects and fields the emulator's user cannot see (catalog names, lowercased)."""

    hidden_objects: frozenset[str] = frozenset()
    hidden_fields: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def parse(cls, entries: Iterable[str], *, source: str) -> Permissions:
        """Entries `Object` or `Object.Field`; `source` names where they came from."""
        objects: set[str] = set()
        fields: set[tuple[str, str]] = set()
        for entry in entries:
            if not isinstance(entry, str):
                raise PermissionsError(f"{source}: {entry!r} is not an object or Object.Field name")
            match = _ENTRY.match(entry.strip())
            if match is None:
                raise PermissionsError(
                    f"{source}: {entry!r} is not an object or Object.Field name, such as "
                    "ForecastingQuota or Opportunity.Amount"
                )
            try:
                sobject = get_object(match["object"])
            except UnknownObjectError as exc:
                raise PermissionsError(f"{source}: {exc}") from exc
            field = match["field"]
            if field is None:
                objects.add(sobject.name.lower())
            elif field.lower() in _ALWAYS_VISIBLE_KEYS:
                raise PermissionsError(
                    f"{source}: {entry} cannot be hidden: Salesforce's field-level security "
                    f"never hides {', '.join(sorted(ALWAYS_VISIBLE_FIELDS))}"
                )
            else:
                fields.add((sobject.name.lower(), field.lower()))
        return cls(frozenset(objects), frozenset(fields))

    def merged(self, other: Permissions) -> Permissions:
        return Permissions(
            self.hidden_objects | other.hidden_objects, self.hidden_fields | other.hidden_fields
        )

    def hides_object(self, name: str) -> bool:
        return name.lower() in self.hidden_objects

    def visible(self, schema: ObjectSchema) -> ObjectSchema:
        """`schema` without the fields this user cannot see."""
        key = schema.name.lower()
        hidden = {field for obj, field in self.hidden_fields if obj == key}
        if not hidden:
            return schema
        return replace(
            schema, fields=tuple(f for f in schema.fields if f.name.lower() not in hidden)
        )


def load_permissions(org_dir: Path) -> Permissions:
    """The permissions file of `org_dir` (see the module docstring); none: nothing hidden."""
    path = next(
        (Path(org_dir) / n for n in PERMISSIONS_FILES if (Path(org_dir) / n).is_file()), None
    )
    if path is None:
        return Permissions()
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except OSError as exc:
        raise PermissionsError(f"cannot read the permissions file {path}: {exc}") from exc
    except (ValueError, yaml.YAMLError) as exc:
        raise PermissionsError(
            f"permissions file {path} is not valid {path.suffix[1:]}: {exc}"
        ) from exc
    data = data or {}
    if not isinstance(data, dict) or set(data) - {"hidden"}:
        raise PermissionsError(
            f"permissions file {path} must be a mapping with one key, hidden: a list of "
            "objects and Object.Field names"
        )
    hidden = data.get("hidden") or []
    if not isinstance(hidden, list):
        raise PermissionsError(f"permissions file {path}: hidden must be a list")
    return Permissions.parse(hidden, source=f"permissions file {path}")
