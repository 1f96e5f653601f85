"""METRICS.md recomputed from an org folder in plain Python: the oracle marts and packets face.

Written only from `/work/shared/METRICS.md` and the org-folder format (Data Export CSVs), never
from the dbt models, so that the two implementations can catch each other's mistakes.

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
     `CloseDate`, `Amount`, `OwnerId`), as the definitions name those fields; only deal
     movement, stuck deals, fast movers and open pipeline use the as-of-week_end state.
 I7. A Task's type is `TaskSubtype` when non-empty, else `Type`; values compare exactly
     ('Call', 'Email'). A Task without `ActivityDate` counts in no week.
 I8. `avg_4w` = (sum of the 4 previous weeks) / 4; weeks without activity count as 0, also
     before the rep or the org had any data. `team_median` is the median (mean of the middle
     two for an even count) over the paired reps of the rep's manager, the rep included.
 I9. `pipeline_created` and `closed_won_amount` are floats; counts are ints.

Opportunity state and stages
 I10. History rows are ordered by (`CreatedDate`, `Id`). History rows without `StageName`, and
     rows of opportunities not in `Opportunity.csv` (deleted or unknown), are ignored.
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
     Activity on the deal is from any owner: closed Tasks by `ActivityDate`, Events by
     `StartDateTime` (or `ActivityDate` when that is empty). "No Task and no Event data at all"
     means zero non-deleted rows in Task and Event together; then `no_activity` is None.
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
 I20. Quarters are fiscal quarters from `fiscal_year_start_month` (default January). Quota rows
     must have `StartDate` equal to the quarter start; a sum of 0 (or no rows) means no quota
     (None), since the packet never shows 0%. The quota CSV fallback is not implemented.
 I21. `won_to_date` uses the current records (I6), `CloseDate` in `[quarter_start,
     min(week_end, quarter_end))`. `open_pipeline` sums the as-of-week_end `Amount` (null = 0) of
     the rep's deals open at week_end with as-of `CloseDate` in `[week_end, quarter_end)`;
     overdue open deals are not counted. `coverage` is None when `won_to_date >= amount`.
 I22. Underperformance counts the weeks among this one and the 3 before with a quota and
     `pacing < 0.7`; a week without quota never counts as below.
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
    # Not thresholds, but config METRICS.md mentions.
    "fiscal_year_start_month": 1,
    "extra_stages": [],
    "include_roles": [],
    "exclude_roles": [],
    "include_profiles": [],
    "exclude_profiles": [],
}

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

STUCK_REASON_ORDER = ("stage_aging", "no_activity", "close_date_pushed")

_OBJECTS = (
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


# ----------------------------------------------------------------------------- opportunities


@dataclass(frozen=True)
class State:
    """An opportunity's state at an instant."""

    stage: str
    amount: float | None
    close_date: date | None
    is_closed: bool
    is_won: bool


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

    def state_at(self, t: datetime, stages: dict[str, Stage]) -> State | None:
        """The last history row before t; else the current record if created before t."""
        rows = self.rows_before(t)
        if rows:
            row = rows[-1]
            stage = _stage_of(stages, row["StageName"])
            return State(
                row["StageName"], row["Amount"], row["CloseDate"], stage.is_closed, stage.is_won
            )
        if self.created is not None and self.created < t:
            stage = _stage_of(stages, self.record["StageName"])
            return State(
                self.record["StageName"],
                self.record["Amount"],
                self.record["CloseDate"],
                stage.is_closed,
                stage.is_won,
            )
        return None

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


def _resolve_rules(rules: dict[str, Any] | None) -> dict[str, Any]:
    resolved = {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULT_RULES.items()}
    for key, value in (rules or {}).items():
        if key not in DEFAULT_RULES:
            known = ", ".join(sorted(DEFAULT_RULES))
            raise OracleInputError(f"unknown rule {key!r}; known rules: {known}")
        resolved[key] = value
    month = resolved["fiscal_year_start_month"]
    if not isinstance(month, int) or not 1 <= month <= 12:
        raise OracleInputError(f"rule fiscal_year_start_month={month!r} must be 1..12")
    return resolved


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise OracleInputError(
            f"tz {tz!r} is not an IANA timezone such as 'Europe/Berlin'"
        ) from exc


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

    users = {u["Id"]: u for u in tables["User"].rows if u["Id"]}
    opp_rows = [o for o in tables["Opportunity"].rows if o["Id"]]
    history_rows = [
        h
        for h in tables["OpportunityHistory"].rows
        if h["StageName"] and h["CreatedDate"] is not None and h["OpportunityId"]
    ]
    stages, stage_source = _build_stages(
        tables["OpportunityStage"].rows, opp_rows, history_rows, resolved["extra_stages"]
    )

    opportunities = {
        o["Id"]: _Opportunity(o["Id"], o["Name"], o["OwnerId"], o["CreatedDate"], o)
        for o in opp_rows
    }
    for row in sorted(history_rows, key=lambda h: (h["CreatedDate"], h["Id"] or "")):
        opp = opportunities.get(row["OpportunityId"])
        if opp is not None:
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
    for task in tasks:
        if task["WhatId"] and task["IsClosed"] is True and task["ActivityDate"] is not None:
            task_dates[task["WhatId"]].append(task["ActivityDate"])
    event_times: dict[str, list[datetime]] = defaultdict(list)
    for event in events:
        when = event["StartDateTime"]
        if when is None and event["ActivityDate"] is not None:
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
    )


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


def _quarter(day: date, start_month: int) -> tuple[date, date]:
    """(start, exclusive end) of the fiscal quarter containing day."""
    month = day.month - (day.month - start_month) % 3
    year = day.year
    if month < 1:
        month += 12
        year -= 1
    end_month, end_year = month + 3, year
    if end_month > 12:
        end_month -= 12
        end_year += 1
    return date(year, month, 1), date(end_year, end_month, 1)


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


