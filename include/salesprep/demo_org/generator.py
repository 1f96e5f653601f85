"""`generate_org`: write a believable, deterministic demo Salesforce org as an org folder."""

from __future__ import annotations

import logging
import random
import statistics
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any

from salesprep import progress
from salesprep.catalog import KEY_PREFIXES, objects_for
from salesprep.demo_org import vocabulary as vocab
from salesprep.demo_org.accounts import (
    ACCOUNT_COLUMNS,
    CONTACT_COLUMNS,
    AccountNames,
    write_book,
)
from salesprep.demo_org.activity import EVENT_COLUMNS, TASK_COLUMNS, ActivityIds, write_activity
from salesprep.demo_org.calendar import FiscalCalendar
from salesprep.demo_org.deals import (
    CONTACT_ROLE_COLUMNS,
    FIELD_HISTORY_COLUMNS,
    HISTORY_COLUMNS,
    OPPORTUNITY_COLUMNS,
    DealIds,
    DealOutput,
    DealShape,
    DealSimulator,
    DealSinks,
)
from salesprep.demo_org.ids import id_sequence, salesforce_id
from salesprep.demo_org.money import Currencies
from salesprep.demo_org.people import PERSONAS, Team, build_team
from salesprep.demo_org.rhythm import performance_level, week_factors
from salesprep.demo_org.shape import OrgShape, ShapeError, shape_with
from salesprep.demo_org.sinks import OrgWriter
from salesprep.demo_org.timeline import DAY, Timeline
from salesprep.org_folder import format_value
from salesprep.weeks import Week

log = logging.getLogger(__name__)

ORGANIZATION_COLUMNS = (
    "Id", "Name", "FiscalYearStartMonth", "UsesStartDateAsFiscalYearName", "DefaultLocaleSidKey",
    "LanguageLocaleKey", "TimeZoneSidKey", "CreatedDate", "LastModifiedDate", "SystemModstamp",
)  # fmt: skip
PROFILE_COLUMNS = ("Id", "Name", "CreatedDate", "LastModifiedDate", "SystemModstamp")
ROLE_COLUMNS = (
    "Id", "Name", "DeveloperName", "ParentRoleId", "CreatedDate", "LastModifiedDate",
    "SystemModstamp",
)  # fmt: skip
USER_COLUMNS = (
    "Id", "Name", "FirstName", "LastName", "Username", "Email", "Title", "Department", "IsActive",
    "ManagerId", "UserRoleId", "ProfileId", "TimeZoneSidKey", "CreatedDate", "LastModifiedDate",
    "SystemModstamp",
)  # fmt: skip
STAGE_COLUMNS = (
    "Id", "MasterLabel", "ApiName", "SortOrder", "IsActive", "IsClosed", "IsWon",
    "DefaultProbability", "ForecastCategoryName", "CreatedDate", "LastModifiedDate",
    "SystemModstamp",
)  # fmt: skip
QUOTA_COLUMNS = (
    "Id", "QuotaOwnerId", "StartDate", "QuotaAmount", "ForecastingTypeId", "CreatedDate",
    "LastModifiedDate", "SystemModstamp", "CurrencyIsoCode",
)  # fmt: skip
CURRENCY_COLUMNS = (
    "Id", "IsoCode", "ConversionRate", "DecimalPlaces", "IsActive", "IsCorporate", "CreatedDate",
    "LastModifiedDate", "SystemModstamp",
)  # fmt: skip
DATED_RATE_COLUMNS = (
    "Id", "IsoCode", "ConversionRate", "StartDate", "NextStartDate", "CreatedDate",
    "LastModifiedDate", "SystemModstamp",
)  # fmt: skip
RECORD_TYPE_COLUMNS = (
    "Id", "Name", "DeveloperName", "SobjectType", "IsActive", "CreatedDate", "LastModifiedDate",
    "SystemModstamp",
)  # fmt: skip
FISCAL_YEAR_COLUMNS = (
    "Id", "Name", "StartDate", "EndDate", "IsStandardYear", "YearType", "QuarterLabelScheme",
    "QuarterPrefix", "SystemModstamp",
)  # fmt: skip
PERIOD_COLUMNS = (
    "Id", "FiscalYearSettingsId", "Type", "StartDate", "EndDate", "Number", "QuarterLabel",
    "PeriodLabel", "FullyQualifiedLabel", "IsForecastPeriod", "SystemModstamp",
)  # fmt: skip
# Opportunity record types of an org with them: (Name, DeveloperName, IsActive). The inactive
# one is what an org keeps from an old sales process; no deal uses it.
RECORD_TYPES = (
    ("New Business", "New_Business", True),
    ("Renewal", "Renewal", True),
    ("Expansion", "Expansion", True),
    ("Legacy Deal", "Legacy_Deal", False),
)
# The time zone and language an Organization with each default locale has.
_LOCALE_ZONES = {
    "en_US": ("America/New_York", "en_US"),
    "en_GB": ("Europe/London", "en_GB"),
    "de_DE": ("Europe/Berlin", "de"),
    "fr_FR": ("Europe/Paris", "fr"),
    "ja_JP": ("Asia/Tokyo", "ja"),
    "en_AU": ("Australia/Sydney", "en_US"),
    "de_CH": ("Europe/Zurich", "de"),
}
# Custom fiscal years are written this far beyond the window: open deals close up to months ahead.
_FISCAL_YEARS_AHEAD_DAYS = 400
# The standard "Opportunity Revenue" forecasting type every quota row refers to.
FORECASTING_TYPE_ID = salesforce_id("0Db", 1)
MAX_WEEKS = 520


