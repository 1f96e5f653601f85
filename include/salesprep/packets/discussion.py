"""What a packet suggests discussing, in words: questions behind moved metrics, stuck-deal
evidence, "since our last 1:1", agreed actions and what the CRM shows since, close it or kill
it, coaching prompts, fast-mover questions, field-feedback summaries, cadence and both prep
checklists (the agenda is `agenda`'s). Inputs are mart values; nothing here recomputes a metric
of docs/metrics.md or decides a flag the marts hold."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from salesprep.config import MetricRules
from salesprep.packets.formatting import (
    MoneyFormat,
    format_date,
    format_days,
    format_delta,
    format_number,
)
from salesprep.packets.marts import reason_codes
from salesprep.packets.model import (
    ACTIVITY_METRICS,
    AgreedAction,
    Cadence,
    CoachingItem,
    Deal,
    FastMover,
    FeedbackTheme,
    Initiative,
    Lesson,
    MetricLine,
    PrepItem,
    Question,
    Quota,
    StuckFollowup,
    StuckReason,
)

# A metric "moved" when it differs from its 4-week average by at least 30% and at least 3
# units: small counts swing by large percentages without meaning anything.
MOVE_MIN_RATIO = 0.30
MOVE_MIN_ABS = 3

# Cadence notes: weekly touches (calls + emails + meetings, 4-week average) and open deals.
HIGH_VOLUME_TOUCHES = 150
HIGH_VOLUME_OPEN_DEALS = 40
LOW_VOLUME_TOUCHES = 10
LOW_VOLUME_OPEN_DEALS = 5

_STUCK_LABELS = {
    "stage_aging": "Stage aging",
    "no_activity": "No recent activity",
    "close_date_pushed": "Close date pushed",
}


def is_moved(line: MetricLine) -> bool:
    """Whether a metric moved enough against its 4-week average to ask why. A kind of activity
    the org does not log never did: there is nothing to ask the rep about."""
    if not line.logged or line.this_week is None or line.avg_4w is None:
        return False
    this, avg = float(line.this_week), float(line.avg_4w)
    if not (math.isfinite(this) and math.isfinite(avg)):
        return False
    diff = abs(this - avg)
    if diff < MOVE_MIN_ABS:
        return False
    return avg == 0 or diff / abs(avg) >= MOVE_MIN_RATIO


def why_question(line: MetricLine, money: MoneyFormat) -> Question:
    """The "why behind the numbers" question for a moved metric, quoting the numbers."""
    up = float(line.this_week) > float(line.avg_4w)
    fmt = money if line.is_money else format_number
    delta = format_delta(line.this_week, line.avg_4w, money if line.is_money else None)
    head = (
        f"{line.label}: {fmt(line.this_week)} this week against a 4-week average of "
        f"{fmt(line.avg_4w)}, {delta}."
    )
    if line.name in ACTIVITY_METRICS:
        ask = (
            "What drove the increase, and is it turning into pipeline?"
            if up
            else "What took the time instead (client commitments, internal work, time off), "
            "and is it a one-off?"
        )
    elif line.name in ("opportunities_created", "pipeline_created"):
        ask = (
            "Which sources or plays produced it, and can the team repeat them?"
            if up
            else "Where did new pipeline stall: prospecting time, lead flow or qualification?"
        )
    elif line.name in ("closed_won_count", "closed_won_amount"):
        ask = (
            "What made these deals close now, and what can the team reuse?"
            if up
            else "Which expected closes slipped, and why?"
        )
    else:
        ask = (
            "What did the lost deals have in common, and what did the buyers say?"
            if up
            else "Fewer losses than usual: sharper qualification, or decisions still pending?"
        )
    return Question(metric=line.name, text=f"{head} {ask}")


def stuck_evidence(row: dict[str, Any], rules: MetricRules) -> list[StuckReason]:
    """Each stuck reason of a deal row with its rule, threshold and actual value."""
    reasons = reason_codes(row.get("stuck_reasons"))
    evidence = []
    for code in reasons:
        if code == "stage_aging":
            evidence.append(
                StuckReason(
                    code=code,
                    label=_STUCK_LABELS[code],
                    rule=(
                        "days in the current stage above the stage threshold: max("
                        f"{rules.stuck_min_days}, {rules.stuck_median_factor:g} × median days "
                        "deals spent in this stage), or "
                        f"{rules.stuck_fallback_days} with fewer than {rules.stuck_min_exits} exits"
                    ),
                    threshold=row.get("stage_threshold_days"),
                    actual=row.get("days_in_stage"),
                    unit="days",
                )
            )
        elif code == "no_activity":
            evidence.append(
                StuckReason(
                    code=code,
                    label=_STUCK_LABELS[code],
                    rule=(
                        "no closed task and no event on the deal in the "
                        f"{rules.no_activity_days} days before week end (deal older than "
                        f"{rules.no_activity_days} days)"
                    ),
                    threshold=rules.no_activity_days,
                    actual=row.get("days_since_last_activity"),
                    unit="days since last activity",
                )
            )
        elif code == "close_date_pushed":
            evidence.append(
                StuckReason(
                    code=code,
                    label=_STUCK_LABELS[code],
                    rule=(
                        f"close date moved later {rules.close_push_min_count} or more times in "
                        f"the {rules.close_push_window_days} days before week end"
                    ),
                    threshold=rules.close_push_min_count,
                    actual=row.get("close_date_pushes_90d"),
                    unit="pushes",
                )
            )
        else:
            evidence.append(
                StuckReason(
                    code=code,
                    label=code.replace("_", " ").capitalize(),
                    rule="reported by the deal-movement mart",
                    threshold=None,
                    actual=None,
                    unit="",
                )
            )
    return evidence


CLOSE_IT_OR_KILL_IT = (
    "Close it or kill it: agree one concrete next step with the buyer this week, with a date, "
    "or mark the deal Closed Lost so the time goes to deals that move."
)


def weeks_in_a_row(weeks: int | None) -> str:
    """ "1 week" / "4 weeks in a row"."""
    if weeks is None:
        return "an unknown number of weeks"
    return "1 week" if weeks == 1 else f"{weeks} weeks in a row"


def close_or_kill_suggestion(stuck_weeks: int | None) -> str:
    """The suggestion for a deal the mart flags close it or kill it (stuck for
    `close_it_or_kill_it_weeks` or more weeks running)."""
    return f"Stuck {weeks_in_a_row(stuck_weeks)}. {CLOSE_IT_OR_KILL_IT}"


def coaching_items(deals: list[Deal], money: MoneyFormat) -> list[CoachingItem]:
    """The deals to coach on: first every deal the mart flags close it or kill it (longest
    stuck first), then the other large stuck deals, each with concrete prompts: one per stuck
    reason, plus a deal-size one for a large deal."""
    flagged = sorted(
        (d for d in deals if d.is_stuck and d.close_it_or_kill_it),
        key=lambda d: -(d.stuck_weeks or 0),
    )
    large = [d for d in deals if d.is_stuck and d.is_large and not d.close_it_or_kill_it]
    items = []
    for deal in [*flagged, *large]:
        prompts = []
        if deal.close_it_or_kill_it:
            prompts.append(close_or_kill_suggestion(deal.stuck_weeks))
        for reason in deal.evidence:
            if reason.code == "stage_aging":
                prompts.append(
                    f"It has been in {deal.stage_end or 'its stage'} for "
                    f"{format_days(deal.days_in_stage)} (threshold "
                    f"{format_days(deal.stage_threshold_days)}). What must the buyer do to reach "
                    "the next stage, who owns that step, and by when?"
                )
            elif reason.code == "no_activity":
                since = (
                    f"for {format_days(deal.days_since_last_activity)}"
                    if deal.days_since_last_activity is not None
                    else "on record"
                )
                prompts.append(
                    f"No logged call, email or meeting {since}. Who on the buyer side can the "
                    "rep reach this week, and with what reason to respond?"
                )
            elif reason.code == "close_date_pushed":
                prompts.append(
                    f"The close date moved {format_number(deal.close_date_pushes_90d)} times in "
                    "90 days. What changed each time? Re-qualify the compelling event, the "
                    "budget and the signer."
                )
        if deal.is_large:
            prompts.append(
                f"At {money(deal.amount)} this is one of the rep's largest open deals: map "
                "the decision process together and agree the next two steps with dates."
            )
        items.append(
            CoachingItem(
                opportunity_id=deal.opportunity_id,
                name=deal.name,
                amount=deal.amount,
                stage=deal.stage_end,
                days_in_stage=deal.days_in_stage,
                reasons=list(deal.stuck_reasons),
                prompts=prompts,
                close_it_or_kill_it=deal.close_it_or_kill_it,
                stuck_weeks=deal.stuck_weeks,
                is_large=deal.is_large,
            )
        )
    return items


def _reasons(codes: list[str]) -> str:
    return ", ".join(_STUCK_LABELS.get(c, c.replace("_", " ")).lower() for c in codes)


def followup_summary(followup: StuckFollowup) -> str:
    """What became of one of last week's stuck deals, or why a deal is newly stuck, quoting
    the mart's outcome and streak."""
    streak = weeks_in_a_row(followup.stuck_weeks)
    outcome = followup.outcome
    if outcome == "newly_stuck":
        why = _reasons(followup.stuck_reasons)
        return "Newly stuck this week" + (f": {why}." if why else ".")
    if outcome in ("won", "lost"):
        return f"Closed {outcome} since the last 1:1, after being stuck {streak}."
    if outcome == "advanced":
        path = f" ({followup.stage_start} → {followup.stage_end})"
        if followup.is_stuck:
            return f"Advanced a stage{path} but still stuck: {streak}."
        return f"Advanced a stage{path}; no longer stuck, after being stuck {streak}."
    if outcome == "still_stuck":
        return f"Still stuck: {streak}, since {followup.stuck_since_week}."
    if outcome == "unstuck":
        return f"Moving again without a stage change; no longer stuck, after being stuck {streak}."
    return f"{outcome.replace('_', ' ').capitalize()} (stuck {streak})."


