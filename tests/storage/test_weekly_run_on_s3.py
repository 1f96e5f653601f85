"""A weekly run whose shared data lives on S3 (moto's S3 API): every step on a worker of its
own with an empty data dir, except the DuckDB build file's steps, which share one. Its packets
must equal, byte for byte, those of the run on one local data dir.

This proves what the storage layer hands between steps: the landing zone and the extraction
state land in S3; the raw checkpoint (on a worker without the landing zone) and dbt (likewise)
read the raw Parquet from S3; the quality reports, the rendered week and the shared folder
go through S3; and a later extraction on yet another worker continues incrementally from the
state in S3.
"""

from __future__ import annotations

import json
import shutil

import pytest
from warehouse.demo_builds import DEMO_WEEK, demo_org

from salesprep.cli.run import serving_org
from salesprep.config import Settings, StorageSettings
from salesprep.pipeline import STEPS, RunOptions, run_week

pytestmark = pytest.mark.slow

STEP = {step.name: step for step in STEPS}
# Which worker (data dir) runs each step: the DuckDB build file ties the last four together.
WORKERS = {
    "check_week": "a",
    "extract": "a",
    "check_raw": "b",
    "load_learnings": "c",
    "build_marts": "d",
    "check_marts": "d",
    "render_packets": "d",
    "publish": "d",
}


@pytest.fixture(scope="module")
def runs(s3_server, tmp_path_factory):
    org = demo_org(tmp_path_factory)
    root = tmp_path_factory.mktemp("s3-run")
    bucket = s3_server.new_bucket()
    storage = StorageSettings(url=f"s3://{bucket}/salesprep", options=s3_server.options)

    def worker(name: str) -> Settings:
        return Settings(data_dir=root / f"worker-{name}", storage=storage)

    checked_without_raw = built_without_raw = False
    with serving_org(org):
        run_week(DEMO_WEEK, Settings(data_dir=root / "local"))
        for step in STEPS:
            settings = worker(WORKERS[step.name])
            if step.name == "check_raw":
                checked_without_raw = not settings.raw_root.exists()
            if step.name == "build_marts":
                built_without_raw = not settings.raw_root.exists()
            if step.name == "publish":
                # The rendered week must come from S3, not this worker's copy.
                shutil.rmtree(settings.data_dir / "rendered")
            step(DEMO_WEEK, settings, RunOptions())
        again = STEP["extract"](DEMO_WEEK, worker("e"), RunOptions())
    return {
        "root": root,
        "bucket": bucket,
        "fs": s3_server.filesystem(),
        "checked_without_raw": checked_without_raw,
        "built_without_raw": built_without_raw,
        "again": again,
    }


def test_packets_on_s3_equal_the_local_run(runs):
    fs, local = runs["fs"], runs["root"] / "local" / "shared" / DEMO_WEEK.label
    remote = f"{runs['bucket']}/salesprep/shared/{DEMO_WEEK.label}"
    manifest = json.loads((local / "manifest.json").read_text())
    assert manifest["packets"], "the demo week has packets"
    paths = [path for packet in manifest["packets"] for path in packet["paths"].values()]
    for path in paths:
        assert fs.cat_file(f"{remote}/{path}") == (local / path).read_bytes(), path
    # The whole week, indexes, quality pages and dbt docs included.
    published = {p[len(remote) + 1 :] for p in fs.find(remote)}
    names = {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    assert published == names
    differ = [n for n in sorted(names) if fs.cat_file(f"{remote}/{n}") != (local / n).read_bytes()]
    assert differ == []


def test_landing_zone_and_state_land_in_s3(runs):
    fs, base = runs["fs"], f"{runs['bucket']}/salesprep"
    report = json.loads(fs.cat_file(f"{base}/raw/_extract_report.json"))
    assert fs.exists(f"{base}/raw/Opportunity/Opportunity.parquet")
    state = json.loads(fs.cat_file(f"{base}/state/salesforce_extract_state.json"))
    assert state["run_id"] == report["run_id"]
    assert fs.exists(f"{base}/state/org.json")
    assert fs.exists(f"{base}/state/coverage-{DEMO_WEEK.label}.json")


def test_checks_and_dbt_read_the_raw_parquet_from_s3(runs):
    assert runs["checked_without_raw"]
    assert runs["built_without_raw"]
    assert not (runs["root"] / "worker-d" / "raw").exists()


def test_quality_and_rendered_week_go_through_s3(runs):
    fs, base = runs["fs"], f"{runs['bucket']}/salesprep"
    for stage in ("raw", "marts", "dbt"):
        assert fs.find(f"{base}/quality/{DEMO_WEEK.label}/{stage}"), stage
    rendered = runs["root"] / "worker-d" / "rendered" / DEMO_WEEK.label
    shared = {
        p[len(f"{base}/rendered/{DEMO_WEEK.label}") + 1 :]
        for p in fs.find(f"{base}/rendered/{DEMO_WEEK.label}")
    }
    assert shared == {
        p.relative_to(rendered).as_posix() for p in rendered.rglob("*") if p.is_file()
    }
    leftovers = [p for p in fs.find(base) if "/." in p]
    assert leftovers == []


def test_a_later_extraction_elsewhere_continues_from_the_state_in_s3(runs):
    """Worker e had no landing zone and no watermarks: it read both from S3 and extracted
    only the window since the last run."""
    assert runs["again"]["mode"] == "incremental"
