"""The packet context: typed objects holding everything one 1:1 packet shows, written out as
the packet's `.json` (keys per METRICS.md "Packet .json", plus the evidence behind them)."""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from salesprep.packets.formatting import MoneyFormat, format_date

# 1.1 (issue 11): `currency`, `activity_not_logged`, deal `amount_original`/`currency_original`/
# `forecast_category`/`record_type`, quota `quarter_label`, data_quality `unconverted_amounts`.
# Additive: every 1.0 key keeps its meaning (amounts were already "in the org's currency").
# 1.2 (issue 16): `since_last_1on1`, `actions`, data_quality `rejected_learnings`, deal
# `stuck_weeks`, coaching `close_it_or_kill_it`/`stuck_weeks`. Additive; deal `suggestion` now
# comes from the mart's close-it-or-kill-it flag (every deal stuck 3+ weeks running), no longer
# from a pick of the single worst stuck deal.
SCHEMA_VERSION = "1.2"

# The 8 activity metrics of METRICS.md, in the order a packet lists them.
METRIC_LABELS: dict[str, str] = {
    "calls": "Calls",
    "emails": "Emails",
    "meetings": "Meetings",
    "opportunities_created": "Opportunities created",
    "pipeline_created": "Pipeline created",
    "closed_won_count": "Deals won",
    "closed_won_amount": "Won amount",
    "closed_lost_count": "Deals lost",
}
METRIC_NAMES: tuple[str, ...] = tuple(METRIC_LABELS)
MONEY_METRICS = frozenset({"pipeline_created", "closed_won_amount"})
ACTIVITY_METRICS = ("calls", "emails", "meetings")
# What usually keeps a kind of activity out of Salesforce (METRICS.md, "Activity the org does
# not log"), for the packet's note.
NOT_LOGGED_CAUSES = {
    "calls": "calls made in a separate dialer or phone system that does not log Tasks",
    "emails": "emails kept in Einstein Activity Capture or an inbox add-on instead of Tasks",
    "meetings": "meetings kept in Einstein Activity Capture or a calendar not synced as Events",
}


def not_logged_note(kind: str) -> str:
    """What a packet says about a kind of activity the org does not log in Salesforce."""
    return (
        f"The org does not log {kind} in Salesforce: none in the 91 days before week end "
        f"(likely {NOT_LOGGED_CAUSES[kind]}). {kind.capitalize()} are left blank, not 0."
    )


@dataclass(frozen=True)
class Person:
    """A manager or a rep, as dim_sales_pairs names them."""

    id: str
    name: str
    email: str | None = None
    title: str | None = None
    role: str | None = None


@dataclass
class MetricLine:
    """One activity metric for the week, straight from rpt_pair_metrics_weekly."""

    name: str
    label: str
    is_money: bool
    this_week: float | int | None
    prior_week: float | int | None
    avg_4w: float | int | None
    team_median: float | int | None
    trend: list[float | int | None] = field(default_factory=list)
    moved: bool = False
    # False for calls, emails or meetings in a week the org does not log that kind: every value
    # above is then None and the packet says why instead of showing zeros.
    logged: bool = True


@dataclass
class Question:
    """A "why behind the numbers" question for a metric that moved against its 4-week average."""

    metric: str
    text: str


@dataclass
class Quota:
    """Quarter-to-date quota position from fct_rep_quota_weekly, with a plain verdict."""

    quarter_start: date | None
    quarter_end: date | None
    quarter_label: str | None
    amount: float | int
    won_to_date: float | int | None
    attainment: float | None
    elapsed: float | None
    pacing: float | None
    open_pipeline: float | int | None
    coverage: float | None
    is_below_pacing: bool | None
    on_track: bool
    verdict: str

    @property
    def quarter_last_day(self) -> date | None:
        """The quarter's last day (quarter_end is exclusive, as in int_weeks_enumerated)."""
        return self.quarter_end - timedelta(days=1) if self.quarter_end else None


@dataclass
class PacingWeek:
    """Pacing of one recent week: the evidence behind an underperformance flag."""

    week: str
    pacing: float | None
    is_below_pacing: bool | None


@dataclass
class StuckReason:
    """One reason a deal is stuck, with its rule, threshold and the deal's actual value."""

    code: str
    label: str
    rule: str
    threshold: float | int | None
    actual: float | int | None
    unit: str


