"""Trend charts for packets: small inline SVGs drawn by matplotlib's SVG backend, byte-stable
(fixed hash salt, no date or version metadata) and cheap (one reused figure, cached by data)."""

from __future__ import annotations

import functools
import io
import math
import re
import threading
from collections.abc import Sequence
from typing import Any

# Fixed colours, shared with the HTML legend.
ACTIVITY_SERIES = (("calls", "#1f6feb"), ("emails", "#8250df"), ("meetings", "#1a7f37"))
MONEY_SERIES = (("pipeline_created", "#bf8700"), ("closed_won_amount", "#cf222e"))
# The team page's trend (rpt_manager_team_trend_weekly): the team's activity, and its open
# pipeline and stuck amount at each week's end.
TEAM_ACTIVITY_SERIES = ACTIVITY_SERIES
TEAM_MONEY_SERIES = (("open_pipeline", "#bf8700"), ("stuck_amount", "#cf222e"))

_RC = {
    "svg.hashsalt": "salesprep",
    "svg.fonttype": "none",
    "svg.id": "salesprep-trend",
    "path.simplify": False,
}
_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
_SIZE_ATTRS = re.compile(r'<svg([^>]*?) width="[^"]*" height="[^"]*"')
_METADATA_BLOCK = re.compile(r"\s*<metadata>.*?</metadata>", re.S)

_lock = threading.Lock()
_state: dict[str, Any] = {}


def trend_svg(weeks: Sequence[str], series: dict[str, Sequence[float | int | None]]) -> str:
    """An SVG with two panels over `weeks`: activity counts (calls, emails, meetings) and
    amounts (pipeline created, won). Missing weeks are gaps. Same input, same bytes."""
    return _panels_svg(weeks, series, ACTIVITY_SERIES, MONEY_SERIES)


def team_trend_svg(weeks: Sequence[str], series: dict[str, Sequence[float | int | None]]) -> str:
    """The team page's chart, two panels over `weeks` like a packet's: the team's activity
    counts (calls, emails, meetings) and amounts (open pipeline, stuck amount at week end).
    Missing weeks are gaps. Same input, same bytes."""
    return _panels_svg(weeks, series, TEAM_ACTIVITY_SERIES, TEAM_MONEY_SERIES)


def _panels_svg(
    weeks: Sequence[str],
    series: dict[str, Sequence[float | int | None]],
    left: tuple[tuple[str, str], ...],
    right: tuple[tuple[str, str], ...],
) -> str:
    key = (
        tuple(weeks),
        tuple((name, tuple(_num(v) for v in series.get(name, ()))) for name, _ in left),
        tuple((name, tuple(_num(v) for v in series.get(name, ()))) for name, _ in right),
    )
    return _cached_svg(key, (left, right))


def _num(value: float | int | None) -> float:
    if value is None:
        return math.nan
    number = float(value)
    return number if math.isfinite(number) else math.nan


@functools.lru_cache(maxsize=1024)
def _cached_svg(key: tuple[Any, ...], palettes: tuple[Any, ...]) -> str:
    weeks, activity, money = key
    n = len(weeks)
    with _lock:
        figure, axes, lines = _figure(n, palettes)
        for panel, data in ((0, activity), (1, money)):
            values = [v for _, series in data for v in series if not math.isnan(v)]
            top = max(values, default=0.0)
            axes[panel].set_ylim(0, top * 1.08 if top > 0 else 1.0)
            for (name, series), line in zip(data, lines[panel], strict=True):
                padded = list(series)[:n] + [math.nan] * (n - len(series))
                line.set_data(range(n), padded)
                line.set_label(name)
        for ax in axes:
            ax.set_xlim(-0.5, n - 0.5)
        import matplotlib as mpl

        buffer = io.StringIO()
        with mpl.rc_context(_RC):
            figure.savefig(buffer, format="svg", metadata=_METADATA)
    return _tidy(buffer.getvalue())


def _figure(n: int, palettes: tuple[Any, ...]) -> tuple[Any, Any, Any]:
    """The one reused figure: creating a figure costs ~5 ms, redrawing its lines under 1 ms."""
    if _state.get("n") == n and _state.get("palettes") == palettes:
        return _state["figure"], _state["axes"], _state["lines"]
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 1.6), dpi=72)
    axes = (figure.add_axes((0.01, 0.06, 0.48, 0.88)), figure.add_axes((0.51, 0.06, 0.48, 0.88)))
    lines = []
    for ax, palette in zip(axes, palettes, strict=True):
        ax.set_axis_off()
        ax.axhline(0, color="#d0d7de", linewidth=1)
        lines.append([ax.plot([], [], color=colour, linewidth=1.8)[0] for _, colour in palette])
    _state.update(n=n, palettes=palettes, figure=figure, axes=axes, lines=lines)
    return figure, axes, lines


def _tidy(svg: str) -> str:
    """Inline-ready: no XML prologue or metadata, and scales to its container's width."""
    svg = _PROLOGUE.sub("", svg, count=1)
    svg = _METADATA_BLOCK.sub("", svg, count=1)
    return _SIZE_ATTRS.sub(
        r'<svg\1 width="100%" preserveAspectRatio="xMidYMid meet"', svg, count=1
    ).strip()
