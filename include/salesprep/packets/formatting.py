"""Formatting filters for packets: money, counts, percents, ratios, dates, deltas, and the
Markdown escape for CRM text. Templates call these; they hold no formatting logic themselves."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal

MISSING = "—"
_MINUS = "−"  # a real minus sign: a hyphen reads as a dash next to numbers

# Characters that start Markdown syntax inline (CommonMark backslash-escapable punctuation).
# `.`, `-`, `+`, `(`, `)` and `!` only matter at the start of a line or next to `[`, which
# is escaped anyway, so they stay readable in the raw file.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#~&])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


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


def format_money(value: float | int | Decimal | None) -> str:
    """An amount in the org's currency, grouped, cents only when there are any: `12,500`."""
    if _is_missing(value):
        return MISSING
    number = float(value)
    if number.is_integer():
        return f"{int(number):,}".replace("-", _MINUS)
    return f"{number:,.2f}".replace("-", _MINUS)


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


def format_date(value: date | datetime | str | None) -> str:
    """A calendar date as `Mon 16 Nov 2026` (ISO strings accepted)."""
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
    money: bool = False,
) -> str:
    """How `current` differs from `reference`: `+3 (+25%)`, `−2,000 (−40%)`, `±0`, `+3 (new)`."""
    if _is_missing(current) or _is_missing(reference):
        return MISSING
    diff = float(current) - float(reference)
    if diff == 0:
        return "±0"
    sign = "+" if diff > 0 else _MINUS
    size = format_money(abs(diff)) if money else format_number(abs(diff))
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
    value = _CONTROL.sub("", str(text))
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


FILTERS = {
    "number": format_number,
    "money": format_money,
    "percent": format_percent,
    "ratio": format_ratio,
    "date": format_date,
    "datetime": format_datetime,
    "delta": format_delta,
    "days": format_days,
    "delta_class": delta_class,
    "movement": format_movement,
    "md": escape_markdown,
    "sparkline": sparkline,
}
