"""The marts checkpoint on a built demo warehouse: it passes on good marts, blocks on the breakages
it names, and a blocked run publishes nothing but its quality report."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from warehouse.demo_builds import DEMO_WEEK, DemoBuild, demo_full_build

from salesprep import pipeline
from salesprep.config import Settings
from salesprep.quality.gx import QualityError, QualityGateError
from salesprep.quality.marts_checkpoint import validate_marts
from salesprep.quality.report import (
    publish_failed_quality_report,
    quality_root,
    write_quality_report,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    return demo_full_build(tmp_path_factory)


def _copy(demo: DemoBuild, tmp_path: Path, *statements: str) -> Path:
    """A copy of the demo warehouse with `statements` applied (the breakage under test)."""
    path = tmp_path / "broken.duckdb"
    shutil.copyfile(demo.published, path)
    with duckdb.connect(str(path)) as conn:
        for statement in statements:
            conn.execute(statement)
    return path


def _blocking(caught: pytest.ExceptionInfo[QualityGateError]) -> set[tuple[str, str | None]]:
    return {(o.dataset, o.column) for o in caught.value.result.blocking_failures}


def test_good_marts_pass_with_a_report_and_data_docs(demo: DemoBuild, tmp_path: Path) -> None:
    result = validate_marts(demo.published, tmp_path, settings=demo.settings, week=DEMO_WEEK)
    assert result.success, result.failure_message()
    # The demo org has a rep whose manager is inactive: listed (a warning), never silent.
    assert [f.dataset for f in result.failures] == ["users_without_packet"]
    assert sorted(u["reason"] for u in result.unpaired) == ["inactive_manager", "no_manager"]
    assert result.rows["pair_coverage"] >= 4
    assert result.data_docs_index.is_file()
    report = json.loads((tmp_path / "marts_checkpoint.json").read_text(encoding="utf-8"))
    assert report["stage"] == "marts"
    assert report["checks"] == len(result.outcomes) > 25


def test_a_pair_without_its_metric_rows_blocks(demo: DemoBuild, tmp_path: Path) -> None:
    (pair,) = demo.rows("select min(pair_id) from dim_sales_pairs")[0]
    broken = _copy(
        demo,
        tmp_path,
        f"delete from rpt_pair_metrics_weekly where pair_id = '{pair}'"
        f" and week = '{DEMO_WEEK.label}' and metric in ('calls', 'emails')",
    )
    with pytest.raises(QualityGateError) as caught:
        validate_marts(broken, tmp_path / "report", settings=demo.settings, week=DEMO_WEEK)
    assert ("pair_coverage", "metric_rows") in _blocking(caught)
    assert "every pair has its 8 metric rows this week" in str(caught.value)
    assert (tmp_path / "report" / "marts_checkpoint.json").is_file()


def test_negative_attainment_and_pairs_without_an_eligible_rep_block(
    demo: DemoBuild, tmp_path: Path
) -> None:
    first, last = demo.rows("select min(rep_id), max(rep_id) from dim_sales_pairs")[0]
    broken = _copy(
        demo,
        tmp_path,
        f"update fct_rep_quota_weekly set attainment = -0.25 where week = '{DEMO_WEEK.label}'"
        " and quota_amount is not null",
        f"delete from dim_reps where user_id = '{first}'",
        f"update dim_reps set is_pair_eligible = false where user_id = '{last}'",
    )
    with pytest.raises(QualityGateError) as caught:
        validate_marts(broken, tmp_path / "report", settings=demo.settings, week=DEMO_WEEK)
    failed = _blocking(caught)
    assert ("fct_rep_quota_weekly", "attainment") in failed
    assert ("pair_coverage", "rep_user_id") in failed
    assert ("pair_coverage", "rep_is_pair_eligible") in failed


def test_row_counts_against_earlier_weeks(demo: DemoBuild, tmp_path: Path) -> None:
    """Half the week's deal rows gone only warns; a per-pair mart losing rows blocks."""
    week = DEMO_WEEK.label
    deals_halved = _copy(
        demo,
        tmp_path,
        f"delete from fct_deal_movement_weekly where week = '{week}'"
        " and hash(opportunity_id) % 4 <> 0",
    )
    result = validate_marts(
        deals_halved, tmp_path / "warned", settings=demo.settings, week=DEMO_WEEK
    )
    assert result.success
    warned = [(w.dataset, w.column) for w in result.warnings if w.dataset != "users_without_packet"]
    assert warned == [("weekly_deal_row_counts", "ratio")]

    (tmp_path / "second").mkdir()
    prep_dropped = _copy(
        demo, tmp_path / "second", f"delete from rpt_pair_prep_weekly where week = '{week}'"
    )
    with pytest.raises(QualityGateError) as caught:
        validate_marts(prep_dropped, tmp_path / "blocked", settings=demo.settings, week=DEMO_WEEK)
    failed = _blocking(caught)
    assert ("weekly_row_counts", "ratio") in failed
    assert ("pair_coverage", "prep_rows") in failed