class DemoOrgError(ValueError):
    """Arguments the demo org generator cannot honour; the message names the argument."""


@dataclass(frozen=True)
class OrgSummary:
    """What `generate_org` wrote."""

    out_dir: Path
    first_week: Week
    end_week: Week
    rows: dict[str, int] = field(default_factory=dict)  # object name -> rows written
    pairs: int = 0  # manager-rep pairs that should get a packet
    # User id -> persona (top, steady, struggling, new_hire) of everyone who sells, and the ids
    # of the edge cases, so tests and demos can find them: keys rep_without_quota,
    # rep_with_inactive_manager, inactive_rep, inactive_manager, admin, vp.
    personas: dict[str, str] = field(default_factory=dict)
    edge_cases: dict[str, str] = field(default_factory=dict)
    # The org's shape (options beyond size), its Organization Id and its features.
    shape: OrgShape = field(default_factory=OrgShape)
    org_id: str = ""

    def describe(self) -> str:
        """One line for people: the span and the biggest row counts."""
        shown = ", ".join(
            f"{self.rows.get(name, 0):,} {name}"
            for name in ("User", "Account", "Opportunity", "OpportunityHistory", "Task", "Event")
        )
        text = f"{self.first_week}..{self.end_week} ({self.pairs} manager-rep pairs): {shown}"
        shape = self.shape.describe()
        return f"{text}; {shape}" if shape else text


