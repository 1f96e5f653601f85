"""What a demo's pairs "recorded" after their 1:1 on the packets of a published week: lessons,
field feedback and agreed actions (docs/learnings.md), so that the next week's packets show
the loop closing: prior lessons, actions followed up against the CRM.

`salesprep demo` calls `write_sample_learnings` between its two weeks. Everything is chosen
from the demo org itself, deterministically: each action names a real deal of the rep, picked
by what the org's history does in the next week (a deal the CRM changes, one it does not), and
the due dates make some actions overdue by the next packet and leave others open."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from salesprep.packets.layout import MANIFEST, learnings_file
from salesprep.weeks import Week

# The initiatives file the demo points SALESPREP_INITIATIVES_FILE at (docs/configuration.md).
SAMPLE_INITIATIVES = Path(__file__).with_name("sample_initiatives.yaml")

_CLOSED = ("Closed Won", "Closed Lost")

# (theme, lesson) pairs, handed out in turn; themes join the loss-reason themes by keyword.
_LESSONS = (
    (
        "implementation timeline",
        "Bring the services lead to the second call: the rollout worry went away once the "
        "buyer saw a dated implementation plan.",
    ),
    (
        "pricing",
        "Anchor on the cost of the status quo before showing price; the discount request "
        "shrank when the buyer had put a number on it.",
    ),
    (
        "multi-threading",
        "A second contact in finance kept the deal moving while the champion was away.",
    ),
    (
        "competitor",
        "Ask which competitor they saw last and why it stalled; it named the gap to demo.",
    ),
)
_FEEDBACK = (
    ("implementation timeline", "Prospects ask for go-live in under six weeks; onboarding "
     "capacity is the question in every late-stage call."),
    ("pricing", "Two buyers this week compared our price per seat with a bundle from their "
     "incumbent vendor."),
    ("competitor", "A competitor offers a free pilot; prospects mention it before we do."),
)  # fmt: skip


class SampleLearningsError(RuntimeError):
    """The demo cannot write its sample learnings; the message says what is missing."""


@dataclass(frozen=True)
class _Deal:
    id: str
    owner_id: str
    stage: str
    industry: str | None
    changes_next_week: bool


@dataclass(frozen=True)
class SampleSummary:
    """What write_sample_learnings wrote."""

    week: str
    files: int
    lessons: int
    feedback: int
    actions: int

    def describe(self) -> str:
        return (
            f"{self.files} learnings files for {self.week}: {self.lessons} lessons, "
            f"{self.feedback} field feedback, {self.actions} agreed actions"
        )


def write_sample_learnings(shared_folder: Path, org_dir: Path, week: Week) -> SampleSummary:
    """Write one learnings file per pair published for `week` (from its manifest) under
    `shared_folder/learnings/<week>/`, as the pairs would after their 1:1. Actions link the
    rep's deals open at the end of `week`: one the CRM changes the week after, with a due date
    after that week (open, with what the CRM shows), one it leaves alone, due within that week
    (overdue), and a manager's action without a deal, due then too (overdue). When the pair
    recorded its sample for the week before (a demo of three runs or more), its follow-up
    call is marked done (`status: done`, shown done in the packet after `week`)."""
    manifest_path = shared_folder / week.label / MANIFEST
    if not manifest_path.is_file():
        raise SampleLearningsError(
            f"{manifest_path} is missing: publish {week} before writing its sample learnings"
        )
    packets = json.loads(manifest_path.read_text(encoding="utf-8"))["packets"]
    deals = _open_deals(org_dir, week)
    next_week = week.shift(1)
    lessons = feedback = actions = 0
    for number, packet in enumerate(sorted(packets, key=lambda p: p["rep_id"])):
        entries: list[str] = []
        rep_deals = deals.get(packet["rep_id"], [])
        changed = [d for d in rep_deals if d.changes_next_week]
        quiet = [d for d in rep_deals if not d.changes_next_week]
        theme, text = _LESSONS[number % len(_LESSONS)]
        lesson_deal = (changed or quiet or [None])[0]
        entries.append(
            _entry(
                {
                    "kind": "lesson",
                    "theme": theme,
                    "tags": "[demo]",
                    # Every sixth pair shares its lesson with the other teams and the digest.
                    "shareable": "yes" if number % 6 == 0 else "no",
                    "stage": lesson_deal.stage if lesson_deal else None,
                    "industry": lesson_deal.industry if lesson_deal else None,
                    "opportunity_id": lesson_deal.id if lesson_deal else None,
                },
                text,
            )
        )
        lessons += 1
        if number % 2 == 0:
            theme, text = _FEEDBACK[number // 2 % len(_FEEDBACK)]
            shared = "yes" if number % 4 == 0 else "no"
            entries.append(_entry({"kind": "feedback", "theme": theme, "shareable": shared}, text))
            feedback += 1
        earlier = _recorded_follow_up(shared_folder, week.shift(-1), packet)
        if earlier:
            entries.append(
                _entry(
                    {"kind": "action", "id": earlier, "status": "done"},
                    "Done: the call happened and the recap went out the same day.",
                )
            )
        if changed:
            entries.append(
                _action(
                    _action_id("follow-up-call", week),
                    "rep",
                    next_week.end_date + timedelta(days=1),  # after the next packet: open
                    changed[0].id,
                    "Book the follow-up call with the decision maker and send the recap.",
                )
            )
            actions += 1
        if quiet:
            entries.append(
                _action(
                    _action_id("next-step", week),
                    "rep",
                    next_week.start_date + timedelta(days=3),  # falls due before the packet
                    quiet[0].id,
                    "Agree a dated next step with the buyer, or close the deal out.",
                )
            )
            actions += 1
        entries.append(
            _action(
                _action_id("pricing-approval", week),
                "manager",
                next_week.start_date + timedelta(days=2),
                None,
                "Get the discount approval from sales leadership before the proposal goes out.",
            )
        )
        actions += 1
        slugs = (packet["manager_slug"], packet["rep_slug"])
        path = shared_folder / learnings_file(week.label, *slugs)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(entries), encoding="utf-8")
    return SampleSummary(week.label, len(packets), lessons, feedback, actions)


def _action_id(name: str, week: Week) -> str:
    """Action ids are unique within a pair across weeks: the week is part of them."""
    return f"{name}-{week.label.lower()}"


def _recorded_follow_up(shared_folder: Path, week: Week, packet: dict[str, str]) -> str | None:
    """The id of the follow-up-call action the pair's sample recorded for `week`, if any."""
    path = shared_folder / learnings_file(week.label, packet["manager_slug"], packet["rep_slug"])
    action_id = _action_id("follow-up-call", week)
    if path.is_file() and f"id: {action_id}\n" in path.read_text(encoding="utf-8"):
        return action_id
    return None


