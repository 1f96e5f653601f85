"""The formatting filters: every number a packet shows goes through one of these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from salesprep.packets.formatting import (
    MISSING,
    MoneyFormat,
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
    resolve_money_locale,
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
        (12500, "$12,500"),
        (12500.5, "$12,500.50"),
        (Decimal("99.99"), "$99.99"),
        (0, "$0"),
        (-3, "−$3"),
        (None, MISSING),
    ],
)
def test_format_money(value, expected):
    assert format_money(value) == expected


@pytest.mark.parametrize(
    ("currency", "locale", "value", "expected"),
    [
        # The locale decides symbol position, grouping and decimal mark (Babel, CLDR data).
        ("EUR", "de_DE", 12500, "12.500\xa0€"),
        ("EUR", "de_DE", 12500.5, "12.500,50\xa0€"),
        ("EUR", "fr_FR", 1234567.25, "1\u202f234\u202f567,25\xa0€"),
        ("GBP", "en_GB", 99.9, "£99.90"),
        # No minor units: whole yen, rounded.
        ("JPY", "ja_JP", 1234567.6, "￥1,234,568"),
        ("USD", "de_DE", 10, "10\xa0$"),
    ],
)
def test_money_in_the_currency_and_locale(currency, locale, value, expected):
    assert MoneyFormat(currency, locale)(value) == expected


def test_a_deal_in_another_currency_shows_both_amounts():
    usd = MoneyFormat("USD", "en_US")
    assert usd.with_original(10869.57, 10000, "EUR") == "$10,869.57 (€10,000)"
    assert usd.with_original(5000, 5000, "USD") == "$5,000"
    assert usd.with_original(5000, 5000, None) == "$5,000"
    # No rate: the corporate amount is unknown, the deal's own is still shown.
    assert usd.with_original(None, 1000000, "JPY") == "— (¥1,000,000, no rate)"
    assert usd.with_original(None, None, "EUR") == MISSING


@pytest.mark.parametrize(
    ("configured", "org", "expected"),
    [
        (None, None, "en_US"),
        (None, "de_DE", "de_DE"),
        ("fr_FR", "de_DE", "fr_FR"),
        # Salesforce keys with variants Babel lacks fall back to language and country.
        (None, "de_DE_EURO", "de_DE"),
        (None, "xx_YY", "en_US"),
        ("en-GB", None, "en_GB"),
    ],
)
def test_money_locale_resolution(configured, org, expected):
    assert resolve_money_locale(configured, org) == expected


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
        (8, 20, None, "−12 (−60%)"),
        (45000, 12500, MoneyFormat("USD"), "+$32,500 (+260%)"),
        (10000, 12500, MoneyFormat("EUR", "de_DE"), "−2.500\xa0€ (−20%)"),
        (5, 5, None, "±0"),
        (1, 0, None, "+1 (new)"),
        (None, 3, None, MISSING),
        (1, 0.25, None, "+0.75 (+300%)"),
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
