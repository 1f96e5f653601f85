"""The cross-team learnings digest: shared lessons by theme, every team's fast movers, field
feedback with counts and escalations; private learnings never in it; hostile text inert."""

from __future__ import annotations

import re

import pytest

from salesprep.packets.digest import build_digest
from salesprep.packets.formatting import MoneyFormat
from salesprep.packets.marts import MartError, read_week_marts
from salesprep.packets.render import render_digest

from .marts_fixture import HOSTILE, HOSTILE_MULTILINE, LEARNINGS, PRIVATE_NOTE, R1, WEEK


@pytest.fixture(scope="module")
def marts(con):
    return read_week_marts(con, WEEK, 4)


@pytest.fixture(scope="module")
def digest(marts):
    return build_digest(marts)


USD = MoneyFormat("USD", "en_US")


@pytest.fixture(scope="module")
def pages(digest):
    return render_digest(digest, USD)


def test_shared_lessons_grouped_by_theme(digest):
    assert [(g.key, g.label) for g in digest.lesson_groups] == [
        ("implementation", "Implementation timeline")
    ]
    (lesson,) = digest.lesson_groups[0].lessons
    assert lesson.learning_id == "L1" and lesson.source == "Quiet Rep with Ølaf Ñúñez"
    assert digest.lesson_weeks == ["2026-W06", "2026-W07", "2026-W08", "2026-W09"]


def test_fast_movers_of_every_team(digest, marts):
    expected = {
        (rep, row["opportunity_id"]) for rep, rows in marts.fast_movers.items() for row in rows
    }
    assert {(f.rep_id, f.opportunity_id) for f in digest.fast_movers} == expected
    jumped = next(f for f in digest.fast_movers if f.reason == "stage_jump")
    assert (jumped.rep_id, jumped.manager_name, jumped.stages_advanced) == (R1, "Dana Manager", 2)


def test_escalations_count_losses_and_shared_feedback(digest):
    by_theme = {e.theme: e for e in digest.escalations}
    implementation = by_theme["implementation"]
    assert (implementation.lost_deals, implementation.feedback_entries) == (2, 0)
    assert implementation.escalate and implementation.escalate_to == "the head of services"
    price = by_theme["price"]
    # One lost deal alone would not escalate; P2's shared feedback on price makes it two.
    assert (price.lost_deals, price.feedback_entries, price.escalate) == (1, 1, True)
    assert price.feedback == [HOSTILE_MULTILINE]
    assert not by_theme["competitor"].escalate and not by_theme["other"].escalate
    assert digest.escalations[0].escalate and not digest.escalations[-1].escalate


def test_private_learnings_never_reach_the_digest(digest, pages):
    private = [row for row in LEARNINGS if not row["is_shareable"]]
    assert private
    html, markdown = pages
    for row in private:
        assert row["body"] not in digest.to_json()
        assert row["body"] not in html and row["body"] not in markdown
    assert PRIVATE_NOTE not in html
    assert "security review" not in html.lower()  # P3's private feedback theme


def test_a_private_row_given_to_the_digest_is_an_error(marts):
    leaked = dict(marts.shared_learnings[0], learning_id="L4", is_shareable=False)
    marts_copy = type(marts)(**{**marts.__dict__, "shared_learnings": [leaked]})
    with pytest.raises(MartError, match="private learning L4"):
        build_digest(marts_copy)


def test_hostile_text_is_inert(pages):
    html, markdown = pages
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>" not in markdown and "\\<b\\>bold" in markdown
    assert HOSTILE not in markdown  # escaped, not raw
    # Every table row of the Markdown has the same number of cells as its header.
    for table in re.findall(r"(?:^\|.*\|$\n?)+", markdown, flags=re.M):
        rows = [r for r in table.strip().split("\n") if not r.startswith("|---")]
        widths = {len(re.split(r"(?<!\\)\|", r)) for r in rows}
        assert len(widths) == 1, table


def test_digest_sections_and_links(pages, digest):
    html, markdown = pages
    for title in ("Shared lessons by theme", "Fast movers of the week", "Field feedback"):
        assert title in html and title in markdown
    assert 'href="index.html"' in html
    assert render_digest(digest, USD) == pages  # byte-stable