def test_a_warehouse_without_the_marts_is_named(demo: DemoBuild, tmp_path: Path) -> None:
    broken = _copy(demo, tmp_path, "drop table rpt_pair_prep_weekly")
    with pytest.raises(QualityError, match=r"lacks the mart\(s\) rpt_pair_prep_weekly"):
        validate_marts(broken, tmp_path / "report", settings=demo.settings, week=DEMO_WEEK)
    with pytest.raises(QualityError, match="no built warehouse"):
        validate_marts(tmp_path / "absent.duckdb", tmp_path, settings=demo.settings, week=DEMO_WEEK)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_blocked_run_publishes_nothing_but_its_quality_report(
    demo: DemoBuild, tmp_path: Path
) -> None:
    """The pipeline's steps from the marts check on: the check fails, so neither the warehouse
    nor the packets move, and the report of why lands in <shared>/_quality/<week>/."""
    shutil.copytree(demo.settings.data_dir, tmp_path / "data")
    settings = Settings(data_dir=tmp_path / "data", shared_folder=str(tmp_path / "shared"))
    published_before = _digest(settings.published_warehouse_path)
    with duckdb.connect(str(settings.build_warehouse_path)) as conn:
        conn.execute(f"delete from rpt_pair_prep_weekly where week = '{DEMO_WEEK.label}'")

    names = [step.name for step in pipeline.STEPS]
    assert names.index("build_marts") < names.index("check_marts") < names.index("publish")
    with pytest.raises(QualityGateError) as caught:
        for step in pipeline.STEPS[names.index("check_marts") :]:
            step.run(DEMO_WEEK, settings)

    assert _digest(settings.published_warehouse_path) == published_before
    assert not (tmp_path / "shared" / DEMO_WEEK.label).exists()
    url = publish_failed_quality_report(
        DEMO_WEEK, settings, caught.value, failed_step="check_marts"
    )
    index = tmp_path / "shared" / "_quality" / DEMO_WEEK.label / "index.html"
    assert url == str(index)
    page = index.read_text(encoding="utf-8")
    assert "nothing was published" in page
    assert "every pair has its rpt_pair_prep_weekly row this week" in page
    assert "Failed step: check_marts." in page
    assert (index.parent / "marts" / "data_docs" / "index.html").is_file()
    assert (index.parent / "dbt_build.json").is_file()


def test_a_passing_week_stages_its_checks_and_dbt_docs_with_the_packets(
    demo: DemoBuild, tmp_path: Path
) -> None:
    """check_marts writes the marts Data Docs and the dbt stage (results, freshness, dbt docs);
    the render step's staging puts them in the rendered week's extra/quality/."""
    from salesprep.quality.data_docs import stage_quality_docs

    shutil.copytree(demo.settings.data_dir, tmp_path / "data")
    settings = Settings(data_dir=tmp_path / "data")
    summary = pipeline.check_marts(DEMO_WEEK, settings)
    assert summary["success"] is True

    extra = pipeline.rendered_dir(settings, DEMO_WEEK) / "extra"
    staged = stage_quality_docs(quality_root(settings, DEMO_WEEK), extra, DEMO_WEEK.label)
    for path in ("quality/index.html", "quality/marts/index.html", "quality/dbt/index.html"):
        assert path in staged
    assert "quality/dbt/docs/index.html" in staged
    build_page = (extra / "quality" / "dbt" / "index.html").read_text(encoding="utf-8")
    assert 'href="docs/index.html"' in build_page
    assert "source.salesprep.salesforce.Opportunity" in build_page  # freshness, against the week
    assert "days before the run week ends" in build_page
    docs = (extra / "quality" / "dbt" / "docs" / "index.html").read_text(encoding="utf-8")
    assert "rpt_pair_prep_weekly" in docs
    # Stamped with the week, not the wall clock: a re-run publishes the same bytes.
    assert f'"generated_at": "{DEMO_WEEK.end_date.isoformat()}T00:00:00Z"' in docs
    index = (extra / "quality" / "index.html").read_text(encoding="utf-8")
    assert "dbt checkpoint" in index
    # The whole report (what a failed run publishes) links every part, and can be rewritten.
    out = tmp_path / "report"
    for _ in range(2):
        page = write_quality_report(DEMO_WEEK, settings, out).read_text(encoding="utf-8")
    assert "Every blocking check passed" in page
    for link in (
        "marts/data_docs/index.html",
        "dbt/data_docs/docs/index.html",
        "dbt_build.json",
    ):
        assert f'href="{link}"' in page
        assert (out / link).is_file()


