"""The packets' trend chart: an SVG drawn from a template, byte-stable, accessible (title,
labelled axes, every value as text) and drawing each value where it belongs."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from salesprep.packets.charts import ACTIVITY_SERIES, MONEY_SERIES, trend_svg
from salesprep.packets.formatting import MoneyFormat

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = [f"2026-W{n:02d}" for n in range(1, 9)]
SERIES = {
    "calls": [10, 20, 30, 40, None, 20, 0, 5],
    "emails": [1, 2, 3, 4, 5, 6, 7, 8],
    "meetings": [None, None, 3, None, None, None, None, None],
    "pipeline_created": [0, 0, 12_500, 0, 45_000, 0, 0, 1_250.5],
    "closed_won_amount": [None] * 8,
}


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _panels(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{SVG}g")


def _texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def _gridlines(panel: ET.Element) -> dict[str, float]:
    """Each y axis label and the height of its gridline."""
    texts = [t for t in panel.findall(f"{SVG}text") if t.get("text-anchor") == "end"]
    return {t.text: float(t.get("y")) for t in texts if t.get("dx") == "-6"}


def _points(element: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in element.get("points").split()]


def test_same_input_same_bytes_in_another_process():
    svg = trend_svg(WEEKS, SERIES)
    assert trend_svg(WEEKS, dict(SERIES)) == svg
    code = (
        "import json, sys\n"
        "from salesprep.packets.charts import trend_svg\n"
        "weeks, series = json.loads(sys.argv[1])\n"
        "sys.stdout.write(trend_svg(weeks, series))\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps([WEEKS, SERIES])],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout == svg


def test_no_ids_dates_or_prologue():
    svg = trend_svg(WEEKS, SERIES)
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    assert " id=" not in svg and "<?xml" not in svg and "<metadata" not in svg
    assert "<script" not in svg and "href" not in svg
    # Every coordinate has at most one decimal: no float noise that could differ by platform.
    drawing = re.sub(r"<desc>.*</desc>", "", svg)
    assert not re.search(r"\d\.\d{2,}(?!em)", drawing)


def test_title_and_text_alternative_with_every_value():
    root = _parse(trend_svg(WEEKS, SERIES))
    assert root.get("role") == "img"
    children = list(root)
    assert children[0].tag == f"{SVG}title"
    assert children[0].text == "Weekly trend, 2026-W01 to 2026-W08: activity and amounts"
    assert children[1].tag == f"{SVG}desc"
    desc = children[1].text
    assert desc.startswith("8 weeks, 2026-W01 to 2026-W08, oldest first.")
    assert "Calls: 10, 20, 30, 40, no data, 20, 0, 5." in desc
    assert "Emails: 1, 2, 3, 4, 5, 6, 7, 8." in desc
    assert "Meetings: no data, no data, 3, no data, no data, no data, no data, no data." in desc
    assert "Pipeline created: $0, $0, $12,500, $0, $45,000, $0, $0, $1,250.50." in desc
    assert "Won amount: no data." in desc


def test_axes_are_labelled():
    root = _parse(trend_svg(WEEKS, SERIES, money=MoneyFormat("EUR", "de_DE")))
    activity, amounts = _panels(root)
    # Each panel's heading says what its y axis measures; the x axis shows the first and
    # last week; the y axis has its values.
    assert _texts(activity)[0] == "Activity per week (count)"
    assert _texts(amounts)[0] == "Amounts per week (EUR)"
    for panel in (activity, amounts):
        assert _texts(panel)[-2:] == ["2026-W01", "2026-W08"]
    assert list(_gridlines(activity)) == ["0", "10", "20", "30", "40"]
    # German has no short form for thousands: the full amount, grouped as Germans write it.
    assert list(_gridlines(amounts)) == ["0\xa0€", "20.000\xa0€", "40.000\xa0€", "60.000\xa0€"]
    root = _parse(trend_svg(WEEKS, {"pipeline_created": [1_900_000]}))
    assert list(_gridlines(_panels(root)[1])) == ["$0", "$500K", "$1M", "$1.5M", "$2M"]


def test_values_are_drawn_where_they_belong():
    root = _parse(trend_svg(WEEKS, SERIES))
    activity, amounts = _panels(root)
    grid = _gridlines(activity)
    zero, forty = grid["0"], grid["40"]
    calls_colour = dict(ACTIVITY_SERIES)["calls"]
    calls = [p for p in activity.findall(f"{SVG}polyline") if p.get("stroke") == calls_colour]
    # The missing fifth week splits the line in two.
    assert len(calls) == 2
    before, after = _points(calls[0]), _points(calls[1])
    assert len(before) == 4 and len(after) == 3
    for (_, y), value in zip(before + after, [10, 20, 30, 40, 20, 0, 5], strict=True):
        assert y == pytest.approx(zero + (forty - zero) * value / 40, abs=0.06)
    # Weeks are evenly spaced, oldest on the left, and the gap keeps its place.
    xs = [x for x, _ in before + after]
    steps = [b - a for a, b in itertools.pairwise(xs)]
    assert steps[3] == pytest.approx(2 * steps[0], abs=0.11)
    # A week with neighbours missing on both sides is a dot, not an invisible line.
    meetings_colour = dict(ACTIVITY_SERIES)["meetings"]
    dots = [c for c in activity.findall(f"{SVG}circle") if c.get("fill") == meetings_colour]
    assert len(dots) == 1
    assert float(dots[0].get("cx")) == pytest.approx(xs[2], abs=0.06)
    # The amounts panel draws pipeline on its own scale; a series without data draws nothing.
    money_grid = _gridlines(amounts)
    pipeline_colour, won_colour = (colour for _, colour in MONEY_SERIES)
    lines = amounts.findall(f"{SVG}polyline")
    [pipeline] = [p for p in lines if p.get("stroke") == pipeline_colour]
    top = max(_points(pipeline), key=lambda p: -p[1])
    assert top[1] == pytest.approx(
        money_grid["$0"] + (money_grid["$60K"] - money_grid["$0"]) * 45_000 / 60_000, abs=0.06
    )
    assert won_colour not in ET.tostring(amounts, encoding="unicode")


def test_negative_and_empty_series_and_no_weeks():
    root = _parse(trend_svg(WEEKS[:3], {"pipeline_created": [-5_000, 10_000, None]}))
    labels = list(_gridlines(_panels(root)[1]))
    assert labels[0] == "−$5K" and "$0" in labels and labels[-1] == "$10K"
    # Nothing at all: a flat axis from 0 to 1, no lines, and the text says so.
    root = _parse(trend_svg(WEEKS[:2], {}))
    assert not root.findall(f".//{SVG}polyline") and not root.findall(f".//{SVG}circle")
    assert "Calls: no data." in root.find(f"{SVG}desc").text
    with pytest.raises(ValueError, match="at least one week"):
        trend_svg([], SERIES)


def test_text_is_escaped():
    svg = trend_svg(["<W1>", "W&2"], {"calls": [1, 2]})
    root = _parse(svg)  # well-formed XML
    assert "&lt;W1&gt;" in svg and "W&amp;2" in svg
    assert _texts(_panels(root)[0])[-2:] == ["<W1>", "W&2"]
