"""Rendering: every part of the guide visible, CRM text made inert in HTML and Markdown,
self-contained printable HTML, byte-stable output (golden files) and rendering speed."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import StrictUndefined, UndefinedError

from salesprep.packets.render import (
    RenderedPacket,
    environment,
    render_packet,
)

from .marts_fixture import HOSTILE, R1, R2, R3, R4

GOLDEN = Path(__file__).parent / "golden"
RTL = "שלום"
EMOJI = "🚀"


@pytest.fixture(scope="module")
def by_rep_rendered(contexts, rendered) -> dict[str, RenderedPacket]:
    return {ctx.rep.id: packet for ctx, packet in zip(contexts, rendered, strict=True)}


def _text(html: str) -> str:
    """Visible text of an HTML page (tags dropped, entities decoded)."""

    class _Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag, attrs):
            if tag in ("style", "svg"):
                self.skip += 1

        def handle_endtag(self, tag):
            if tag in ("style", "svg"):
                self.skip -= 1

        def handle_data(self, data):
            if not self.skip:
                self.parts.append(data)

    parser = _Collect()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts))


GUIDE_PARTS = [
    "Cadence",
    "Weekly, pre-set",
    "Manager prep",
    "Review activity and account",
    "Reflect on prior lessons learned",
    "Track key initiatives",
    "Rep prep",
    "Key metrics",
    "Deal movement",
    "Stuck deals",
    "The why behind the numbers",
    "Growth flywheel",
    "Key initiatives",
    "Prior lessons learned",
    "Suggested length",
    "no less than 30 and generally no longer than 60 minutes",
    "assumes quality performance and effort",
]


@pytest.mark.parametrize("form", ["html", "markdown"])
def test_every_part_of_the_guide_is_visible(by_rep_rendered, form):
    packet = by_rep_rendered[R1]
    text = _text(packet.html) if form == "html" else packet.markdown
    for part in GUIDE_PARTS:
        assert part in text, part
    # The three Cs, in the guide's order.
    positions = [
        text.index(f"{n}. {c}") for n, c in ((1, "Context"), (2, "Communication"), (3, "Coaching"))
    ]
    assert positions == sorted(positions)
    assert "take to the head of services" in text


@pytest.mark.parametrize("form", ["html", "markdown"])
def test_underperformance_uses_a_different_agenda_and_says_why(by_rep_rendered, form):
    flagged = by_rep_rendered[R2]
    text = _text(flagged.html) if form == "html" else flagged.markdown
    assert "Agenda: performance conversation" in text
    assert "Why this agenda is different" in text
    assert "below 0.70× in 3 of the last 4 weeks" in text
    steady = by_rep_rendered[R1]
    steady_text = _text(steady.html) if form == "html" else steady.markdown
    assert "Agenda: context, communication, coaching" in steady_text
    assert "Why this agenda is different" not in steady_text


@pytest.mark.parametrize("form", ["html", "markdown"])
def test_no_quota_says_so_and_never_shows_zero_percent(by_rep_rendered, form):
    packet = by_rep_rendered[R3]
    text = _text(packet.html) if form == "html" else packet.markdown
    assert "No quota set for this quarter" in text
    quota_part = text.split("Quota")[1].split("Deal movement")[0]
    assert "0%" not in quota_part and "Attainment" not in quota_part


def test_hostile_crm_text_is_escaped_in_html(by_rep_rendered):
    html = by_rep_rendered[R2].html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html
    assert RTL in html and EMOJI in html
    assert "<bdi>&lt;script&gt;" in html  # RTL-safe isolation around CRM text
    assert HOSTILE in _text(html)  # readers see the text as it was typed


def _table_rows(markdown: str) -> list[list[str]]:
    """Markdown tables as lists of rows, split on unescaped pipes."""
    tables, current = [], []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_hostile_crm_text_is_inert_in_markdown(by_rep_rendered):
    md = by_rep_rendered[R2].markdown
    assert not re.search(r"(?<!\\)<", md), "an unescaped < could open raw HTML"
    assert r"\<script\>" in md
    assert r"\[link\](x)" in md and r"\*bold\*" in md and r"\`code\`" in md
    assert RTL in md and EMOJI in md
    # A newline in CRM text must not break a table; every row keeps the header's cell count.
    for table in _table_rows(md):
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(widths) == 1, table
    assert "line one line \\| two" in md


def test_html_is_self_contained_and_printable(by_rep_rendered):
    html = by_rep_rendered[R1].html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert "@page" in html and "@media print" in html
    assert 'name="viewport"' in html
    assert html.count("<svg") == 1  # the trend chart, inline
    assert "<?xml" not in html and "<metadata>" not in html and "dc:date" not in html


def test_rendering_is_byte_stable(contexts, rendered):
    again = [render_packet(ctx) for ctx in contexts]
    assert [r.html for r in again] == [r.html for r in rendered]
    assert [r.markdown for r in again] == [r.markdown for r in rendered]
    assert [r.json for r in again] == [r.json for r in rendered]


def test_rendered_packet_knows_its_pair(by_rep_rendered):
    packet = by_rep_rendered[R4]
    assert packet.rep_id == R4 and packet.week == "2026-W10"
    assert packet.manager_name == "Ølaf Ñúñez"


def test_environment_is_strict_and_autoescapes_only_html():
    env = environment()
    assert env.undefined is StrictUndefined
    assert env.autoescape("packet.html.j2") is True
    assert env.autoescape("packet.md.j2") is False
    with pytest.raises(UndefinedError):
        env.from_string("{{ nothing.here }}").render()


@pytest.mark.parametrize(("name", "form"), [("packet.md", "markdown"), ("packet.html", "html")])
def test_golden_packet(by_rep_rendered, name, form):
    """The steady rep's packet, byte for byte. Regenerate on purpose: UPDATE_GOLDEN=1."""
    actual = getattr(by_rep_rendered[R1], form)
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 and review the diff"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} changed: review, then UPDATE_GOLDEN=1 if intended"


