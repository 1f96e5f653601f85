"""The shape of a demo org beyond its size: what a real company's org may have that the default
demo org does not (currencies, a fiscal calendar, quota periods, record types, forecast
categories, activity it does not log). The default shape is the single-currency, calendar-year
org the demo always was; `INTERNATIONAL` is a realistic combination of the rest."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, fields, replace

# Units of each currency per US dollar, about late 2025: the static CurrencyType rates are these,
# relative to the corporate currency; dated rates wander around them month by month.
USD_RATES: dict[str, float] = {
    "USD": 1.0,
    "EUR": 0.92,
    "GBP": 0.79,
    "JPY": 151.0,
    "CAD": 1.37,
    "AUD": 1.53,
    "CHF": 0.88,
    "SEK": 10.6,
    "SGD": 1.34,
    "INR": 84.0,
    "BRL": 5.4,
    "MXN": 18.5,
}
# Babel-style locales an Organization's DefaultLocaleSidKey may hold for the demo.
LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "ja_JP", "en_AU", "de_CH")
_CODE = re.compile(r"^[A-Z]{3}$")


class ShapeError(ValueError):
    """An org shape the generator cannot produce; the message names the option."""


@dataclass(frozen=True)
class OrgShape:
    """Options of `generate_org` beyond size and seed; each default keeps the default demo org.

    - `currencies`: ISO codes, the first the corporate currency. One code (or none) is a
      single-currency org: no CurrencyType, no CurrencyIsoCode. Two or more turn on
      multi-currency: deals, their history rows and quotas are in varied currencies.
    - `dated_rates`: Advanced Currency Management: monthly DatedConversionRate ranges that
      change realistically, the first one open at the start so that every date is covered.
    - `currency_without_rate`: an edge case for tests: one more currency that deals and one
      rep's quota use, with neither a CurrencyType row nor dated rates (no rate: amounts in it
      cannot be converted).
    - `fiscal_start_month`, `fiscal_year_named_by_start` (Organization.FiscalYearStartMonth,
      UsesStartDateAsFiscalYearName); `custom_fiscal_year`: FiscalYearSettings and Period rows
      of a 4-4-5 calendar (13-week quarters from the Sunday nearest the start month's 1st).
    - `monthly_quotas`: three ForecastingQuota rows per quarter, one per fiscal month, summing
      to the quarter's quota.
    - `email_tasks`, `meetings`: whether the org logs emails as Tasks (not when Einstein
      Activity Capture keeps them) and meetings as Events.
    - `record_types`: New Business, Renewal and Expansion opportunity record types.
    - `forecast_categories`: reps override forecast categories (Best Case, Commit) and mark
      some open deals Omitted; history rows carry the API values (BestCase, Forecast).
    - `locale`: Organization.DefaultLocaleSidKey (money formatting).
    """

    currencies: tuple[str, ...] = ()
    dated_rates: bool = False
    currency_without_rate: str | None = None
    fiscal_start_month: int = 1
    fiscal_year_named_by_start: bool = False
    custom_fiscal_year: bool = False
    monthly_quotas: bool = False
    email_tasks: bool = True
    meetings: bool = True
    record_types: bool = False
    forecast_categories: bool = False
    locale: str = "en_US"

    def __post_init__(self) -> None:
        codes = [c.upper() for c in self.currencies]
        object.__setattr__(self, "currencies", tuple(codes))
        for code in codes:
            if not _CODE.match(code):
                raise ShapeError(f"currency {code!r} is not a 3-letter ISO code such as EUR")
            if code not in USD_RATES:
                raise ShapeError(
                    f"currency {code} has no demo exchange rate; use some of "
                    + ", ".join(USD_RATES)
                )
        if len(set(codes)) != len(codes):
            raise ShapeError(f"currencies {','.join(codes)} name a currency twice")
        unrated = self.currency_without_rate
        if unrated is not None:
            unrated = unrated.upper()
            object.__setattr__(self, "currency_without_rate", unrated)
            if not self.multi_currency:
                raise ShapeError(
                    "a currency without a rate needs a multi-currency org: give --currencies "
                    "at least two codes"
                )
            if not _CODE.match(unrated) or unrated in codes:
                raise ShapeError(
                    f"the currency without a rate {unrated!r} must be a 3-letter ISO code not "
                    f"among --currencies {','.join(codes)}"
                )
        if self.dated_rates and not self.multi_currency:
            raise ShapeError("dated rates need a multi-currency org: give --currencies A,B,...")
        if not 1 <= self.fiscal_start_month <= 12:
            raise ShapeError(
                f"the fiscal year start month must be 1..12, got {self.fiscal_start_month}"
            )
        if self.locale not in LOCALES:
            raise ShapeError(f"locale {self.locale!r} is not one of {', '.join(LOCALES)}")

    @property
    def multi_currency(self) -> bool:
        return len(self.currencies) >= 2

    @property
    def corporate_currency(self) -> str:
        return self.currencies[0] if self.currencies else "USD"

    @property
    def features(self) -> frozenset[str]:
        """The org features (`catalog.FEATURES`) the shape turns on."""
        on = {
            "multi_currency": self.multi_currency,
            "advanced_currency_management": self.dated_rates,
            "custom_fiscal_year": self.custom_fiscal_year,
            "record_types": self.record_types,
        }
        return frozenset(name for name, enabled in on.items() if enabled)

    @property
    def is_default(self) -> bool:
        return self == OrgShape()

    def describe(self) -> str:
        """The options in a few words, for people ('' for the default shape)."""
        parts = []
        if self.multi_currency:
            others = ", ".join(self.currencies[1:])
            rates = "dated rates" if self.dated_rates else "static rates"
            parts.append(f"{self.corporate_currency} (corporate), {others} with {rates}")
        if self.currency_without_rate:
            parts.append(f"{self.currency_without_rate} without a rate")
        if self.fiscal_start_month != 1 or self.custom_fiscal_year:
            kind = "custom 4-4-5 fiscal year" if self.custom_fiscal_year else "fiscal year"
            named = "start" if self.fiscal_year_named_by_start else "end"
            parts.append(f"{kind} from month {self.fiscal_start_month}, named by its {named}")
        flags = {
            "monthly quotas": self.monthly_quotas,
            "no email Tasks": not self.email_tasks,
            "no meetings": not self.meetings,
            "record types": self.record_types,
            "forecast categories": self.forecast_categories,
        }
        parts += [name for name, on in flags.items() if on]
        if self.locale != "en_US":
            parts.append(f"locale {self.locale}")
        return "; ".join(parts)

    def org_number(self, seed: int) -> int:
        """The record number of the org's Organization Id: the seed for the default shape (as
        the demo org always had), else also derived from the shape, so that two shapes of one
        seed are two orgs (a data directory keeps one org's history)."""
        if self.is_default:
            return seed % 62**9
        key = repr(sorted((f.name, getattr(self, f.name)) for f in fields(self)))
        return (zlib.crc32(f"{seed}/{key}".encode()) << 16 | (seed & 0xFFFF)) % 62**9


# What `salesprep generate-org --international` and `salesprep demo --international` build:
# a European company selling worldwide.
INTERNATIONAL = OrgShape(
    currencies=("EUR", "USD", "GBP", "JPY"),
    dated_rates=True,
    fiscal_start_month=2,
    monthly_quotas=True,
    email_tasks=False,
    record_types=True,
    forecast_categories=True,
    locale="de_DE",
)


def shape_with(base: OrgShape, **changes: object) -> OrgShape:
    """`base` with the options given (None leaves one as it is)."""
    return replace(base, **{k: v for k, v in changes.items() if v is not None})
