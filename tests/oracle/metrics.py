"""METRICS.md recomputed from an org folder in plain Python: the oracle marts and packets face.

Written only from METRICS.md, the product's metric dictionary (the project keeps its copy in
docs/metrics.md), and the org-folder format (Data Export CSVs), never from the dbt models, so
that the two implementations can catch each other's mistakes.

Interpretations (where METRICS.md is silent, this is what the oracle chose):

Reading the org folder
 I1. File names and headers match case-insensitively; a missing object is an empty table, a
     missing column is all null. Rows with `IsDeleted = true` are dropped on read, everywhere.
 I2. Datetimes are converted from UTC to the org timezone and then handled as naive local
     wall-clock values; all "N days before week_end" windows are local wall-clock windows
     `[week_end - N days, week_end)` (for date fields: `[week_end_date - N, week_end_date)`).
 I3. "Whole days" between two instants is floor((later - earlier) / 24 h) on local wall-clock
     values, so a stage entered on Monday 15:00 is 6 whole days old at the next Monday 00:00.

Who gets a packet
 I4. Only active users are considered. Reasons, first match wins: `manager_cycle` (walking
     `ManagerId` up from the user revisits a user, a self-manager included), `has_reports` (an
     active user has them as `ManagerId`), `no_manager` (empty `ManagerId`, or one that is not a
     User in the folder), `inactive_manager`, `excluded_by_config`. Role/profile filters compare
     `UserRole.Name` / `Profile.Name` exactly; a non-empty include list excludes the rest.

Activity metrics
 I5. "Owned" is the current `OwnerId` in every week (the export has no ownership history);
     `deals` and `fast_movers` hold the opportunities owned by paired reps only.
 I6. The activity metrics read the *current* Opportunity record (`IsWon`, `IsClosed`,
     `CloseDate`, `Amount`, `CurrencyIsoCode`, `OwnerId`), as the definitions name those fields;
     its amount is converted with the record's own currency and `CloseDate` (I23). Only deal
     movement, stuck deals, fast movers and open pipeline use the as-of-week_end state.
 I7. A Task's type is `TaskSubtype` when non-empty, else `Type`; values compare exactly
     ('Call', 'Email'). A Task without `ActivityDate` counts in no week.
 I8. `avg_4w` = (sum of the 4 previous weeks) / 4; weeks without activity count as 0, also
     before the rep or the org had any data. `team_median` is the median (mean of the middle
     two for an even count) over the paired reps of the rep's manager, the rep included.
 I9. `pipeline_created` and `closed_won_amount` are floats; counts are ints; a kind of activity
     the org does not log (I28) is None in all four fields.

Opportunity state and stages
 I10. History rows are ordered by (`CreatedDate`, `Id`). History rows without `StageName`, and
     rows of opportunities not in `Opportunity.csv` (deleted, unknown or left out by the record
     type rules, I29), are ignored.
 I11. A stage is looked up by `OpportunityStage.ApiName`, then `MasterLabel`. Without any
     OpportunityStage rows the standard list is used (Prospecting … Negotiation/Review, Closed
     Won, Closed Lost) with config `extra_stages` inserted as open stages after
     Negotiation/Review, in the given order. A stage name found in the data but in neither list
     sorts after all known stages (alphabetically) and is closed/won if any current
     Opportunity record in that stage says so. An as-of state taken from the current record,
     too, takes IsClosed/IsWon from its stage (the activity metrics of I6 read the record's
     own `IsWon`/`IsClosed`, and the stage only where those are empty).
 I12. `advanced`/`regressed` compare `SortOrder`; "stages advanced" (fast movers) is the
     difference in position in the stage list ordered by (`SortOrder`, name).
 I13. A deal closed at both week_start and week_end gets no movement, even if it flipped
     between won and lost.

Stuck deals
 I14. `days_in_stage` is computed for every deal with a movement (also closed ones); only deals
     open at week_end can be stuck.
 I15. Stage runs for the threshold are built from OpportunityHistory rows before week_end of all
     opportunities in the org (any owner); a run of stage S "left" S when the next run starts,
     and counts when that start is in the lookback window. Days spent = whole days (I3).
 I16. Deal age = whole days from `CreatedDate` to week_end; "more than 14 days old" is age > 14.
     Activity on the deal is from any owner: closed Tasks (any type) by `ActivityDate`, Events
     by `StartDateTime` (or `ActivityDate` when that is empty). The rule is evaluated only in a
     week where the org logs at least one of calls, emails and meetings (I28); otherwise
     `no_activity` is None (an org with no Task and no Event data at all logs none).
 I17. Close-date pushes: from OpportunityHistory, a row whose `CloseDate` is later than the
     previous non-null `CloseDate` of that opportunity (any time before), with the row's
     `CreatedDate` in the window; from OpportunityFieldHistory, a `Field = 'CloseDate'` row with
     `NewValue` later than `OldValue`. The count is the larger of the two sources, so a change
     seen in both is counted once and an org with either source is served.

Fast movers
 I18. The won-cycle population is every opportunity of the org (any owner) that is won as of
     week_end with the as-of `CloseDate` in `[week_end_date - 365, week_end_date)`; cycle =
     `CloseDate - local date of CreatedDate` in days; the 25th percentile interpolates linearly
     (like `quantile_cont`). Deals "won during the week" are those with movement `won`.
 I19. Stage jumps count only for movement `advanced` (open at both instants).

Quota
 I20. The quarter is the fiscal quarter (I26) containing the week's last day. `amount` sums the
     rep's `ForecastingQuota` rows whose `StartDate` falls in `[quarter_start, quarter_end)`,
     each divided by the static `CurrencyType` rate of its own `CurrencyIsoCode` (empty: the
     corporate currency). A quota with any such row lacking a rate is None (reason `no_rate`),
     never a partial sum; a sum <= 0 (reason `zero_amount`) or no rows (`no_rows`) is None too,
     since the packet never shows 0%. The quota CSV fallback is not implemented.
 I21. `won_to_date` uses the current records (I6), `CloseDate` in `[quarter_start,
     min(week_end, quarter_end))`. `open_pipeline` sums the converted as-of-week_end amount of
     the rep's deals open at week_end with as-of `CloseDate` in `[week_end, quarter_end)` and an
     as-of forecast category other than `Omitted`; overdue open deals are not counted. A null
     amount, or one without a rate, adds nothing. `coverage` is None when `won_to_date >=
     amount`.
 I22. Underperformance counts the weeks among this one and the 3 before with a quota and
     `pacing < 0.7`; a week without quota never counts as below. Each week uses its own quarter.

Currency
 I23. The corporate currency is the `CurrencyType` row with `IsCorporate = true` (the smallest
     Id if several); with CurrencyType rows but none corporate, config `currency_code`. An org
     without any CurrencyType row is a single-currency org: every amount is taken as it is, in
     config `currency_code`, whatever `CurrencyIsoCode` says, and `currency_original` is that
     code. Otherwise an empty `CurrencyIsoCode` is the corporate currency, the corporate rate is
     1 (dated rows for it are not read), codes compare exactly, and a rate that is null, 0 or
     negative is no rate. Opportunity amounts: when any `DatedConversionRate` row has `IsoCode`
     C, only those rows are used: the one with `StartDate <= CloseDate < NextStartDate` (empty
     `NextStartDate` = open-ended; the latest `StartDate` if rows overlap); a null `CloseDate`
     or no covering row is no rate. Else the `CurrencyType.ConversionRate` of C, active or not;
     no CurrencyType row for C is no rate. Converted = amount / rate, never rounded.
 I24. An as-of amount is that history row's `Amount`, in the row's own `CurrencyIsoCode` (else
     the opportunity's current one), converted by that row's `CloseDate`; an as-of state taken
     from the current record converts like I6. A deal's `amount` is the converted as-of-week_end
     amount (None without a rate), `amount_original`/`currency_original` the raw ones.
 I25. `unconverted_amounts` lists, for the paired reps and this week only, every non-null amount
     that has no rate and so was left out of a number: `pipeline_created` (created this week),
     `closed_won_amount` (won this week), `won_to_date` and `open_pipeline` (the rep's quarter;
     listed whether or not the rep has a quota) and `deal_amount` (a deal of the packet). A null
     `Amount` is not listed there (it is `pipeline_created_null_amounts`). Quota rows without a
     rate are in `quota_rows_without_rate`.

Fiscal quarter
 I26. A day's quarter: a `Period` row with `Type = 'Quarter'` (exactly) whose `StartDate` <= day
     <= `EndDate` (rows without both dates are ignored; the latest `StartDate`, then the
     smallest Id, if rows overlap); it runs `[StartDate, EndDate + 1 day)`, its number is
     `Period.Number` (when empty, its position by `StartDate` among the quarters of its fiscal
     year) and its fiscal year name the `FiscalYearSettings.Name` of `FiscalYearSettingsId` (when
     missing or empty, the name the standard rule gives the fiscal year containing `EndDate`).
     Else the standard rule with start month M: config `fiscal_year_start_month`, else the
     first Organization row's `FiscalYearStartMonth` (outside 1..12 is an input error), else 1.
     Quarters start on the 1st of M, M+3, M+6, M+9; the number counts from the fiscal year's
     start; the name is the calendar year in which the fiscal year starts when
     `UsesStartDateAsFiscalYearName` is true, else the year in which it ends (empty = false;
     the Organization's flag holds when config sets M too). Label: `FY<name> Q<number>`.

Forecast category
 I27. The as-of forecast category is the last history row's `ForecastCategory`, else (empty)
     the record's current `ForecastCategoryName`; from the current record when no row is before
     t. Both are normalised: `BestCase` -> `Best Case`, `Forecast` -> `Commit` (other values
     are kept as they are; a record already holding the label is unchanged); none is None.
     Only exactly `Omitted` is left out of `open_pipeline`.

Activity the org does not log
 I28. A kind is logged in a week when the whole org (any owner, paired, unpaired or not a User
     in the folder) has at least one non-deleted record counted by that metric's rule in the 91
     days before week_end: closed Tasks of that type (I7) with `ActivityDate` in
     `[week_end_date - 91, week_end_date)`, Events with local `StartDateTime` in `[week_end -
     91 days, week_end)` (an Event without `StartDateTime` counts for no kind). Whether a kind
     is logged is decided per week: the week's `prior_week` and `avg_4w` read 0 for weeks with
     no record, as in I8. `has_activity_data` (any non-deleted Task or Event row at all) is
     kept for information; the no_activity rule follows I16.

Record types
 I29. Config `record_types.include` (non-empty) keeps only opportunities whose `RecordTypeId`
     is a RecordType row with a listed `DeveloperName` (no or an unknown `RecordTypeId` is left
     out); `record_types.exclude` leaves out the listed ones (an unknown id stays). Names
     compare exactly. A left-out opportunity, its history and field history are dropped when
     the org is read, before the stage list (I11) is built, so no opportunity-based number
     sees it; Tasks and Events on it still count as rep activity. A deal's `record_type` is the
     RecordType `Name` (None when it has none or the id is unknown).

Since our last 1:1 (stuck deals followed up)
 I30. Weeks are followed up in the order given, which must be consecutive ISO weeks starting
     at the first week with data (a streak needs every earlier week). A deal's streak at week W
     is the number of consecutive weeks ending at W in which it is stuck (I14-I17); a week in
     which it has no movement (closed at both instants) or is not stuck ends the run. The
     follow-up of W lists the deals stuck at W-1 or at W: `newly_stuck` when not stuck at W-1,
     else by W's movement `won`, `lost`, `advanced`, else `still_stuck` when stuck at W, else
     `unstuck`. Its `stuck_weeks` is the streak at W when stuck at W, else the streak at W-1;
     `close_it_or_kill_it` needs stuck at W with a streak of at least
     `close_it_or_kill_it_weeks`. A deal stuck at W-1 without a movement at W has no follow-up.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from salesprep.catalog import get_object

METRIC_NAMES = (
    "calls",
    "emails",
    "meetings",
    "opportunities_created",
    "pipeline_created",
    "closed_won_count",
    "closed_won_amount",
    "closed_lost_count",
)
# The kinds of activity an org may keep outside Salesforce (METRICS.md, Activity the org does
# not log), and the window that decides whether the org logs one (I28).
ACTIVITY_KINDS = ("calls", "emails", "meetings")
ACTIVITY_LOGGED_LOOKBACK_DAYS = 91
# The numbers an amount without a conversion rate is left out of (I25).
UNCONVERTED_NUMBERS = (
    "pipeline_created",
    "closed_won_amount",
    "won_to_date",
    "open_pipeline",
    "deal_amount",
)

# The defaults METRICS.md states, under the names of the `metrics` settings.
DEFAULT_RULES: dict[str, Any] = {
    "stuck_min_days": 14,
    "stuck_median_factor": 1.5,
    "stuck_min_exits": 5,
    "stuck_fallback_days": 30,
    "stage_exit_lookback_days": 365,
    "no_activity_days": 14,
    "close_push_min_count": 2,
    "close_push_window_days": 90,
    "fast_mover_cycle_percentile": 0.25,
    "fast_mover_lookback_days": 365,
    "fast_mover_min_stage_jump": 2,
    "underperformance_pacing": 0.7,
    "underperformance_weeks": 3,
    "underperformance_window_weeks": 4,
    "close_it_or_kill_it_weeks": 3,
    # Not thresholds, but config METRICS.md mentions, under the names of the settings.
    "fiscal_year_start_month": None,  # None: from the org (Period, Organization), else January
    "currency_code": "USD",
    "record_types": {"include": [], "exclude": []},
    "extra_stages": [],
    "include_roles": [],
    "exclude_roles": [],
    "include_profiles": [],
    "exclude_profiles": [],
}
_PAIR_RULES = ("include_roles", "exclude_roles", "include_profiles", "exclude_profiles")

# Salesforce's default Opportunity stage picklist; the closed ones are (name, is_won).
STANDARD_OPEN_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
)
STANDARD_CLOSED_STAGES = (("Closed Won", True), ("Closed Lost", False))

# OpportunityHistory.ForecastCategory holds API names; the Opportunity shows labels (I27).
FORECAST_CATEGORY_LABELS = {"BestCase": "Best Case", "Forecast": "Commit"}
OMITTED = "Omitted"

STUCK_REASON_ORDER = ("stage_aging", "no_activity", "close_date_pushed")

_OBJECTS = (
    "Organization",
    "FiscalYearSettings",
    "Period",
    "CurrencyType",
    "DatedConversionRate",
    "RecordType",
    "User",
    "UserRole",
    "Profile",
    "OpportunityStage",
    "Opportunity",
    "OpportunityHistory",
    "OpportunityFieldHistory",
    "Task",
    "Event",
    "ForecastingQuota",
)


class OracleInputError(ValueError):
    """An org folder, file, value or argument the oracle cannot use; the message names it."""


# ----------------------------------------------------------------------------- reading


@dataclass
class _Table:
    rows: list[dict[str, Any]]
    present: bool
    missing_fields: list[str]


def _find_csv(org_dir: Path, name: str) -> Path | None:
    wanted = f"{name}.csv".lower()
    for candidate in sorted(org_dir.iterdir()):
        if candidate.is_file() and candidate.name.lower() == wanted:
            return candidate
    return None


def _parse_column(values: pd.Series, type_: str, tz: ZoneInfo, where: str) -> list[Any]:
    """One CSV column (strings, '' = null) as Python values of the describe type."""
    texts = [v.strip() for v in values.tolist()]
    if type_ == "boolean":
        out: list[Any] = []
        for i, text in enumerate(texts):
            lowered = text.lower()
            if lowered == "":
                out.append(None)
            elif lowered in ("true", "1"):
                out.append(True)
            elif lowered in ("false", "0"):
                out.append(False)
            else:
                raise OracleInputError(f"{where} row {i + 2}: {text!r} is not a boolean")
        return out
    if type_ in ("currency", "double", "percent", "int"):
        out = []
        for i, text in enumerate(texts):
            if text == "":
                out.append(None)
                continue
            try:
                number = float(text)
            except ValueError as exc:
                raise OracleInputError(f"{where} row {i + 2}: {text!r} is not a number") from exc
            out.append(int(number) if type_ == "int" else number)
        return out
    if type_ == "date":
        out = []
        for i, text in enumerate(texts):
            try:
                out.append(date.fromisoformat(text[:10]) if text else None)
            except ValueError as exc:
                raise OracleInputError(f"{where} row {i + 2}: {text!r} is not a date") from exc
        return out
    if type_ == "datetime":
        series = pd.Series([t or None for t in texts], dtype="object")
        try:
            parsed = pd.to_datetime(series, utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise OracleInputError(f"{where}: not a Salesforce datetime column: {exc}") from exc
        local = parsed.dt.tz_convert(tz).dt.tz_localize(None)
        return [None if pd.isna(v) else v.to_pydatetime() for v in local]
    return [t if t != "" else None for t in texts]


def _read_object(org_dir: Path, name: str, tz: ZoneInfo) -> _Table:
    sobject = get_object(name)
    path = _find_csv(org_dir, sobject.name)
    if path is None:
        return _Table([], present=False, missing_fields=sobject.field_names)
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=True
        )
    except pd.errors.EmptyDataError:
        return _Table([], present=True, missing_fields=[])
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise OracleInputError(f"{path}: cannot read the CSV: {exc}") from exc
    by_lower = {str(c).strip().lower(): c for c in frame.columns}
    columns: dict[str, list[Any]] = {}
    missing = []
    for f in sobject.fields:
        column = by_lower.get(f.name.lower())
        if column is None:
            missing.append(f.name)
            columns[f.name] = [None] * len(frame)
        else:
            columns[f.name] = _parse_column(frame[column], f.type, tz, f"{path.name} {f.name}")
    names = list(columns)
    rows = [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    rows = [r for r in rows if r.get("IsDeleted") is not True]
    return _Table(rows, present=True, missing_fields=missing)


# ----------------------------------------------------------------------------- stages


@dataclass(frozen=True)
class Stage:
    """One opportunity stage: its order and whether it is closed or won."""

    name: str
    sort_order: float
    rank: int
    is_closed: bool
    is_won: bool
    known: bool


def _build_stages(
    stage_rows: list[dict[str, Any]],
    opportunities: list[dict[str, Any]],
    history: list[dict[str, Any]],
    extra_stages: list[str],
) -> tuple[dict[str, Stage], str]:
    """Stage lookup by name, and its source ('org' or 'standard')."""
    declared: list[tuple[str, float, bool, bool, list[str]]] = []
    if stage_rows:
        source = "org"
        for row in stage_rows:
            name = row["ApiName"] or row["MasterLabel"]
            if not name:
                continue
            aliases = [a for a in (row["ApiName"], row["MasterLabel"]) if a]
            sort_order = row["SortOrder"] if row["SortOrder"] is not None else math.inf
            declared.append(
                (name, float(sort_order), bool(row["IsClosed"]), bool(row["IsWon"]), aliases)
            )
    else:
        source = "standard"
        names = [*STANDARD_OPEN_STAGES, *[s for s in extra_stages if s not in STANDARD_OPEN_STAGES]]
        for i, name in enumerate(names, start=1):
            declared.append((name, float(i), False, False, [name]))
        for j, (name, won) in enumerate(STANDARD_CLOSED_STAGES, start=len(names) + 1):
            declared.append((name, float(j), True, won, [name]))

    known_names = {alias for *_, aliases in declared for alias in aliases}
    seen = {r["StageName"] for r in [*opportunities, *history] if r.get("StageName")}
    unknown = sorted(seen - known_names)
    closed_by_record: dict[str, tuple[bool, bool]] = {}
    for opp in opportunities:
        stage = opp["StageName"]
        if stage in unknown:
            closed, won = closed_by_record.get(stage, (False, False))
            closed_by_record[stage] = (closed or bool(opp["IsClosed"]), won or bool(opp["IsWon"]))
    top = max((d[1] for d in declared if d[1] != math.inf), default=0.0)
    for i, name in enumerate(unknown, start=1):
        closed, won = closed_by_record.get(name, (False, False))
        declared.append((name, top + i, closed, won, [name]))

    ordered = sorted(enumerate(declared), key=lambda item: (item[1][1], item[1][0], item[0]))
    stages: dict[str, Stage] = {}
    for rank, (index, (name, sort_order, closed, won, aliases)) in enumerate(ordered):
        stage = Stage(
            name, sort_order, rank, closed, won, known=index < len(declared) - len(unknown)
        )
        for alias in aliases:
            # ApiName is listed first and wins over another stage's MasterLabel.
            stages.setdefault(alias, stage)
    return stages, source


def _stage_of(stages: dict[str, Stage], name: str | None) -> Stage:
    """The stage called name; an empty name is an unknown open stage sorted last."""
    found = stages.get(name or "")
    if found is not None:
        return found
    return Stage(name or "", math.inf, len(stages), False, False, known=False)


# ----------------------------------------------------------------------------- currency


def _usable_rate(rate: float | None) -> float | None:
    """A conversion rate, or None for one that is null, 0 or negative (no rate, I23)."""
    return rate if rate is not None and rate > 0 else None


@dataclass(frozen=True)
class Money:
    """The org's currencies: the corporate code and the rates that convert into it (I23)."""

    corporate: str
    # False: no CurrencyType rows, so every amount is taken as it is.
    multi_currency: bool
    static_rates: dict[str, float | None]
    # IsoCode -> (StartDate, NextStartDate, ConversionRate), ordered by StartDate.
    dated_rates: dict[str, list[tuple[date | None, date | None, float | None]]]

    def code(self, iso_code: str | None) -> str:
        """The currency of a record whose `CurrencyIsoCode` is iso_code."""
        if not self.multi_currency:
            return self.corporate
        return iso_code or self.corporate

    def rate(self, iso_code: str | None, close_date: date | None, *, dated: bool) -> float | None:
        """Units of the currency per corporate unit; dated (by close_date) for opportunities."""
        code = self.code(iso_code)
        if code == self.corporate:
            return 1.0
        if dated and code in self.dated_rates:
            found: float | None = None
            if close_date is not None:
                for start, next_start, rate in self.dated_rates[code]:
                    if (
                        start is not None
                        and start <= close_date
                        and (next_start is None or close_date < next_start)
                    ):
                        found = rate  # ordered by StartDate: the latest covering row wins
            return _usable_rate(found)
        return _usable_rate(self.static_rates.get(code))

    def convert(
        self, amount: float | None, iso_code: str | None, close_date: date | None, *, dated: bool
    ) -> float | None:
        """amount in the corporate currency; None for a null amount or one without a rate."""
        if amount is None:
            return None
        rate = self.rate(iso_code, close_date, dated=dated)
        return None if rate is None else amount / rate