def generate_org(
    out_dir: Path,
    *,
    reps: int = 24,
    managers: int = 4,
    weeks: int = 26,
    seed: int = 7,
    end_week: Week,
    shape: OrgShape | None = None,
    **options: Any,
) -> OrgSummary:
    """Write a demo org folder: one `<Object>.csv` per object the org has (`catalog.objects_for`).

    The data covers the `weeks` ISO weeks ending with `end_week`: every record, history row and
    activity is dated inside them (only the planned CloseDate of open deals looks ahead). The same
    arguments always give the same bytes.

    `shape` (default: the single-currency, calendar-year demo org), with any of its fields given
    as `options` on top (`currencies=("USD", "EUR")`, `monthly_quotas=True`, ...; see
    `salesprep.demo_org.shape.OrgShape`), says what else the org has. The default shape writes
    exactly the org the demo always wrote.
    """
    _check(reps=reps, managers=managers, weeks=weeks, end_week=end_week)
    shape = _shape(shape, options)
    timeline = Timeline(end_week, weeks)
    rng = random.Random(f"salesprep-demo-org/{seed}/team")
    team = build_team(rng, timeline, reps=reps, managers=managers)
    calendar = FiscalCalendar(
        shape.fiscal_start_month,
        named_by_start=shape.fiscal_year_named_by_start,
        custom=shape.custom_fiscal_year,
    )
    currencies = Currencies(shape, seed)
    homes = _home_currencies(team, currencies)
    log.info("generating a demo org: %d users, %d weeks to %s", len(team.users), weeks, end_week)
    org_id = salesforce_id(KEY_PREFIXES["Organization"], shape.org_number(seed))
    with OrgWriter(Path(out_dir), shape.features) as writer:
        _write_organization(writer, timeline, org_id, shape)
        _write_setup(writer, timeline, team)
        record_types = _write_org_features(writer, timeline, shape, calendar, currencies)
        outputs = _write_sellers(
            writer,
            timeline,
            team,
            seed,
            shape=shape,
            calendar=calendar,
            currencies=currencies,
            homes=homes,
            record_types=record_types,
        )
        _write_quotas(writer, timeline, team, outputs, calendar, currencies, homes, shape)
        rows = {name: sink.rows for name, sink in writer.sinks.items()}
    pairs = sum(
        1 for u in team.users if u.kind == "rep" and u.manager is not None and u.manager.is_active
    )
    edge_cases = _edge_cases(team)
    unrated = [i for i, code in homes.items() if code == shape.currency_without_rate]
    if unrated:
        edge_cases["rep_in_currency_without_rate"] = unrated[0]
    return OrgSummary(
        out_dir=Path(out_dir),
        first_week=timeline.first_week,
        end_week=end_week,
        rows={o.name: rows[o.name] for o in objects_for(writer.features)},
        pairs=pairs,
        personas={s.id: s.persona.name for s in team.sellers if s.persona is not None},
        edge_cases=edge_cases,
        shape=shape,
        org_id=org_id,
    )


