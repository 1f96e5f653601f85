"""Packet contexts: one typed context per manager–rep pair for a week, built from the week's
marts (the second stage: marts → context → render → publish). Values come from the marts
unchanged; this layer selects, orders and explains them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from salesprep.config import MetricRules, Settings
from salesprep.packets import discussion
from salesprep.packets.agenda import Topics, plan_agenda
from salesprep.packets.formatting import (
    MoneyFormat,
    format_date,
    format_percent,
    format_ratio,
    resolve_money_locale,
)
from salesprep.packets.initiatives import load_initiatives
from salesprep.packets.layout import learnings_file, pair_slugs
from salesprep.packets.marts import MartError, WeekMarts, read_week_marts, reason_codes
from salesprep.packets.meeting import pair_meeting
from salesprep.packets.model import (
    METRIC_LABELS,
    MONEY_METRICS,
    AgreedAction,
    DataQuality,
    Deal,
    FastMover,
    FeedbackTheme,
    Initiative,
    Lesson,
    MetricLine,
    PacingWeek,
    PacketContext,
    Person,
    Quota,
    RejectedEntry,
    SinceLastOneOnOne,
    StuckFollowup,
    ThemeDeal,
    ThemeNextStep,
    UnconvertedAmount,
    not_logged_note,
    plain_number,
)
from salesprep.weeks import Week

if TYPE_CHECKING:
    import duckdb

    from salesprep.warehouse.connection import Marts

# A packet lists at most this many learnings; the rest are counted.
MAX_LESSONS = 8

__all__ = [
    "Lesson",
    "PacketContext",
    "WeekContexts",
    "build_contexts",
    "contexts_from_marts",
]


def build_contexts(
    con: Marts | duckdb.DuckDBPyConnection,
    week: Week,
    settings: Settings,
    lessons: Sequence[Lesson] = (),
) -> list[PacketContext]:
    """One context per pair of dim_sales_pairs for `week`, ordered by manager then rep.
    Each pair's lessons are its relevant learnings from rpt_pair_learnings_weekly (most
    relevant first, at most MAX_LESSONS shown); extra `lessons` apply to every pair unless
    scoped by manager or rep."""
    rules = settings.metrics
    marts = read_week_marts(con, week, rules.underperformance_window_weeks)
    return contexts_from_marts(marts, settings, lessons)


def contexts_from_marts(
    marts: WeekMarts, settings: Settings, lessons: Sequence[Lesson] = ()
) -> list[PacketContext]:
    """The contexts of build_contexts, from week marts already read."""
    return list(WeekContexts(marts, settings, lessons))


class WeekContexts(Sequence[PacketContext]):
    """The contexts of a week's pairs, each built when it is asked for (by index, in the
    order of `marts.pairs`): what every pair shares (initiatives, money format, slugs) is
    prepared once, here. A forked render worker inherits this object and builds only the
    contexts of the pairs it renders, so contexts are built in parallel, not in the parent.
    `data_to` (ISO time) marks a partial week on every context."""

    def __init__(
        self,
        marts: WeekMarts,
        settings: Settings,
        lessons: Sequence[Lesson] = (),
        *,
        data_to: str | None = None,
    ) -> None:
        self.marts = marts
        self.settings = settings
        self.lessons = lessons
        self.data_to = data_to
        self.book = load_initiatives(settings.initiatives_file)
        self.money = week_money(marts, settings)
        self.slugs = pair_slugs(
            (p["manager_id"], p["manager_name"], p["rep_id"], p["rep_name"]) for p in marts.pairs
        )

    def __len__(self) -> int:
        return len(self.marts.pairs)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self._build(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._build(index)

    def _build(self, index: int) -> PacketContext:
        marts, settings = self.marts, self.settings
        pair = marts.pairs[index]
        initiatives = self.book.for_pair(pair["manager_id"], pair["rep_id"])
        pair_lessons = _pair_lessons(pair, marts, self.lessons)
        ctx = _build_one(
            pair,
            marts,
            settings.metrics,
            self.money,
            initiatives,
            self.book.note if not initiatives else None,
            pair_lessons[:MAX_LESSONS],
        )
        ctx.lessons_not_shown = max(len(pair_lessons) - MAX_LESSONS, 0)
        pair_slug = self.slugs[(pair["manager_id"], pair["rep_id"])]
        ctx.learnings_file = learnings_file(marts.week.label, *pair_slug)
        ctx.meeting = pair_meeting(pair, marts.week, settings, *pair_slug)
        ctx.data_to = self.data_to
        return ctx


def week_money(marts: WeekMarts, settings: Settings) -> MoneyFormat:
    """How a week's packets write money: the corporate currency of dim_organization, in
    config's money_locale, else the org's default locale, else en_US."""
    locale = resolve_money_locale(settings.money_locale, marts.org_locale)
    return MoneyFormat(marts.currency, locale)


def _pair_lessons(pair: dict[str, Any], marts: WeekMarts, extra: Sequence[Lesson]) -> list[Lesson]:
    """The pair's relevant learnings, most relevant first, then the `extra` lessons meant for
    every pair or scoped to this one's manager or rep."""
    lessons = [_lesson(row, pair) for row in marts.lessons.get(pair["pair_id"], [])]
    return lessons + [
        lesson
        for lesson in extra
        if (lesson.manager_id in (None, pair["manager_id"]))
        and (lesson.rep_id in (None, pair["rep_id"]))
    ]


