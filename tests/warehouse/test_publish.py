"""Publishing the built warehouse: an atomic swap that open readers never see half-done."""

from __future__ import annotations

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