def _shape(shape: OrgShape | None, options: dict[str, Any]) -> OrgShape:
    known = {f.name for f in fields(OrgShape)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise DemoOrgError(
            f"unknown org option(s) {', '.join(unknown)}; options: {', '.join(sorted(known))}"
        )
    try:
        return shape_with(shape or OrgShape(), **options)
    except ShapeError as exc:
        raise DemoOrgError(str(exc)) from exc


def _home_currencies(team: Team, currencies: Currencies) -> dict[str, str]:
    """Each seller's currency; with a currency without a rate, one rep in a pair who has a
    quota is in it (so a packet shows a quota and deals that cannot be converted)."""
    homes = {s.id: currencies.home_currency(s) for s in team.sellers}
    unrated = currencies.shape.currency_without_rate
    if unrated:
        candidates = [
            s
            for s in team.sellers
            if s.kind == "rep"
            and s.has_quota
            and s.manager is not None
            and s.manager.is_active
            and s.persona is PERSONAS["steady"]
        ] or [s for s in team.sellers if s.kind == "rep"]
        homes[candidates[0].id] = unrated
    return homes


def _edge_cases(team: Team) -> dict[str, str]:
    cases = {}
    for user in team.users:
        if user.kind in ("admin", "vp"):
            cases[user.kind] = user.id
        elif user.kind == "former_rep":
            cases["inactive_rep"] = user.id
        elif user.kind == "former_manager":
            cases["inactive_manager"] = user.id
        elif user.kind == "rep" and user.manager is not None and not user.manager.is_active:
            cases["rep_with_inactive_manager"] = user.id
        elif user.kind == "rep" and not user.has_quota:
            cases["rep_without_quota"] = user.id
    return cases


def _check(*, reps: int, managers: int, weeks: int, end_week: Week) -> None:
    if not isinstance(end_week, Week):
        raise DemoOrgError(f"end_week must be a Week (YYYY-Www), got {end_week!r}")
    if managers < 1:
        raise DemoOrgError(f"managers must be at least 1, got {managers}")
    if reps < managers + 1:
        raise DemoOrgError(
            f"reps must be at least managers + 1 = {managers + 1} (every manager needs a rep, "
            f"plus one rep under a former manager), got {reps}"
        )
    if not 1 <= weeks <= MAX_WEEKS:
        raise DemoOrgError(f"weeks must be between 1 and {MAX_WEEKS}, got {weeks}")


def _write_organization(
    writer: OrgWriter, timeline: Timeline, org_id: str, shape: OrgShape
) -> None:
    """The org's one Organization row: its fiscal year start and naming, locale, time zone."""
    at = timeline.stamp(0)
    zone, language = _LOCALE_ZONES[shape.locale]
    writer.open("Organization", ORGANIZATION_COLUMNS).write(
        (
            org_id,
            "salesprep demo org",
            shape.fiscal_start_month,
            "true" if shape.fiscal_year_named_by_start else "false",
            shape.locale,
            language,
            zone,
            at,
            at,
            at,
        )
    )


def _write_org_features(
    writer: OrgWriter,
    timeline: Timeline,
    shape: OrgShape,
    calendar: FiscalCalendar,
    currencies: Currencies,
) -> dict[str, str]:
    """The objects of the shape's org features; returns the record type Ids by DeveloperName."""
    at = timeline.stamp(2 * 3_600)  # set up on the first morning, before the users' work
    last = timeline.to_date(timeline.days - 1)
    if "multi_currency" in shape.features:
        sink = writer.open("CurrencyType", CURRENCY_COLUMNS)
        ids = id_sequence(KEY_PREFIXES["CurrencyType"])
        for code in currencies.codes:
            sink.write(
                (
                    next(ids),
                    code,
                    format_value(round(currencies.static_rate(code), 6), "double"),
                    0 if code == "JPY" else 2,
                    "true",
                    "true" if code == currencies.corporate else "false",
                    at,
                    at,
                    at,
                )
            )
    if "advanced_currency_management" in shape.features:
        sink = writer.open("DatedConversionRate", DATED_RATE_COLUMNS)
        ids = id_sequence(KEY_PREFIXES["DatedConversionRate"])
        for rate in currencies.dated_rates(timeline.start_date, last):
            value = format_value(rate.rate, "double")
            sink.write((next(ids), rate.iso_code, value, rate.start, rate.next_start, at, at, at))
    record_types: dict[str, str] = {}
    if "record_types" in shape.features:
        sink = writer.open("RecordType", RECORD_TYPE_COLUMNS)
        ids = id_sequence(KEY_PREFIXES["RecordType"])
        for name, developer, active in RECORD_TYPES:
            record_types[developer] = next(ids)
            row = (record_types[developer], name, developer, "Opportunity", active, at, at, at)
            sink.write(tuple("true" if v is True else "false" if v is False else v for v in row))
    if "custom_fiscal_year" in shape.features:
        _write_fiscal_years(writer, timeline, shape, calendar, at)
    return record_types


def _write_fiscal_years(
    writer: OrgWriter, timeline: Timeline, shape: OrgShape, calendar: FiscalCalendar, at: str
) -> None:
    """FiscalYearSettings and its Period rows (Year, Quarter, Month) for every custom fiscal
    year from before the window to a year after it."""
    years = writer.open("FiscalYearSettings", FISCAL_YEAR_COLUMNS)
    periods = writer.open("Period", PERIOD_COLUMNS)
    year_ids = id_sequence(KEY_PREFIXES["FiscalYearSettings"])
    period_ids = id_sequence(KEY_PREFIXES["Period"])
    first = timeline.start_date
    last = timeline.to_date(timeline.days - 1 + _FISCAL_YEARS_AHEAD_DAYS)
    one_day = date.resolution
    for fiscal_year in calendar.custom_years(first, last):
        year_id = next(year_ids)
        end = fiscal_year.end - one_day
        years.write(
            (
                year_id, fiscal_year.name, fiscal_year.start, end, "false", "Custom",
                "NumberByYear", "Quarter", at,
            )
        )  # fmt: skip
        label = f"FY{fiscal_year.name}"
        periods.write(
            (next(period_ids), year_id, "Year", fiscal_year.start, end, 1, None, None, label,
             "false", at)
        )  # fmt: skip
        month_number = 0
        for quarter in fiscal_year.quarters:
            periods.write(
                (
                    next(period_ids), year_id, "Quarter", quarter.start, quarter.end - one_day,
                    quarter.number, f"Q{quarter.number}", None,
                    f"Q{quarter.number} {label}", "false" if shape.monthly_quotas else "true", at,
                )
            )  # fmt: skip
            ends = [*quarter.months[1:], quarter.end]
            for start, next_start in zip(quarter.months, ends, strict=True):
                month_number += 1
                periods.write(
                    (
                        next(period_ids), year_id, "Month", start, next_start - one_day,
                        month_number, None, f"P{month_number}", f"P{month_number} {label}",
                        "true" if shape.monthly_quotas else "false", at,
                    )
                )  # fmt: skip


def _write_setup(writer: OrgWriter, timeline: Timeline, team: Team) -> None:
    stamp = timeline.stamp
    profiles = writer.open("Profile", PROFILE_COLUMNS)
    for profile_id, name, ts in team.profiles:
        profiles.write((profile_id, name, stamp(ts), stamp(ts), stamp(ts)))
    roles = writer.open("UserRole", ROLE_COLUMNS)
    for role_id, name, developer, parent, ts in team.roles:
        roles.write((role_id, name, developer, parent, stamp(ts), stamp(ts), stamp(ts)))
    users = writer.open("User", USER_COLUMNS)
    for u in team.users:
        users.write(
            (
                u.id,
                u.name,
                u.first_name,
                u.last_name,
                u.email,
                u.email,
                u.title,
                u.department,
                "true" if u.is_active else "false",
                u.manager.id if u.manager else None,
                u.role_id,
                u.profile_id,
                u.time_zone,
                stamp(u.created_ts),
                stamp(u.modified_ts),
                stamp(u.modified_ts),
            )
        )
    stages = writer.open("OpportunityStage", STAGE_COLUMNS)
    stage_ids = id_sequence(KEY_PREFIXES["OpportunityStage"])
    for order, (name, probability, forecast) in enumerate(vocab.STAGES, start=1):
        at = stamp(30 + order)
        stages.write(
            (
                next(stage_ids),
                name,
                name,
                order,
                "true",
                "true" if order >= 9 else "false",
                "true" if name == "Closed Won" else "false",
                probability,
                forecast,
                at,
                at,
                at,
            )
        )


def _write_sellers(
    writer: OrgWriter,
    timeline: Timeline,
    team: Team,
    seed: int,
    *,
    shape: OrgShape,
    calendar: FiscalCalendar,
    currencies: Currencies,
    homes: dict[str, str],
    record_types: dict[str, str],
) -> dict[str, DealOutput]:
    accounts = writer.open("Account", ACCOUNT_COLUMNS)
    contacts = writer.open("Contact", CONTACT_COLUMNS)
    deal_sinks = DealSinks(
        opportunities=writer.open("Opportunity", OPPORTUNITY_COLUMNS),
        history=writer.open("OpportunityHistory", HISTORY_COLUMNS),
        field_history=writer.open("OpportunityFieldHistory", FIELD_HISTORY_COLUMNS),
        contact_roles=writer.open("OpportunityContactRole", CONTACT_ROLE_COLUMNS),
    )
    tasks = writer.open("Task", TASK_COLUMNS)
    events = writer.open("Event", EVENT_COLUMNS)
    account_ids = id_sequence(KEY_PREFIXES["Account"])
    contact_ids = id_sequence(KEY_PREFIXES["Contact"])
    deal_ids = DealIds(
        opportunity=id_sequence(KEY_PREFIXES["Opportunity"]),
        history=id_sequence(KEY_PREFIXES["OpportunityHistory"]),
        field_history=id_sequence(KEY_PREFIXES["OpportunityFieldHistory"]),
        contact_role=id_sequence(KEY_PREFIXES["OpportunityContactRole"]),
    )
    activity_ids = ActivityIds(
        task=id_sequence(KEY_PREFIXES["Task"]), event=id_sequence(KEY_PREFIXES["Event"])
    )
    names = AccountNames(random.Random(f"salesprep-demo-org/{seed}/accounts"))
    outputs: dict[str, DealOutput] = {}
    sellers = progress.track(
        team.sellers, f"generate {timeline.weeks} weeks of deals and activity", unit="sellers"
    )
    for seller in sellers:
        # One random stream per seller, so a seller's data does not depend on the others'.
        rng = random.Random(f"salesprep-demo-org/{seed}/seller/{seller.index}")
        book = write_book(
            rng, timeline, seller, names, account_ids, contact_ids, accounts, contacts
        )
        factors = week_factors(rng, timeline, seller, calendar)
        levels = [performance_level(seller, timeline, w) for w in range(timeline.weeks)]
        # The shape's draws come from a stream of their own: the default org stays the same.
        deal_shape = DealShape(
            random.Random(f"salesprep-demo-org/{seed}/seller/{seller.index}/shape"),
            currencies,
            homes[seller.id],
            record_types,
            shape.forecast_categories,
        )
        simulator = DealSimulator(rng, timeline, seller, book, deal_ids, deal_sinks, deal_shape)
        output = simulator.run(factors, levels)
        write_activity(
            rng,
            timeline,
            seller,
            book,
            output.lite,
            factors,
            activity_ids,
            tasks,
            events,
            log_emails=shape.email_tasks,
            log_meetings=shape.meetings,
        )
        output.lite = []  # activities are written: free the memory
        outputs[seller.id] = output
    return outputs


def _write_quotas(
    writer: OrgWriter,
    timeline: Timeline,
    team: Team,
    outputs: dict[str, DealOutput],
    calendar: FiscalCalendar,
    currencies: Currencies,
    homes: dict[str, str],
    shape: OrgShape,
) -> None:
    """Quotas per fiscal quarter set from what a steady rep actually wins, scaled by persona,
    in each rep's currency; with monthly quotas, one row per fiscal month summing to it."""
    sink = writer.open("ForecastingQuota", QUOTA_COLUMNS)
    sellers = team.sellers
    # Quotas follow territory potential: half from the typical steady rep's quarterly wins once
    # pipelines have matured (deals take about a quarter), half from the rep's own.
    warm = min(13, timeline.weeks // 2)
    span = timeline.weeks - warm
    quarterly = {
        s.id: sum(a for week, a in outputs[s.id].won_by_week.items() if week >= warm) / span * 13
        for s in sellers
    }
    steady = [
        quarterly[s.id] for s in sellers if s.kind == "rep" and s.persona is PERSONAS["steady"]
    ]
    typical = max(20_000.0, statistics.median(steady or list(quarterly.values())))
    quarters = calendar.quarters(timeline.start_date, timeline.to_date(timeline.days - 1))
    ids = id_sequence(KEY_PREFIXES["ForecastingQuota"])
    stamp = timeline.stamp
    for seller in sellers:
        if not seller.has_quota or seller.persona is None:
            continue
        hired = seller.start_ts // DAY
        full_quarters = 0
        code = homes[seller.id] if currencies.multi else None
        for quarter in quarters:
            first_day = timeline.day_of(quarter.start)
            # A new hire has no quota in the quarter they join and half of it in the next one.
            if seller.start_ts > 0 and first_day <= hired:
                continue
            if first_day * DAY >= seller.stop_ts:
                continue
            factor = seller.persona.quota_factor
            if seller.start_ts > 0 and full_quarters == 0:
                factor *= 0.5
            full_quarters += 1
            target = typical * factor
            if seller.persona.name in ("top", "steady"):
                # Set so that such a rep is expected to reach about 110% of it.
                target = (target + quarterly[seller.id] / 1.1) / 2
            amount = max(5_000, round(target / 5_000) * 5_000)
            if code is not None:
                amount = currencies.local_amount(amount, code)
            created_ts = max(seller.start_ts + 3_600, (first_day - 10) * DAY + 15 * 3_600)
            created_ts = min(created_ts, timeline.end_ts - 1)
            at = stamp(created_ts)
            for start, part in _quota_rows(quarter.start, quarter.months, amount, shape):
                row = (next(ids), seller.id, start, part, FORECASTING_TYPE_ID, at, at, at, code)
                sink.write(row)


def _quota_rows(
    start: date, months: tuple[date, ...], amount: int, shape: OrgShape
) -> list[tuple[date, int]]:
    """(StartDate, QuotaAmount) rows of one quarter's quota: one, or one per fiscal month
    (a third each, rounded, the last month taking what rounding left)."""
    if not shape.monthly_quotas:
        return [(start, amount)]
    step = 1_000 if amount >= 30_000 else 1
    third = round(amount / 3 / step) * step
    return [(months[0], third), (months[1], third), (months[2], amount - 2 * third)]