def _lesson(row: dict[str, Any], pair: dict[str, Any]) -> Lesson:
    """A relevant learning of the pair; a private one of another pair is a bug upstream."""
    own = row["source_manager_id"] == pair["manager_id"] and row["source_rep_id"] == pair["rep_id"]
    if not row["is_shareable"] and not own:
        raise MartError(
            f"rpt_pair_learnings_weekly offers private learning {row['learning_id']} of "
            f"{row['source_manager_id']}/{row['source_rep_id']} to pair {pair['pair_id']} "
            f"for {row['week']}: private learnings never leave their own pair"
        )
    why = row["why"]
    if own:
        source = "your own 1:1" + ("" if row["is_shareable"] else ", private")
        # "Recorded in this pair's own 1:1" says what the source already says.
        why = "; ".join(
            part for part in (why or "").split("; ") if not part.startswith("recorded in")
        )
    else:
        source = f"{row['source_rep_name']} with {row['source_manager_name']}"
    return Lesson(
        text=row["body"],
        source=source,
        week=row["learning_week"],
        manager_id=row["source_manager_id"],
        rep_id=row["source_rep_id"],
        learning_id=row["learning_id"],
        kind=row["kind"],
        theme=row["theme"],
        why=why or None,
        shareable=bool(row["is_shareable"]),
        own=own,
    )


