"""Formatting filters for packets: money, counts, percents, ratios, dates, deltas, and the
Markdown escape for CRM text. Templates call these; they hold no formatting logic themselves."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision
from jinja2 import pass_context
from jinja2.runtime import Context

MISSING = "—"
_MINUS = "−"  # a real minus sign: a hyphen reads as a dash next to numbers

# Characters that start Markdown syntax inline (CommonMark backslash-escapable punctuation).
# `.`, `-`, `+`, `(`, `)` and `!` only matter at the start of a line or next to `[`, which
# is escaped anyway, so they stay readable in the raw file.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#~&])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
# Any character that one of the three above would change.
_MD_ANY = re.compile(r"[\\`*_{}\[\]<>|#~&\x00-\x08\x0a-\x1f\x7f\u2028\u2029]")


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_number(value: float | int | Decimal | None, decimals: int = 2) -> str:
    """A count or average: `1,204`, `2.75`, `4.5`; no trailing zeros, whole numbers stay whole."""
    if _is_missing(value):
        return MISSING
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}".replace("-", _MINUS)
    text = f"{number:,.{decimals}f}".rstrip("0").rstrip(".")
    return text.replace("-", _MINUS)


DEFAULT_MONEY_LOCALE = "en_US"


@functools.cache
def _babel_locale(name: str) -> Locale | None:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def resolve_money_locale(configured: str | None, org_locale: str | None) -> str:
    """The locale money is formatted in: config's `money_locale`, else the org's
    DefaultLocaleSidKey, else en_US. Salesforce keys with variants Babel does not know
    (`de_DE_EURO`, `sr_Latn_RS_EURO`) fall back to their language and country."""
    for candidate in (configured, org_locale):
        if not candidate:
            continue
        parts = str(candidate).strip().replace("-", "_").split("_")
        for size in range(len(parts), 0, -1):
            name = "_".join(parts[:size])
            if _babel_locale(name) is not None:
                return name
    return DEFAULT_MONEY_LOCALE


@functools.cache
def _whole_pattern(locale: str) -> str:
    """The locale's currency pattern without its fraction digits: whole amounts stay whole."""
    pattern = _babel_locale(locale).currency_formats["standard"].pattern
    return re.sub(r"\.0+", "", pattern)


@dataclass(frozen=True)
class MoneyFormat:
    """Money in one currency (an ISO code) and one Babel locale: the symbol or code, grouping
    and decimal mark as the locale writes them, cents only when there are any (`$12,500`,
    `12.500,50 €`). Formatting only: the numbers are the marts' own."""

    currency: str = "USD"
    locale: str = DEFAULT_MONEY_LOCALE

    def __call__(self, value: float | int | Decimal | None) -> str:
        return self.amount(value, self.currency)

    def amount(self, value: float | int | Decimal | None, currency: str | None) -> str:
        """`value` in `currency` (the corporate one when None)."""
        if _is_missing(value):
            return MISSING
        # Keyed by the float's text: -0.0 and 0.0 are equal as keys but written differently.
        return _amount_text(str(float(value)), currency or self.currency, self.locale)

    def with_original(
        self,
        amount: float | int | Decimal | None,
        original: float | int | Decimal | None,
        currency: str | None,
    ) -> str:
        """A deal's amount, and its own-currency amount in brackets when that currency is not
        the corporate one: `$10,869.57 (€10,000)`; without a rate `— (¥1,000,000, no rate)`."""
        converted = self(amount)
        if not currency or currency == self.currency or _is_missing(original):
            return converted
        own = self.amount(original, currency)
        if _is_missing(amount):
            return f"{converted} ({own}, no rate)"
        return f"{converted} ({own})"


@functools.lru_cache(maxsize=65_536)
def _amount_text(value: str, code: str, locale: str) -> str:
    """An amount as MoneyFormat writes it, cached: Babel takes 0.1-0.5 ms per amount, and a
    week's packets repeat many (zeros, round quotas, the same deal in a rep's sections)."""
    locale = locale if _babel_locale(locale) else DEFAULT_MONEY_LOCALE
    number = Decimal(value)
    if get_currency_precision(code) == 0:
        # A currency without minor units (JPY): whole, rounded as Babel rounds.
        number = number.quantize(Decimal(1))
    if number == number.to_integral_value():
        text = format_currency(
            number, code, format=_whole_pattern(locale), locale=locale, currency_digits=False
        )
    else:
        text = format_currency(number, code, locale=locale)
    return text.replace("-", _MINUS)


DEFAULT_MONEY = MoneyFormat()


def format_money(value: float | int | Decimal | None, money: MoneyFormat = DEFAULT_MONEY) -> str:
    """An amount in the corporate currency, as `money` writes it: `$12,500`."""
    return money(value)


def format_percent(value: float | Decimal | None, decimals: int = 0) -> str:
    """A ratio as a percent: 0.625 → `62%` (`62.5%` with decimals=1); null stays missing."""
    if _is_missing(value):
        return MISSING
    return f"{float(value) * 100:.{decimals}f}%".replace("-", _MINUS)


