"""Calls, emails and meetings: Task and Event rows streamed week by week for each seller, aimed
mostly at the deals they have open that week (and rarely at deals that are stalling)."""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from salesprep.demo_org import vocabulary as vocab
from salesprep.demo_org.accounts import Book
from salesprep.demo_org.deals import DealRef
from salesprep.demo_org.people import Person
from salesprep.demo_org.rhythm import poisson
from salesprep.demo_org.sinks import ObjectSink
from salesprep.demo_org.timeline import DAY, HOUR, Timeline

TASK_COLUMNS = (
    "Id", "OwnerId", "WhatId", "WhoId", "Subject", "ActivityDate", "Status", "IsClosed", "Type",
    "TaskSubtype", "CallDurationInSeconds", "IsDeleted", "CreatedDate", "LastModifiedDate",
    "SystemModstamp", "IsArchived",
)  # fmt: skip
EVENT_COLUMNS = (
    "Id", "OwnerId", "WhatId", "WhoId", "Subject", "StartDateTime", "EndDateTime",
    "DurationInMinutes", "ActivityDate", "Type", "EventSubtype", "IsDeleted", "CreatedDate",
    "LastModifiedDate", "SystemModstamp", "IsArchived",
)  # fmt: skip
# Salesforce archives closed Tasks due, and Events ended, more than 365 days ago: only queryAll
# returns them then. The demo org's export instant is the end of its window. Live activities
# keep IsArchived empty (the default org's files are as they always were).
ARCHIVE_DAYS = 365
_OPEN_STATUSES = ("Not Started", "In Progress", "Waiting on someone else")
_DURATIONS = (30, 30, 45, 60, 60, 60, 90)
_STALLED_WEIGHT = 0.06  # a stalled deal rarely gets a call: the no-activity rule should see it
P_TASK_DELETED = 0.003
_TODO, _CALLS, _EMAILS = vocab.TODO_SUBJECTS, vocab.CALL_SUBJECTS, vocab.EMAIL_SUBJECTS


@dataclass
class ActivityIds:
    task: Iterator[str]
    event: Iterator[str]


def write_activity(
    rng: random.Random,
    timeline: Timeline,
    seller: Person,
    book: Book,
    lite: list[DealRef],
    factors: list[float],
    ids: ActivityIds,
    tasks: ObjectSink,
    events: ObjectSink,
    *,
    log_emails: bool = True,
    log_meetings: bool = True,
) -> None:
    """Write the seller's Tasks and Events for every week of the window. An org that does not
    log emails (Einstein Activity Capture keeps them) or meetings has no such Tasks or Events:
    they are still drawn, so the other activity is the same as in an org that logs them."""
    persona = seller.persona
    assert persona is not None
    offsets = timeline.offsets(seller.time_zone)
    stamp, date_of = timeline.stamp, timeline.date
    owner = seller.id
    lo = max(0, seller.start_ts)
    hi = min(timeline.end_ts, seller.stop_ts)
    random_ = rng.random
    task_ids, event_ids = ids.task, ids.event
    archived_before = timeline.days - ARCHIVE_DAYS  # day index
    active: list[DealRef] = []
    pending = 0
    for week, factor in enumerate(factors):
        if factor <= 0:
            continue
        week_start, week_end = week * 7 * DAY, (week + 1) * 7 * DAY
        while pending < len(lite) and lite[pending][3] < week_end:
            active.append(lite[pending])
            pending += 1
        active = [d for d in active if d[4] > week_start]
        targets = _Targets(active, week_start, book, book.available(week_end))
        rows = []
        count = poisson(rng, (persona.calls + persona.emails + 3) * factor)
        share_calls = persona.calls / (persona.calls + persona.emails + 3)
        share_todo = 3 / (persona.calls + persona.emails + 3)
        for _ in range(count):
            r = random_()
            day = week * 7 + (5 if r < 0.015 else int(random_() * 5))
            ts = day * DAY + 8 * HOUR + int(random_() * 10 * HOUR) - offsets[day]
            if not lo <= ts < hi:
                continue
            what, who = targets.pick(random_)
            kind = random_()
            if kind < share_todo:
                subject = _TODO[int(random_() * len(_TODO))]
                task_type, subtype, duration = "Other", "Task", None
            elif kind < share_todo + share_calls:
                voicemail = random_() < 0.3
                subject = "Left voicemail" if voicemail else _CALLS[int(random_() * len(_CALLS))]
                duration = int(20 + random_() * 40) if voicemail else int(60 + random_() * 1700)
                # Calls logged by an old dialer integration carry no TaskSubtype, only Type.
                task_type, subtype = "Call", "" if random_() < 0.03 else "Call"
            else:
                subject, task_type, duration = _EMAILS[int(random_() * len(_EMAILS))], "Email", None
                subtype = "" if random_() < 0.02 else "Email"
            created = modified = ts
            if random_() < 0.04 or (task_type == "Other" and random_() < 0.5):
                # A planned task, not done yet: due on `day`, created a few days before.
                status, closed, duration = (
                    _OPEN_STATUSES[int(random_() * len(_OPEN_STATUSES))],
                    "false",
                    None,
                )
                created = max(lo, ts - int(random_() * 4 * DAY))
                modified = created
            else:
                status, closed = "Completed", "true"
            deleted = "false"
            if random_() < P_TASK_DELETED:
                deleted = "true"
                modified = min(hi - 1, modified + int(random_() * 2 * DAY))
            created_at = stamp(created)
            modified_at = created_at if modified == created else stamp(modified)
            task_id = next(task_ids)
            if task_type == "Email" and not log_emails:
                continue
            rows.append(
                (
                    task_id,
                    owner,
                    what,
                    who,
                    subject,
                    date_of(day),
                    status,
                    closed,
                    task_type,
                    subtype,
                    duration,
                    deleted,
                    created_at,
                    modified_at,
                    modified_at,
                    "true" if closed == "true" and day < archived_before else None,
                )
            )
        if rows:
            tasks.write_many(rows)
        _write_meetings(
            rng,
            timeline,
            seller,
            targets,
            week,
            factor,
            (lo, hi),
            event_ids,
            events if log_meetings else None,
        )


