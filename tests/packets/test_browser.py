"""The published week in a real browser (the system's headless Chromium, driven by Playwright
through tests/browser.py): every packet, the indexes and the learnings digest load without
console errors and without horizontal overflow at phone (390px) and desktop (1280px) widths,
and print to A4 and Letter without anything cut off on the right. Skipped, with the reason,
where Chromium is absent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from salesprep.config import Settings
from salesprep.packets.context import week_money
from salesprep.packets.digest import build_digest
from salesprep.packets.layout import TEAMS_JSON
from salesprep.packets.marts import read_week_marts
from salesprep.packets.publish import publish_week
from salesprep.packets.render import render_digest
from salesprep.packets.team import team_pages

from .marts_fixture import R1, WEEK
from browser import (
    DESKTOP_WIDTH,
    PHONE_WIDTH,
    Browser,
    chromium_path,
    printable_width,
)

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="Chromium is not installed (/usr/bin/chromium): apt-get install -y chromium",
)

MEDIA_BOX = {"A4": (595.92, 841.92), "Letter": (612.0, 792.0)}


@pytest.fixture(scope="module")
def browser():
    with Browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def week_dir(tmp_path_factory, rendered, con) -> Path:
    """The fixture week published as the pipeline publishes it, digest and team pages
    included."""
    marts = read_week_marts(con, WEEK, 4)
    money = week_money(marts, Settings())
    html, markdown = render_digest(build_digest(marts), money)
    teams = team_pages(marts, Settings(), money).to_json()
    root = tmp_path_factory.mktemp("browser") / "shared"
    publish_week(
        rendered,
        str(root),
        WEEK,
        {"learnings.html": html, "learnings.md": markdown, TEAMS_JSON: teams},
    )
    return root / WEEK.label


def _pages(week_dir: Path) -> list[Path]:
    return sorted(week_dir.rglob("*.html"))


def test_the_week_has_every_kind_of_page(week_dir):
    names = {p.relative_to(week_dir).as_posix() for p in _pages(week_dir)}
    assert {"index.html", "learnings.html"} <= names
    assert sum(1 for n in names if n.count("/") == 1 and not n.endswith("index.html")) == 4
    # Each manager's index is their team page (the team in order, themes, trend chart).
    team_pages_ = [week_dir / n for n in names if n.endswith("/index.html")]
    assert len(team_pages_) == 2
    assert all('id="team"' in p.read_text(encoding="utf-8") for p in team_pages_)


@pytest.mark.parametrize("width", [PHONE_WIDTH, DESKTOP_WIDTH])
def test_pages_have_no_console_errors_and_no_horizontal_overflow(browser, week_dir, width):
    problems = []
    for page in _pages(week_dir):
        check = browser.check(page.as_uri(), width)
        assert check.height > 200, check.describe()  # it rendered something
        if not check.ok:
            problems.append(check.describe())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_pages_fit_the_printed_page(browser, week_dir, paper):
    """Print CSS at the printable width of the paper (inside the 12 mm margins): nothing is
    wider than the page, so nothing is cut off on paper."""
    problems = []
    for page in _pages(week_dir):
        check = browser.check(page.as_uri(), printable_width(paper), media="print")
        if not check.ok:
            problems.append(check.describe())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_packet_prints_to_pdf(browser, week_dir, tmp_path, paper):
    packet = next(
        p
        for p in _pages(week_dir)
        if p.with_suffix(".json").exists() and R1 in p.with_suffix(".json").read_text("utf-8")
    )
    data = browser.print_pdf(packet.as_uri(), tmp_path / "packet.pdf", paper)
    assert data.startswith(b"%PDF-")
    boxes = {
        tuple(round(float(v), 0) for v in box.split()[2:])
        for box in re.findall(rb"/MediaBox \[([^\]]*)\]", data)
        for box in [box.decode()]
    }
    assert boxes == {tuple(round(v, 0) for v in MEDIA_BOX[paper])}
    assert 1 < len(re.findall(rb"/Type\s*/Page\b", data)) < 20


def test_the_checker_catches_errors_and_overflow(browser, tmp_path):
    """A page with a script error, a console error, a missing image and a 900px-wide block:
    the checks above would fail on it."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, '
        'initial-scale=1"></head><body><div style="width:900px">wide</div>'
        '<img src="missing.png"><script>console.error("boom"); throw new Error("kaput")'
        "</script></body></html>",
        encoding="utf-8",
    )
    check = browser.check(bad.as_uri(), PHONE_WIDTH)
    assert check.overflows and check.scroll_width >= 900
    text = "\n".join(check.errors)
    assert "boom" in text and "kaput" in text and "missing.png" in text
    assert not check.ok