def _build_money(
    currency_types: list[dict[str, Any]], dated_rows: list[dict[str, Any]], config_code: str
) -> Money:
    types = sorted((r for r in currency_types if r["IsoCode"]), key=lambda r: r["Id"] or "")
    corporate = next((r["IsoCode"] for r in types if r["IsCorporate"] is True), config_code)
    static: dict[str, float | None] = {}
    for row in types:
        static.setdefault(row["IsoCode"], row["ConversionRate"])
    dated: dict[str, list[tuple[date | None, date | None, float | None]]] = defaultdict(list)
    for row in sorted(
        (r for r in dated_rows if r["IsoCode"]),
        key=lambda r: (r["StartDate"] or date.min, r["Id"] or ""),
    ):
        dated[row["IsoCode"]].append(
            (row["StartDate"], row["NextStartDate"], row["ConversionRate"])
        )
    return Money(corporate, bool(types), static, dict(dated))


# ----------------------------------------------------------------------------- fiscal quarters


@dataclass(frozen=True)
class Quarter:
    """A fiscal quarter: `[start, end)`, its number in the fiscal year and the year's name."""

    start: date
    end: date
    number: int
    fiscal_year: str
    source: str  # "period" (a custom fiscal year's Period row) or "standard"

    @property
    def label(self) -> str:
        return f"FY{self.fiscal_year} Q{self.number}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "quarter_label": self.label,
            "quarter_start": self.start,
            "quarter_end": self.end,
            "quarter_number": self.number,
            "fiscal_year": self.fiscal_year,
            "quarter_source": self.source,
        }


