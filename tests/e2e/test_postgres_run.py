"""End to end on the Postgres target: the weekly run's steps for the shared demo org and week
(tests/warehouse/demo_builds.py), once with dbt on DuckDB and once on Postgres, each reading
its marts through `salesprep.warehouse.connection`. The packets, the indexes, the learnings
digest and the team pages must be the same bytes, and the Postgres run's packets must pass
the oracle checks of tests/e2e/test_weekly_run.py.

The pairs record the demo's sample learnings (lessons, feedback, agreed actions, one bad entry)
for the week before, so every section of a packet has rows. The DuckDB run starts from the
shared demo build (its weekly build); the Postgres run from an empty database of its own,
built for the week before and then for the week (weekly, incremental), so every mart of the
two builds, row for row, and the comments BI reads are compared too. Publishing the warehouse
for BI on Postgres is not part of this run: the packets are published from the rendered week,
as the publish step does for them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest
from oracle.metrics import compute_stuck_followups, load_org, recompute_week
from postgres_db import throwaway_database
from warehouse.demo_builds import DEMO_WEEK, EMPTY_IN_DEMO, MART_KEYS, demo_full_build, land_demo
from warehouse.test_targets import _documented, _postgres_comments, _rows_close, _said

# The oracle checks of the single-machine run, collected here again with this module's `run`.
from e2e.test_weekly_run import (  # noqa: F401
    test_a_packet_holds_only_its_own_reps_deals,
    test_every_pair_gets_exactly_one_packet,
    test_packet_deals_match_the_independent_recomputation,
    test_packet_metrics_match_the_independent_recomputation,
    test_packet_quota_and_performance_flag_match,
)
from salesprep import pipeline
from salesprep.config import PostgresSettings, Settings
from salesprep.demo_org.sample_learnings import write_sample_learnings
from salesprep.packets.layout import learnings_file
from salesprep.packets.publish import publish_rendered_week
from salesprep.packets.render import render_week
from salesprep.warehouse.connection import open_marts
from salesprep.warehouse.postgres import conninfo

pytestmark = pytest.mark.slow

WEEK = DEMO_WEEK
RECORDED = WEEK.shift(-1)
TZ = "UTC"  # the demo build's org_timezone (the default)
# The steps of a weekly run that read or write the warehouse, in order: `extract` and its
# `check_raw` are the demo org's landing zone, already there and the same for both targets;
# `publish` is the packets' half, below.
STEPS = ("check_week", "load_learnings", "build_marts", "check_marts", "render_packets")
# The week's quality report documents the build itself (dbt's docs name the engine's types and
# schemas, the results their timings): it is not a packet and may differ between targets.
NOT_COMPARED = ("quality/", "manifest.json")


def _shared_with_learnings(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shared folder holding the week before, published from the demo build, and the
    learnings its pairs recorded after their 1:1s (with one entry the format rejects)."""
    demo = demo_full_build(tmp_path_factory)
    shared = root / "shared"
    rendered = root / "rendered-before"
    render_week(RECORDED, demo.settings, rendered, warehouse=demo.published)
    manifest = publish_rendered_week(rendered, str(shared), RECORDED)
    write_sample_learnings(shared, demo.org_dir, RECORDED)
    first = manifest.packets[0]
    bad = shared / learnings_file(RECORDED.label, first.manager_slug, first.rep_slug)
    bad.write_text(
        bad.read_text(encoding="utf-8") + "\n---\nkind: gossip\n---\nNot a kind of entry.\n",
        encoding="utf-8",
    )
    return shared


def _run(settings: Settings) -> Path:
    """The run's steps for WEEK, then its packets published; returns the published week."""
    for name in STEPS:
        step = next(s for s in pipeline.STEPS if s.name == name)
        step(WEEK, settings, pipeline.RunOptions(republish=True))
    publish_rendered_week(pipeline.rendered_dir(settings, WEEK), settings.shared_folder, WEEK)
    return Path(settings.shared_folder) / WEEK.label


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, monkeypatch_module: pytest.MonkeyPatch):
    for name in PostgresSettings.env_names().values():
        monkeypatch_module.delenv(name, raising=False)
    with throwaway_database("e2e", schema_name="marts") as target:
        yield from _runs(target, tmp_path_factory)


