"""Currencies of a multi-currency demo org: the corporate currency and the others, static
CurrencyType rates, monthly dated rates that wander like real exchange rates, and which
currency each rep and deal uses. Deals are simulated in corporate-currency amounts and
written in their own currency, converted at the static rate and rounded as a rep would."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date

from salesprep.demo_org.people import Person
from salesprep.demo_org.shape import USD_RATES, OrgShape

# Advanced Currency Management's first range starts at the beginning of time and its last one
# runs to the end of it; Salesforce writes these two dates.
FIRST_RATE_DATE = date(1, 1, 1)
LAST_RATE_DATE = date(9999, 12, 31)
P_FOREIGN_DEAL = 0.2  # a deal in another currency than the rep's own
MONTHLY_RATE_SIGMA = 0.015  # the log-change of a rate from one month to the next


@dataclass(frozen=True)
class DatedRate:
    iso_code: str
    rate: float
    start: date
    next_start: date


def _nice(value: float) -> int:
    """`value` rounded to a step a rep would type: about three significant digits."""
    if value <= 0:
        return 0
    step = 10 ** max(0, math.floor(math.log10(value)) - 2)
    step = step * 5 if value / step >= 500 else step
    return max(step, round(value / step) * step)


class Currencies:
    """The currencies of one org shape; every method is deterministic in its arguments."""

    def __init__(self, shape: OrgShape, seed: int) -> None:
        self.shape = shape
        self.seed = seed
        self.corporate = shape.corporate_currency
        self.codes = shape.currencies if shape.multi_currency else (self.corporate,)
        # Currencies deals can be in: the org's, plus the edge case without any rate.
        self.used = self.codes + (
            (shape.currency_without_rate,) if shape.currency_without_rate else ()
        )

    @property
    def multi(self) -> bool:
        return self.shape.multi_currency

    def static_rate(self, code: str) -> float:
        """Units of `code` per unit of the corporate currency (CurrencyType.ConversionRate);
        the currency without a rate gets its market rate here, for sizing amounts only."""
        return USD_RATES[code] / USD_RATES[self.corporate] if code in USD_RATES else 1.0

    def local_amount(self, amount: float, code: str) -> int:
        """A corporate-currency amount in `code`, rounded to a typed-looking number."""
        if code == self.corporate:
            return round(amount)
        return _nice(amount * self.static_rate(code))

    def home_currency(self, seller: Person) -> str:
        """The currency a rep sells and is measured in: their team's (teams take the org's
        currencies in turn). The currency without a rate is one rep's (`unrated_rep`)."""
        if not self.multi:
            return self.corporate
        return self.codes[seller.region % len(self.codes)]

    def deal_currency(self, rng: random.Random, home: str) -> str:
        """Most deals are in the rep's currency; some are in another one of the org's."""
        if not self.multi or rng.random() >= P_FOREIGN_DEAL:
            return home
        return rng.choice([c for c in self.used if c != home])

    def dated_rates(self, first: date, last: date) -> list[DatedRate]:
        """Monthly ranges from the month after `first` to the month after `last`, for every
        currency of the org (the corporate one at 1), the first range open at the start and
        the last open at the end, so every date has exactly one rate."""
        boundaries = []
        month = date(first.year, first.month, 1)
        while month <= last:
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
            boundaries.append(month)
        starts = [FIRST_RATE_DATE, *boundaries]
        ends = [*boundaries, LAST_RATE_DATE]
        rates = []
        for code in self.codes:
            rng = random.Random(f"salesprep-demo-org/{self.seed}/rates/{code}")
            value = self.static_rate(code) * math.exp(rng.gauss(0, 0.02))
            for start, end in zip(starts, ends, strict=True):
                rate = 1.0 if code == self.corporate else round(value, 6)
                rates.append(DatedRate(code, rate, start, end))
                value *= math.exp(rng.gauss(0, MONTHLY_RATE_SIGMA))
        return rates