def _activity_by_week(org: OracleOrg, reps: set[str]) -> dict[tuple[str, str, str], float]:
    """(rep, week label, metric) -> value, for every week with any activity."""
    counts: dict[tuple[str, str, str], float] = defaultdict(float)

    def add(owner: str | None, day: date | None, metric: str, value: float = 1.0) -> None:
        if owner in reps and day is not None:
            counts[(owner, _Week.containing(day).label, metric)] += value

    for task in org.tasks:
        if task["IsClosed"] is not True:
            continue
        kind = task["TaskSubtype"] or task["Type"]
        if kind == "Call":
            add(task["OwnerId"], task["ActivityDate"], "calls")
        elif kind == "Email":
            add(task["OwnerId"], task["ActivityDate"], "emails")
    for event in org.events:
        start = event["StartDateTime"]
        add(event["OwnerId"], start.date() if start else None, "meetings")
    for opp in org.opportunities.values():
        record = opp.record
        if opp.created is not None:
            add(opp.owner_id, opp.created.date(), "opportunities_created")
            add(opp.owner_id, opp.created.date(), "pipeline_created", record["Amount"] or 0.0)
        won, closed = _record_flags(org, record)
        if won:
            add(opp.owner_id, record["CloseDate"], "closed_won_count")
            add(opp.owner_id, record["CloseDate"], "closed_won_amount", record["Amount"] or 0.0)
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
) -> dict[str, dict[str, dict[str, float]]]:
    reps = {rep for _, rep in pairs}
    counts = _activity_by_week(org, reps)
    this, prior = week.label, week.shift(-1).label
    previous4 = [week.shift(-k).label for k in range(1, 5)]
    metrics: dict[str, dict[str, dict[str, float]]] = {}
    for rep in reps:
        metrics[rep] = {}
        for metric in METRIC_NAMES:
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
    rules, stages = org.rules, org.stages
    week_start, week_end = week.start, week.end
    thresholds = compute_stage_thresholds(org, week_end)
    push_window_start = week_end - timedelta(days=rules["close_push_window_days"])
    deals: dict[str, dict[str, Any]] = {}
    owned = [opp for rep in sorted(reps) for opp in org.opportunities_by_owner.get(rep, [])]
    for opp in owned:
        end = opp.state_at(week_end, stages)
        if end is None:
            continue
        start = opp.state_at(week_start, stages)
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
            if org.has_activity_data:
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
        state = opp.state_at(week_end, org.stages)
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


def _won_to_date(org: OracleOrg, rep: str, first: date, end: date) -> float:
    total = 0.0
    for opp in org.opportunities_by_owner.get(rep, []):
        record = opp.record
        if record["CloseDate"] is None:
            continue
        won, _ = _record_flags(org, record)
        if won and first <= record["CloseDate"] < end:
            total += record["Amount"] or 0.0
    return total


def compute_quota(
    org: OracleOrg, rep: str, week: _Week, *, with_pipeline: bool = True
) -> dict[str, Any] | None:
    """The rep's quota block for the quarter containing the week's last day, or None."""
    quarter_start, quarter_end = _quarter(week.last_day, org.rules["fiscal_year_start_month"])
    rows = [q for q in org.quotas if q["QuotaOwnerId"] == rep and q["StartDate"] == quarter_start]
    amount = sum(q["QuotaAmount"] or 0.0 for q in rows)
    if not rows or amount <= 0:
        return None
    capped_end = min(week.end_date, quarter_end)
    won = _won_to_date(org, rep, quarter_start, capped_end)
    attainment = won / amount
    elapsed = (capped_end - quarter_start).days / (quarter_end - quarter_start).days
    block: dict[str, Any] = {
        "quarter_start": quarter_start,
        "quarter_end": quarter_end,
        "won_to_date": won,
        "amount": amount,
        "attainment": attainment,
        "elapsed": elapsed,
        "pacing": attainment / elapsed,
    }
    if with_pipeline:
        pipeline = 0.0
        for opp in org.opportunities_by_owner.get(rep, []):
            state = opp.state_at(week.end, org.stages)
            if (
                state is not None
                and not state.is_closed
                and state.close_date is not None
                and week.end_date <= state.close_date < quarter_end
            ):
                pipeline += state.amount or 0.0
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
    metrics: dict[str, dict[str, dict[str, float]]]
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


def recompute_week(
    org_dir: Path | OracleOrg,
    week: str,
    *,
    tz: str = "UTC",
    rules: dict[str, Any] | None = None,
) -> OracleWeek:
    """Recompute every METRICS.md number of `week` (`YYYY-Www`) for the org folder `org_dir`.

    `rules` overrides the METRICS.md defaults under the names of the `metrics` settings (plus
    `fiscal_year_start_month`, `extra_stages` and the role/profile lists). Pass an `OracleOrg`
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

    quota: dict[str, dict[str, Any] | None] = {}
    pacing_history: dict[str, list[float | None]] = {}
    recommended: dict[str, bool] = {}
    window = org.rules["underperformance_window_weeks"]
    for rep in sorted(reps):
        quota[rep] = compute_quota(org, rep, the_week)
        history: list[float | None] = []
        for back in range(window - 1, -1, -1):
            block = compute_quota(org, rep, the_week.shift(-back), with_pipeline=False)
            history.append(block["pacing"] if block else None)
        pacing_history[rep] = history
        below = sum(
            1 for p in history if p is not None and p < org.rules["underperformance_pacing"]
        )
        recommended[rep] = below >= org.rules["underperformance_weeks"]

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
    )