@dataclass
class Deal:
    """One opportunity with a movement this week (fct_deal_movement_weekly)."""

    opportunity_id: str
    name: str
    account_name: str | None
    amount: float | int | None
    # The amount in the deal's own currency at the same instant; equal to `amount` (and the
    # corporate code) unless the deal is in another currency.
    amount_original: float | int | None
    currency_original: str | None
    forecast_category: str | None
    record_type: str | None
    close_date: date | None
    stage_start: str | None
    stage_end: str | None
    movement: str
    is_open_end: bool
    days_in_stage: int | None
    stage_threshold_days: float | int | None
    last_activity_date: date | None
    days_since_last_activity: int | None
    close_date_pushes_90d: int | None
    is_stuck: bool
    stuck_reasons: list[str]
    evidence: list[StuckReason]
    loss_reason: str | None
    cycle_days: float | int | None
    is_large: bool = False
    suggestion: str | None = None
    next_step: str | None = None
    # Weeks in a row it has been stuck, up to this week, and whether that makes it "close it
    # or kill it" (rpt_stuck_deal_followups_weekly); None / False when it is not stuck.
    stuck_weeks: int | None = None
    close_it_or_kill_it: bool = False


@dataclass
class FastMover:
    """A deal of the rep's that moved fast this week: a lesson for the growth flywheel."""

    opportunity_id: str
    name: str | None
    amount: float | int | None
    reason: str
    cycle_days: float | int | None
    cycle_p25_days: float | int | None
    stages_advanced: int | None
    stage_start: str | None
    stage_end: str | None
    prompt: str


@dataclass
class ThemeDeal:
    """A recently lost deal counted in a field-feedback theme."""

    opportunity_id: str
    name: str
    amount: float | int | None
    week: str
    loss_reason: str | None


@dataclass
class ThemeNextStep:
    """An open deal whose next step (as the rep wrote it) mentions a field-feedback theme."""

    opportunity_id: str
    name: str
    amount: float | int | None
    stage: str | None
    next_step: str


@dataclass
class FeedbackTheme:
    """A field-feedback theme with who should hear about it: the recently lost deals whose loss
    reason matches (`deals`, their total `amount`) and the open deals whose next step mentions
    it (`next_steps`); `count` is both together."""

    theme: str
    label: str
    count: int
    amount: float | int
    deals: list[ThemeDeal]
    escalate: bool
    escalate_to: str | None
    next_steps: list[ThemeNextStep] = field(default_factory=list)


@dataclass
class CoachingItem:
    """A deal to coach on and the prompts a manager can coach with: a deal stuck for
    `close_it_or_kill_it_weeks` or more weeks running (listed first), or a large stuck deal."""

    opportunity_id: str
    name: str
    amount: float | int | None
    stage: str | None
    days_in_stage: int | None
    reasons: list[str]
    prompts: list[str]
    close_it_or_kill_it: bool = False
    stuck_weeks: int | None = None
    is_large: bool = False


# How "Since our last 1:1" names the outcomes of rpt_stuck_deal_followups_weekly.
OUTCOME_LABELS = {
    "won": "Won",
    "lost": "Lost",
    "advanced": "Advanced",
    "unstuck": "Moving again",
    "still_stuck": "Still stuck",
    "newly_stuck": "Newly stuck",
}
OUTCOME_TONES = {"lost": "bad", "still_stuck": "bad", "newly_stuck": "warn"}


@dataclass
class StuckFollowup:
    """A deal of "Since our last 1:1" (rpt_stuck_deal_followups_weekly): one of last week's
    stuck deals and what became of it (`outcome` won, lost, advanced, still_stuck or unstuck),
    or a deal newly stuck this week (`newly_stuck`)."""

    opportunity_id: str
    name: str
    account_name: str | None
    amount: float | int | None
    close_date: date | None
    stage_start: str | None
    stage_end: str | None
    movement: str
    outcome: str
    is_stuck: bool
    stuck_reasons: list[str]
    previous_stuck_reasons: list[str]
    stuck_weeks: int | None
    stuck_since_week: str | None
    close_it_or_kill_it: bool
    # What became of it, in words.
    summary: str

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome.replace("_", " ").capitalize())

    @property
    def outcome_tone(self) -> str:
        """The tag class of the outcome: `bad` still stuck or lost, `warn` newly stuck."""
        return OUTCOME_TONES.get(self.outcome, "")


@dataclass
class SinceLastOneOnOne:
    """What changed since the last 1:1: last week's stuck deals, each with its outcome, and the
    deals newly stuck this week. `first_week`: there is no earlier week of data for the rep,
    so nothing to follow up."""

    previous_week: str
    first_week: bool
    last_week: list[StuckFollowup]
    newly_stuck: list[StuckFollowup]
    summary: str