def _write_manifest(shared: Path, week, pairs) -> None:
    folder = shared / week.label
    folder.mkdir(parents=True)
    packets = [
        {"manager_id": m, "rep_id": r, "manager_name": f"M {m}", "rep_name": f"R {r}"}
        for m, r in pairs
    ]
    (folder / "manifest.json").write_text(json.dumps({"packets": packets}), encoding="utf-8")


def test_users_dropped_by_a_broken_reporting_line_are_listed_by_name_and_reason(
    demo: DemoBuild, tmp_path: Path
) -> None:
    """A manager cycle and an unknown ManagerId drop reps without any error: the checkpoint
    names each of them, with the reason, in its report and its run log warning."""
    (rep, other) = demo.rows("select max(rep_id), min(rep_id) from dim_sales_pairs")[0]
    # What dbt builds for such users: ineligible in dim_reps, so no pair.
    broken = _copy(
        demo,
        tmp_path,
        f"update dim_reps set is_pair_eligible = false, ineligible_reason = 'manager_cycle'"
        f" where user_id = '{rep}'",
        "update dim_reps set is_pair_eligible = false, ineligible_reason = 'no_manager',"
        " manager_id = '005000000000NOPE', manager_is_active = null, manager_name = null"
        f" where user_id = '{other}'",
        f"delete from dim_sales_pairs where rep_id in ('{rep}', '{other}')",
    )
    result = validate_marts(broken, tmp_path / "report", settings=demo.settings, week=DEMO_WEEK)
    reasons = {u["user_id"]: u["reason"] for u in result.unpaired}
    assert reasons[rep] == "manager_cycle"
    assert "unknown_manager" in reasons.values() and "inactive_manager" in reasons.values()
    why = {u["user_id"]: u["why"] for u in result.unpaired}
    assert "005000000000NOPE" in " ".join(why.values())
    listed = json.loads((tmp_path / "report" / "unpaired_users.json").read_text("utf-8"))
    assert {u["user_id"] for u in listed} == set(reasons)
    (warning,) = [o for o in result.warnings if o.dataset == "users_without_packet"]
    assert warning.unexpected_count == len(reasons)


@pytest.mark.parametrize("vanished, blocks", [(1, False), (3, True)])
def test_more_than_a_fifth_of_last_weeks_pairs_vanishing_blocks_the_run(
    demo: DemoBuild, tmp_path: Path, vanished: int, blocks: bool
) -> None:
    pairs = demo.rows("select manager_id, rep_id from dim_sales_pairs order by pair_id")
    # Last week published these pairs and `vanished` more that are gone this week.
    gone = [("005000000000MGR", f"005000000000R{i:02d}") for i in range(vanished)]
    shared = tmp_path / "shared"
    _write_manifest(shared, DEMO_WEEK.shift(-1), [*pairs, *gone])
    settings = demo.settings.model_copy(update={"shared_folder": str(shared)})
    share = vanished / (len(pairs) + vanished)
    assert (share > 0.2) is blocks
    if not blocks:
        validate_marts(demo.published, tmp_path / "ok", settings=settings, week=DEMO_WEEK)
        return
    with pytest.raises(QualityGateError) as caught:
        validate_marts(demo.published, tmp_path / "blocked", settings=settings, week=DEMO_WEEK)
    assert ("last_week_pairs", "vanished_pair") in _blocking(caught)
    assert "SALESPREP_GUARDS__ACCEPT_VANISHED_PAIRS=true" in str(caught.value)
    # Config accepts a reorganisation: the same week passes, the check stays as a warning.
    accepted = settings.model_copy(
        update={"guards": settings.guards.model_copy(update={"accept_vanished_pairs": True})}
    )
    result = validate_marts(
        demo.published, tmp_path / "accepted", settings=accepted, week=DEMO_WEEK
    )
    assert "last_week_pairs" in {o.dataset for o in result.warnings}
