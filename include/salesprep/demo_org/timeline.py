"""The demo org's clock: whole seconds since the first week's Monday 00:00 UTC, and the strings
dates and instants become, cached so that millions of rows format cheaply."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from salesprep.org_folder import format_value
from salesprep.weeks import Week

DAY = 86_400
HOUR = 3_600
# Days before the window and after it that get a cached date string: close dates look ahead.
_DAYS_BEFORE = 400
_DAYS_AFTER = 800


class Timeline:
    """The `weeks` ISO weeks ending with `end_week`, as day indexes and second offsets."""

    def __init__(self, end_week: Week, weeks: int) -> None:
        self.end_week = end_week
        self.first_week = end_week.shift(-(weeks - 1))
        self.weeks = weeks
        self.start_date = self.first_week.start_date
        self.days = weeks * 7
        self.end_ts = self.days * DAY  # exclusive: the Monday after end_week, 00:00 UTC
        first = self.start_date - timedelta(days=_DAYS_BEFORE)
        count = _DAYS_BEFORE + self.days + _DAYS_AFTER
        self._dates = [format_value(first + timedelta(days=i), "date") for i in range(count)]
        self._stamp_days = [d + "T" for d in self._dates]
        self._clock = [
            f"{h:02d}:{m:02d}:{s:02d}.000Z" for h in range(24) for m in range(60) for s in range(60)
        ]
        self._offsets: dict[str, list[int]] = {}

    def date(self, day: int) -> str:
        """Day index `day` (0 = the first Monday) as a Data Export date."""
        index = day + _DAYS_BEFORE
        if 0 <= index < len(self._dates):
            return self._dates[index]
        return format_value(self.start_date + timedelta(days=day), "date")

    def stamp(self, ts: int) -> str:
        """Second `ts` as a Data Export UTC datetime, exactly as `format_value` writes it."""
        day, second = divmod(ts, DAY)
        index = day + _DAYS_BEFORE
        if 0 <= index < len(self._stamp_days):
            return self._stamp_days[index] + self._clock[second]
        return format_value(self.instant(ts), "datetime")

    def instant(self, ts: int) -> datetime:
        return datetime.combine(self.start_date, time(), UTC) + timedelta(seconds=ts)

    def to_date(self, day: int) -> date:
        return self.start_date + timedelta(days=day)

    def day_of(self, value: date) -> int:
        return (value - self.start_date).days

    def offsets(self, tz: str) -> list[int]:
        """UTC offset in seconds of time zone `tz` at local noon, for every day of the window."""
        cached = self._offsets.get(tz)
        if cached is None:
            zone = ZoneInfo(tz)
            cached = []
            for day in range(self.days + 1):
                noon = datetime.combine(self.to_date(day), time(12), zone)
                offset = noon.utcoffset()
                cached.append(int(offset.total_seconds()) if offset is not None else 0)
            self._offsets[tz] = cached
        return cached