@dataclass(frozen=True)
class FiscalCalendar:
    """Which fiscal quarter holds a day (I26)."""

    start_month: int
    start_month_source: str  # "config", "organization" or "default"
    uses_start_date_as_name: bool
    periods: tuple[tuple[Quarter, str], ...]  # (quarter, Period Id), by (start, Id)

    def standard(self, day: date) -> Quarter:
        """The quarter of the standard fiscal year starting in `start_month`."""
        first = self.start_month
        month = day.month - (day.month - first) % 3
        year = day.year
        if month < 1:
            month += 12
            year -= 1
        end_month, end_year = month + 3, year
        if end_month > 12:
            end_month -= 12
            end_year += 1
        fy_start_year = year if month >= first else year - 1
        ends_in = fy_start_year if first == 1 else fy_start_year + 1
        name = fy_start_year if self.uses_start_date_as_name else ends_in
        number = (month - first) % 12 // 3 + 1
        return Quarter(
            date(year, month, 1), date(end_year, end_month, 1), number, str(name), "standard"
        )

    def quarter_of(self, day: date) -> Quarter:
        covering = [q for q, _ in self.periods if q.start <= day < q.end]
        if covering:
            latest = max(q.start for q in covering)
            return next(q for q in covering if q.start == latest)
        return self.standard(day)


