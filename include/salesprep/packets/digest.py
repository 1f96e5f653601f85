"""The cross-team learnings digest of a week (`<week>/learnings.html` and `learnings.md`):
shared lessons grouped by theme, every team's fast movers, and the field feedback to escalate
(loss-reason themes across all reps plus feedback that pairs recorded). Private learnings never
reach it: only rows with `is_shareable` are read, and any other row is an error."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from jinja2 import TemplateError

from salesprep.packets import discussion
from salesprep.packets.formatting import MoneyFormat
from salesprep.packets.marts import MartError, WeekMarts
from salesprep.packets.model import plain_number, to_plain

_OTHER = "other"


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


def _learning_theme_keys(theme: str, tags: str | None) -> list[str]:
    """The feedback themes a learning's theme and comma-separated tags name."""
    return discussion.theme_keys(f"{theme} {(tags or '').replace(',', ' ')}")


def _theme_as_label(theme: str) -> str:
    """A learning's own theme (no feedback theme matched) as a label: first letter upper."""
    return theme[:1].upper() + theme[1:]


def _group_key(theme: str, tags: str | None) -> tuple[str, str]:
    """A learning's digest group: its first feedback theme, else its theme as written."""
    keys = _learning_theme_keys(theme, tags)
    if keys:
        return keys[0], discussion.THEME_LABELS[keys[0]]
    return theme, _theme_as_label(theme)


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
    feedback_rows = []
    for row in marts.shared_learnings:
        _check_shareable(row)
        if row["kind"] == "feedback":
            feedback_rows.append(row)
            continue
        key, label = _group_key(row["theme"], row["tags"])
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

    escalations, unrecorded = _escalations(marts, feedback_rows)
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


def _escalations(
    marts: WeekMarts, feedback_rows: list[dict[str, Any]]
) -> tuple[list[Escalation], int]:
    """Loss-reason themes of every rep's recent losses, plus the shareable feedback entries,
    counted per theme; a theme with an owner escalates from ESCALATE_MIN_DEALS on."""
    buckets: dict[str, dict[str, Any]] = {}
    labels: dict[str, tuple[str, str | None]] = {
        key: (label, to) for key, label, to, _ in discussion.THEME_KEYWORDS
    }
    labels[_OTHER] = ("Other reasons", None)

    def bucket(key: str) -> dict[str, Any]:
        return buckets.setdefault(
            key, {"lost": 0, "amount": 0.0, "reps": set(), "reasons": [], "feedback": []}
        )

    unrecorded = 0
    for rep_id in sorted(marts.recent_lost):
        for row in marts.recent_lost[rep_id]:
            reason = (row.get("loss_reason") or "").strip()
            if not reason:
                unrecorded += 1
                continue
            for key in discussion.theme_keys(reason) or [_OTHER]:
                b = bucket(key)
                b["lost"] += 1
                b["amount"] += float(row["amount"] or 0)
                b["reps"].add(rep_id)
                b["reasons"].append(reason)
    for row in feedback_rows:
        _check_shareable(row)
        for key in _learning_theme_keys(row["theme"], row["tags"]) or [row["theme"]]:
            if key not in labels:
                labels[key] = (_theme_as_label(row["theme"]), None)
            bucket(key)["feedback"].append(row["body"])

    escalations = []
    for key, b in buckets.items():
        label, escalate_to = labels[key]
        total = b["lost"] + len(b["feedback"])
        escalations.append(
            Escalation(
                theme=key,
                label=label,
                escalate_to=escalate_to,
                lost_deals=b["lost"],
                lost_amount=plain_number(b["amount"]),
                reps=len(b["reps"]),
                feedback_entries=len(b["feedback"]),
                loss_reasons=sorted(set(b["reasons"]))[:5],
                feedback=b["feedback"],
                escalate=escalate_to is not None and total >= discussion.ESCALATE_MIN_DEALS,
            )
        )
    escalations.sort(key=lambda e: (not e.escalate, -e.total, -e.lost_amount, e.label))
    return escalations, unrecorded


def render_digest(digest: Digest, money: MoneyFormat) -> tuple[str, str]:
    """The digest as HTML and Markdown, amounts written as `money` says (the week's corporate
    currency and money locale)."""
    from salesprep.packets.render import RenderError, environment

    env = environment()
    try:
        html = env.get_template("learnings.html.j2").render(d=digest, money=money)
        markdown = env.get_template("learnings.md.j2").render(d=digest, money=money)
    except TemplateError as exc:
        raise RenderError(
            f"rendering the learnings digest for {digest.week} failed: {exc}"
        ) from exc
    return html, markdown