def _runs(target: PostgresSettings, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("postgres-run")
    shared = _shared_with_learnings(root, tmp_path_factory)

    demo = demo_full_build(tmp_path_factory)
    duck_dir = root / "duckdb"
    shutil.copytree(demo.settings.data_dir, duck_dir)
    shutil.copytree(shared, root / "shared-duckdb")
    on_duckdb = Settings(data_dir=duck_dir, shared_folder=str(root / "shared-duckdb"))

    pg_dir = root / "postgres"
    land_demo(pg_dir, tmp_path_factory)
    shutil.copytree(shared, root / "shared-postgres")
    on_postgres = Settings(
        data_dir=pg_dir,
        shared_folder=str(root / "shared-postgres"),
        dbt_target="postgres",
        postgres=target,
    )
    duck_week = _run(on_duckdb)
    pipeline.build_marts(RECORDED, on_postgres)  # the week before: a full build
    yield {
        "root": root,
        "duckdb": duck_week,
        "postgres": _run(on_postgres),
        "settings": on_postgres,
        "duckdb_settings": on_duckdb,
        "org": demo.org_dir,
    }


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def run(runs) -> dict:
    """The Postgres run, shaped as test_weekly_run's oracle checks read it."""
    week_dir = runs["postgres"]
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    packets = {
        p["rep_id"]: json.loads((week_dir / p["paths"]["json"]).read_text(encoding="utf-8"))
        for p in manifest["packets"]
    }
    org_dir = runs["org"]
    return {
        "org": org_dir,
        "week_dir": week_dir,
        "manifest": manifest,
        "packets": packets,
        "oracle": recompute_week(load_org(org_dir, tz=TZ), WEEK.label, tz=TZ),
    }


def _files(week_dir: Path) -> dict[str, bytes]:
    return {
        path.relative_to(week_dir).as_posix(): path.read_bytes()
        for path in sorted(week_dir.rglob("*"))
        if path.is_file()
    }


def test_packets_on_postgres_are_the_bytes_of_the_duckdb_run(runs) -> None:
    on_duckdb, on_postgres = _files(runs["duckdb"]), _files(runs["postgres"])
    assert sorted(on_duckdb) == sorted(on_postgres)
    compared = [name for name in on_duckdb if not name.startswith(NOT_COMPARED)]
    assert sum(name.endswith(".json") for name in compared) >= 4
    different = [name for name in compared if on_duckdb[name] != on_postgres[name]]
    assert different == []
    duck_manifest, pg_manifest = (
        json.loads(files["manifest.json"]) for files in (on_duckdb, on_postgres)
    )
    assert duck_manifest["packets"] == pg_manifest["packets"]


def test_every_packet_section_has_rows(run) -> None:
    """The comparison means something only if the packets show every section."""
    packets = list(run["packets"].values())
    for section in ("deals", "fast_movers", "feedback_themes", "lessons", "actions"):
        assert any(p[section] for p in packets), section
    assert any(p["since_last_1on1"] for p in packets)
    assert any(p["quota"] for p in packets)
    assert any(p["data_quality"]["rejected_learnings"] for p in packets)


def test_every_mart_of_the_two_builds_has_the_same_rows(runs) -> None:
    """The same SQL through the same interface on both builds: every mart BI or the packets
    read, row for row (floats to 1e-9: the engines may sum in another order)."""
    with (
        open_marts(runs["duckdb_settings"], "build") as duck,
        open_marts(runs["settings"], "build") as pg,
    ):
        for mart, key in MART_KEYS.items():
            sql = f"select * from {mart} order by {key}"
            on_duckdb = duck.query(sql)
            assert on_duckdb or mart in EMPTY_IN_DEMO, mart
            assert _rows_close(pg.query(sql), on_duckdb), mart


def test_descriptions_are_comments_on_postgres(runs, tmp_path_factory) -> None:
    """persist_docs: a BI tool on Postgres reads the same descriptions as comments."""
    with psycopg.connect(conninfo(runs["settings"].postgres)) as conn:
        comments = _postgres_comments(conn)
    assert {name for name, _ in comments} >= set(MART_KEYS)
    assert _said(comments) == _said(_documented(demo_full_build(tmp_path_factory), comments))


def test_learnings_were_loaded_into_postgres(runs) -> None:
    with open_marts(runs["settings"], "build") as marts:
        assert marts.schema == "marts_build"
        (recorded,) = marts.query(
            "select count(*) from fct_learnings where week = ?", [RECORDED.label]
        )[0]
        (rejected,) = marts.query("select count(*) from fct_learnings_rejected")[0]
    assert recorded >= 6
    assert rejected >= 1


def test_stuck_deal_followups_on_postgres_match_the_oracle(runs, run) -> None:
    """test_weekly_run's check of "since our last 1:1", read from the Postgres build."""
    with open_marts(runs["settings"], "build") as marts:
        weeks = [w for (w,) in marts.query("select week from intermediate.int_weeks_enumerated")]
        got = {
            (row[0], row[1]): row[2:]
            for row in marts.query(
                "select week, opportunity_id, outcome, stuck_weeks, is_close_it_or_kill_it"
                " from rpt_stuck_deal_followups_weekly"
            )
        }
    org = load_org(run["org"], tz=TZ)
    followups = compute_stuck_followups([recompute_week(org, w, tz=TZ) for w in sorted(weeks)])
    want = {
        (week, oid): (f["outcome"], f["stuck_weeks"], f["close_it_or_kill_it"])
        for week, deals in followups.items()
        for oid, f in deals.items()
    }
    assert got == want