def format_ratio(value: float | Decimal | None) -> str:
    """A multiple such as pacing or coverage: 1.134 → `1.13×`."""
    if _is_missing(value):
        return MISSING
    return f"{float(value):.2f}×".replace("-", _MINUS)


@functools.lru_cache(maxsize=8192)
def format_date(value: date | datetime | str | None) -> str:
    """A calendar date as `Mon 16 Nov 2026` (ISO strings accepted). Cached: a week's packets
    write the same few hundred dates thousands of times."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return f"{value:%a} {value.day} {value:%b %Y}"


def format_datetime(value: datetime | str | None) -> str:
    """An instant as `Mon 7 Dec 2026 02:16 (UTC+00:00)`, in the offset it carries (ISO strings
    accepted)."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    offset = value.strftime("%z")
    zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{format_date(value)} {value:%H:%M} ({zone})"


def format_delta(
    current: float | int | Decimal | None,
    reference: float | int | Decimal | None,
    money: MoneyFormat | None = None,
) -> str:
    """How `current` differs from `reference`: `+3 (+25%)`, `−$2,000 (−40%)`, `±0`, `+3 (new)`;
    amounts when `money` says how to write them."""
    if _is_missing(current) or _is_missing(reference):
        return MISSING
    diff = float(current) - float(reference)
    if diff == 0:
        return "±0"
    sign = "+" if diff > 0 else _MINUS
    size = money(abs(diff)) if money is not None else format_number(abs(diff))
    if float(reference) == 0:
        return f"{sign}{size} (new)"
    pct = abs(diff) / abs(float(reference)) * 100
    return f"{sign}{size} ({sign}{pct:.0f}%)"


def format_days(value: float | int | None) -> str:
    """A number of days: `1 day`, `23 days`."""
    if _is_missing(value):
        return MISSING
    number = format_number(value)
    return f"{number} day" if number == "1" else f"{number} days"


def delta_class(
    current: float | int | Decimal | None,
    reference: float | int | Decimal | None,
    higher_is_better: bool = True,
) -> str:
    """The CSS class of a delta: `up` when it went the good way, `down` the bad way, else ``."""
    if _is_missing(current) or _is_missing(reference) or float(current) == float(reference):
        return ""
    better = (float(current) > float(reference)) == higher_is_better
    return "up" if better else "down"


MOVEMENT_LABELS = {
    "won": "Won",
    "lost": "Lost",
    "new": "New",
    "reopened": "Reopened",
    "advanced": "Advanced",
    "regressed": "Moved back",
    "unchanged": "No stage change",
}


def format_movement(value: str | None) -> str:
    """A deal movement code as words: `regressed` → `Moved back`."""
    if not value:
        return MISSING
    return MOVEMENT_LABELS.get(value, value.replace("_", " ").capitalize())


def escape_markdown(text: object) -> str:
    """CRM text made inert in Markdown: syntax characters backslash-escaped, line breaks folded
    to spaces (a newline would end a table row), control characters dropped. Emoji and
    right-to-left text pass through unchanged."""
    if text is None:
        return ""
    value = str(text)
    if not _MD_ANY.search(value):  # most CRM text: nothing to escape, fold or drop
        return value.strip()
    value = _CONTROL.sub("", value)
    value = _LINE_BREAKS.sub(" ", value).strip()
    return _MD_SPECIAL.sub(r"\\\1", value)


def sparkline(values: list[float | int | None]) -> str:
    """A text trend for Markdown: `▁▂▅█`, a space for a week without data."""
    bars = "▁▂▃▄▅▆▇█"
    known = [float(v) for v in values if not _is_missing(v)]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    out = []
    for value in values:
        if _is_missing(value):
            out.append(" ")
        elif span == 0:
            out.append(bars[0] if high == 0 else bars[3])
        else:
            out.append(bars[round((float(value) - low) / span * (len(bars) - 1))])
    return "".join(out)


def _context_money(context: Context) -> MoneyFormat:
    """The page's money format: templates are rendered with `money` (a MoneyFormat)."""
    money = context.get("money")
    if not isinstance(money, MoneyFormat):
        raise TypeError(
            f"template {context.name} formats money but was rendered without `money` "
            "(a MoneyFormat with the corporate currency and locale)"
        )
    return money


@pass_context
def _money_filter(context: Context, value: Any) -> str:
    return _context_money(context)(value)


@pass_context
def _money_both_filter(context: Context, deal: Any) -> str:
    """A deal's amount with its own-currency amount when that differs (`d|deal_money`)."""
    return _context_money(context).with_original(
        deal.amount, deal.amount_original, deal.currency_original
    )


@pass_context
def _delta_filter(context: Context, current: Any, reference: Any, money: bool = False) -> str:
    return format_delta(current, reference, _context_money(context) if money else None)


FILTERS = {
    "number": format_number,
    "money": _money_filter,
    "deal_money": _money_both_filter,
    "percent": format_percent,
    "ratio": format_ratio,
    "date": format_date,
    "datetime": format_datetime,
    "delta": _delta_filter,
    "days": format_days,
    "delta_class": delta_class,
    "movement": format_movement,
    "md": escape_markdown,
    "sparkline": sparkline,
}
