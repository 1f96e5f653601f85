"""The generated org is an org folder: every catalog object, catalog headers, Data Export values,
readable by `org_folder.read_object`, valid and resolvable ids, and the same bytes every time."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from salesprep.catalog import KEY_PREFIXES, get_object, objects_for
from salesprep.demo_org import is_valid_id
from salesprep.org_folder import format_value, parse_datetime, read_object

from .conftest import ARGS, END_WEEK, Org


def test_every_object_file_has_the_catalog_header(org: Org) -> None:
    names = sorted(p.name for p in org.path.iterdir())
    assert names == sorted(f"{o.name}.csv" for o in objects_for())
    for sobject in objects_for():
        with (org.path / f"{sobject.name}.csv").open(encoding="utf-8", newline="") as handle:
            assert next(csv.reader(handle)) == [f.name for f in sobject.fields_for()], sobject.name


@pytest.mark.parametrize("name", [o.name for o in objects_for()])
def test_read_object_reads_every_file_completely(org: Org, name: str) -> None:
    result = read_object(org.path, name)
    assert result.present
    # The default demo org has no org features, so none of their fields (CurrencyIsoCode...).
    assert result.missing_fields == [f.name for f in get_object(name).fields if f.feature]
    assert result.extra_columns == []
    assert result.table.num_rows == org.summary.rows[name] > 0


@pytest.mark.parametrize("name", [o.name for o in objects_for()])
def test_values_are_written_as_format_value_writes_them(org: Org, name: str) -> None:
    sobject = next(o for o in objects_for() if o.name == name)
    for row in org.rows(name)[:3000]:
        for f in sobject.fields_for():
            cell = row[f.name]
            if cell == "":
                continue
            if f.type == "datetime":
                assert format_value(parse_datetime(cell), "datetime") == cell, (f.name, cell)
            elif f.type == "boolean":
                assert cell in ("true", "false"), (f.name, cell)
            elif f.type in ("currency", "double", "percent"):
                assert format_value(float(cell), f.type) == cell, (f.name, cell)
            elif f.type == "int":
                assert str(int(cell)) == cell, (f.name, cell)
            elif f.type == "date":
                assert len(cell) == 10 and cell[4] == "-" and cell[7] == "-", (f.name, cell)


def test_ids_are_valid_unique_and_carry_their_object_prefix(org: Org) -> None:
    seen: set[str] = set()
    for sobject in objects_for():
        for row in org.rows(sobject.name):
            value = row["Id"]
            assert is_valid_id(value), (sobject.name, value)
            assert value.startswith(KEY_PREFIXES[sobject.name]), (sobject.name, value)
            assert value.lower() not in seen, value
            seen.add(value.lower())


def test_references_point_at_existing_records(org: Org) -> None:
    ids = {o.name: {r["Id"] for r in org.rows(o.name)} for o in objects_for()}
    checks = {
        "User": [("ManagerId", "User"), ("UserRoleId", "UserRole"), ("ProfileId", "Profile")],
        "UserRole": [("ParentRoleId", "UserRole")],
        "Account": [("OwnerId", "User")],
        "Contact": [("AccountId", "Account"), ("OwnerId", "User")],
        "Opportunity": [("AccountId", "Account"), ("OwnerId", "User")],
        "OpportunityHistory": [("OpportunityId", "Opportunity"), ("CreatedById", "User")],
        "OpportunityFieldHistory": [("OpportunityId", "Opportunity"), ("CreatedById", "User")],
        "OpportunityContactRole": [("OpportunityId", "Opportunity"), ("ContactId", "Contact")],
        "Task": [("OwnerId", "User"), ("WhoId", "Contact")],
        "Event": [("OwnerId", "User"), ("WhoId", "Contact")],
        "ForecastingQuota": [("QuotaOwnerId", "User")],
    }
    for name, fields in checks.items():
        for row in org.rows(name):
            for column, target in fields:
                if row[column]:
                    assert row[column] in ids[target], (name, column, row[column])
    what_targets = ids["Opportunity"] | ids["Account"]
    for name in ("Task", "Event"):
        what = [r["WhatId"] for r in org.rows(name) if r["WhatId"]]
        assert all(w in what_targets for w in what)
        assert sum(w.startswith("006") for w in what) > sum(w.startswith("001") for w in what) > 0


def test_same_arguments_give_identical_bytes(org: Org, org_again: Org) -> None:
    assert replace(org.summary, out_dir=org_again.path) == org_again.summary
    for sobject in objects_for():
        first = (org.path / f"{sobject.name}.csv").read_bytes()
        second = (org_again.path / f"{sobject.name}.csv").read_bytes()
        assert first == second, f"{sobject.name}.csv differs between two identical runs"


def test_another_seed_gives_another_org(org: Org, org_other_seed: Org) -> None:
    for name in ("User", "Opportunity", "OpportunityHistory", "Task", "Event"):
        first = (org.path / f"{name}.csv").read_bytes()
        assert first != (org_other_seed.path / f"{name}.csv").read_bytes(), name


def test_bytes_do_not_depend_on_the_process_hash_seed(org: Org, tmp_path: Path) -> None:
    # Set iteration order and str hashes change with PYTHONHASHSEED; the org must not.
    out = tmp_path / "org"
    script = (
        "import sys; from pathlib import Path; from salesprep.demo_org import generate_org; "
        "from salesprep.weeks import Week; "
        f"generate_org(Path(sys.argv[1]), reps={ARGS['reps']}, managers={ARGS['managers']}, "
        f"weeks={ARGS['weeks']}, seed={ARGS['seed']}, end_week=Week.parse('{END_WEEK}'))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env, timeout=120)
    for sobject in objects_for():
        name = f"{sobject.name}.csv"
        assert (out / name).read_bytes() == (org.path / name).read_bytes(), name