def _entry(keys: dict[str, str | None], text: str) -> str:
    lines = ["---", *(f"{key}: {value}" for key, value in keys.items() if value), "---", text]
    return "\n".join(lines) + "\n"


def _action(action_id: str, owner: str, due: date, deal_id: str | None, text: str) -> str:
    keys = {
        "kind": "action",
        "id": action_id,
        "owner": owner,
        "due": due.isoformat(),
        "opportunity_id": deal_id,
    }
    return _entry(keys, text)


def _read(org_dir: Path, name: str) -> list[dict[str, str]]:
    path = org_dir / f"{name}.csv"
    if not path.is_file():
        raise SampleLearningsError(f"{path} is missing: generate the demo org first")
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _open_deals(org_dir: Path, week: Week) -> dict[str, list[_Deal]]:
    """Rep Id → the rep's deals open at the end of `week` (created before it ends, not closed
    by then, as their stage history says), largest Id last, each marked with whether the CRM
    changes it the week after (a stage, amount or close-date change, or an activity)."""
    end, next_end = week.end("UTC"), week.shift(1).end("UTC")
    industries = {a["Id"]: a["Industry"] or None for a in _read(org_dir, "Account")}
    stage_at_end: dict[str, tuple[datetime, str]] = {}
    changed: set[str] = set()
    for row in _read(org_dir, "OpportunityHistory"):
        if row["IsDeleted"] == "true":
            continue
        created = _when(row["CreatedDate"])
        deal = row["OpportunityId"]
        if created < end:
            if deal not in stage_at_end or created >= stage_at_end[deal][0]:
                stage_at_end[deal] = (created, row["StageName"])
        elif created < next_end:
            changed.add(deal)
    next_start, next_stop = week.shift(1).start_date, week.shift(1).end_date
    for task in _read(org_dir, "Task"):
        if not task["WhatId"] or not task["ActivityDate"] or task["IsDeleted"] == "true":
            continue
        if next_start <= date.fromisoformat(task["ActivityDate"]) < next_stop:
            changed.add(task["WhatId"])
    deals: dict[str, list[_Deal]] = defaultdict(list)
    for opp in sorted(_read(org_dir, "Opportunity"), key=lambda o: o["Id"]):
        at_end = stage_at_end.get(opp["Id"])
        if opp["IsDeleted"] == "true" or at_end is None or at_end[1] in _CLOSED:
            continue
        deals[opp["OwnerId"]].append(
            _Deal(
                id=opp["Id"],
                owner_id=opp["OwnerId"],
                stage=at_end[1],
                industry=industries.get(opp["AccountId"]),
                changes_next_week=opp["Id"] in changed,
            )
        )
    return dict(deals)
