"""REST or Bulk API 2.0, chosen from a COUNT() or forced; Bulk falls back to REST where it
cannot run; long SOQL splits into field groups joined on Id; hard deletes without a
usable delete log are found by Id reconciliation."""

from __future__ import annotations

from pathlib import Path

import pytest

from extract.conftest import make_settings, serve_org
from extract.org_changes import (
    assert_landed_equals_org,
    assert_same_landing,
    assert_unique_ids,
    change_org,
)
from extract.sample_org import write_sample_org
from salesprep import progress
from salesprep.emulator import EmulatorConfig
from salesprep.progress import Reporter, Task
from salesprep.salesforce.extract import ObjectPlan, build_queries, extract_org

OPPORTUNITIES = 260  # Opportunity 260 rows, OpportunityHistory 520: above a threshold of 250


@pytest.fixture(scope="module")
def org_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_org(tmp_path_factory.mktemp("methods") / "org", opportunities=OPPORTUNITIES)


@pytest.fixture(scope="module")
def rest_landing(org_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = make_settings(tmp_path_factory.mktemp("rest"), query_method="rest")
    with serve_org(org_dir, settings) as served:
        extract_org(served.sf, settings.raw_root, settings=settings)
    return settings.raw_root


class Watched(Reporter):
    """Every change of every task, as the progress display sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: dict[str, list[tuple[int, int | None, str]]] = {}

    def started(self, task: Task) -> None:
        self.changes[task.description] = []

    def changed(self, task: Task) -> None:
        self.changes[task.description].append((task.completed, task.total, task.state))


def test_auto_switches_to_bulk_from_the_threshold(org_dir, rest_landing, tmp_path: Path):
    settings = make_settings(tmp_path / "data", bulk_threshold=250, bulk_max_records=100)
    watched = Watched()
    with serve_org(org_dir, settings) as served, progress.reporting(watched):
        report = extract_org(served.sf, settings.raw_root, settings=settings)
        jobs_left = served.handle.emulator.bulk_jobs.list()["records"]
    methods = {name: o.method for name, o in report.objects.items()}
    assert methods["Opportunity"] == methods["OpportunityHistory"] == "bulk"
    assert {m for n, m in methods.items() if n not in ("Opportunity", "OpportunityHistory")} == {
        "rest"
    }
    # maxRecords=100: 260 rows come in 3 result slices, following Sforce-Locator.
    assert report.objects["Opportunity"].pages == 3
    assert report.objects["OpportunityHistory"].pages == 6
    assert jobs_left == []  # jobs are deleted after their results are read
    assert_landed_equals_org(settings.raw_root, org_dir)
    assert_same_landing(settings.raw_root, rest_landing)
    # Progress: rows so far out of the COUNT(), with the Bulk job's state, per object.
    bulk = watched.changes["extract Opportunity"]
    states = [state for _, _, state in bulk]
    assert "Bulk job JobComplete" in states
    assert states.index("Bulk job JobComplete") < states.index("Bulk results, slice 1")
    assert [done for done, _, state in bulk if state.startswith("Bulk results")] == [100, 200, 260]
    assert {total for _, total, _ in bulk} == {OPPORTUNITIES}
    rest = watched.changes["extract Account"]
    assert rest[-1][:2] == (report.objects["Account"].fetched_rows,) * 2
    objects = watched.changes["extract objects"]
    assert objects[-1][:2] == (len(report.objects), len(report.objects))


def test_bulk_and_rest_can_be_forced(org_dir, rest_landing, tmp_path: Path):
    settings = make_settings(tmp_path / "data")
    with serve_org(org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings, method="bulk")
    assert {o.method for o in report.objects.values()} == {"bulk"}
    assert_same_landing(settings.raw_root, rest_landing)


def test_bulk_falls_back_to_rest_for_objects_it_refuses(org_dir, tmp_path: Path):
    settings = make_settings(tmp_path / "data", query_method="bulk")
    config = EmulatorConfig(bulk_unsupported_objects=frozenset({"OpportunityFieldHistory"}))
    with serve_org(org_dir, settings, config=config) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings)
    history = report.objects["OpportunityFieldHistory"]
    assert history.method == "rest"
    assert any("not supported by the Bulk API" in note for note in history.notes)
    assert report.objects["Opportunity"].method == "bulk"
    assert_landed_equals_org(settings.raw_root, org_dir)


def test_incremental_windows_through_bulk(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org")
    settings = make_settings(tmp_path / "data", query_method="bulk")
    with serve_org(org_dir, settings) as served:
        extract_org(served.sf, settings.raw_root, settings=settings)
    change_org(org_dir)
    with serve_org(org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings)
    assert report.objects["Opportunity"].method == "bulk"
    assert report.objects["Opportunity"].fetched_rows == 6
    assert_landed_equals_org(settings.raw_root, org_dir)
    assert_unique_ids(settings.raw_root)


def test_long_soql_is_split_into_field_groups_joined_on_id(org_dir, rest_landing, tmp_path):
    settings = make_settings(tmp_path / "data", max_query_url_chars=300, page_size=200)
    with serve_org(org_dir, settings) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings, method="rest")
        requested = served.handle.emulator.api_calls
    opportunity = report.objects["Opportunity"]
    assert any("field groups" in note for note in opportunity.notes)
    assert opportunity.pages >= 4  # two pages per field group at least
    assert requested == report.api_calls
    assert_same_landing(settings.raw_root, rest_landing)


def test_build_queries_keeps_every_query_under_the_limit():
    from salesprep.catalog import get_object

    sobject = get_object("Opportunity")
    plan = ObjectPlan(sobject, present=True, selected={f.name: f.name for f in sobject.fields})
    single = build_queries(plan, max_url_chars=16_000)
    assert len(single) == 1 and single[0][1] == sobject.field_names
    where = "SystemModstamp >= 2026-01-01T00:00:00Z AND SystemModstamp < 2026-01-08T00:00:00Z"
    groups = build_queries(plan, where=where, max_url_chars=400)
    assert len(groups) > 1
    assert all(names[0] == "Id" for _soql, names in groups)
    covered = [n for _soql, names in groups for n in names if n != "Id"]
    assert sorted(covered) == sorted(n for n in sobject.field_names if n != "Id")
    from urllib.parse import urlencode

    for soql, _names in groups:
        assert soql.endswith(f"WHERE {where}")
        assert len("/services/data/vXX.X/queryAll/?") + len(urlencode({"q": soql})) <= 400


def test_hard_deletes_without_a_delete_log_are_found_by_id_reconciliation(tmp_path: Path):
    org_dir = write_sample_org(tmp_path / "org")
    settings = make_settings(tmp_path / "data")
    with serve_org(org_dir, settings) as served:
        extract_org(served.sf, settings.raw_root, settings=settings)
    changes = change_org(org_dir)
    # A delete log that keeps nothing: the window starts before its earliest date.
    config = EmulatorConfig(deleted_retention_days=1e-6)
    with serve_org(org_dir, settings, config=config) as served:
        report = extract_org(served.sf, settings.raw_root, settings=settings)
    opportunity = report.objects["Opportunity"]
    assert any("Ids reconciled" in note for note in opportunity.notes)
    assert opportunity.hard_deleted_rows == len(changes.purged["Opportunity"])
    assert report.objects["Task"].hard_deleted_rows == 1
    assert_landed_equals_org(settings.raw_root, org_dir)