@dataclass
class AgreedAction:
    """An action the pair agreed at an earlier 1:1 (rpt_pair_actions_weekly), its status and,
    for a deal-linked one, what the CRM shows since that 1:1 (`crm`, in words)."""

    action_id: str
    owner: str
    due_date: date | None
    text: str
    status: str
    recorded_week: str
    done_week: str | None
    shareable: bool
    opportunity_id: str | None
    opportunity_name: str | None
    is_opportunity_found: bool
    deal_activities_since: int | None
    last_deal_activity_date: date | None
    stage_at_1on1: str | None
    stage_now: str | None
    is_stage_changed: bool
    close_date_at_1on1: date | None
    close_date_now: date | None
    is_close_date_changed: bool
    deal_closed_since: str | None
    crm: list[str] = field(default_factory=list)

    @property
    def status_text(self) -> str:
        """The status as the packet words it."""
        if self.status == "done":
            return f"done (marked for {self.done_week})"
        due = format_date(self.due_date)
        if self.status == "overdue":
            return f"overdue (due {due})"
        return f"open (due {due})"


@dataclass
class RejectedEntry:
    """A learnings entry of the pair that the format or the checks refused
    (fct_learnings_rejected), with one message naming the file, entry, key and fix."""

    source_path: str
    week: str | None
    entry_number: int | None
    problem_key: str | None
    problem: str
    fix: str
    message: str


@dataclass(frozen=True)
class Initiative:
    """A key initiative outside the pipeline review (from the initiatives YAML file)."""

    title: str
    status: str
    owner: str | None = None
    due: str | None = None
    note: str | None = None
    scope: str = "all pairs"


@dataclass(frozen=True)
class Lesson:
    """A learning recorded after an earlier 1:1 (this pair's own, or another pair's shared one)
    that is relevant to this pair; fed by the learnings loop (rpt_pair_learnings_weekly)."""

    text: str
    source: str | None = None
    week: str | None = None
    manager_id: str | None = None
    rep_id: str | None = None
    learning_id: str | None = None
    kind: str = "lesson"
    theme: str | None = None
    why: str | None = None
    shareable: bool = True
    own: bool = False

    @property
    def attribution(self) -> str:
        """Who recorded it, when, and why it is in this packet, as one sentence or two."""
        parts = []
        if self.source:
            parts.append(f"From {self.source}" + (f", {self.week}." if self.week else "."))
        if self.why:
            parts.append(f"Relevant: {self.why}.")
        return " ".join(parts)


@dataclass
class PrepItem:
    """One step of a preparation checklist, with the packet numbers it points at."""

    title: str
    details: list[str]


@dataclass
class AgendaSection:
    """A timed block of the meeting."""

    key: str
    title: str
    minutes: int
    items: list[str]


@dataclass
class Agenda:
    """The meeting plan: the three Cs, or a performance conversation when one is recommended."""

    kind: str
    minutes: int
    sections: list[AgendaSection]
    basis: str
    reason: str | None = None
    pacing_history: list[PacingWeek] = field(default_factory=list)


@dataclass
class Cadence:
    """How often to meet: weekly by default, noted when activity volume is unusual."""

    recommendation: str
    volume: str
    note: str


@dataclass
class UnconvertedAmount:
    """An amount left out of the packet's numbers because its currency has no conversion rate
    (fct_unconverted_amounts_weekly), with the numbers it is missing from."""

    record_id: str
    object: str
    name: str | None
    currency: str | None
    amount_original: float | int | None
    rate_date: date | None
    numbers: list[str]


@dataclass
class DataQuality:
    """What the packet could not see or had to assume."""

    pipeline_created_null_amounts: int | None
    deals_without_amount: int
    activity_data_missing: bool
    missing_metrics: list[str]
    notes: list[str]
    unconverted_amounts: list[UnconvertedAmount] = field(default_factory=list)
    # The pair's learnings entries the run refused; each never failed the run.
    rejected_learnings: list[RejectedEntry] = field(default_factory=list)