def _build_calendar(
    organization: list[dict[str, Any]],
    fiscal_years: list[dict[str, Any]],
    periods: list[dict[str, Any]],
    config_month: int | None,
) -> FiscalCalendar:
    org_row = next((r for r in organization if r["Id"]), None)
    org_month = org_row["FiscalYearStartMonth"] if org_row else None
    if org_month is not None and not 1 <= org_month <= 12:
        raise OracleInputError(
            f"Organization.FiscalYearStartMonth {org_month} is not a month 1..12; fix the "
            "Organization row or set the fiscal_year_start_month rule"
        )
    if config_month is not None:
        month, source = config_month, "config"
    elif org_month is not None:
        month, source = int(org_month), "organization"
    else:
        month, source = 1, "default"
    uses_start = bool(org_row and org_row["UsesStartDateAsFiscalYearName"] is True)
    calendar = FiscalCalendar(month, source, uses_start, ())

    names = {r["Id"]: r["Name"] for r in fiscal_years if r["Id"]}
    rows = sorted(
        (
            r
            for r in periods
            if r["Type"] == "Quarter" and r["StartDate"] is not None and r["EndDate"] is not None
        ),
        key=lambda r: (r["StartDate"], r["Id"] or ""),
    )
    position: dict[str | None, int] = defaultdict(int)
    quarters = []
    for row in rows:
        position[row["FiscalYearSettingsId"]] += 1
        number = (
            row["Number"] if row["Number"] is not None else position[row["FiscalYearSettingsId"]]
        )
        name = (
            names.get(row["FiscalYearSettingsId"]) or calendar.standard(row["EndDate"]).fiscal_year
        )
        end = row["EndDate"] + timedelta(days=1)
        quarters.append((Quarter(row["StartDate"], end, int(number), name, "period"), row["Id"]))
    return FiscalCalendar(month, source, uses_start, tuple(quarters))


def _forecast_label(value: str | None) -> str | None:
    if not value:
        return None
    return FORECAST_CATEGORY_LABELS.get(value, value)


# ----------------------------------------------------------------------------- opportunities


@dataclass(frozen=True)
class State:
    """An opportunity's state at an instant; `amount` is in the corporate currency."""

    stage: str
    amount: float | None
    close_date: date | None
    is_closed: bool
    is_won: bool
    amount_original: float | None = None
    currency_original: str | None = None
    forecast_category: str | None = None


@dataclass
class _Opportunity:
    id: str
    name: str | None
    owner_id: str | None
    created: datetime | None
    record: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    history_times: list[datetime] = field(default_factory=list)
    field_history_close: list[tuple[datetime, date | None, date | None]] = field(
        default_factory=list
    )

    def rows_before(self, t: datetime) -> list[dict[str, Any]]:
        return self.history[: bisect.bisect_left(self.history_times, t)]

    def current_amount(self, money: Money) -> float | None:
        """The current record's Amount in the corporate currency (I6)."""
        record = self.record
        return money.convert(
            record["Amount"], record["CurrencyIsoCode"], record["CloseDate"], dated=True
        )

    def state_at(self, t: datetime, stages: dict[str, Stage], money: Money) -> State | None:
        """The last history row before t; else the current record if created before t."""
        rows = self.rows_before(t)
        record = self.record
        if rows:
            row = rows[-1]
            source, currency = row, row["CurrencyIsoCode"] or record["CurrencyIsoCode"]
            category = row["ForecastCategory"] or record["ForecastCategoryName"]
        elif self.created is not None and self.created < t:
            source, currency = record, record["CurrencyIsoCode"]
            category = record["ForecastCategoryName"]
        else:
            return None
        stage = _stage_of(stages, source["StageName"])
        amount, close = source["Amount"], source["CloseDate"]
        return State(
            source["StageName"],
            money.convert(amount, currency, close, dated=True),
            close,
            stage.is_closed,
            stage.is_won,
            amount,
            money.code(currency),
            _forecast_label(category),
        )

    def stage_run_start(self, t: datetime) -> datetime | None:
        """Start of the latest unbroken run of the stage held at t."""
        rows = self.rows_before(t)
        if not rows:
            return self.created
        current = rows[-1]["StageName"]
        start = rows[-1]["CreatedDate"]
        for row in reversed(rows):
            if row["StageName"] != current:
                break
            start = row["CreatedDate"]
        return start

    def stage_runs(self, t: datetime) -> list[tuple[str, datetime, datetime | None]]:
        """(stage, entered, exited) for every run in the history before t."""
        runs: list[list[Any]] = []
        for row in self.rows_before(t):
            if runs and runs[-1][0] == row["StageName"]:
                continue
            if runs:
                runs[-1][2] = row["CreatedDate"]
            runs.append([row["StageName"], row["CreatedDate"], None])
        return [(s, entered, exited) for s, entered, exited in runs]

    def close_date_pushes(self, window_start: datetime, t: datetime) -> int:
        from_history = 0
        previous: date | None = None
        for row in self.rows_before(t):
            close = row["CloseDate"]
            if close is None:
                continue
            if previous is not None and close > previous and row["CreatedDate"] >= window_start:
                from_history += 1
            previous = close
        from_field_history = sum(
            1
            for created, old, new in self.field_history_close
            if window_start <= created < t and old is not None and new is not None and new > old
        )
        return max(from_history, from_field_history)


# ----------------------------------------------------------------------------- the loaded org


@dataclass
class OracleOrg:
    """An org folder read once, for recomputing many weeks."""

    org_dir: Path
    tz: str
    rules: dict[str, Any]
    users: dict[str, dict[str, Any]]
    role_names: dict[str, str]
    profile_names: dict[str, str]
    stages: dict[str, Stage]
    stage_source: str
    opportunities: dict[str, _Opportunity]
    opportunities_by_owner: dict[str, list[_Opportunity]]
    tasks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    quotas: list[dict[str, Any]]
    has_activity_data: bool
    missing: dict[str, list[str]]
    absent_objects: list[str]
    # WhatId -> activity dates/datetimes, for no_activity.
    task_dates_by_what: dict[str, list[date]]
    event_times_by_what: dict[str, list[datetime]]
    money: Money = field(default_factory=lambda: Money("USD", False, {}, {}))
    calendar: FiscalCalendar = field(
        default_factory=lambda: FiscalCalendar(1, "default", False, ())
    )
    # RecordType Id -> Name, for the deals' `record_type`.
    record_type_names: dict[str, str | None] = field(default_factory=dict)
    # Opportunity ids the record type rules left out (I29).
    left_out_by_record_type: set[str] = field(default_factory=set)
    # Per kind: the sorted dates (calls, emails) or local datetimes (meetings) of the whole org's
    # records that metric counts, for whether the org logs the kind (I28).
    logged_activity: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        """The corporate ISO code: every amount the oracle returns is in it."""
        return self.money.corporate

    def quarter_of(self, day: date) -> Quarter:
        return self.calendar.quarter_of(day)


def _record_type_rules(value: Any) -> dict[str, list[str]]:
    """`record_types` as {"include": [...], "exclude": [...]}, from a mapping or the settings."""
    if isinstance(value, dict):
        unknown = set(value) - {"include", "exclude"}
        if unknown:
            raise OracleInputError(
                f"rule record_types has unknown keys {sorted(unknown)}; use include and exclude"
            )
        include, exclude = value.get("include", []), value.get("exclude", [])
    else:
        include, exclude = getattr(value, "include", None), getattr(value, "exclude", None)
    for name, names in (("include", include), ("exclude", exclude)):
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise OracleInputError(
                f"rule record_types.{name}={names!r} must be a list of DeveloperNames"
            )
    return {"include": list(include), "exclude": list(exclude)}


