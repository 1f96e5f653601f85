"""What a packet suggests discussing, in words: questions behind moved metrics, stuck-deal
evidence, the close-or-kill suggestion, coaching prompts, fast-mover questions, field-feedback
summaries, cadence and both prep checklists (the agenda is `agenda`'s). Inputs are mart values;
nothing here recomputes a metric of docs/metrics.md."""

from __future__ import annotations

import math
from typing import Any

from salesprep.config import MetricRules
from salesprep.packets.formatting import (
    MoneyFormat,
    format_days,
    format_delta,
    format_number,
)
from salesprep.packets.model import (
    ACTIVITY_METRICS,
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
    reasons = [r for r in (row.get("stuck_reasons") or "").split(",") if r]
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


def suggest_close_or_kill(deals: list[Deal]) -> Deal | None:
    """Mark the worst stuck deal (most reasons, then furthest past its stage threshold, then
    largest) with a "close it or kill it" suggestion."""
    stuck = [d for d in deals if d.is_stuck]
    if not stuck:
        return None

    def badness(deal: Deal) -> tuple[Any, ...]:
        overdue = 0.0
        if deal.days_in_stage is not None and deal.stage_threshold_days:
            overdue = float(deal.days_in_stage) / float(deal.stage_threshold_days)
        amount = float(deal.amount) if deal.amount is not None else -1.0
        return (-len(deal.stuck_reasons), -overdue, -amount, deal.opportunity_id)

    worst = min(stuck, key=badness)
    worst.suggestion = (
        "Close it or kill it: agree one concrete next step with the buyer this week, with a "
        "date, or mark the deal Closed Lost so the time goes to deals that move."
    )
    return worst


def coaching_items(deals: list[Deal], money: MoneyFormat) -> list[CoachingItem]:
    """Large stuck deals with concrete prompts, one per stuck reason plus a deal-size one."""
    items = []
    for deal in deals:
        if not (deal.is_stuck and deal.is_large):
            continue
        prompts = []
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
            )
        )
    return items


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
    if coaching:
        review.append(
            f"Prepare advice for {len(coaching)} large stuck deal(s): "
            + ", ".join(c.name for c in coaching)
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
) -> list[PrepItem]:
    """The mirror image for the rep: the why behind the numbers, the flywheel, initiatives."""
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