class _Targets:
    """What a seller's activities in one week can be about: open deals (weighted), accounts."""

    def __init__(self, active: list[DealRef], week_start: int, book: Book, accounts: int) -> None:
        self.active = active
        self.weights: list[float] = []
        self.total = 0.0
        for deal in active:
            self.total += _STALLED_WEIGHT if deal[5] <= week_start < deal[6] else 1.0
            self.weights.append(self.total)
        self.book = book
        self.accounts = accounts

    def pick(self, random_: Callable[[], float]) -> tuple[str | None, str | None]:
        """(WhatId, WhoId): mostly an open deal of the owner, sometimes an account, else none."""
        r = random_()
        if self.active and r < 0.72:
            deal = self.active[bisect.bisect_left(self.weights, random_() * self.total)]
            return deal[0], deal[2]
        if self.accounts and r < 0.9:
            return self.account(random_)
        return None, None

    def account(self, random_: Callable[[], float]) -> tuple[str | None, str | None]:
        if not self.accounts:
            return None, None
        index = int(random_() * self.accounts)
        people = self.book.contacts[index]
        return self.book.ids[index], people[0][0] if people else None


def _write_meetings(
    rng: random.Random,
    timeline: Timeline,
    seller: Person,
    targets: _Targets,
    week: int,
    factor: float,
    span: tuple[int, int],
    ids: Iterator[str],
    events: ObjectSink | None,
) -> None:
    assert seller.persona is not None
    offsets = timeline.offsets(seller.time_zone)
    lo, hi = span
    stamp, date_of = timeline.stamp, timeline.date
    random_ = rng.random
    archived_before = timeline.end_ts - ARCHIVE_DAYS * DAY
    rows = []
    for _ in range(poisson(rng, seller.persona.meetings * factor)):
        day = week * 7 + int(random_() * 5)
        local = 8 * HOUR + 1800 * int(random_() * 19)  # 08:00-17:00 local, on the half hour
        start = day * DAY + local - offsets[day]
        minutes = rng.choice(_DURATIONS)
        end = start + minutes * 60
        if not lo <= start or end >= hi:
            continue
        what, who = targets.pick(random_)
        if what is None:  # a meeting is always about a deal or an account
            what, who = targets.account(random_)
        created = start - int((1 + random_() * 9) * DAY)  # booked days ahead
        if created < lo:
            created = lo + int(random_() * (start - lo))
        deleted = "false"
        modified = created
        if random_() < P_TASK_DELETED:
            deleted, modified = "true", start
        created_at = stamp(created)
        modified_at = stamp(modified)
        rows.append(
            (
                next(ids),
                seller.id,
                what,
                who,
                rng.choice(vocab.MEETING_SUBJECTS),
                stamp(start),
                stamp(end),
                minutes,
                date_of(day),
                "Meeting",
                "Event",
                deleted,
                created_at,
                modified_at,
                modified_at,
                "true" if end < archived_before else None,
            )
        )
    if rows and events is not None:
        events.write_many(rows)