def _build_one(
    pair: dict[str, Any],
    marts: WeekMarts,
    rules: MetricRules,
    money: MoneyFormat,
    initiatives: list[Initiative],
    initiatives_note: str | None,
    lessons: list[Lesson],
) -> PacketContext:
    """The packet of one pair: each section from its marts, then what to discuss."""
    rep_id = pair["rep_id"]
    metrics, missing_metrics = _metric_lines(pair, marts)
    questions = [discussion.why_question(m, money) for m in metrics if m.moved]
    quota, history, performance = _quota_status(rep_id, marts, rules, money)
    followups = marts.stuck_followups.get(pair["pair_id"], [])
    deals = _deals(rep_id, marts, rules, followups)
    coaching = discussion.coaching_items(deals, money)
    since = _since_last_1on1(pair, marts, followups)
    actions = [_action(row, pair) for row in marts.actions.get(pair["pair_id"], [])]
    fast_movers = _fast_movers(rep_id, marts, deals)
    themes, unrecorded = _feedback_themes(
        marts.feedback_themes.get(rep_id, []), marts.mentions_by_rep.get(rep_id, [])
    )
    topics = Topics(
        questions=questions,
        quota=quota,
        deals=deals,
        fast_movers=fast_movers,
        themes=themes,
        coaching=coaching,
        initiatives=initiatives,
        lessons=lessons,
        since=since,
        actions=actions,
    )
    # The kinds the org logs this week; the ones it does not are blank, not zeros.
    not_logged = [m.name for m in metrics if not m.logged]
    ctx = PacketContext(
        week=marts.week.label,
        week_start=marts.week.start_date,
        week_end=marts.week.end_date,
        pair_id=pair["pair_id"],
        manager=Person(
            id=pair["manager_id"], name=pair["manager_name"], email=pair["manager_email"]
        ),
        rep=Person(
            id=rep_id,
            name=pair["rep_name"],
            email=pair["rep_email"],
            title=pair["rep_title"],
            role=pair["rep_role_name"],
        ),
        metrics=metrics,
        trend_weeks=list(marts.trend_weeks),
        questions=questions,
        quota=quota,
        performance_conversation_recommended=performance,
        deals=deals,
        fast_movers=fast_movers,
        feedback_themes=themes,
        coaching=coaching,
        initiatives=initiatives,
        initiatives_note=initiatives_note,
        lessons=lessons,
        manager_prep=discussion.manager_prep(
            metrics, deals, quota, lessons, initiatives, initiatives_note, coaching, money
        ),
        rep_prep=discussion.rep_prep(
            questions, deals, fast_movers, initiatives, initiatives_note, themes, actions
        ),
        agenda=plan_agenda(
            topics, performance=performance, history=history, rules=rules, money=money
        ),
        cadence=discussion.cadence_for(metrics, sum(1 for d in deals if d.is_open_end)),
        data_quality=_data_quality(
            rep_id, marts, deals, missing_metrics, quota, unrecorded, not_logged, money
        ),
        currency=money.currency,
        money_locale=money.locale,
        activity_not_logged=not_logged,
        since_last_1on1=since,
        actions=actions,
    )
    ctx.data_quality.rejected_learnings = _rejected(
        marts.rejected_learnings.get(pair["pair_id"], [])
    )
    ctx.data_quality.notes.extend(entry.message for entry in ctx.data_quality.rejected_learnings)
    return ctx


def _metric_lines(pair: dict[str, Any], marts: WeekMarts) -> tuple[list[MetricLine], list[str]]:
    rows = marts.metrics.get(pair["pair_id"], {})
    activity = marts.activity.get(pair["rep_id"], {})
    lines, missing = [], []
    for name, label in METRIC_LABELS.items():
        row = rows.get(name)
        if row is None:
            missing.append(name)
        logged = bool(row["is_logged"]) if row else True
        line = MetricLine(
            name=name,
            label=label,
            is_money=name in MONEY_METRICS,
            this_week=plain_number(row["this_week"]) if row else None,
            prior_week=plain_number(row["prior_week"]) if row else None,
            avg_4w=plain_number(row["avg_4w"]) if row else None,
            team_median=plain_number(row["team_median"]) if row else None,
            # No trend for a kind the org does not log: its weeks would draw zeros or gaps
            # for activity Salesforce never saw.
            trend=[
                plain_number(activity[w][name]) if logged and w in activity else None
                for w in marts.trend_weeks
            ],
            logged=logged,
        )
        line.moved = discussion.is_moved(line)
        lines.append(line)
    return lines, missing


def _quota_status(
    rep_id: str, marts: WeekMarts, rules: MetricRules, money: MoneyFormat
) -> tuple[Quota | None, list[PacingWeek], bool]:
    """The rep's quota this week, pacing over the underperformance window, and whether a
    performance conversation is recommended."""
    rows = marts.quota.get(rep_id, {})
    this_week = rows.get(marts.week.label)
    history = [
        PacingWeek(
            week=label,
            pacing=plain_number(rows[label]["pacing"]),
            is_below_pacing=rows[label]["is_below_pacing"],
        )
        for label in marts.quota_weeks
        if label in rows
    ]
    performance = bool(this_week and this_week["performance_conversation_recommended"])
    return _quota(this_week, rules, money), history, performance