def _resolve_rules(rules: dict[str, Any] | None) -> dict[str, Any]:
    resolved = {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULT_RULES.items()}
    for key, value in (rules or {}).items():
        if key not in DEFAULT_RULES:
            known = ", ".join(sorted(DEFAULT_RULES))
            raise OracleInputError(f"unknown rule {key!r}; known rules: {known}")
        resolved[key] = value
    month = resolved["fiscal_year_start_month"]
    if month is not None and (not isinstance(month, int) or not 1 <= month <= 12):
        raise OracleInputError(f"rule fiscal_year_start_month={month!r} must be 1..12 or None")
    code = resolved["currency_code"]
    if not isinstance(code, str) or not code.strip():
        raise OracleInputError(f"rule currency_code={code!r} must be an ISO code such as 'USD'")
    resolved["record_types"] = _record_type_rules(resolved["record_types"])
    return resolved


def rules_from_settings(settings: Any) -> dict[str, Any]:
    """The oracle's rules from a `salesprep.config.Settings` (read by attribute name only).

    Settings the object does not have keep their METRICS.md default, so this works across
    versions of the settings; the oracle itself never imports them.
    """
    rules: dict[str, Any] = {}
    owners = (getattr(settings, "metrics", None), getattr(settings, "pairs", None), settings)
    for key in DEFAULT_RULES:
        owner = next((o for o in owners if o is not None and hasattr(o, key)), None)
        if owner is not None:
            value = getattr(owner, key)
            rules[key] = list(value) if isinstance(value, list | tuple) else value
    return rules


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise OracleInputError(
            f"tz {tz!r} is not an IANA timezone such as 'Europe/Berlin'"
        ) from exc


def _kept_by_record_type(
    opp: dict[str, Any], developer_names: dict[str, str | None], rules: dict[str, list[str]]
) -> bool:
    name = developer_names.get(opp["RecordTypeId"] or "")
    if rules["include"] and name not in rules["include"]:
        return False
    return not (name is not None and name in rules["exclude"])


def load_org(org_dir: Path, *, tz: str = "UTC", rules: dict[str, Any] | None = None) -> OracleOrg:
    """Read every object the metrics need from an org folder, in the org timezone."""
    org_dir = Path(org_dir)
    if not org_dir.is_dir():
        raise OracleInputError(f"org folder {org_dir} does not exist or is not a folder")
    zone = _zone(tz)
    resolved = _resolve_rules(rules)
    tables = {name: _read_object(org_dir, name, zone) for name in _OBJECTS}
    for required in ("User", "Opportunity"):
        if not tables[required].present:
            raise OracleInputError(f"org folder {org_dir} has no {required}.csv")

    money = _build_money(
        tables["CurrencyType"].rows, tables["DatedConversionRate"].rows, resolved["currency_code"]
    )
    calendar = _build_calendar(
        tables["Organization"].rows,
        tables["FiscalYearSettings"].rows,
        tables["Period"].rows,
        resolved["fiscal_year_start_month"],
    )
    record_types = [r for r in tables["RecordType"].rows if r["Id"]]
    developer_names = {r["Id"]: r["DeveloperName"] for r in record_types}

    users = {u["Id"]: u for u in tables["User"].rows if u["Id"]}
    all_opps = [o for o in tables["Opportunity"].rows if o["Id"]]
    opp_rows = [
        o for o in all_opps if _kept_by_record_type(o, developer_names, resolved["record_types"])
    ]
    kept = {o["Id"] for o in opp_rows}
    history_rows = [
        h
        for h in tables["OpportunityHistory"].rows
        if h["StageName"] and h["CreatedDate"] is not None and h["OpportunityId"] in kept
    ]
    stages, stage_source = _build_stages(
        tables["OpportunityStage"].rows, opp_rows, history_rows, resolved["extra_stages"]
    )

    opportunities = {
        o["Id"]: _Opportunity(o["Id"], o["Name"], o["OwnerId"], o["CreatedDate"], o)
        for o in opp_rows
    }
    for row in sorted(history_rows, key=lambda h: (h["CreatedDate"], h["Id"] or "")):
        opp = opportunities[row["OpportunityId"]]
        opp.history.append(row)
        opp.history_times.append(row["CreatedDate"])
    for row in tables["OpportunityFieldHistory"].rows:
        opp = opportunities.get(row["OpportunityId"])
        if opp is None or (row["Field"] or "") != "CloseDate" or row["CreatedDate"] is None:
            continue
        opp.field_history_close.append(
            (row["CreatedDate"], _loose_date(row["OldValue"]), _loose_date(row["NewValue"]))
        )

    by_owner: dict[str, list[_Opportunity]] = defaultdict(list)
    for opp in opportunities.values():
        by_owner[opp.owner_id or ""].append(opp)

    tasks, events = tables["Task"].rows, tables["Event"].rows
    task_dates: dict[str, list[date]] = defaultdict(list)
    logged: dict[str, list[Any]] = {kind: [] for kind in ACTIVITY_KINDS}
    for task in tasks:
        if task["IsClosed"] is not True or task["ActivityDate"] is None:
            continue
        if task["WhatId"]:
            task_dates[task["WhatId"]].append(task["ActivityDate"])
        kind = _task_kind(task)
        if kind is not None:
            logged[kind].append(task["ActivityDate"])
    event_times: dict[str, list[datetime]] = defaultdict(list)
    for event in events:
        when = event["StartDateTime"]
        if when is not None:
            logged["meetings"].append(when)
        elif event["ActivityDate"] is not None:
            when = datetime.combine(event["ActivityDate"], time())
        if event["WhatId"] and when is not None:
            event_times[event["WhatId"]].append(when)

    return OracleOrg(
        org_dir=org_dir,
        tz=tz,
        rules=resolved,
        users=users,
        role_names={r["Id"]: r["Name"] for r in tables["UserRole"].rows if r["Id"]},
        profile_names={p["Id"]: p["Name"] for p in tables["Profile"].rows if p["Id"]},
        stages=stages,
        stage_source=stage_source,
        opportunities=opportunities,
        opportunities_by_owner=dict(by_owner),
        tasks=tasks,
        events=events,
        quotas=tables["ForecastingQuota"].rows,
        has_activity_data=bool(tasks or events),
        missing={n: t.missing_fields for n, t in tables.items() if t.present and t.missing_fields},
        absent_objects=[n for n, t in tables.items() if not t.present],
        task_dates_by_what=dict(task_dates),
        event_times_by_what=dict(event_times),
        money=money,
        calendar=calendar,
        record_type_names={r["Id"]: r["Name"] for r in record_types},
        left_out_by_record_type={o["Id"] for o in all_opps} - kept,
        logged_activity={kind: sorted(values) for kind, values in logged.items()},
    )


def _task_kind(task: dict[str, Any]) -> str | None:
    """'calls' or 'emails' for a Task those metrics count by its type (I7); else None."""
    kind = task["TaskSubtype"] or task["Type"]
    return {"Call": "calls", "Email": "emails"}.get(kind or "")