@dataclass
class PacketContext:
    """Everything one manager–rep packet shows; rendered to HTML and Markdown, and to `.json`."""

    week: str
    week_start: date
    week_end: date
    pair_id: str
    manager: Person
    rep: Person
    metrics: list[MetricLine]
    trend_weeks: list[str]
    questions: list[Question]
    quota: Quota | None
    performance_conversation_recommended: bool
    deals: list[Deal]
    fast_movers: list[FastMover]
    feedback_themes: list[FeedbackTheme]
    coaching: list[CoachingItem]
    initiatives: list[Initiative]
    initiatives_note: str | None
    lessons: list[Lesson]
    manager_prep: list[PrepItem]
    rep_prep: list[PrepItem]
    agenda: Agenda
    cadence: Cadence
    data_quality: DataQuality
    # The corporate currency every amount is in (METRICS.md, Currency), and the Babel locale
    # money is formatted in (not written to the `.json`: formatting, not data).
    currency: str = "USD"
    money_locale: str = "en_US"
    # Kinds of activity (calls, emails, meetings) the org does not log in Salesforce this week.
    activity_not_logged: list[str] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION
    # Where the pair records what came out of this 1:1, relative to the shared folder root.
    learnings_file: str | None = None
    lessons_not_shown: int = 0
    # A partial week (guards.allow_partial_week): where its data ends, ISO 8601; None for a
    # complete week, whose data runs to week_end (and whose JSON then has no such key).
    data_to: str | None = None
    # "Since our last 1:1" (opens Context) and the agreed actions followed up this week.
    since_last_1on1: SinceLastOneOnOne | None = None
    actions: list[AgreedAction] = field(default_factory=list)

    @property
    def week_last_day(self) -> date:
        """The Sunday of the week (week_end is the exclusive Monday after it)."""
        return self.week_end - timedelta(days=1)

    @property
    def money(self) -> MoneyFormat:
        """How this packet formats money: the corporate currency in the money locale."""
        return MoneyFormat(self.currency, self.money_locale)

    @property
    def not_logged_notes(self) -> list[str]:
        """One sentence per kind of activity the org does not log this week."""
        return [not_logged_note(kind) for kind in self.activity_not_logged]

    @property
    def shows_record_types(self) -> bool:
        """Deal tables get a record-type column only in orgs whose deals have record types."""
        return any(deal.record_type for deal in self.deals)

    @property
    def quota_without_rate(self) -> list[str]:
        """Currencies of this quarter's quota rows that have no conversion rate."""
        return sorted(
            {
                item.currency or "?"
                for item in self.data_quality.unconverted_amounts
                if "quota_amount" in item.numbers
            }
        )

    @property
    def stuck_deals(self) -> list[Deal]:
        """Stuck deals, largest first (deals are already ordered that way)."""
        return [deal for deal in self.deals if deal.is_stuck]

    @property
    def moved_deals(self) -> list[Deal]:
        return [deal for deal in self.deals if deal.movement != "unchanged"]

    def metric(self, name: str) -> MetricLine:
        for line in self.metrics:
            if line.name == name:
                return line
        raise KeyError(f"packet {self.pair_id} for {self.week} has no metric {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """The `.json` payload: plain JSON types, metrics keyed by name, dates as ISO strings."""
        data = _plain(self)
        data.pop("money_locale")
        data["metrics"] = {line["name"]: line for line in data["metrics"]}
        if data["data_to"] is None:
            del data["data_to"]
        return data

    def to_json(self) -> str:
        """Deterministic JSON: sorted keys, no wall-clock values, a trailing newline. Compact, as
        tools read it: without `indent` the json module uses its C encoder, about 5x faster,
        which matters at a thousand packets a week (pretty-print with `jq` or `json.tool`)."""
        return (
            json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
        )


def plain_number(value: Any) -> Any:
    """A DuckDB number as a JSON number of the same value: Decimal and whole floats become
    int, NaN/inf become null. Other values pass through."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    return value


def to_plain(value: Any) -> Any:
    """A dataclass tree as plain JSON types (dates as ISO strings, numbers as in plain_number)."""
    return _plain(value)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_PLAIN_AS_IS = frozenset({str, int, bool, type(None)})


@functools.cache
def _dataclass_names(cls: type) -> tuple[str, ...] | None:
    return _field_names(cls) if hasattr(cls, "__dataclass_fields__") else None


def _plain(value: Any) -> Any:
    # The common exact types first (a packet has tens of thousands of values); anything else,
    # subclasses included, takes the general path below.
    kind = type(value)
    if kind in _PLAIN_AS_IS:
        return value
    if kind is float:
        return plain_number(value)
    if kind is list:
        return [_plain(v) for v in value]
    names = _dataclass_names(kind)
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    return _plain_general(value)


def _plain_general(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return plain_number(value) if isinstance(value, float) else value
    if hasattr(type(value), "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return plain_number(value)