# The order "Since our last 1:1" counts last week's outcomes in.
_OUTCOME_WORDS = (
    ("won", "won"),
    ("lost", "lost"),
    ("advanced", "advanced"),
    ("unstuck", "moving again"),
    ("still_stuck", "still stuck"),
)


def since_summary(
    last_week: list[StuckFollowup], newly_stuck: list[StuckFollowup], first_week: bool
) -> str:
    """One sentence for "Since our last 1:1"."""
    new = (
        f"{len(newly_stuck)} deal(s) newly stuck this week."
        if newly_stuck
        else "No deal newly stuck this week."
    )
    if first_week:
        return (
            "First packet for this pair: there is no earlier week to follow up, so every "
            f"stuck deal is new. {new}"
        )
    if not last_week:
        return f"No deal was stuck at the last 1:1. {new}"
    parts = []
    for outcome, words in _OUTCOME_WORDS:
        n = sum(1 for f in last_week if f.outcome == outcome)
        if n:
            parts.append(f"{n} {words}")
    kill = sum(1 for f in last_week if f.close_it_or_kill_it)
    tail = f" ({kill} to close or kill)" if kill else ""
    return f"Of the {len(last_week)} deal(s) stuck at the last 1:1: {', '.join(parts)}{tail}. {new}"


def action_crm(action: AgreedAction) -> list[str]:
    """What the CRM shows since the 1:1 for a deal-linked action, one phrase per signal: closed,
    stage change, close-date change, activity logged. Empty without a deal."""
    if action.opportunity_id is None:
        return []
    if not action.is_opportunity_found:
        return [
            f"The CRM has no deal {action.opportunity_id} up to this week: check the "
            "opportunity_id in the learnings file."
        ]
    signals = []
    if action.deal_closed_since:
        signals.append(f"Deal closed {action.deal_closed_since} since the 1:1.")
    if action.is_stage_changed:
        signals.append(f"Stage changed: {action.stage_at_1on1} → {action.stage_now}.")
    if action.is_close_date_changed:
        signals.append(
            f"Close date changed: {format_date(action.close_date_at_1on1)} → "
            f"{format_date(action.close_date_now)}."
        )
    activities = action.deal_activities_since or 0
    if activities:
        signals.append(
            f"{activities} activit{'y' if activities == 1 else 'ies'} logged on the deal since "
            f"the 1:1 (last {format_date(action.last_deal_activity_date)})."
        )
    else:
        signals.append("No activity logged on the deal since the 1:1.")
    return signals