def _quota(row: dict[str, Any] | None, rules: MetricRules, money: MoneyFormat) -> Quota | None:
    if row is None or row["quota_amount"] is None:
        return None
    attainment = plain_number(row["attainment"])
    pacing = plain_number(row["pacing"])
    coverage = plain_number(row["coverage"])
    below = row["is_below_pacing"]
    won = plain_number(row["won_to_date"])
    amount = plain_number(row["quota_amount"])
    summary = (
        f"{format_percent(attainment)} of {money(amount)} won "
        f"({money(won)}) with {format_percent(row['elapsed'])} of the quarter elapsed, "
        f"pacing {format_ratio(pacing)}"
    )
    if attainment is not None and attainment >= 1:
        on_track, verdict = True, f"Quota met: {summary}."
    elif pacing is not None and pacing >= 1:
        on_track, verdict = True, f"On track: {summary}."
    elif below or (pacing is not None and pacing < rules.underperformance_pacing):
        on_track, verdict = False, f"Behind pace: {summary}."
    elif pacing is None:
        on_track, verdict = False, f"Pacing unknown: {summary}."
    else:
        on_track, verdict = False, f"Slightly behind pace: {summary}."
    if coverage is not None:
        verdict += (
            f" Open pipeline closing this quarter ({money(row['open_pipeline'])}) covers "
            f"{format_ratio(coverage)} of the quota still to win."
        )
    return Quota(
        quarter_start=_as_date(row["quarter_start"]),
        quarter_end=_as_date(row["quarter_end"]),
        quarter_label=row["quarter_label"],
        amount=amount,
        won_to_date=won,
        attainment=attainment,
        elapsed=plain_number(row["elapsed"]),
        pacing=pacing,
        open_pipeline=plain_number(row["open_pipeline"]),
        coverage=coverage,
        is_below_pacing=below,
        on_track=on_track,
        verdict=verdict,
    )


def _deals(
    rep_id: str, marts: WeekMarts, rules: MetricRules, followups: list[dict[str, Any]]
) -> list[Deal]:
    """The rep's deals with a movement this week (largest first), the large ones marked
    (fct_large_deals_weekly), each stuck one with its streak and, when the mart flags it
    close it or kill it, that suggestion (rpt_stuck_deal_followups_weekly)."""
    large = marts.large_deals.get(rep_id, set())
    streaks = {row["opportunity_id"]: row for row in followups if row["is_stuck"]}
    deals = []
    for row in marts.deals.get(rep_id, []):
        deal = _deal(row, rules, is_large=row["opportunity_id"] in large)
        streak = streaks.get(deal.opportunity_id)
        if deal.is_stuck and streak is not None:
            deal.stuck_weeks = plain_number(streak["stuck_weeks"])
            deal.close_it_or_kill_it = bool(streak["is_close_it_or_kill_it"])
            if deal.close_it_or_kill_it:
                deal.suggestion = discussion.close_or_kill_suggestion(deal.stuck_weeks)
        deals.append(deal)
    return deals


def _since_last_1on1(
    pair: dict[str, Any], marts: WeekMarts, rows: list[dict[str, Any]]
) -> SinceLastOneOnOne:
    """Last week's stuck deals with their outcome, then the newly stuck ones, in the order
    read (close it or kill it first, longest stuck, largest). A rep without an activity row
    for the week before has no earlier week of data: this is the pair's first packet."""
    previous = marts.week.shift(-1).label
    first_week = previous not in marts.activity.get(pair["rep_id"], {})
    followups = [_followup(row) for row in rows]
    last_week = [f for f in followups if f.outcome != "newly_stuck"]
    newly = [f for f in followups if f.outcome == "newly_stuck"]
    return SinceLastOneOnOne(
        previous_week=previous,
        first_week=first_week,
        last_week=last_week,
        newly_stuck=newly,
        summary=discussion.since_summary(last_week, newly, first_week),
    )