def _loose_date(value: str | None) -> date | None:
    """A field-history value holding a date ('2026-03-31' or a datetime text); else None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


# ----------------------------------------------------------------------------- time


@dataclass(frozen=True)
class _Week:
    label: str
    start_date: date

    @classmethod
    def parse(cls, label: str) -> _Week:
        text = label.strip()
        try:
            year, number = text.split("-W")
            start = date.fromisocalendar(int(year), int(number), 1)
        except ValueError as exc:
            raise OracleInputError(
                f"week {label!r} is not an existing ISO week like 2026-W05"
            ) from exc
        return cls(f"{int(year):04d}-W{int(number):02d}", start)

    @classmethod
    def containing(cls, day: date) -> _Week:
        iso = day.isocalendar()
        return cls(f"{iso.year:04d}-W{iso.week:02d}", date.fromisocalendar(iso.year, iso.week, 1))

    @property
    def end_date(self) -> date:
        return self.start_date + timedelta(days=7)

    @property
    def last_day(self) -> date:
        return self.start_date + timedelta(days=6)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.start_date, time())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.end_date, time())

    def shift(self, weeks: int) -> _Week:
        return _Week.containing(self.start_date + timedelta(weeks=weeks))


def _whole_days(later: datetime, earlier: datetime) -> int:
    return math.floor((later - earlier).total_seconds() / 86400)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# ----------------------------------------------------------------------------- pairs


def compute_pairs(org: OracleOrg) -> tuple[set[tuple[str, str]], dict[str, str]]:
    """Manager-rep pairs, and for every other active user the reason they get no packet."""
    users, rules = org.users, org.rules
    active = {uid for uid, u in users.items() if u["IsActive"] is True}
    has_reports = {
        u["ManagerId"] for uid, u in users.items() if uid in active and u["ManagerId"] != uid
    }

    def in_cycle(uid: str) -> bool:
        seen = {uid}
        current = users[uid]["ManagerId"]
        while current is not None and current in users:
            if current in seen:
                return True
            seen.add(current)
            current = users[current]["ManagerId"]
        return False

    def excluded(user: dict[str, Any]) -> bool:
        role = org.role_names.get(user["UserRoleId"] or "")
        profile = org.profile_names.get(user["ProfileId"] or "")
        return bool(
            (rules["include_roles"] and role not in rules["include_roles"])
            or (role is not None and role in rules["exclude_roles"])
            or (rules["include_profiles"] and profile not in rules["include_profiles"])
            or (profile is not None and profile in rules["exclude_profiles"])
        )

    pairs: set[tuple[str, str]] = set()
    no_packet: dict[str, str] = {}
    for uid in sorted(active):
        user = users[uid]
        manager = user["ManagerId"]
        if in_cycle(uid):
            no_packet[uid] = "manager_cycle"
        elif uid in has_reports:
            no_packet[uid] = "has_reports"
        elif manager is None or manager not in users:
            no_packet[uid] = "no_manager"
        elif manager not in active:
            no_packet[uid] = "inactive_manager"
        elif excluded(user):
            no_packet[uid] = "excluded_by_config"
        else:
            pairs.add((manager, uid))
    return pairs, no_packet


# ----------------------------------------------------------------------------- activity


def compute_activity_logged(org: OracleOrg, week: _Week) -> dict[str, bool]:
    """Per kind (calls, emails, meetings): whether the org logs it in Salesforce (I28)."""
    lookback = timedelta(days=ACTIVITY_LOGGED_LOOKBACK_DAYS)
    windows = {
        "calls": (week.end_date - lookback, week.end_date),
        "emails": (week.end_date - lookback, week.end_date),
        "meetings": (week.end - lookback, week.end),
    }
    logged = {}
    for kind, (first, end) in windows.items():
        values = org.logged_activity.get(kind, [])
        at = bisect.bisect_left(values, first)
        logged[kind] = at < len(values) and values[at] < end
    return logged


def _activity_by_week(org: OracleOrg, reps: set[str]) -> dict[tuple[str, str, str], float]:
    """(rep, week label, metric) -> value, for every week with any activity."""
    counts: dict[tuple[str, str, str], float] = defaultdict(float)

    def add(owner: str | None, day: date | None, metric: str, value: float = 1.0) -> None:
        if owner in reps and day is not None:
            counts[(owner, _Week.containing(day).label, metric)] += value

    for task in org.tasks:
        kind = _task_kind(task)
        if task["IsClosed"] is True and kind is not None:
            add(task["OwnerId"], task["ActivityDate"], kind)
    for event in org.events:
        start = event["StartDateTime"]
        add(event["OwnerId"], start.date() if start else None, "meetings")
    for opp in org.opportunities.values():
        record = opp.record
        # A null Amount, or one without a rate, adds nothing (METRICS.md, Currency).
        amount = opp.current_amount(org.money) or 0.0
        if opp.created is not None:
            add(opp.owner_id, opp.created.date(), "opportunities_created")
            add(opp.owner_id, opp.created.date(), "pipeline_created", amount)
        won, closed = _record_flags(org, record)
        if won:
            add(opp.owner_id, record["CloseDate"], "closed_won_count")
            add(opp.owner_id, record["CloseDate"], "closed_won_amount", amount)
        elif closed:
            add(opp.owner_id, record["CloseDate"], "closed_lost_count")
    return counts


def _record_flags(org: OracleOrg, record: dict[str, Any]) -> tuple[bool, bool]:
    """(IsWon, IsClosed) of a current record; from its stage when the columns are empty."""
    stage = org.stages.get(record["StageName"] or "")
    won = record["IsWon"] if record["IsWon"] is not None else bool(stage and stage.is_won)
    closed = (
        record["IsClosed"] if record["IsClosed"] is not None else bool(stage and stage.is_closed)
    )
    return bool(won), bool(closed)


def _metric_value(metric: str, value: float) -> float:
    return float(value) if metric in ("pipeline_created", "closed_won_amount") else int(value)


def compute_metrics(
    org: OracleOrg, week: _Week, pairs: set[tuple[str, str]]
) -> dict[str, dict[str, dict[str, float | None]]]:
    reps = {rep for _, rep in pairs}
    counts = _activity_by_week(org, reps)
    logged = compute_activity_logged(org, week)
    this, prior = week.label, week.shift(-1).label
    previous4 = [week.shift(-k).label for k in range(1, 5)]
    metrics: dict[str, dict[str, dict[str, float | None]]] = {}
    for rep in reps:
        metrics[rep] = {}
        for metric in METRIC_NAMES:
            if not logged.get(metric, True):
                metrics[rep][metric] = dict.fromkeys(
                    ("this_week", "prior_week", "avg_4w", "team_median")
                )
                continue
            metrics[rep][metric] = {
                "this_week": _metric_value(metric, counts.get((rep, this, metric), 0)),
                "prior_week": _metric_value(metric, counts.get((rep, prior, metric), 0)),
                "avg_4w": sum(counts.get((rep, w, metric), 0) for w in previous4) / 4,
            }
    team: dict[str, list[str]] = defaultdict(list)
    for manager, rep in pairs:
        team[manager].append(rep)
    for members in team.values():
        for metric in METRIC_NAMES:
            if not logged.get(metric, True):
                continue
            median = statistics.median(metrics[r][metric]["this_week"] for r in members)
            for rep in members:
                metrics[rep][metric]["team_median"] = median
    return metrics


# ----------------------------------------------------------------------------- deals


def _movement(start: State | None, end: State, stages: dict[str, Stage]) -> str | None:
    if start is None or not start.is_closed:
        if end.is_closed:
            return "won" if end.is_won else "lost"
        if start is None:
            return "new"
        before = _stage_of(stages, start.stage).sort_order
        after = _stage_of(stages, end.stage).sort_order
        if after > before:
            return "advanced"
        if after < before:
            return "regressed"
        return "unchanged"
    if not end.is_closed:
        return "reopened"
    return None


def compute_stage_thresholds(org: OracleOrg, week_end: datetime) -> dict[str, dict[str, Any]]:
    """Per stage: exits in the lookback window, their median days, and the threshold."""
    rules = org.rules
    window_start = week_end - timedelta(days=rules["stage_exit_lookback_days"])
    spent: dict[str, list[int]] = defaultdict(list)
    for opp in org.opportunities.values():
        for stage, entered, exited in opp.stage_runs(week_end):
            if exited is not None and window_start <= exited < week_end:
                spent[stage].append(_whole_days(exited, entered))
    thresholds: dict[str, dict[str, Any]] = {}
    for name in sorted({s.name for s in org.stages.values()} | set(spent)):
        days = spent.get(name, [])
        if len(days) < rules["stuck_min_exits"]:
            threshold, median = float(rules["stuck_fallback_days"]), None
        else:
            median = float(statistics.median(days))
            threshold = max(float(rules["stuck_min_days"]), rules["stuck_median_factor"] * median)
        thresholds[name] = {"exits": len(days), "median_days": median, "threshold_days": threshold}
    return thresholds


def _last_activity(org: OracleOrg, opp_id: str, week_end: datetime) -> date | None:
    dates = [d for d in org.task_dates_by_what.get(opp_id, []) if d < week_end.date()]
    dates += [t.date() for t in org.event_times_by_what.get(opp_id, []) if t < week_end]
    return max(dates, default=None)


def _has_recent_activity(org: OracleOrg, opp_id: str, week_end: datetime) -> bool:
    days = org.rules["no_activity_days"]
    first_day = week_end.date() - timedelta(days=days)
    if any(first_day <= d < week_end.date() for d in org.task_dates_by_what.get(opp_id, [])):
        return True
    window_start = week_end - timedelta(days=days)
    return any(window_start <= t < week_end for t in org.event_times_by_what.get(opp_id, []))


def compute_deals(
    org: OracleOrg, week: _Week, reps: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Deals with a movement this week (owned by the given reps), and the stage thresholds."""
    rules, stages, money = org.rules, org.stages, org.money
    week_start, week_end = week.start, week.end
    thresholds = compute_stage_thresholds(org, week_end)
    push_window_start = week_end - timedelta(days=rules["close_push_window_days"])
    # no_activity sees only what the org logs: with no kind logged it is not evaluated (I16).
    no_activity_applies = any(compute_activity_logged(org, week).values())
    deals: dict[str, dict[str, Any]] = {}
    owned = [opp for rep in sorted(reps) for opp in org.opportunities_by_owner.get(rep, [])]
    for opp in owned:
        end = opp.state_at(week_end, stages, money)
        if end is None:
            continue
        start = opp.state_at(week_start, stages, money)
        movement = _movement(start, end, stages)
        if movement is None:
            continue
        run_start = opp.stage_run_start(week_end)
        days_in_stage = _whole_days(week_end, run_start) if run_start is not None else None
        threshold = thresholds.get(end.stage, {}).get(
            "threshold_days", float(rules["stuck_fallback_days"])
        )
        pushes = opp.close_date_pushes(push_window_start, week_end)
        age = _whole_days(week_end, opp.created) if opp.created is not None else None
        reasons: list[str] = []
        no_activity: bool | None = None
        if not end.is_closed:
            if days_in_stage is not None and days_in_stage > threshold:
                reasons.append("stage_aging")
            if no_activity_applies:
                no_activity = (
                    age is not None
                    and age > rules["no_activity_days"]
                    and not _has_recent_activity(org, opp.id, week_end)
                )
                if no_activity:
                    reasons.append("no_activity")
            if pushes >= rules["close_push_min_count"]:
                reasons.append("close_date_pushed")
        cycle = None
        if end.is_won and end.close_date is not None and opp.created is not None:
            cycle = (end.close_date - opp.created.date()).days
        deals[opp.id] = {
            "opportunity_id": opp.id,
            "rep_id": opp.owner_id,
            "name": opp.name,
            "amount": end.amount,
            "amount_original": end.amount_original,
            "currency_original": end.currency_original,
            "forecast_category": end.forecast_category,
            "record_type": org.record_type_names.get(opp.record["RecordTypeId"] or "") or None,
            "close_date": end.close_date,
            "stage_start": start.stage if start else None,
            "stage_end": end.stage,
            "stages_advanced": (
                _stage_of(stages, end.stage).rank - _stage_of(stages, start.stage).rank
                if start is not None
                else None
            ),
            "movement": movement,
            "is_open_end": not end.is_closed,
            "days_in_stage": days_in_stage,
            "stage_threshold_days": threshold,
            "deal_age_days": age,
            "last_activity_date": _last_activity(org, opp.id, week_end),
            "no_activity": no_activity,
            "close_date_pushes_90d": pushes,
            "is_stuck": bool(reasons),
            "stuck_reasons": reasons,
            "cycle_days": cycle,
        }
    return deals, thresholds


