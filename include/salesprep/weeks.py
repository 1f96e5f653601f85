"""ISO weeks in the org's timezone: the unit every run, mart row and packet is keyed on."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


class InvalidWeekError(ValueError):
    """A week label that is not a valid ISO week `YYYY-Www`."""


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week: Monday 00:00 (inclusive) to the next Monday 00:00 (exclusive)."""

    year: int
    number: int

    @classmethod
    def parse(cls, label: str) -> Week:
        match = _WEEK_RE.match(label.strip())
        if not match:
            raise InvalidWeekError(f"week {label!r} is not an ISO week like 2026-W47")
        year, number = int(match[1]), int(match[2])
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError as exc:
            raise InvalidWeekError(
                f"week {label!r} does not exist: {year} has no week {number}"
            ) from exc
        return cls(year, number)

    @classmethod
    def containing(cls, day: date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, now: datetime, tz: str = "UTC") -> Week:
        """The latest week that has fully ended at instant `now` (the one a Monday run prepares)."""
        local = now.astimezone(ZoneInfo(tz))
        return cls.containing(local.date()).shift(-1)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def __str__(self) -> str:
        return self.label

    @property
    def start_date(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def end_date(self) -> date:
        """The Monday after the week: exclusive end."""
        return self.start_date + timedelta(days=7)

    @property
    def last_day(self) -> date:
        return self.start_date + timedelta(days=6)

    def start(self, tz: str = "UTC") -> datetime:
        return datetime.combine(self.start_date, datetime.min.time(), ZoneInfo(tz))

    def end(self, tz: str = "UTC") -> datetime:
        return datetime.combine(self.end_date, datetime.min.time(), ZoneInfo(tz))

    def shift(self, weeks: int) -> Week:
        return Week.containing(self.start_date + timedelta(weeks=weeks))

    def range_to(self, other: Week) -> list[Week]:
        """Every week from this one to `other`, both included."""
        weeks, current = [], self
        while current <= other:
            weeks.append(current)
            current = current.shift(1)
        return weeks
