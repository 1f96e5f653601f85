"""Trend charts for packets: small inline SVGs drawn from a Jinja template (`_trend.svg.j2`).

This module computes the geometry (scales, ticks, point coordinates) and the words (title, axis
labels, the values as text); the template only lays them out. Byte-stable: every number is
written by `_coord`/the formatting filters, nothing depends on time, randomness or the machine,
and the SVG has no ids (two charts on one page cannot clash). Accessible: `role="img"`, a
`<title>`, a `<desc>` that lists every value, and labelled axes (each panel's heading names
what its y axis counts, the x axis shows the first and last week)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from salesprep.packets.formatting import MoneyFormat, format_number
from salesprep.packets.model import METRIC_LABELS

# Fixed colours, shared with the HTML legend.
ACTIVITY_SERIES = (("calls", "#1f6feb"), ("emails", "#8250df"), ("meetings", "#1a7f37"))
MONEY_SERIES = (("pipeline_created", "#bf8700"), ("closed_won_amount", "#cf222e"))
# The team page's trend (rpt_manager_team_trend_weekly): the team's activity, and its open
# pipeline and stuck amount at each week's end.
TEAM_ACTIVITY_SERIES = ACTIVITY_SERIES
TEAM_MONEY_SERIES = (("open_pipeline", "#bf8700"), ("stuck_amount", "#cf222e"))

# The drawing, in SVG user units (the chart scales to its container's width).
WIDTH = 640
HEIGHT = 184
PANEL_GAP = 24
_PANEL_WIDTH = (WIDTH - PANEL_GAP) / 2
_PLOT_LEFT = 52  # room for the y axis labels, from the panel's left edge
_PLOT_RIGHT = 6
_PLOT_TOP = 34
_PLOT_BOTTOM = 156  # the x axis labels sit below
_MAX_TICKS = 4  # gridlines above (or below) zero, at most


@dataclass(frozen=True)
class Tick:
    """A y axis gridline and its label."""

    y: str
    label: str
    zero: bool


@dataclass(frozen=True)
class Line:
    """One series: its contiguous runs of weeks as polylines, lone weeks as dots."""

    name: str
    colour: str
    segments: list[str] = field(default_factory=list)
    dots: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Panel:
    """One panel of a chart: a heading (the y axis label), gridlines and lines."""

    left: str
    plot_left: str
    plot_right: str
    heading: str
    ticks: list[Tick]
    lines: list[Line]
    first_week: str
    last_week: str


def trend_svg(
    weeks: Sequence[str],
    series: dict[str, Sequence[float | int | None]],
    *,
    money: MoneyFormat | None = None,
) -> str:
    """A packet's chart, two panels over `weeks`: activity counts (calls, emails, meetings) and
    amounts (pipeline created, won) in `money`'s currency (default USD). Missing weeks are gaps.
    Same input, same bytes."""
    return _panels_svg(
        weeks, series, money, ACTIVITY_SERIES, MONEY_SERIES, "Weekly trend", "Amounts per week"
    )


def team_trend_svg(
    weeks: Sequence[str],
    series: dict[str, Sequence[float | int | None]],
    *,
    money: MoneyFormat | None = None,
) -> str:
    """The team page's chart, two panels over `weeks` like a packet's: the team's activity
    counts (calls, emails, meetings) and its open pipeline and stuck amount at each week's end.
    Missing weeks are gaps. Same input, same bytes."""
    return _panels_svg(
        weeks,
        series,
        money,
        TEAM_ACTIVITY_SERIES,
        TEAM_MONEY_SERIES,
        "Team trend",
        "Amounts at week end",
    )


def _panels_svg(
    weeks: Sequence[str],
    series: dict[str, Sequence[float | int | None]],
    money: MoneyFormat | None,
    counts: tuple[tuple[str, str], ...],
    amounts: tuple[tuple[str, str], ...],
    title: str,
    amounts_heading: str,
) -> str:
    money = money or MoneyFormat()
    weeks = list(weeks)
    if not weeks:
        raise ValueError("a trend chart needs at least one week")
    palettes = counts + amounts
    values = {name: _values(series.get(name, ()), len(weeks)) for name, _ in palettes}
    panels = [
        _panel(0, "Activity per week (count)", weeks, counts, values, _count_label),
        _panel(
            1,
            f"{amounts_heading} ({money.currency})",
            weeks,
            amounts,
            values,
            functools.partial(_money_label, money.currency, money.locale),
        ),
    ]
    title = f"{title}, {weeks[0]} to {weeks[-1]}: activity and amounts"
    desc = _description(weeks, values, money, counts, amounts)
    return (
        chart_template()
        .render(width=WIDTH, height=HEIGHT, title=title, desc=desc, panels=panels)
        .strip()
    )


@functools.lru_cache(maxsize=1)
def chart_template() -> Template:
    """The trend chart's template, from the charts' own Jinja environment (render's imports
    this module): SVG autoescaped, undefined names are errors."""
    env = Environment(
        loader=PackageLoader("salesprep.packets", "templates"),
        autoescape=select_autoescape(enabled_extensions=("svg", "svg.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return env.get_template("_trend.svg.j2")


def _values(raw: Sequence[float | int | None], n: int) -> list[float | None]:
    """`n` numbers, missing and non-finite ones as None (a gap), cut or padded to the weeks."""
    out: list[float | None] = []
    for value in list(raw)[:n]:
        number = None if value is None else float(value)
        out.append(number if number is not None and math.isfinite(number) else None)
    return out + [None] * (n - len(out))


def _panel(
    index: int,
    heading: str,
    weeks: list[str],
    palette: tuple[tuple[str, str], ...],
    values: dict[str, list[float | None]],
    label: Callable[[float], str],
) -> Panel:
    left = index * (_PANEL_WIDTH + PANEL_GAP)
    x0, x1 = left + _PLOT_LEFT, left + _PANEL_WIDTH - _PLOT_RIGHT
    present = [v for name, _ in palette for v in values[name] if v is not None]
    low, high, step = _scale(min(present, default=0.0), max(present, default=0.0))

    def y(value: float) -> float:
        return _PLOT_BOTTOM - (value - low) / (high - low) * (_PLOT_BOTTOM - _PLOT_TOP)

    n = len(weeks)
    band = (x1 - x0) / n

    def x(i: int) -> float:
        return x0 + (i + 0.5) * band

    ticks = []
    for k in range(round((high - low) / step) + 1):
        value = low + k * step
        ticks.append(Tick(y=_coord(y(value)), label=label(value), zero=value == 0))
    lines = []
    for name, colour in palette:
        line = Line(name=name, colour=colour)
        for run in _runs(values[name]):
            points = [(x(i), y(values[name][i])) for i in run]  # type: ignore[arg-type]
            if len(points) == 1:
                line.dots.append((_coord(points[0][0]), _coord(points[0][1])))
            else:
                line.segments.append(" ".join(f"{_coord(px)},{_coord(py)}" for px, py in points))
        lines.append(line)
    return Panel(
        left=_coord(left),
        plot_left=_coord(x0),
        plot_right=_coord(x1),
        heading=heading,
        ticks=ticks,
        lines=lines,
        first_week=weeks[0],
        last_week=weeks[-1],
    )


def _runs(values: list[float | None]) -> list[list[int]]:
    """The indexes of each run of consecutive present values."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs


def _scale(low: float, high: float) -> tuple[float, float, float]:
    """The y range (always including zero) and its gridline step: a round step (1, 2, 2.5 or
    5 times a power of ten) giving at most `_MAX_TICKS` gridlines besides zero."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        return 0.0, 1.0, 1.0
    raw = (high - low) / _MAX_TICKS
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _coord(value: float) -> str:
    """A coordinate with at most one decimal, without a trailing `.0` or a `-0`."""
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return "0" if text == "-0" else text


def _count_label(value: float) -> str:
    return format_number(value)


@functools.lru_cache(maxsize=4096)
def _money_label(currency: str, locale: str, value: float) -> str:
    """An axis label in the locale's compact form (`$50K`, `1,2 Mio. €`), or the full amount
    where the locale has no short form for it (German thousands: `20.000 €`, not `20000 €`)."""
    from babel.numbers import format_compact_currency

    money = MoneyFormat(currency, locale)
    try:
        compact = format_compact_currency(value, currency, locale=locale, fraction_digits=1)
    except (ValueError, KeyError):  # a locale Babel cannot write compactly
        return money(value)
    digits = "".join(ch for ch in compact if ch.isdigit())
    if digits == str(abs(round(value))):
        return money(value)
    return compact.replace("-", "−")


def _description(
    weeks: list[str],
    values: dict[str, list[float | None]],
    money: MoneyFormat,
    counts: tuple[tuple[str, str], ...],
    amounts: tuple[tuple[str, str], ...],
) -> str:
    """The chart as text: every series' value in every week, oldest first."""
    parts = [f"{len(weeks)} weeks, {weeks[0]} to {weeks[-1]}, oldest first."]
    for palette, write in ((counts, format_number), (amounts, money)):
        for name, _ in palette:
            label = METRIC_LABELS.get(name, name.replace("_", " ").capitalize())
            if all(v is None for v in values[name]):
                parts.append(f"{label}: no data.")
            else:
                texts = ("no data" if v is None else write(v) for v in values[name])
                parts.append(f"{label}: {', '.join(texts)}.")
    return " ".join(parts)
