"""How hard each seller works week by week: persona trends (a struggling rep fading, a new hire
ramping up), vacations, busy weeks and the holidays, shared by deals and activities."""

from __future__ import annotations

import math
import random
from datetime import date

from salesprep.demo_org.calendar import FiscalCalendar
from salesprep.demo_org.people import Person
from salesprep.demo_org.timeline import DAY, Timeline


def performance_level(seller: Person, timeline: Timeline, week: int) -> float:
    """Multiplier on volumes and win rate in window week `week` (0 = the first)."""
    persona = seller.persona
    if persona is None:
        return 1.0
    if persona.name == "struggling":
        # Fine at first, then fades: pacing falls below 0.7 for the last weeks of the window.
        x = (week + 0.5) / timeline.weeks
        return 1.1 if x < 0.15 else max(0.15, 1.1 - (x - 0.15) / 0.6 * 0.95)
    if persona.name == "new_hire":
        weeks_in = week - seller.start_ts // (7 * DAY)
        return 0.0 if weeks_in < 0 else min(1.0, 0.25 + 0.075 * weeks_in)
    return 1.0


def _is_holiday_week(start: date) -> bool:
    """Weeks with Christmas or New Year's Day, when little selling happens."""
    days = [date.fromordinal(start.toordinal() + i) for i in range(7)]
    return any((d.month, d.day) in ((12, 25), (1, 1)) for d in days)


def week_factors(
    rng: random.Random,
    timeline: Timeline,
    seller: Person,
    calendar: FiscalCalendar | None = None,
) -> list[float]:
    """Per window week: 0 outside the seller's employment, near 0 on vacation, >1 when busy
    (the last two weeks of a fiscal quarter of `calendar`, calendar quarters by default)."""
    calendar = calendar or FiscalCalendar()
    factors = []
    vacation_weeks = set()
    for _ in range(max(1, round(timeline.weeks / 26 * 1.5))):
        first = rng.randrange(timeline.weeks)
        vacation_weeks.add(first)
        if rng.random() < 0.35:
            vacation_weeks.add(first + 1)
    start_week = seller.start_ts // (7 * DAY)
    stop_week = (seller.stop_ts - 1) // (7 * DAY)
    for week in range(timeline.weeks):
        if week < start_week or week > stop_week:
            factors.append(0.0)
            continue
        if week in vacation_weeks:
            factor = 0.03
        elif rng.random() < 0.1:
            factor = rng.uniform(1.35, 1.7)
        else:
            factor = rng.uniform(0.8, 1.2)
        monday = timeline.to_date(week * 7)
        if _is_holiday_week(monday):
            factor *= 0.3
        elif calendar.is_quarter_end_week(monday):
            factor *= 1.25  # the end-of-quarter push
        factors.append(factor * performance_level(seller, timeline, week))
    return factors


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson count (normal approximation for large means, to stay fast)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