def rejected_message(
    source_path: str, entry_number: int | None, key: str | None, problem: str, fix: str
) -> str:
    """One line for a rejected learnings entry, in the load step's words (docs/learnings.md)."""
    where = source_path if entry_number is None else f"{source_path} entry {entry_number}"
    return f"Learnings entry rejected, {where}{f' ({key})' if key else ''}: {problem}; fix: {fix}"


def actions_summary(actions: list[AgreedAction]) -> str:
    """The agreed actions followed up this week, counted by status."""
    if not actions:
        return "Agreed actions: none open from earlier 1:1s."
    counts = {s: sum(1 for a in actions if a.status == s) for s in ("open", "overdue", "done")}
    return (
        f"Agreed actions: {counts['open']} open, {counts['overdue']} overdue, "
        f"{counts['done']} done since the last 1:1."
    )


def fast_mover_prompt(row: dict[str, Any], deal: Deal | None) -> str:
    """The lesson question for a fast mover."""
    name = deal.name if deal else row["opportunity_id"]
    if row["reason"] == "fast_cycle":
        return (
            f"{name} was won in {format_days(row.get('cycle_days'))}, at or below the team's "
            f"25th-percentile cycle of {format_days(row.get('cycle_p25_days'))}. What made it "
            "fast (champion, urgency, fit, deal size), and what can the team repeat?"
        )
    path = ""
    if deal and deal.stage_start and deal.stage_end:
        path = f" ({deal.stage_start} → {deal.stage_end})"
    return (
        f"{name} advanced {format_number(row.get('stages_advanced'))} stages this week{path}. "
        "What unlocked it, and does it apply to the stuck deals?"
    )


