"""The demo org's fiscal calendar: standard fiscal years from a start month, or a custom 4-4-5
calendar (FiscalYearSettings and Period rows), with the quarters and months quotas follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class FiscalQuarter:
    """One fiscal quarter: [start, end) with its number, its year's name and month starts."""

    start: date
    end: date  # exclusive
    number: int
    year_name: str
    months: tuple[date, ...]


@dataclass(frozen=True)
class FiscalYear:
    """A custom fiscal year: [start, end) and its quarters (custom calendars only)."""

    name: str
    start: date
    end: date  # exclusive
    quarters: tuple[FiscalQuarter, ...]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _nearest_sunday(day: date) -> date:
    """The Sunday closest to `day` (4-4-5 calendars start their years on one)."""
    back = (day.weekday() + 1) % 7  # days since the last Sunday
    return day - timedelta(days=back) if back <= 3 else day + timedelta(days=7 - back)


class FiscalCalendar:
    """Quarters of a standard fiscal year starting in `start_month`, or of a custom 4-4-5 year
    starting on the Sunday nearest the 1st of `start_month`. A year is named by the calendar
    year it starts in (`named_by_start`) or, as Salesforce does by default, ends in."""

    def __init__(
        self, start_month: int = 1, *, named_by_start: bool = False, custom: bool = False
    ) -> None:
        self.start_month = start_month
        self.named_by_start = named_by_start
        self.custom = custom
        self._years: dict[int, FiscalYear] = {}

    # -- standard years -------------------------------------------------------------------------

    def _standard_quarter(self, day: date) -> FiscalQuarter:
        offset = (day.month - self.start_month) % 3
        start = _add_months(date(day.year, day.month, 1), -offset)
        index = (start.month - self.start_month) % 12 // 3  # 0..3 within the fiscal year
        year_start = _add_months(start, -3 * index)
        year_end = _add_months(year_start, 12) - timedelta(days=1)
        name = year_start.year if self.named_by_start else year_end.year
        months = tuple(_add_months(start, m) for m in range(3))
        return FiscalQuarter(start, _add_months(start, 3), index + 1, str(name), months)

    # -- custom (4-4-5) years -------------------------------------------------------------------

    def custom_year(self, year: int) -> FiscalYear:
        """The custom fiscal year starting near the 1st of `start_month` of calendar `year`:
        52 weeks (53 when the next start drifts a week), quarters of 13 weeks (the last one
        takes a 53rd), months of 4, 4 and 5 weeks."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        start = _nearest_sunday(date(year, self.start_month, 1))
        end = _nearest_sunday(date(year + 1, self.start_month, 1))
        last = end - timedelta(days=1)
        name = str(start.year if self.named_by_start else last.year)
        quarters = []
        quarter_start = start
        for number in range(1, 5):
            weeks = 13 + (1 if number == 4 and (end - start).days == 371 else 0)
            pattern = (4, 4, weeks - 8)
            months, month_start = [], quarter_start
            for month_weeks in pattern:
                months.append(month_start)
                month_start += timedelta(weeks=month_weeks)
            quarter_end = quarter_start + timedelta(weeks=weeks)
            quarters.append(FiscalQuarter(quarter_start, quarter_end, number, name, tuple(months)))
            quarter_start = quarter_end
        fiscal_year = FiscalYear(name, start, end, tuple(quarters))
        self._years[year] = fiscal_year
        return fiscal_year

    def _custom_quarter(self, day: date) -> FiscalQuarter:
        for year in (day.year - 1, day.year, day.year + 1):
            fiscal_year = self.custom_year(year)
            if fiscal_year.start <= day < fiscal_year.end:
                return next(q for q in fiscal_year.quarters if q.start <= day < q.end)
        raise AssertionError(f"no custom fiscal year holds {day}")

    def custom_years(self, first: date, last: date) -> list[FiscalYear]:
        """The custom fiscal years overlapping [first, last]."""
        years = []
        for year in range(first.year - 1, last.year + 2):
            fiscal_year = self.custom_year(year)
            if fiscal_year.end > first and fiscal_year.start <= last:
                years.append(fiscal_year)
        return years

    # -- either ---------------------------------------------------------------------------------

    def quarter_of(self, day: date) -> FiscalQuarter:
        """The fiscal quarter holding `day`."""
        return self._custom_quarter(day) if self.custom else self._standard_quarter(day)

    def quarters(self, first: date, last: date) -> list[FiscalQuarter]:
        """The fiscal quarters overlapping [first, last], in order."""
        quarters = [self.quarter_of(first)]
        while quarters[-1].end <= last:
            quarters.append(self.quarter_of(quarters[-1].end))
        return quarters

    def is_quarter_end_week(self, monday: date) -> bool:
        """Whether the week starting `monday` is in the last two weeks of its quarter."""
        return self.quarter_of(monday + timedelta(days=14)).start != self.quarter_of(monday).start
