"""Publishing the built warehouse: an atomic swap that open readers never see half-done."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from salesprep.warehouse import WarehousePublishError, publish_warehouse


def _write_build(path: Path, week: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as conn:
        conn.execute("create or replace table marts_week as select ? as week", [week])
    return path


def _week(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute("select week from marts_week").fetchone()[0]


def test_publish_swaps_in_the_new_week_while_an_open_reader_keeps_the_old(tmp_path: Path) -> None:
    build = tmp_path / "warehouse" / "build.duckdb"
    published = tmp_path / "bi" / "salesprep.duckdb"
    _write_build(build, "2026-W09")
    assert publish_warehouse(build, published) == published

    reader = duckdb.connect(str(published), read_only=True)
    try:
        _write_build(build, "2026-W10")
        publish_warehouse(build, published)
        # The reader holds the old file: it still sees a whole week, the old one.
        assert reader.execute("select week from marts_week").fetchone()[0] == "2026-W09"
    finally:
        reader.close()
    assert _week(published) == "2026-W10"
    assert _week(build) == "2026-W10"  # the build copy stays for the next incremental run
    assert sorted(p.name for p in published.parent.iterdir()) == ["salesprep.duckdb"]


def test_publish_without_a_build_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WarehousePublishError, match=r"no built warehouse at .*build\.duckdb"):
        publish_warehouse(tmp_path / "build.duckdb", tmp_path / "salesprep.duckdb")


def test_publish_refuses_an_empty_build_and_keeps_the_published_file(tmp_path: Path) -> None:
    published = publish_warehouse(
        _write_build(tmp_path / "build.duckdb", "2026-W09"), tmp_path / "salesprep.duckdb"
    )
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(WarehousePublishError, match="has no tables"):
        publish_warehouse(empty, published)
    assert _week(published) == "2026-W09"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "build.duckdb",
        "empty.duckdb",
        "salesprep.duckdb",
    ]


def test_publish_refuses_to_publish_the_build_file_onto_itself(tmp_path: Path) -> None:
    build = _write_build(tmp_path / "build.duckdb", "2026-W09")
    with pytest.raises(WarehousePublishError, match="same file"):
        publish_warehouse(build, build)


def test_a_failed_swap_later_in_the_unit_rolls_the_warehouse_back(tmp_path: Path) -> None:
    """The warehouse and the week's packets are swapped in as one unit: when the packets'
    swap fails (here its staged folder vanished), the published warehouse is the old one
    again, and nothing staged is left beside either."""
    from salesprep.runs.atomic_swap import AtomicSwapError, Swap, commit_together
    from salesprep.warehouse import stage_warehouse

    build = _write_build(tmp_path / "warehouse" / "build.duckdb", "2026-W09")
    published = publish_warehouse(build, tmp_path / "bi" / "salesprep.duckdb")
    _write_build(build, "2026-W10")
    (tmp_path / "shared" / "2026-W09").mkdir(parents=True)
    warehouse = stage_warehouse(build, published)
    packets = Swap(tmp_path / "shared" / "2026-W10")
    packets.staging.rmdir()  # the shared folder lost the staged week
    with pytest.raises(AtomicSwapError, match="2026-W10"):
        commit_together([warehouse, packets])
    assert _week(published) == "2026-W09"
    assert sorted(p.name for p in published.parent.iterdir()) == ["salesprep.duckdb"]
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == ["2026-W09"]


def test_a_swap_cut_between_its_two_renames_is_put_back_by_the_next_sweep(tmp_path: Path) -> None:
    """A run killed after setting the old version aside and before moving the new one in:
    the next run's sweep puts the old version back and drops the half-built new one."""
    from salesprep.runs.atomic_swap import Swap, sweep

    target = tmp_path / "2026-W09"
    (target / "mgr").mkdir(parents=True)
    (target / "manifest.json").write_text("old")
    swap = Swap(target)
    (swap.staging / "manifest.json").write_text("new, half written")
    aside = target.with_name(f".{target.name}.old-{swap.staging.name.split('staging-')[1]}")
    target.rename(aside)  # the first rename of the swap, then the process dies
    # A leftover of this process counts as live; one of a dead process is swept.
    dead = aside.with_name(aside.name.replace(f"-{os.getpid()}-", "-999999999-"))
    aside.rename(dead)
    staging = swap.staging.with_name(swap.staging.name.replace(f"-{os.getpid()}-", "-999999999-"))
    swap.staging.rename(staging)
    sweep(tmp_path)
    assert (target / "manifest.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-W09"]
