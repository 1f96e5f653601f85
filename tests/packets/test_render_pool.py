"""Rendering a week's packets in a pool of processes: the same bytes in the same order as in
one process, progress still reported, and a failing packet named by its pair."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from salesprep import progress
from salesprep.config import Settings
from salesprep.packets.layout import PACKET_FORMS
from salesprep.packets.render import (
    POOL_MIN_PAIRS,
    RenderError,
    render_packet,
    render_packets,
    render_workers,
)
from salesprep.progress.task import Reporter, Task


class Watched(Reporter):
    """Every change of every task, as the progress display sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.changes: dict[str, list[int]] = {}
        self.ends: dict[str, tuple[int, int | None, bool]] = {}

    def started(self, task: Task) -> None:
        self.changes[task.description] = []

    def changed(self, task: Task) -> None:
        self.changes[task.description].append(task.completed)

    def ended(self, task: Task) -> None:
        self.ends[task.description] = (task.completed, task.total, task.failed)


@pytest.fixture(scope="module")
def many(contexts):
    """Enough pairs for a pool: the fixture's pairs over and over, each a distinct pair id."""
    out = []
    for n in range(POOL_MIN_PAIRS + 9):
        ctx = contexts[n % len(contexts)]
        out.append(dataclasses.replace(ctx, pair_id=f"{ctx.pair_id}-{n:03d}"))
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_pool_writes_the_same_bytes_in_the_same_order(many, tmp_path):
    alone, pooled = tmp_path / "alone", tmp_path / "pooled"
    alone.mkdir()
    pooled.mkdir()
    assert render_packets(many, alone, workers=1, description="alone") == len(many)
    watched = Watched()
    with progress.reporting(watched):
        assert render_packets(many, pooled, workers=2, description="pooled") == len(many)
    files = _files(alone)
    assert len(files) == len(PACKET_FORMS) * len(many)
    assert _files(pooled) == files
    # Numbered in the order of the contexts, whichever worker rendered them.
    for number, ctx in enumerate(many, start=1):
        data = json.loads(files[f"{number:05d}.json"])
        assert data["pair_id"] == ctx.pair_id
        assert files[f"{number:05d}.html"].decode() == render_packet(ctx).html
    # Progress moved in steps, up to every packet, and ended well.
    assert watched.ends["pooled"] == (len(many), len(many), False)
    steps = watched.changes["pooled"]
    assert len(steps) > 1 and steps == sorted(steps) and steps[-1] == len(many)


def test_a_failing_packet_in_a_worker_names_its_pair(many, tmp_path):
    broken = list(many)
    # A context without weeks cannot draw its trend chart.
    broken[POOL_MIN_PAIRS] = dataclasses.replace(many[POOL_MIN_PAIRS], trend_weeks=[])
    watched = Watched()
    with progress.reporting(watched), pytest.raises(RenderError) as caught:
        render_packets(broken, tmp_path, workers=2, description="broken")
    message = str(caught.value)
    assert f"pair {broken[POOL_MIN_PAIRS].pair_id} " in message
    assert f"rep {broken[POOL_MIN_PAIRS].rep.id}" in message
    assert "ValueError: a trend chart needs at least one week" in message
    assert watched.ends["broken"][2] is True  # the progress task says it failed
    # In one process, the same error.
    with pytest.raises(RenderError, match=f"pair {broken[POOL_MIN_PAIRS].pair_id} "):
        render_packets(broken, tmp_path, workers=1, description="broken alone")


def test_pool_size_from_config_and_cpus(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert render_workers(settings, POOL_MIN_PAIRS - 1) == 1  # few pairs: in this process
    assert render_workers(settings.model_copy(update={"render_workers": 3}), 500) == 3
    assert render_workers(settings.model_copy(update={"render_workers": 1}), 500) == 1
    assert render_workers(settings.model_copy(update={"render_workers": 8}), 40) == 8
    assert 1 <= render_workers(settings, 500) <= 500
    with pytest.raises(ValueError, match="render_workers"):
        Settings(data_dir=tmp_path, render_workers=0)


def test_render_week_through_the_pool_writes_what_one_process_writes(
    settings, warehouse, tmp_path, monkeypatch, caplog
):
    from salesprep.packets import render

    from .marts_fixture import WEEK

    one = settings.model_copy(update={"render_workers": 1})
    alone = render.render_week(WEEK, one, tmp_path / "alone", warehouse=warehouse)
    # The fixture's week has a handful of pairs: let it use the pool anyway.
    monkeypatch.setattr(render, "POOL_MIN_PAIRS", 1)
    pooled_settings = settings.model_copy(update={"render_workers": 2})
    assert render.render_workers(pooled_settings, alone.packets) == 2
    with caplog.at_level("INFO", logger=render.__name__):
        pooled = render.render_week(WEEK, pooled_settings, tmp_path / "pooled", warehouse=warehouse)
    assert "packets (2 processes)" in caplog.text
    assert pooled.summary() | {"rendered_dir": ""} == alone.summary() | {"rendered_dir": ""}
    for part in ("packets", "extra"):
        first, second = tmp_path / "alone" / part, tmp_path / "pooled" / part
        assert sorted(p.relative_to(first) for p in first.rglob("*")) == sorted(
            p.relative_to(second) for p in second.rglob("*")
        )
        for path in first.rglob("*"):
            if path.is_file():
                assert path.read_bytes() == (second / path.relative_to(first)).read_bytes()