def _followup(row: dict[str, Any]) -> StuckFollowup:
    followup = StuckFollowup(
        opportunity_id=row["opportunity_id"],
        name=row["opportunity_name"] or row["opportunity_id"],
        account_name=row["account_name"],
        amount=plain_number(row["amount"]),
        close_date=_as_date(row["close_date"]),
        stage_start=row["stage_start"],
        stage_end=row["stage_end"],
        movement=row["movement"],
        outcome=row["outcome"],
        is_stuck=bool(row["is_stuck"]),
        stuck_reasons=reason_codes(row["stuck_reasons"]),
        previous_stuck_reasons=reason_codes(row["previous_stuck_reasons"]),
        stuck_weeks=plain_number(row["stuck_weeks"]),
        stuck_since_week=row["stuck_since_week"],
        close_it_or_kill_it=bool(row["is_close_it_or_kill_it"]),
        summary="",
    )
    followup.summary = discussion.followup_summary(followup)
    return followup


def _action(row: dict[str, Any], pair: dict[str, Any]) -> AgreedAction:
    """An agreed action of the pair; one of another pair is a bug upstream (actions, private
    or shareable, are followed up only in the packets of the pair that agreed them)."""
    if (row["manager_id"], row["rep_id"]) != (pair["manager_id"], pair["rep_id"]):
        raise MartError(
            f"rpt_pair_actions_weekly lists action {row['action_id']} of "
            f"{row['manager_id']}/{row['rep_id']} for pair {pair['pair_id']} in {row['week']}: "
            "actions are followed up only in their own pair's packets"
        )
    action = AgreedAction(
        action_id=row["action_id"],
        owner=row["owner"],
        due_date=_as_date(row["due_date"]),
        text=row["body"],
        status=row["status"],
        recorded_week=row["recorded_week"],
        done_week=row["done_week"],
        shareable=bool(row["is_shareable"]),
        opportunity_id=row["opportunity_id"],
        opportunity_name=row["opportunity_name"],
        is_opportunity_found=bool(row["is_opportunity_found"]),
        deal_activities_since=plain_number(row["deal_activities_since"]),
        last_deal_activity_date=_as_date(row["last_deal_activity_date"]),
        stage_at_1on1=row["stage_at_1on1"],
        stage_now=row["stage_now"],
        is_stage_changed=bool(row["is_stage_changed"]),
        close_date_at_1on1=_as_date(row["close_date_at_1on1"]),
        close_date_now=_as_date(row["close_date_now"]),
        is_close_date_changed=bool(row["is_close_date_changed"]),
        deal_closed_since=row["deal_closed_since"],
    )
    action.crm = discussion.action_crm(action)
    return action


def _rejected(rows: list[dict[str, Any]]) -> list[RejectedEntry]:
    """The pair's refused learnings entries, one message each in the load step's words."""
    entries = []
    for row in rows:
        number = plain_number(row["entry_number"])
        entries.append(
            RejectedEntry(
                source_path=row["source_path"],
                week=row["week"],
                entry_number=number,
                problem_key=row["problem_key"],
                problem=row["problem"],
                fix=row["fix"],
                message=discussion.rejected_message(
                    row["source_path"], number, row["problem_key"], row["problem"], row["fix"]
                ),
            )
        )
    return entries