def theme_summary(theme: FeedbackTheme, money: MoneyFormat) -> str:
    """One line for a theme, lost deals and next-step mentions kept apart, e.g.
    "Implementation timeline × 4 lost (123,000), 2 open deals' next steps mention it"."""
    parts = []
    if theme.deals:
        parts.append(f"{len(theme.deals)} lost ({money(theme.amount)})")
    steps = len(theme.next_steps)
    if steps == 1:
        parts.append("1 open deal's next step mentions it")
    elif steps:
        parts.append(f"{steps} open deals' next steps mention it")
    return f"{theme.label} × " + ", ".join(parts)


def cadence_for(metrics: list[MetricLine], open_deals: int) -> Cadence:
    """Weekly by default; a note when activity volume is very high or very low."""
    touches = sum(
        float(m.avg_4w)
        for m in metrics
        if m.name in ACTIVITY_METRICS and m.avg_4w is not None and math.isfinite(float(m.avg_4w))
    )
    base = (
        "Weekly, pre-set at a fixed time. Cancel or move it only for a conflicting client "
        "commitment."
    )
    volume = f"{format_number(touches)} calls, emails and meetings a week (4-week average)"
    if touches >= HIGH_VOLUME_TOUCHES or open_deals >= HIGH_VOLUME_OPEN_DEALS:
        return Cadence(
            recommendation="weekly",
            volume="high",
            note=(
                f"{base} Activity volume is very high ({volume}; {open_deals} open deals): "
                "book the full 60 minutes or add a short mid-week deal check."
            ),
        )
    if touches < LOW_VOLUME_TOUCHES and open_deals < LOW_VOLUME_OPEN_DEALS:
        return Cadence(
            recommendation="weekly",
            volume="low",
            note=(
                f"{base} Activity volume is very low ({volume}; {open_deals} open deals): "
                "keep the slot short; if volume stays this low, meeting every two weeks may "
                "be enough, or make raising activity the first topic."
            ),
        )
    return Cadence(recommendation="weekly", volume="normal", note=base)


def manager_prep(
    metrics: list[MetricLine],
    deals: list[Deal],
    quota: Quota | None,
    lessons: list[Lesson],
    initiatives: list[Initiative],
    initiatives_note: str | None,
    coaching: list[CoachingItem],
    money: MoneyFormat,
) -> list[PrepItem]:
    """The guide's three manager steps, pointing at this packet's numbers."""
    review = [_activity_line(metrics), movement_summary(deals, money), quota_summary(quota)]
    kill = [
        f"{c.name} ({weeks_in_a_row(c.stuck_weeks)})" for c in coaching if c.close_it_or_kill_it
    ]
    if kill:
        review.append(
            f"Decide with the rep: close it or kill it for {len(kill)} deal(s) stuck week "
            "after week: " + ", ".join(kill) + " (see Coaching)."
        )
    large = [c.name for c in coaching if not c.close_it_or_kill_it]
    if large:
        review.append(
            f"Prepare advice for {len(large)} large stuck deal(s): "
            + ", ".join(large)
            + " (see Coaching)."
        )
    lesson_lines = [_lesson_line(lesson) for lesson in lessons] or [
        "None recorded yet: note one lesson from another 1:1 worth sharing with this rep."
    ]
    return [
        PrepItem("Review activity and account", review),
        PrepItem("Reflect on prior lessons learned", lesson_lines),
        PrepItem("Track key initiatives", _initiative_lines(initiatives, initiatives_note)),
    ]