def compute_fast_movers(
    org: OracleOrg, week: _Week, deals: dict[str, dict[str, Any]]
) -> tuple[dict[str, list[str]], float | None]:
    """Fast movers among the deals, with their reasons, and the won-cycle percentile used."""
    rules = org.rules
    week_end = week.end
    first_day = week.end_date - timedelta(days=rules["fast_mover_lookback_days"])
    cycles = []
    for opp in org.opportunities.values():
        state = opp.state_at(week_end, org.stages, org.money)
        if (
            state is not None
            and state.is_won
            and state.close_date is not None
            and opp.created is not None
            and first_day <= state.close_date < week.end_date
        ):
            cycles.append(float((state.close_date - opp.created.date()).days))
    p25 = _quantile(cycles, rules["fast_mover_cycle_percentile"]) if cycles else None
    movers: dict[str, list[str]] = {}
    for opp_id, deal in deals.items():
        reasons = []
        cycle = deal["cycle_days"]
        if deal["movement"] == "won" and p25 is not None and cycle is not None and cycle <= p25:
            reasons.append("fast_cycle")
        if (
            deal["movement"] == "advanced"
            and deal["stages_advanced"] >= rules["fast_mover_min_stage_jump"]
        ):
            reasons.append("stage_jump")
        if reasons:
            movers[opp_id] = reasons
    return movers, p25


# ----------------------------------------------------------------------------- quota


def _unconverted(
    opp: _Opportunity, currency: str, amount: float | None, number: str
) -> dict[str, Any]:
    """One entry of `unconverted_amounts` (I25)."""
    return {
        "rep_id": opp.owner_id,
        "opportunity_id": opp.id,
        "currency": currency,
        "amount_original": amount,
        "number": number,
    }


def _quarter_amounts(
    org: OracleOrg, rep: str, week: _Week, quarter: Quarter, *, with_pipeline: bool = True
) -> tuple[float, float, list[dict[str, Any]]]:
    """(won_to_date, open_pipeline, the amounts left out of them for want of a rate)."""
    money = org.money
    capped_end = min(week.end_date, quarter.end)
    won_to_date = open_pipeline = 0.0
    unconverted = []
    for opp in org.opportunities_by_owner.get(rep, []):
        record = opp.record
        close = record["CloseDate"]
        if (
            close is not None
            and _record_flags(org, record)[0]
            and quarter.start <= close < capped_end
        ):
            amount = opp.current_amount(money)
            won_to_date += amount or 0.0
            if amount is None and record["Amount"] is not None:
                code = money.code(record["CurrencyIsoCode"])
                unconverted.append(_unconverted(opp, code, record["Amount"], "won_to_date"))
        if not with_pipeline:
            continue
        state = opp.state_at(week.end, org.stages, money)
        if (
            state is not None
            and not state.is_closed
            and state.close_date is not None
            and week.end_date <= state.close_date < quarter.end
            and state.forecast_category != OMITTED
        ):
            open_pipeline += state.amount or 0.0
            if state.amount is None and state.amount_original is not None:
                unconverted.append(
                    _unconverted(
                        opp, state.currency_original or "", state.amount_original, "open_pipeline"
                    )
                )
    return won_to_date, open_pipeline, unconverted


def _quota_amount(
    org: OracleOrg, rep: str, quarter: Quarter
) -> tuple[float | None, str | None, list[dict[str, Any]]]:
    """(amount, why there is none, the rows without a rate) of the rep's quota rows (I20)."""
    money = org.money
    rows = [
        q
        for q in org.quotas
        if q["QuotaOwnerId"] == rep
        and q["StartDate"] is not None
        and quarter.start <= q["StartDate"] < quarter.end
    ]
    if not rows:
        return None, "no_rows", []
    without_rate = [
        {
            "quota_id": q["Id"],
            "currency": money.code(q["CurrencyIsoCode"]),
            "amount_original": q["QuotaAmount"],
            "start_date": q["StartDate"],
        }
        for q in rows
        if money.rate(q["CurrencyIsoCode"], None, dated=False) is None
    ]
    if without_rate:
        return None, "no_rate", without_rate
    amount = sum(
        money.convert(q["QuotaAmount"], q["CurrencyIsoCode"], None, dated=False) or 0.0
        for q in rows
    )
    if amount <= 0:
        return None, "zero_amount", []
    return amount, None, []


def compute_quota(
    org: OracleOrg, rep: str, week: _Week, *, with_pipeline: bool = True
) -> dict[str, Any] | None:
    """The rep's quota block for the quarter containing the week's last day, or None."""
    quarter = org.quarter_of(week.last_day)
    amount, _, _ = _quota_amount(org, rep, quarter)
    if amount is None:
        return None
    won, pipeline, _ = _quarter_amounts(org, rep, week, quarter, with_pipeline=with_pipeline)
    capped_end = min(week.end_date, quarter.end)
    attainment = won / amount
    elapsed = (capped_end - quarter.start).days / (quarter.end - quarter.start).days
    block: dict[str, Any] = {
        **quarter.as_dict(),
        "won_to_date": won,
        "amount": amount,
        "attainment": attainment,
        "elapsed": elapsed,
        "pacing": attainment / elapsed,
    }
    if with_pipeline:
        block["open_pipeline"] = pipeline
        block["coverage"] = pipeline / (amount - won) if won < amount else None
    return block


# ----------------------------------------------------------------------------- the week


