"""Incremental weekly marts: weeks built one after another equal a full refresh row by row, a
weekly run rebuilds only its window, a reader in another process never sees a half-built week,
and the weekly snapshots keep past weeks when Salesforce's history has expired."""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from salesprep.config import Settings
from salesprep.warehouse import build_warehouse

from .demo_builds import (
    DEMO_WEEK,
    EMPTY_IN_DEMO,
    MART_KEYS,
    WEEKLY_MARTS,
    DemoBuild,
    Sequence,
    demo_full_build,
    demo_week_by_week,
    mart_rows,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> Sequence:
    """Built in demo_builds, with its reader and markers: the weekly-build tests read the same
    runs (tests/warehouse/test_weekly_builds.py)."""
    return demo_week_by_week(tmp_path_factory)


def _same(left: list[tuple], right: list[tuple]) -> bool:
    def equal(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        return a == b

    return len(left) == len(right) and all(
        len(x) == len(y) and all(equal(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(left, right, strict=True)
    )


def _mart(path: Path, mart: str) -> list[tuple]:
    return mart_rows(path, f"select * from main.{mart} order by {MART_KEYS[mart]}")


def test_each_weekly_run_rebuilds_only_its_window(sequence: Sequence) -> None:
    assert all(result.success for result in sequence.results)
    # Rows of a week before the window are left as they were; the window's weeks are rebuilt.
    assert sequence.marker_after_run["outside"] > 0
    assert sequence.marker_after_run["inside"] == 0


@pytest.mark.parametrize("mart", list(MART_KEYS))
def test_incremental_weeks_equal_a_full_refresh_and_a_fresh_build(
    sequence: Sequence, mart: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    incremental = _mart(sequence.incremental, mart)
    assert incremental or mart in EMPTY_IN_DEMO, mart
    assert _same(incremental, _mart(sequence.full_refresh, mart)), mart
    # A build in another data dir, without any earlier run's snapshots.
    fresh: DemoBuild = demo_full_build(tmp_path_factory)
    assert _same(incremental, _mart(fresh.published, mart)), mart


def test_weekly_marts_cover_every_week_after_the_sequence(sequence: Sequence) -> None:
    weeks = [
        w
        for (w,) in mart_rows(
            sequence.full_refresh, "select week from intermediate.int_weeks_enumerated"
        )
    ]
    for mart in ("fct_rep_activity_weekly", "rpt_pair_prep_weekly", "fct_rep_quota_weekly"):
        got = {w for (w,) in mart_rows(sequence.incremental, f"select distinct week from {mart}")}
        assert got == set(weeks), mart


def test_a_reader_in_another_process_never_sees_a_half_built_week(sequence: Sequence) -> None:
    reader = sequence.reader
    assert reader["errors"] == []
    assert reader["incomplete"] == []
    assert reader["reads"] >= 3
    # It read last week's publication, then this week's, and nothing in between.
    assert reader["last_weeks"] == [DEMO_WEEK.shift(-1).label, DEMO_WEEK.label]


def test_snapshots_keep_past_weeks_after_history_expires(
    sequence: Sequence, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Salesforce drops old history rows; a backfill of an old week after that gives the same
    states from the snapshots earlier runs kept, and keeps the weeks after it."""
    data_dir = tmp_path_factory.mktemp("expired-history")
    shutil.copytree(sequence.settings.data_dir, data_dir, dirs_exist_ok=True)
    settings = Settings(data_dir=data_dir)
    cutoff = datetime.combine(DEMO_WEEK.shift(-5).start_date, datetime.min.time(), UTC)
    dropped = 0
    for name in ("OpportunityHistory", "OpportunityFieldHistory"):
        path = settings.raw_root / name / f"{name}.parquet"
        table = pq.read_table(path)
        kept = table.filter(pc.greater_equal(table["CreatedDate"], cutoff))
        dropped += table.num_rows - kept.num_rows
        pq.write_table(kept, path)
    assert dropped > 100

    backfill = DEMO_WEEK.shift(-6)
    build_warehouse(settings, backfill)
    build = settings.build_warehouse_path

    (from_snapshots,) = mart_rows(
        build,
        "select count(*) from intermediate.int_opportunity_states_segmented"
        " where state_source = 'snapshot'",
    )[0]
    assert from_snapshots > 0  # the expired history is really replaced by snapshots
    states = (
        "select opportunity_id, week, rep_id, amount, close_date, stage_start, stage_end,"
        " movement, is_open_end, days_in_stage from fct_deal_movement_weekly"
        " order by opportunity_id, week"
    )
    assert _same(mart_rows(build, states), mart_rows(sequence.full_refresh, states))
    for mart in ("fct_pipeline_waterfall_weekly", "fct_opportunity_snapshots_weekly"):
        assert _same(_mart(build, mart), _mart(sequence.full_refresh, mart)), mart
    # The weeks after the backfilled one are still there, untouched.
    for mart in WEEKLY_MARTS:
        later = f"select * from {mart} where week > ? order by {MART_KEYS[mart]}"
        expected = mart_rows(sequence.full_refresh, later, [backfill.label])
        assert expected, mart
        assert _same(mart_rows(build, later, [backfill.label]), expected), mart