def _lesson_line(lesson: Lesson) -> str:
    """A prep line for a learning: the theme and why it is here; the text is in Coaching."""
    if not lesson.theme:
        return f"Share: {lesson.text}"
    when = lesson.week or "an earlier 1:1"
    if lesson.own:
        return f"Follow up on your own {lesson.kind} on {lesson.theme} ({when}); see Coaching."
    why = f": {lesson.why}" if lesson.why else ""
    return f"Share the {lesson.kind} on {lesson.theme} from {lesson.source}{why}; see Coaching."


def rep_prep(
    questions: list[Question],
    deals: list[Deal],
    fast_movers: list[FastMover],
    initiatives: list[Initiative],
    initiatives_note: str | None,
    themes: list[FeedbackTheme],
    actions: Sequence[AgreedAction] = (),
) -> list[PrepItem]:
    """The mirror image for the rep: the why behind the numbers, the flywheel, the actions the
    rep owns, initiatives."""
    review = []
    if questions:
        review.append(
            f"Know the why behind the numbers: {len(questions)} metric(s) moved against your "
            "4-week average ("
            + ", ".join(q.metric.replace("_", " ") for q in questions)
            + "); see the questions under Context."
        )
    else:
        review.append(
            "Know the why behind the numbers: no metric moved 30% or more against your "
            "4-week average; be ready to explain the trend."
        )
    if fast_movers:
        review.append(
            "Growth flywheel: prepare the lessons from "
            + ", ".join(f.name or f.opportunity_id for f in fast_movers)
            + "."
        )
    else:
        review.append(
            "Growth flywheel: no fast movers this week; think of one deal that moved well."
        )
    stuck = [d for d in deals if d.is_stuck]
    if stuck:
        review.append(
            f"Stuck deals to talk through ({len(stuck)}): " + ", ".join(d.name for d in stuck) + "."
        )
    else:
        review.append("Stuck deals: none flagged; bring any deal you are worried about.")
    owned = [a for a in actions if a.owner == "rep" and a.status != "done"]
    if owned:
        review.append(
            f"Agreed actions you own ({len(owned)}): "
            + "; ".join(f"{a.action_id}, {a.status_text}" for a in owned)
            + ". Bring where each stands."
        )
    if themes:
        review.append(
            "Field feedback: bring what prospects said ("
            + ", ".join(f"{t.label.lower()} × {t.count}" for t in themes)
            + ")."
        )
    return [
        PrepItem("Review your account", review),
        PrepItem(
            "Track key initiatives: prepare an update",
            _initiative_lines(initiatives, initiatives_note),
        ),
    ]


def _initiative_lines(initiatives: list[Initiative], note: str | None) -> list[str]:
    if initiatives:
        return [f"{i.title} ({i.status})" for i in initiatives]
    return [note or "No key initiatives listed for this pair."]


def _activity_line(metrics: list[MetricLine]) -> str:
    parts = []
    for line in metrics:
        if line.name in ACTIVITY_METRICS and not line.logged:
            parts.append(f"{line.label.lower()} not logged in Salesforce")
        elif line.name in ACTIVITY_METRICS:
            parts.append(
                f"{line.label.lower()} {format_number(line.this_week)} "
                f"(4-wk avg {format_number(line.avg_4w)}, team median "
                f"{format_number(line.team_median)})"
            )
    return "Key metrics this week: " + "; ".join(parts) + "."


def movement_summary(deals: list[Deal], money: MoneyFormat) -> str:
    order = ("won", "lost", "new", "reopened", "advanced", "regressed")
    parts = []
    for movement in order:
        chosen = [d for d in deals if d.movement == movement]
        if chosen:
            total = sum(float(d.amount) for d in chosen if d.amount is not None)
            parts.append(f"{len(chosen)} {movement} ({money(total)})")
    stuck = [d for d in deals if d.is_stuck]
    moved = ", ".join(parts) if parts else "no deal moved"
    stuck_total = sum(float(d.amount) for d in stuck if d.amount is not None)
    return f"Deal movement: {moved}; {len(stuck)} stuck deal(s) worth {money(stuck_total)}."


def quota_summary(quota: Quota | None) -> str:
    if quota is None:
        return "Quota: no quota set for this quarter."
    return f"Quota: {quota.verdict}"
