"""The shape of an object as the org folder serves it: the fields its CSV header really has."""

from __future__ import annotations

from dataclasses import dataclass, field

# Describe types whose values are text; SOQL compares and sorts them case-insensitively,
# except Ids, which are matched exactly.
TEXT_TYPES = frozenset(
    {
        "string",
        "picklist",
        "multipicklist",
        "combobox",
        "textarea",
        "email",
        "phone",
        "url",
        "anyType",
    }
)
ID_TYPES = frozenset({"id", "reference"})
NUMBER_TYPES = frozenset({"currency", "double", "percent", "int"})

# DuckDB column types the store casts each describe type to; datetimes are naive UTC.
SQL_TYPES: dict[str, str] = {
    **dict.fromkeys(TEXT_TYPES | ID_TYPES, "VARCHAR"),
    "boolean": "BOOLEAN",
    "currency": "DOUBLE",
    "double": "DOUBLE",
    "percent": "DOUBLE",
    "int": "BIGINT",
    "date": "DATE",
    "datetime": "TIMESTAMP",
}


def quote_identifier(name: str) -> str:
    """`name` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """`text` as a single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class FieldInfo:
    """One field an object serves: a catalog field present in the CSV, or an extra column."""

    name: str
    type: str
    custom: bool = False
    reference_to: str | None = None
    declared: bool = True

    @property
    def column(self) -> str:
        return quote_identifier(self.name)

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    @property
    def filterable(self) -> bool:
        # Long text areas cannot be filtered or sorted in SOQL.
        return self.type != "textarea"

    @property
    def sortable(self) -> bool:
        return self.type not in ("textarea", "multipicklist")


@dataclass(frozen=True)
class ObjectSchema:
    """An object of the org folder: its name, label, key prefix and served fields."""

    name: str
    label: str
    key_prefix: str | None
    fields: tuple[FieldInfo, ...]
    _by_name: dict[str, FieldInfo] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name.lower(): f for f in self.fields})

    def field(self, name: str) -> FieldInfo | None:
        """The served field called `name` (case-insensitive), or None."""
        return self._by_name.get(name.lower())

    @property
    def table(self) -> str:
        return quote_identifier(f"obj_{self.name}")

    @property
    def is_deleted(self) -> FieldInfo | None:
        return self.field("IsDeleted")

    @property
    def is_archived(self) -> FieldInfo | None:
        """Tasks and Events older than a year are archived: only queryAll returns them."""
        return self.field("IsArchived")