def _deal(row: dict[str, Any], rules: MetricRules, *, is_large: bool) -> Deal:
    reasons = reason_codes(row["stuck_reasons"])
    return Deal(
        opportunity_id=row["opportunity_id"],
        name=row["opportunity_name"] or row["opportunity_id"],
        account_name=row["account_name"],
        amount=plain_number(row["amount"]),
        amount_original=plain_number(row["amount_original"]),
        currency_original=row["currency_original"],
        forecast_category=row["forecast_category"],
        record_type=row["record_type"],
        close_date=_as_date(row["close_date"]),
        stage_start=row["stage_start"],
        stage_end=row["stage_end"],
        movement=row["movement"],
        is_open_end=bool(row["is_open_end"]),
        days_in_stage=plain_number(row["days_in_stage"]),
        stage_threshold_days=plain_number(row["stage_threshold_days"]),
        last_activity_date=_as_date(row["last_activity_date"]),
        days_since_last_activity=plain_number(row["days_since_last_activity"]),
        close_date_pushes_90d=plain_number(row["close_date_pushes_90d"]),
        is_stuck=bool(row["is_stuck"]),
        stuck_reasons=reasons,
        evidence=discussion.stuck_evidence(row, rules),
        loss_reason=row["loss_reason"],
        cycle_days=plain_number(row["cycle_days"]),
        next_step=row["next_step"],
        is_large=is_large,
    )


def _feedback_themes(
    rows: list[dict[str, Any]], mentions: list[dict[str, Any]]
) -> tuple[list[FeedbackTheme], int]:
    """The rep's field-feedback themes (rpt_rep_feedback_themes_weekly, in its order) with the
    lost deals and open deals' next steps that name each (rpt_feedback_mentions_weekly), and
    how many recent losses have no loss reason."""
    by_theme: dict[str, list[dict[str, Any]]] = {}
    unrecorded = 0
    for mention in mentions:
        if mention["theme_key"] is None:
            unrecorded += 1
        else:
            by_theme.setdefault(mention["theme_key"], []).append(mention)
    themes = []
    for row in rows:
        named = by_theme.get(row["theme_key"], [])
        themes.append(
            FeedbackTheme(
                theme=row["theme_key"],
                label=row["theme_label"],
                count=row["mentions"],
                amount=plain_number(row["lost_amount"]),
                deals=[
                    ThemeDeal(
                        opportunity_id=m["source_id"],
                        name=m["opportunity_name"] or m["source_id"],
                        amount=m["amount"],
                        week=m["mention_week"],
                        loss_reason=m["mention_text"],
                    )
                    for m in named
                    if m["mention_kind"] == "loss_reason"
                ],
                escalate=bool(row["is_escalated"]),
                escalate_to=row["escalate_to"],
                next_steps=[
                    ThemeNextStep(
                        opportunity_id=m["source_id"],
                        name=m["opportunity_name"] or m["source_id"],
                        amount=plain_number(m["amount"]),
                        stage=m["stage_name"],
                        next_step=m["mention_text"],
                    )
                    for m in named
                    if m["mention_kind"] == "next_step"
                ],
            )
        )
    return themes, unrecorded


def _fast_movers(rep_id: str, marts: WeekMarts, deals: list[Deal]) -> list[FastMover]:
    by_id = {d.opportunity_id: d for d in deals}
    return [
        _fast_mover(row, by_id.get(row["opportunity_id"]))
        for row in marts.fast_movers.get(rep_id, [])
    ]


def _fast_mover(row: dict[str, Any], deal: Deal | None) -> FastMover:
    return FastMover(
        opportunity_id=row["opportunity_id"],
        name=deal.name if deal else None,
        amount=deal.amount if deal else None,
        reason=row["reason"],
        cycle_days=plain_number(row["cycle_days"]),
        cycle_p25_days=plain_number(row["cycle_p25_days"]),
        stages_advanced=plain_number(row["stages_advanced"]),
        stage_start=deal.stage_start if deal else None,
        stage_end=deal.stage_end if deal else None,
        prompt=discussion.fast_mover_prompt(row, deal),
    )


# The numbers an amount without a rate is missing from, as a packet names them.
_UNCONVERTED_NUMBERS = {
    "pipeline_created": "pipeline created",
    "closed_won_amount": "won amount",
    "won_to_date": "won to date",
    "open_pipeline": "open pipeline",
    "deal_amount": "deal amount",
    "quota_amount": "quota",
}


