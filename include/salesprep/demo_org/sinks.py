"""Streaming CSV writers for the org folder: rows go straight to `<Object>.csv` as they are made,
and the files replace the previous ones only when the whole org has been written."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from salesprep.catalog import get_object, objects_for


class ObjectSink:
    """Rows of one object, given as tuples in this module's column order (`columns`).

    When the catalog declares the fields in another order, or declares fields the generator does
    not fill, rows are rearranged to the catalog's header and the unknown fields left empty. A
    field of an org feature the org does not have (`Field.feature`) is not in the header at all,
    as in a real org's export.
    """

    def __init__(
        self,
        handle: IO[str],
        name: str,
        columns: tuple[str, ...],
        features: frozenset[str] = frozenset(),
    ) -> None:
        sobject = get_object(name)
        unknown = [c for c in columns if not sobject.has_field(c)]
        if unknown:
            raise ValueError(f"{name}: generator columns {unknown} are not in the catalog")
        self.name = sobject.name
        self.rows = 0
        header = [f.name for f in sobject.fields_for(features)]
        self._writer = csv.writer(handle, lineterminator="\n")
        self._writer.writerow(header)
        position = {c.lower(): i for i, c in enumerate(columns)}
        order = [position.get(h.lower()) for h in header]
        self._order = None if order == list(range(len(columns))) else order

    def write(self, row: tuple[Any, ...]) -> None:
        self.rows += 1
        if self._order is not None:
            row = tuple("" if i is None else row[i] for i in self._order)
        self._writer.writerow(row)

    def write_many(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows += len(rows)
        if self._order is not None:
            order = self._order
            rows = [tuple("" if i is None else r[i] for i in order) for r in rows]
        self._writer.writerows(rows)


class OrgWriter:
    """Every object file of an org folder, written aside and swapped in on success."""

    def __init__(self, out_dir: Path, features: frozenset[str] = frozenset()) -> None:
        self.out_dir = Path(out_dir)
        # The org features this org has (catalog.FEATURES): their objects and fields are written.
        self.features = features
        self._handles: dict[str, tuple[IO[str], Path]] = {}
        self.sinks: dict[str, ObjectSink] = {}

    def open(self, name: str, columns: tuple[str, ...]) -> ObjectSink:
        temp = self.out_dir / f".{name}.csv.partial"
        handle = temp.open("w", encoding="utf-8", newline="")
        self._handles[name] = (handle, temp)
        sink = ObjectSink(handle, name, columns, self.features)
        self.sinks[name] = sink
        return sink

    def __enter__(self) -> OrgWriter:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for handle, _ in self._handles.values():
            handle.close()
        missing = [o.name for o in objects_for(self.features) if o.name not in self._handles]
        if exc_type is not None or missing:
            for _, temp in self._handles.values():
                temp.unlink(missing_ok=True)
            if exc_type is None:
                raise RuntimeError(f"demo org generator wrote no file for {missing}")
            return
        for name, (_, temp) in self._handles.items():
            os.replace(temp, self.out_dir / f"{name}.csv")
