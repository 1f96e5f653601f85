"""The timed agenda of a 1:1: its length from what there is to discuss, and its sections and
items in the guide's order: the three Cs (context, communication, coaching) and next steps, or
a performance conversation when one is recommended. All of the agenda's wording is here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from salesprep.config import MetricRules
from salesprep.packets.discussion import (
    actions_summary,
    movement_summary,
    quota_summary,
    theme_summary,
)
from salesprep.packets.formatting import MoneyFormat, format_percent, format_ratio
from salesprep.packets.model import (
    Agenda,
    AgendaSection,
    AgreedAction,
    CoachingItem,
    Deal,
    FastMover,
    FeedbackTheme,
    Initiative,
    Lesson,
    PacingWeek,
    Question,
    Quota,
    SinceLastOneOnOne,
)

# Agenda length: 30 minutes plus points for what there is to discuss, to the nearest 5.
AGENDA_MIN, AGENDA_MAX, AGENDA_STEP = 30, 60, 5
PERFORMANCE_AGENDA_MIN = 45
# Both agendas end with 5 minutes to agree next steps (or the follow-up).
WRAP_UP_MINUTES = 5
_AGENDA_WEIGHTS = (
    ("stuck deal", "stuck deals", 3),
    ("moved deal", "moved deals", 1),
    ("question", "questions", 2),
    ("escalated theme", "escalated themes", 2),
    ("stuck deal to coach", "stuck deals to coach", 3),
    ("fast mover", "fast movers", 2),
    ("initiative", "initiatives", 1),
)


@dataclass(frozen=True)
class Topics:
    """What a pair's packet puts up for discussion; the agenda is planned from it."""

    questions: list[Question]
    quota: Quota | None
    deals: list[Deal]
    fast_movers: list[FastMover]
    themes: list[FeedbackTheme]
    coaching: list[CoachingItem]
    initiatives: list[Initiative]
    lessons: list[Lesson]
    since: SinceLastOneOnOne | None = None
    actions: list[AgreedAction] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many of each weighted item (see _AGENDA_WEIGHTS) there are to discuss."""
        return {
            "stuck deal": sum(1 for d in self.deals if d.is_stuck),
            "moved deal": sum(1 for d in self.deals if d.movement != "unchanged"),
            "question": len(self.questions),
            "escalated theme": sum(1 for t in self.themes if t.escalate),
            "stuck deal to coach": len(self.coaching),
            "fast mover": len(self.fast_movers),
            "initiative": len(self.initiatives),
        }


def plan_agenda(
    topics: Topics,
    *,
    performance: bool,
    history: list[PacingWeek],
    rules: MetricRules,
    money: MoneyFormat,
) -> Agenda:
    """The agenda of a pair's 1:1: the performance conversation when one is recommended (with
    the pacing `history` behind it), else the standard one."""
    minutes, basis = agenda_minutes(topics.counts(), performance)
    if performance:
        return performance_agenda(minutes, basis, topics.quota, history, rules, money)
    return standard_agenda(minutes, basis, topics, money)


def agenda_minutes(counts: dict[str, int], performance: bool) -> tuple[int, str]:
    """Suggested length from how much there is to discuss, 30..60 in 5-minute steps, and a
    sentence showing the arithmetic."""
    points = 0
    parts = []
    for label, plural, weight in _AGENDA_WEIGHTS:
        n = counts.get(label, 0)
        if n:
            points += n * weight
            parts.append(f"{weight} × {n} {label if n == 1 else plural}")
    raw = AGENDA_MIN + points
    nearest = math.floor(raw / AGENDA_STEP + 0.5) * AGENDA_STEP
    minutes = min(AGENDA_MAX, max(AGENDA_MIN, nearest))
    basis = f"{AGENDA_MIN} min base" + (" + " + " + ".join(parts) if parts else "")
    basis += f" = {raw} min"
    if performance and minutes < PERFORMANCE_AGENDA_MIN:
        minutes = PERFORMANCE_AGENDA_MIN
        basis += f"; at least {PERFORMANCE_AGENDA_MIN} min for a performance conversation"
    basis += f"; suggested {minutes} min (always 30 to 60)"
    return minutes, basis


def standard_agenda(minutes: int, basis: str, topics: Topics, money: MoneyFormat) -> Agenda:
    """The three Cs in the guide's order, then next steps: 40% of the time before the wrap-up
    for context, 25% for communication, the rest for coaching."""
    context, communication, coaching = _split(minutes - WRAP_UP_MINUTES, 0.40, 0.25)
    return Agenda(
        kind="standard",
        minutes=minutes,
        basis=basis,
        sections=[
            AgendaSection("context", "Context", context, _context_items(topics, money)),
            AgendaSection(
                "communication",
                "Communication",
                communication,
                _communication_items(topics, money),
            ),
            AgendaSection("coaching", "Coaching", coaching, _coaching_items(topics, money)),
            AgendaSection(
                "next_steps",
                "Next steps",
                WRAP_UP_MINUTES,
                ["Agree owners and dates for each action; confirm next week's 1:1."],
            ),
        ],
    )


def _context_items(topics: Topics, money: MoneyFormat) -> list[str]:
    questions = topics.questions
    items = []
    if topics.since is not None:
        items.append(f"Since our last 1:1: {topics.since.summary}")
    items.append(actions_summary(topics.actions))
    items += [
        "Metrics against the 4-week average and team median"
        + (f": ask the why behind {len(questions)} moved metric(s)" if questions else ""),
        quota_summary(topics.quota),
        movement_summary(topics.deals, money),
    ]
    kill = [d.name for d in topics.deals if d.is_stuck and d.close_it_or_kill_it]
    if kill:
        items.append(f"Stuck deals: close it or kill it for {', '.join(kill)}.")
    items.append(
        f"Growth flywheel: {len(topics.fast_movers)} fast mover(s) to learn from."
        if topics.fast_movers
        else "Growth flywheel: no fast movers this week."
    )
    return items


def _communication_items(topics: Topics, money: MoneyFormat) -> list[str]:
    items = [
        f"Field feedback: {theme_summary(t, money)}"
        + (f", take it to {t.escalate_to}" if t.escalate else "")
        for t in topics.themes
    ]
    items.append("What conversations with prospects or colleagues are worth sharing?")
    if topics.initiatives:
        items.append(f"Updates on {len(topics.initiatives)} key initiative(s).")
    return items


def _coaching_items(topics: Topics, money: MoneyFormat) -> list[str]:
    items = [
        f"Close it or kill it: {c.name} ({money(c.amount)})"
        if c.close_it_or_kill_it
        else f"Move {c.name} forward ({money(c.amount)})"
        for c in topics.coaching
    ]
    shared = sum(1 for lesson in topics.lessons if not lesson.own)
    own = len(topics.lessons) - shared
    if shared:
        items.append(f"Share {shared} lesson(s) from other 1:1s.")
    if own:
        items.append(f"Follow up on {own} note(s) from your own earlier 1:1s.")
    items.append("What support does the rep need from the manager this week?")
    return items


def performance_agenda(
    minutes: int,
    basis: str,
    quota: Quota | None,
    history: list[PacingWeek],
    rules: MetricRules,
    money: MoneyFormat,
) -> Agenda:
    """The different conversation the guide asks for when a rep is regularly underperforming."""
    below = [w for w in history if w.is_below_pacing]
    evidence = ", ".join(f"{w.week} {format_ratio(w.pacing)}" for w in history)
    reason = (
        f"Pacing was below {format_ratio(rules.underperformance_pacing)} in {len(below)} of the "
        f"last {len(history)} weeks ({evidence}). The standard agenda assumes quality "
        "performance and effort; a rep who is regularly underperforming needs a different "
        "conversation, held with care and documented as your company's policy requires."
    )
    facts = ["Pacing by week: " + evidence + "."]
    if quota is not None:
        facts.append(
            f"Quarter to date: {money(quota.won_to_date)} won of "
            f"{money(quota.amount)} ({format_percent(quota.attainment)}), "
            f"{format_percent(quota.elapsed)} of the quarter elapsed."
        )
    facts_min, view_min, plan_min = _split(minutes - WRAP_UP_MINUTES, 0.25, 0.30)
    return Agenda(
        kind="performance",
        minutes=minutes,
        basis=basis,
        reason=reason,
        pacing_history=history,
        sections=[
            AgendaSection("facts", "Facts: results against quota", facts_min, facts),
            AgendaSection(
                "rep_view",
                "The rep's view: causes and obstacles",
                view_min,
                ["Listen first: what does the rep see behind the numbers?"],
            ),
            AgendaSection(
                "plan",
                "Plan and support",
                plan_min,
                [
                    "Agree specific, measurable commitments for the next 2 to 4 weeks "
                    "(activity, deals to progress).",
                    "Agree the support the manager gives (ride-alongs, deal reviews, training).",
                ],
            ),
            AgendaSection(
                "follow_up",
                "Follow-up",
                WRAP_UP_MINUTES,
                ["Set the review date and write down what was agreed."],
            ),
        ],
    )


def _split(minutes: int, first: float, second: float) -> tuple[int, int, int]:
    """`minutes` in three blocks: the `first` and `second` shares of it (rounded), the rest."""
    one = round(minutes * first)
    two = round(minutes * second)
    return one, two, minutes - one - two
