"""The formatting filters: every number a packet shows goes through one of these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from salesprep.packets.formatting import (
    MISSING,
    delta_class,
    escape_markdown,
    format_date,
    format_days,
    format_delta,
    format_money,
    format_movement,
    format_number,
    format_percent,
    format_ratio,
    sparkline,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1204, "1,204"),
        (2.75, "2.75"),
        (4.5, "4.5"),
        (3.0, "3"),
        (Decimal("12.50"), "12.5"),
        (-2, "−2"),
        (None, MISSING),
        (float("nan"), MISSING),
    ],
)
def test_format_number(value, expected):
    assert format_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12500, "12,500"),
        (12500.5, "12,500.50"),
        (Decimal("99.99"), "99.99"),
        (0, "0"),
        (None, MISSING),
    ],
)
def test_format_money(value, expected):
    assert format_money(value) == expected


def test_percent_and_ratio():
    assert format_percent(0.625) == "62%"
    assert format_percent(0.625, 1) == "62.5%"
    assert format_percent(0) == "0%"
    assert format_percent(None) == MISSING  # never 0% for a missing quota
    assert format_ratio(1.134) == "1.13×"
    assert format_ratio(None) == MISSING


def test_format_date_accepts_dates_and_iso_text():
    assert format_date(date(2026, 3, 9)) == "Mon 9 Mar 2026"
    assert format_date("2026-03-09") == "Mon 9 Mar 2026"
    assert format_date(None) == MISSING


@pytest.mark.parametrize(
    ("current", "reference", "money", "expected"),
    [
        (8, 20, False, "−12 (−60%)"),
        (45000, 12500, True, "+32,500 (+260%)"),
        (5, 5, False, "±0"),
        (1, 0, False, "+1 (new)"),
        (None, 3, False, MISSING),
        (1, 0.25, False, "+0.75 (+300%)"),
    ],
)
def test_format_delta(current, reference, money, expected):
    assert format_delta(current, reference, money) == expected


def test_delta_class_follows_whether_higher_is_better():
    assert delta_class(5, 3) == "up"
    assert delta_class(1, 3) == "down"
    assert delta_class(5, 3, higher_is_better=False) == "down"
    assert delta_class(3, 3) == ""
    assert delta_class(None, 3) == ""


def test_days_and_movement_labels():
    assert format_days(1) == "1 day"
    assert format_days(23) == "23 days"
    assert format_movement("regressed") == "Moved back"
    assert format_movement("won") == "Won"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a | b", r"a \| b"),
        ("*bold* _it_", r"\*bold\* \_it\_"),
        ("[x](javascript:alert(1))", r"\[x\](javascript:alert(1))"),
        ("<script>", r"\<script\>"),
        ("`code`", r"\`code\`"),
        ("line one\nline two\r\nthree", "line one line two three"),
        ("back\\slash", "back\\\\slash"),
        ("# heading", r"\# heading"),
        ("🚀 שלום", "🚀 שלום"),
        ("bell\x07", "bell"),
        (None, ""),
    ],
)
def test_escape_markdown(text, expected):
    assert escape_markdown(text) == expected


def test_sparkline_scales_and_marks_gaps():
    assert sparkline([0, 7]) == "▁█"
    assert sparkline([None, 1, 1]) == " ▄▄"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([None]) == ""
