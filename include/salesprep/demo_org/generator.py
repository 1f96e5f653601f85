"""`generate_org`: write a believable, deterministic demo Salesforce org as an org folder."""

from __future__ import annotations

import logging
import random
import statistics
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from salesprep.catalog import KEY_PREFIXES, objects_for
from salesprep.demo_org import vocabulary as vocab
from salesprep.demo_org.accounts import (
    ACCOUNT_COLUMNS,
    CONTACT_COLUMNS,
    AccountNames,
    write_book,
)
from salesprep.demo_org.activity import EVENT_COLUMNS, TASK_COLUMNS, ActivityIds, write_activity
from salesprep.demo_org.deals import (
    CONTACT_ROLE_COLUMNS,
    FIELD_HISTORY_COLUMNS,
    HISTORY_COLUMNS,
    OPPORTUNITY_COLUMNS,
    DealIds,
    DealOutput,
    DealSimulator,
    DealSinks,
    quarter_start,
)
from salesprep.demo_org.ids import id_sequence, salesforce_id
from salesprep.demo_org.people import PERSONAS, Team, build_team
from salesprep.demo_org.rhythm import performance_level, week_factors
from salesprep.demo_org.sinks import OrgWriter
from salesprep.demo_org.timeline import DAY, Timeline
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
    "LastModifiedDate", "SystemModstamp",
)  # fmt: skip
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

    def describe(self) -> str:
        """One line for people: the span and the biggest row counts."""
        shown = ", ".join(
            f"{self.rows.get(name, 0):,} {name}"
            for name in ("User", "Account", "Opportunity", "OpportunityHistory", "Task", "Event")
        )
        return f"{self.first_week}..{self.end_week} ({self.pairs} manager-rep pairs): {shown}"


def generate_org(
    out_dir: Path,
    *,
    reps: int = 24,
    managers: int = 4,
    weeks: int = 26,
    seed: int = 7,
    end_week: Week,
) -> OrgSummary:
    """Write a demo org folder: one `<Object>.csv` per object the org has (`catalog.objects_for`).

    The data covers the `weeks` ISO weeks ending with `end_week`: every record, history row and
    activity is dated inside them (only the planned CloseDate of open deals looks ahead). The same
    arguments always give the same bytes.
    """
    _check(reps=reps, managers=managers, weeks=weeks, end_week=end_week)
    timeline = Timeline(end_week, weeks)
    rng = random.Random(f"salesprep-demo-org/{seed}/team")
    team = build_team(rng, timeline, reps=reps, managers=managers)
    log.info("generating a demo org: %d users, %d weeks to %s", len(team.users), weeks, end_week)
    with OrgWriter(Path(out_dir)) as writer:
        _write_organization(writer, timeline, seed)
        _write_setup(writer, timeline, team)
        outputs = _write_sellers(writer, timeline, team, seed)
        _write_quotas(writer, timeline, team, outputs)
        rows = {name: sink.rows for name, sink in writer.sinks.items()}
    pairs = sum(
        1 for u in team.users if u.kind == "rep" and u.manager is not None and u.manager.is_active
    )
    return OrgSummary(
        out_dir=Path(out_dir),
        first_week=timeline.first_week,
        end_week=end_week,
        rows={o.name: rows[o.name] for o in objects_for(writer.features)},
        pairs=pairs,
        personas={s.id: s.persona.name for s in team.sellers if s.persona is not None},
        edge_cases=_edge_cases(team),
    )


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


def _write_organization(writer: OrgWriter, timeline: Timeline, seed: int) -> None:
    """The org's one Organization row: a calendar fiscal year named by its end."""
    at = timeline.stamp(0)
    writer.open("Organization", ORGANIZATION_COLUMNS).write(
        (
            salesforce_id(KEY_PREFIXES["Organization"], seed),
            "salesprep demo org",
            1,
            "false",
            "en_US",
            "en_US",
            "America/New_York",
            at,
            at,
            at,
        )
    )


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
    writer: OrgWriter, timeline: Timeline, team: Team, seed: int
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
    for seller in team.sellers:
        # One random stream per seller, so a seller's data does not depend on the others'.
        rng = random.Random(f"salesprep-demo-org/{seed}/seller/{seller.index}")
        book = write_book(
            rng, timeline, seller, names, account_ids, contact_ids, accounts, contacts
        )
        factors = week_factors(rng, timeline, seller)
        levels = [performance_level(seller, timeline, w) for w in range(timeline.weeks)]
        simulator = DealSimulator(rng, timeline, seller, book, deal_ids, deal_sinks)
        output = simulator.run(factors, levels)
        write_activity(
            rng, timeline, seller, book, output.lite, factors, activity_ids, tasks, events
        )
        output.lite = []  # activities are written: free the memory
        outputs[seller.id] = output
    return outputs


def _write_quotas(
    writer: OrgWriter, timeline: Timeline, team: Team, outputs: dict[str, DealOutput]
) -> None:
    """Quarterly quotas set from what a steady rep actually wins, scaled by persona."""
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
    quarters = _quarters(timeline)
    ids = id_sequence(KEY_PREFIXES["ForecastingQuota"])
    stamp = timeline.stamp
    for seller in sellers:
        if not seller.has_quota or seller.persona is None:
            continue
        hired = seller.start_ts // DAY
        full_quarters = 0
        for quarter in quarters:
            first_day = timeline.day_of(quarter)
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
            created_ts = max(seller.start_ts + 3_600, (first_day - 10) * DAY + 15 * 3_600)
            created_ts = min(created_ts, timeline.end_ts - 1)
            at = stamp(created_ts)
            sink.write(
                (
                    next(ids),
                    seller.id,
                    timeline.date(first_day),
                    amount,
                    FORECASTING_TYPE_ID,
                    at,
                    at,
                    at,
                )
            )


def _quarters(timeline: Timeline) -> list[date]:
    """Start dates of the calendar quarters that overlap the window."""
    last = timeline.to_date(timeline.days - 1)
    current = quarter_start(timeline.start_date)
    quarters = []
    while current <= last:
        quarters.append(current)
        month = current.month + 3
        current = date(current.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return quarters
