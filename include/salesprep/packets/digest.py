"""The cross-team learnings digest of a week (`<week>/learnings.html` and `learnings.md`):
shared lessons grouped by theme, every team's fast movers, and the field feedback to escalate
(loss-reason themes across all reps plus feedback that pairs recorded). Private learnings never
reach it: only rows with `is_shareable` are read, and any other row is an error."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from salesprep.packets.marts import MartError, WeekMarts
from salesprep.packets.model import plain_number, to_plain


@dataclass
class DigestLesson:
    """A shared lesson, with the pair that recorded it."""

    learning_id: str
    week: str
    theme: str
    text: str
    source: str


@dataclass
class LessonGroup:
    """The shared lessons of one theme: a feedback theme's label, or the theme as written."""

    key: str
    label: str
    lessons: list[DigestLesson]


@dataclass
class DigestFastMover:
    """A fast-moving deal of any team this week."""

    manager_name: str | None
    rep_name: str | None
    rep_id: str
    opportunity_id: str
    name: str
    amount: float | int | None
    reason: str
    cycle_days: float | int | None
    cycle_p25_days: float | int | None
    stages_advanced: int | None
    stage_start: str | None
    stage_end: str | None


@dataclass
class Escalation:
    """One field-feedback theme across all teams: recent losses and recorded feedback."""

    theme: str
    label: str
    escalate_to: str | None
    lost_deals: int
    lost_amount: float | int
    reps: int
    feedback_entries: int
    loss_reasons: list[str]
    feedback: list[str]
    escalate: bool

    @property
    def total(self) -> int:
        return self.lost_deals + self.feedback_entries


@dataclass
class Digest:
    """Everything `learnings.html` shows for a week; `to_json` holds the same."""

    week: str
    week_start: date
    week_end: date
    lesson_weeks: list[str]
    feedback_weeks: list[str]
    lesson_groups: list[LessonGroup]
    fast_movers: list[DigestFastMover]
    escalations: list[Escalation]
    unrecorded_losses: int = 0
    teams: int = 0

    @property
    def week_last_day(self) -> date:
        return self.week_end - timedelta(days=1)

    @property
    def lessons(self) -> int:
        return sum(len(group.lessons) for group in self.lesson_groups)

    def to_json(self) -> str:
        return json.dumps(to_plain(self), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _check_shareable(row: dict[str, Any]) -> None:
    if not row["is_shareable"]:
        raise MartError(
            f"the digest was given private learning {row['learning_id']}: private learnings "
            "never leave their own pair"
        )


def build_digest(marts: WeekMarts) -> Digest:
    """The digest of `marts.week` from the week's marts."""
    names = {pair["rep_id"]: pair for pair in marts.pairs}

    groups: dict[str, LessonGroup] = {}
    for row in marts.shared_learnings:
        _check_shareable(row)
        if row["kind"] == "feedback":
            continue  # counted with the loss reasons under the escalations
        key, label = row["theme_key"], row["theme_label"]
        source = " with ".join(n for n in (row["rep_name"], row["manager_name"]) if n)
        groups.setdefault(key, LessonGroup(key=key, label=label, lessons=[])).lessons.append(
            DigestLesson(
                learning_id=row["learning_id"],
                week=row["week"],
                theme=row["theme"],
                text=row["body"],
                source=source or "a pair no longer in the team",
            )
        )
    lesson_groups = sorted(groups.values(), key=lambda g: (-len(g.lessons), g.label.lower()))

    fast_movers = []
    for rep_id, rows in sorted(marts.fast_movers.items()):
        deals = {d["opportunity_id"]: d for d in marts.deals.get(rep_id, [])}
        # A rep without a packet (e.g. an inactive manager) still counts for the digest.
        person = marts.people.get(rep_id, {})
        pair = names.get(rep_id) or {
            "manager_name": person.get("manager_name"),
            "rep_name": person.get("user_name"),
        }
        for row in rows:
            deal = deals.get(row["opportunity_id"], {})
            fast_movers.append(
                DigestFastMover(
                    manager_name=pair.get("manager_name"),
                    rep_name=pair.get("rep_name"),
                    rep_id=rep_id,
                    opportunity_id=row["opportunity_id"],
                    name=deal.get("opportunity_name") or row["opportunity_id"],
                    amount=plain_number(deal.get("amount")),
                    reason=row["reason"],
                    cycle_days=plain_number(row["cycle_days"]),
                    cycle_p25_days=plain_number(row["cycle_p25_days"]),
                    stages_advanced=plain_number(row["stages_advanced"]),
                    stage_start=deal.get("stage_start"),
                    stage_end=deal.get("stage_end"),
                )
            )
    fast_movers.sort(
        key=lambda f: (f.manager_name or "", f.rep_name or "", -(f.amount or 0), f.opportunity_id)
    )

    escalations, unrecorded = _escalations(marts)
    return Digest(
        week=marts.week.label,
        week_start=marts.week.start_date,
        week_end=marts.week.end_date,
        lesson_weeks=list(marts.digest_weeks),
        feedback_weeks=list(marts.feedback_weeks),
        lesson_groups=lesson_groups,
        fast_movers=fast_movers,
        escalations=escalations,
        unrecorded_losses=unrecorded,
        teams=len({pair["manager_id"] for pair in marts.pairs}),
    )


def _escalations(marts: WeekMarts) -> tuple[list[Escalation], int]:
    """The week's themes across all teams (rpt_feedback_escalations_weekly, in its order) with
    up to 5 of their loss reasons and their shared feedback (rpt_feedback_mentions_weekly), and
    how many recent losses have no loss reason."""
    reasons: dict[str, set[str]] = {}
    feedback: dict[str, list[str]] = {}
    unrecorded = 0
    for mention in marts.feedback_mentions:
        key, kind = mention["theme_key"], mention["mention_kind"]
        if key is None:
            unrecorded += 1
        elif kind == "loss_reason":
            reasons.setdefault(key, set()).add(mention["mention_text"])
        elif kind == "feedback":
            feedback.setdefault(key, []).append(mention["mention_text"])
    escalations = [
        Escalation(
            theme=row["theme_key"],
            label=row["theme_label"],
            escalate_to=row["escalate_to"],
            lost_deals=row["lost_deals"],
            lost_amount=plain_number(row["lost_amount"]),
            reps=row["reps"],
            feedback_entries=row["feedback_entries"],
            loss_reasons=sorted(reasons.get(row["theme_key"], ()))[:5],
            feedback=feedback.get(row["theme_key"], []),
            escalate=bool(row["is_escalated"]),
        )
        for row in marts.escalations
    ]
    return escalations, unrecorded
