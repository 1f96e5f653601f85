"""An org that changes between runs, and checks that a landing zone holds exactly an org.

`change_org` rewrites the sample org in place as a week of users would: edits, new records,
a soft delete (recycle bin), records deleted for good (`_deleted/<Object>.csv`), and a new
field-history row, all stamped `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from extract.sample_org import sample_rows, write_sample_org
from salesprep.catalog import OBJECTS, get_object
from salesprep.emulator import write_deleted_records
from salesprep.org_folder import read_object


@dataclass
class Changes:
    edited: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    soft_deleted: list[str] = field(default_factory=list)
    purged: dict[str, list[str]] = field(default_factory=dict)
    field_history_added: list[str] = field(default_factory=list)


def change_org(
    org_dir: Path,
    *,
    opportunities: int = 24,
    now: datetime | None = None,
    drop_fields: dict[str, tuple[str, ...]] | None = None,
) -> Changes:
    """Rewrite the sample org in `org_dir` with a week of changes, stamped `now` (default:
    two seconds ago, so they are committed before the next run's window ends)."""
    now = now or datetime.now(UTC) - timedelta(seconds=2)
    rows = sample_rows(opportunities)
    changes = Changes()
    opps = rows["Opportunity"]
    for opp in opps[0:3]:
        opp["Amount"] = (opp["Amount"] or 0) + 111.0
        opp["StageName"] = "Closed Won"
        opp["LastModifiedDate"] = opp["SystemModstamp"] = now
        changes.edited.append(opp["Id"])
    opps[3]["IsDeleted"] = True
    opps[3]["SystemModstamp"] = now
    changes.soft_deleted.append(opps[3]["Id"])
    purged = opps[4:6]
    del opps[4:6]
    changes.purged["Opportunity"] = [o["Id"] for o in purged]
    for n in (9001, 9002):
        new = {**opps[0], "Id": f"006{n:012d}AAA", "Name": f"New deal {n}", "Amount": 5.0}
        new["CreatedDate"] = new["LastModifiedDate"] = new["SystemModstamp"] = now
        opps.append(new)
        changes.added.append(new["Id"])
    task = rows["Task"].pop(0)
    changes.purged["Task"] = [task["Id"]]
    history = {**rows["OpportunityFieldHistory"][0], "Id": "017000000009001AAA"}
    history["CreatedDate"] = now
    rows["OpportunityFieldHistory"].append(history)
    changes.field_history_added.append(history["Id"])
    write_sample_org(org_dir, opportunities=opportunities, overrides=rows, drop_fields=drop_fields)
    for name, ids in changes.purged.items():
        write_deleted_records(org_dir, name, [(i, now - timedelta(seconds=1)) for i in ids])
    return changes


def landed(raw_root: Path, name: str) -> pa.Table:
    return pq.read_table(raw_root / name / f"{name}.parquet")


def assert_unique_ids(raw_root: Path) -> None:
    for sobject in OBJECTS:
        ids = landed(raw_root, sobject.name).column("Id")
        assert len(pc.unique(ids)) == len(ids), f"duplicate Ids in {sobject.name}"


def assert_landed_equals_org(raw_root: Path, org_dir: Path) -> None:
    """Every object landed holds exactly the org folder's records (soft-deleted included,
    records deleted for good excluded), typed by the catalog, once each."""
    for sobject in OBJECTS:
        table = landed(raw_root, sobject.name)
        expected = read_object(org_dir, sobject.name).table
        deleted_for_good = _purged_ids(org_dir, sobject.name)
        if deleted_for_good:
            keep = pc.invert(pc.is_in(expected.column("Id"), pa.array(deleted_for_good)))
            expected = expected.filter(keep)
        assert table.schema.equals(get_object(sobject.name).arrow_schema()), sobject.name
        assert table.num_rows == expected.num_rows, sobject.name
        assert table.sort_by("Id").equals(expected.sort_by("Id")), f"{sobject.name} differs"


def assert_same_landing(raw_a: Path, raw_b: Path) -> None:
    """Two landing zones with the same records per object (row order aside)."""
    for sobject in OBJECTS:
        a, b = landed(raw_a, sobject.name), landed(raw_b, sobject.name)
        assert a.num_rows == b.num_rows, sobject.name
        assert a.sort_by("Id").equals(b.sort_by("Id")), f"{sobject.name} differs"


def _purged_ids(org_dir: Path, name: str) -> list[str]:
    path = org_dir / "_deleted" / f"{name}.csv"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split(",")[0] for line in lines if line]


def files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