@dataclass
class OracleWeek:
    """Everything METRICS.md defines for one week, recomputed independently."""

    week: str
    week_start: date
    week_end: date
    tz: str
    pairs: set[tuple[str, str]]
    no_packet: dict[str, str]
    metrics: dict[str, dict[str, dict[str, float | None]]]
    deals: dict[str, dict[str, Any]]
    fast_movers: set[str]
    fast_mover_reasons: dict[str, list[str]]
    won_cycle_p25_days: float | None
    stage_thresholds: dict[str, dict[str, Any]]
    quota: dict[str, dict[str, Any] | None]
    pacing_history: dict[str, list[float | None]]
    performance_conversation_recommended: dict[str, bool]
    has_activity_data: bool
    stage_source: str
    pipeline_created_null_amounts: dict[str, int]
    # The corporate ISO code (packet `.json` `currency`): every amount above is in it.
    currency: str
    # The fiscal quarter of the week's last day: quarter_label, quarter_start, quarter_end
    # (exclusive), quarter_number, fiscal_year, quarter_source.
    quarter: dict[str, Any]
    # Per kind: whether the org logs it (I28); the kinds it does not, in ACTIVITY_KINDS order
    # (packet `.json` `activity_not_logged`).
    activity_logged: dict[str, bool]
    activity_not_logged: list[str]
    # Amounts without a conversion rate, left out of a number this week (I25), sorted.
    unconverted_amounts: list[dict[str, Any]]
    # Per rep: None with a quota, else "no_rows", "zero_amount" or "no_rate" (I20).
    quota_missing_reason: dict[str, str | None]
    # Per rep: the quota rows of the quarter without a rate (why the quota is "no_rate").
    quota_rows_without_rate: dict[str, list[dict[str, Any]]]
    # Opportunity ids the record type rules left out of every number (I29).
    left_out_by_record_type: set[str]


def compute_stuck_followups(
    weeks: list[OracleWeek], *, close_it_or_kill_it_weeks: int = 3
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per week label, per deal stuck at that week or the one before: its follow-up (I30)."""
    streaks: dict[str, tuple[int, str]] = {}  # stuck at the previous week: (streak, since)
    followups: dict[str, dict[str, dict[str, Any]]] = {}
    previous: OracleWeek | None = None
    for week in weeks:
        if previous is not None and week.week_start - previous.week_start != timedelta(days=7):
            raise OracleInputError(f"week {week.week} does not follow {previous.week}")
        now: dict[str, tuple[int, str]] = {}
        rows: dict[str, dict[str, Any]] = {}
        for oid, deal in week.deals.items():
            before = streaks.get(oid)
            if deal["is_stuck"]:
                now[oid] = (before[0] + 1, before[1]) if before else (1, week.week)
            if before is None and not deal["is_stuck"]:
                continue
            if before is None:
                outcome = "newly_stuck"
            elif deal["movement"] in ("won", "lost", "advanced"):
                outcome = deal["movement"]
            else:
                outcome = "still_stuck" if deal["is_stuck"] else "unstuck"
            streak, since = now[oid] if deal["is_stuck"] else before  # type: ignore[misc]
            rows[oid] = {
                "rep_id": deal["rep_id"],
                "outcome": outcome,
                "was_stuck_last_week": before is not None,
                "is_stuck": deal["is_stuck"],
                "stuck_weeks": streak,
                "stuck_since_week": since,
                "close_it_or_kill_it": deal["is_stuck"] and streak >= close_it_or_kill_it_weeks,
            }
        followups[week.week] = rows
        streaks, previous = now, week
    return followups


def _unconverted_activity(org: OracleOrg, week: _Week, reps: set[str]) -> list[dict[str, Any]]:
    """This week's pipeline_created and closed_won_amount entries of `unconverted_amounts`."""
    found = []
    for opp in org.opportunities.values():
        record = opp.record
        if opp.owner_id not in reps or record["Amount"] is None:
            continue
        if opp.current_amount(org.money) is not None:
            continue
        code = org.money.code(record["CurrencyIsoCode"])
        if opp.created is not None and week.start <= opp.created < week.end:
            found.append(_unconverted(opp, code, record["Amount"], "pipeline_created"))
        close = record["CloseDate"]
        won, _ = _record_flags(org, record)
        if won and close is not None and week.start_date <= close < week.end_date:
            found.append(_unconverted(opp, code, record["Amount"], "closed_won_amount"))
    return found


def recompute_week(
    org_dir: Path | OracleOrg,
    week: str,
    *,
    tz: str = "UTC",
    rules: dict[str, Any] | None = None,
) -> OracleWeek:
    """Recompute every METRICS.md number of `week` (`YYYY-Www`) for the org folder `org_dir`.

    `rules` overrides the METRICS.md defaults under the names of the `metrics` settings (plus
    `fiscal_year_start_month`, `currency_code`, `record_types`, `extra_stages` and the
    role/profile lists; `rules_from_settings` builds them from a Settings). Pass an `OracleOrg`
    from `load_org` instead of a path to recompute many weeks without re-reading the CSVs.
    """
    if isinstance(org_dir, OracleOrg):
        org = org_dir
        if org.tz != tz or (rules is not None and _resolve_rules(rules) != org.rules):
            raise OracleInputError(
                "pass tz/rules to load_org, not to recompute_week, for a loaded org"
            )
    else:
        org = load_org(Path(org_dir), tz=tz, rules=rules)
    the_week = _Week.parse(week)
    pairs, no_packet = compute_pairs(org)
    reps = {rep for _, rep in pairs}
    metrics = compute_metrics(org, the_week, pairs)
    deals, thresholds = compute_deals(org, the_week, reps)
    movers, p25 = compute_fast_movers(org, the_week, deals)
    logged = compute_activity_logged(org, the_week)
    quarter = org.quarter_of(the_week.last_day)

    quota: dict[str, dict[str, Any] | None] = {}
    missing_reason: dict[str, str | None] = {}
    without_rate: dict[str, list[dict[str, Any]]] = {}
    pacing_history: dict[str, list[float | None]] = {}
    recommended: dict[str, bool] = {}
    unconverted = _unconverted_activity(org, the_week, reps)
    window = org.rules["underperformance_window_weeks"]
    for rep in sorted(reps):
        quota[rep] = compute_quota(org, rep, the_week)
        _, missing_reason[rep], without_rate[rep] = _quota_amount(org, rep, quarter)
        unconverted += _quarter_amounts(org, rep, the_week, quarter)[2]
        history: list[float | None] = []
        for back in range(window - 1, -1, -1):
            block = compute_quota(org, rep, the_week.shift(-back), with_pipeline=False)
            history.append(block["pacing"] if block else None)
        pacing_history[rep] = history
        below = sum(
            1 for p in history if p is not None and p < org.rules["underperformance_pacing"]
        )
        recommended[rep] = below >= org.rules["underperformance_weeks"]
    unconverted += [
        {
            "rep_id": deal["rep_id"],
            "opportunity_id": oid,
            "currency": deal["currency_original"],
            "amount_original": deal["amount_original"],
            "number": "deal_amount",
        }
        for oid, deal in deals.items()
        if deal["amount"] is None and deal["amount_original"] is not None
    ]
    order = {number: i for i, number in enumerate(UNCONVERTED_NUMBERS)}
    unconverted.sort(key=lambda u: (u["rep_id"], order[u["number"]], u["opportunity_id"]))

    null_amounts: dict[str, int] = {rep: 0 for rep in reps}
    for opp in org.opportunities.values():
        if (
            opp.owner_id in reps
            and opp.created is not None
            and the_week.start <= opp.created < the_week.end
            and opp.record["Amount"] is None
        ):
            null_amounts[opp.owner_id] += 1

    return OracleWeek(
        week=the_week.label,
        week_start=the_week.start_date,
        week_end=the_week.end_date,
        tz=org.tz,
        pairs=pairs,
        no_packet=no_packet,
        metrics=metrics,
        deals=deals,
        fast_movers=set(movers),
        fast_mover_reasons=movers,
        won_cycle_p25_days=p25,
        stage_thresholds=thresholds,
        quota=quota,
        pacing_history=pacing_history,
        performance_conversation_recommended=recommended,
        has_activity_data=org.has_activity_data,
        stage_source=org.stage_source,
        pipeline_created_null_amounts=null_amounts,
        currency=org.currency,
        quarter=quarter.as_dict(),
        activity_logged=logged,
        activity_not_logged=[kind for kind in ACTIVITY_KINDS if not logged[kind]],
        unconverted_amounts=unconverted,
        quota_missing_reason=missing_reason,
        quota_rows_without_rate=without_rate,
        left_out_by_record_type=set(org.left_out_by_record_type),
    )
