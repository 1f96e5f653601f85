"""Calls, emails and meetings: Task and Event rows streamed week by week for each seller, aimed
mostly at the deals they have open that week (and rarely at deals that are stalling)."""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass

from salesprep.demo_org import vocabulary as vocab
from salesprep.demo_org.accounts import Book
from salesprep.demo_org.people import Person
from salesprep.demo_org.rhythm import poisson
from salesprep.demo_org.sinks import ObjectSink
from salesprep.demo_org.timeline import DAY, HOUR, Timeline

TASK_COLUMNS = (
    "Id", "OwnerId", "WhatId", "WhoId", "Subject", "ActivityDate", "Status", "IsClosed", "Type",
    "TaskSubtype", "CallDurationInSeconds", "IsDeleted", "CreatedDate", "LastModifiedDate",
    "SystemModstamp",
)  # fmt: skip
EVENT_COLUMNS = (
    "Id", "OwnerId", "WhatId", "WhoId", "Subject", "StartDateTime", "EndDateTime",
    "DurationInMinutes", "ActivityDate", "Type", "EventSubtype", "IsDeleted", "CreatedDate",
    "LastModifiedDate", "SystemModstamp",
)  # fmt: skip
_OPEN_STATUSES = ("Not Started", "In Progress", "Waiting on someone else")
_DURATIONS = (30, 30, 45, 60, 60, 60, 90)
_STALLED_WEIGHT = 0.06  # a stalled deal rarely gets a call: the no-activity rule should see it
P_TASK_DELETED = 0.003


@dataclass
class ActivityIds:
    task: Iterator[str]
    event: Iterator[str]


def write_activity(
    rng: random.Random,
    timeline: Timeline,
    seller: Person,
    book: Book,
    lite: list[tuple[str, str, str | None, int, int, int, int]],
    factors: list[float],
    ids: ActivityIds,
    tasks: ObjectSink,
    events: ObjectSink,
) -> None:
    """Write the seller's Tasks and Events for every week of the window."""
    persona = seller.persona
    assert persona is not None
    offsets = timeline.offsets(seller.time_zone)
    stamp, date_of = timeline.stamp, timeline.date
    owner = seller.id
    lo = max(0, seller.start_ts)
    hi = min(timeline.end_ts, seller.stop_ts)
    last_day = timeline.days - 1
    random_ = rng.random
    task_ids, event_ids = ids.task, ids.event
    active: list[tuple[str, str, str | None, int, int, int, int]] = []
    pending = 0
    for week, factor in enumerate(factors):
        if factor <= 0:
            continue
        week_start, week_end = week * 7 * DAY, (week + 1) * 7 * DAY
        while pending < len(lite) and lite[pending][3] < week_end:
            active.append(lite[pending])
            pending += 1
        active = [d for d in active if d[4] > week_start]
        weights, total = [], 0.0
        for deal in active:
            total += _STALLED_WEIGHT if deal[5] <= week_start < deal[6] else 1.0
            weights.append(total)
        accounts = book.available(week_end)
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
            what, who = _target(random_, active, weights, total, book, accounts)
            kind = random_()
            if kind < share_todo:
                subject, task_type, subtype, duration = rng.choice(vocab.TODO_SUBJECTS), "Other", \
                    "Task", None  # fmt: skip
            elif kind < share_todo + share_calls:
                voicemail = random_() < 0.3
                subject = "Left voicemail" if voicemail else rng.choice(vocab.CALL_SUBJECTS)
                duration = int(20 + random_() * 40) if voicemail else int(60 + random_() * 1700)
                # Calls logged by an old dialer integration carry no TaskSubtype, only Type.
                task_type, subtype = "Call", "" if random_() < 0.03 else "Call"
            else:
                subject, task_type, duration = rng.choice(vocab.EMAIL_SUBJECTS), "Email", None
                subtype = "" if random_() < 0.02 else "Email"
            created = modified = ts
            if random_() < 0.04 or (task_type == "Other" and random_() < 0.5):
                # A planned task, not done yet: due on `day`, created a few days before.
                status, closed, duration = rng.choice(_OPEN_STATUSES), "false", None
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
            rows.append((
                next(task_ids), owner, what, who, subject, date_of(min(day, last_day)), status,
                closed, task_type, subtype, duration, deleted, created_at, modified_at,
                modified_at,
            ))  # fmt: skip
        if rows:
            tasks.write_many(rows)
        _write_meetings(rng, timeline, seller, book, active, weights, total, accounts, factor,
                        week, offsets, lo, hi, event_ids, events)  # fmt: skip


def _target(random_, active, weights, total, book, accounts):  # type: ignore[no-untyped-def]
    """(WhatId, WhoId): mostly an open deal of the owner, sometimes an account, else nothing."""
    r = random_()
    if active and r < 0.72:
        deal = active[bisect.bisect_left(weights, random_() * total)]
        return deal[0], deal[2]
    if accounts and r < 0.9:
        index = int(random_() * accounts)
        people = book.contacts[index]
        return book.ids[index], people[0][0] if people else None
    return None, None


def _write_meetings(rng, timeline, seller, book, active, weights, total, accounts, factor, week,
                    offsets, lo, hi, event_ids, events) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    persona = seller.persona
    stamp, date_of = timeline.stamp, timeline.date
    random_ = rng.random
    rows = []
    for _ in range(poisson(rng, persona.meetings * factor)):
        day = week * 7 + int(random_() * 5)
        local = 8 * HOUR + 1800 * int(random_() * 19)  # 08:00-17:00 local, on the half hour
        start = day * DAY + local - offsets[day]
        minutes = rng.choice(_DURATIONS)
        end = start + minutes * 60
        if not lo <= start or end >= hi:
            continue
        what, who = _target(random_, active, weights, total, book, accounts)
        if what is None and accounts:
            index = int(random_() * accounts)
            what = book.ids[index]
        created = start - int((1 + random_() * 9) * DAY)  # booked days ahead
        if created < lo:
            created = lo + int(random_() * (start - lo))
        deleted = "false"
        modified = created
        if random_() < P_TASK_DELETED:
            deleted, modified = "true", start
        created_at = stamp(created)
        modified_at = stamp(modified)
        rows.append((
            next(event_ids), seller.id, what, who, rng.choice(vocab.MEETING_SUBJECTS),
            stamp(start), stamp(end), minutes, date_of(day), "Meeting", "Event", deleted,
            created_at, modified_at, modified_at,
        ))  # fmt: skip
    if rows:
        events.write_many(rows)