def _unconverted(rows: list[dict[str, Any]]) -> list[UnconvertedAmount]:
    """One item per record whose amount has no conversion rate, with the numbers it is
    missing from, in the mart's order (record id, then number)."""
    items: dict[str, UnconvertedAmount] = {}
    for row in rows:
        item = items.get(row["record_id"])
        if item is None:
            item = items[row["record_id"]] = UnconvertedAmount(
                record_id=row["record_id"],
                object=row["source_object"],
                name=row["record_name"],
                currency=row["currency_iso_code"],
                amount_original=plain_number(row["amount_original"]),
                rate_date=_as_date(row["rate_date"]),
                numbers=[],
            )
        item.name = item.name or row["record_name"]
        if row["amount_kind"] not in item.numbers:
            item.numbers.append(row["amount_kind"])
    return list(items.values())


def _unconverted_note(item: UnconvertedAmount, money: MoneyFormat) -> str:
    what = (
        f"Quota row {item.record_id}"
        if item.object == "ForecastingQuota"
        else f"{item.name or 'Opportunity'} ({item.record_id})"
    )
    when = f" for CloseDate {format_date(item.rate_date)}" if item.rate_date else ""
    numbers = ", ".join(_UNCONVERTED_NUMBERS.get(n, n) for n in item.numbers)
    return (
        f"{what}: {money.amount(item.amount_original, item.currency)} has no {item.currency} "
        f"conversion rate{when}, so it is left out of: {numbers}."
    )


def _data_quality(
    rep_id: str,
    marts: WeekMarts,
    deals: list[Deal],
    missing_metrics: list[str],
    quota: Quota | None,
    unrecorded_losses: int,
    not_logged: list[str],
    money: MoneyFormat,
) -> DataQuality:
    """What the packet's numbers lack and why, in the order the appendix lists it."""
    activity_row = marts.activity.get(rep_id, {}).get(marts.week.label)
    null_amounts = (
        plain_number(activity_row["pipeline_created_null_amounts"]) if activity_row else None
    )
    unconverted = _unconverted(marts.unconverted.get(rep_id, []))
    notes = []
    if null_amounts:
        notes.append(
            f"{null_amounts} opportunity(ies) created this week have no Amount; pipeline "
            "created counts them as 0."
        )
    without_amount = sum(1 for d in deals if d.amount_original is None)
    if without_amount:
        notes.append(f"{without_amount} deal(s) in this packet have no Amount.")
    notes.extend(_unconverted_note(item, money) for item in unconverted)
    notes.extend(not_logged_note(kind) for kind in not_logged)
    if marts.activity_data_missing:
        notes.append(
            "The org logs no calls, emails or meetings in Salesforce this week: the no-activity "
            "rule for stuck deals is off."
        )
    if missing_metrics:
        notes.append("No mart row for: " + ", ".join(missing_metrics) + " (shown as —).")
    if activity_row is None:
        notes.append("No activity row for this rep and week in fct_rep_activity_weekly.")
    quota_currencies = sorted(
        {item.currency or "?" for item in unconverted if "quota_amount" in item.numbers}
    )
    if quota is None and quota_currencies:
        notes.append(
            "No quota for this quarter: a quota row is in a currency without a conversion rate "
            f"({', '.join(quota_currencies)}); add the rate in Salesforce (Manage Currencies)."
        )
    elif quota is None:
        notes.append(
            "No quota for this quarter: add ForecastingQuota rows in Salesforce or a row in "
            "the quota CSV (SALESPREP_QUOTA_CSV)."
        )
    if unrecorded_losses:
        notes.append(f"{unrecorded_losses} recently lost deal(s) have no loss reason recorded.")
    return DataQuality(
        pipeline_created_null_amounts=null_amounts,
        deals_without_amount=without_amount,
        activity_data_missing=marts.activity_data_missing,
        missing_metrics=missing_metrics,
        notes=notes,
        unconverted_amounts=unconverted,
    )


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value if type(value) is date else value.date()
    return date.fromisoformat(str(value)[:10])