def test_next_step_mentions_show_in_communication_escaped(by_rep_rendered):
    """R2's open deal's next step names the implementation theme and carries hostile text."""
    html = by_rep_rendered[R2].html
    section = html.split('<section id="communication">')[1].split("</section>")[0]
    row = next(r for r in section.split("<tr>") if "Implementation timeline" in r)
    assert "<q><bdi>Implementation plan line one\nline | two &lt;b&gt;bold&lt;/b&gt;" in row
    assert "<b>bold</b>" not in section
    md = by_rep_rendered[R2].markdown
    md_section = md.split("## 2. Communication")[1].split("### Key initiatives")[0]
    md_row = next(r for r in md_section.splitlines() if r.startswith("| Implementation timeline"))
    cells = re.split(r"(?<!\\)\|", md_row)
    assert cells[2].strip() == "0" and cells[5].strip() == "1"  # lost, next steps
    assert '"Implementation plan line one line \\| two \\<b\\>bold\\</b\\>' in cells[6]


def test_next_step_mentions_in_the_steady_packet(by_rep_rendered):
    md = by_rep_rendered[R1].markdown
    assert "Implementation timeline × 2 lost ($60,000), 1 open deal's next step mentions it" in md
    assert '"Walk Dana through the implementation plan"' in md
    assert "Send the signed order form" not in md.split("## 2. Communication")[1]


def test_a_partial_week_says_how_far_its_data_reaches(contexts):
    import dataclasses
    import json

    partial = dataclasses.replace(contexts[0], data_to="2026-03-05T14:30:00-08:00")
    packet = render_packet(partial)
    assert "Partial week, data to Thu 5 Mar 2026 14:30 (UTC-08:00)" in _text(packet.html)
    assert "Data as of" not in _text(packet.html)
    assert "**Partial week, data to:** Thu 5 Mar 2026 14:30 (UTC-08:00)" in packet.markdown
    assert json.loads(packet.json)["data_to"] == "2026-03-05T14:30:00-08:00"
    # A complete week keeps its header and JSON as they were: no data_to key.
    complete = render_packet(contexts[0])
    assert "Data as of" in _text(complete.html) and "Partial week" not in complete.html
    assert "data_to" not in json.loads(complete.json)
