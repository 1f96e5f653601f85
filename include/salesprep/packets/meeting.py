"""The pre-set weekly 1:1 of a pair: when it is (config `meeting`, in the manager's time zone
from User.TimeZoneSidKey) and its calendar file, `<manager-slug>/<rep-slug>.ics`, published
beside the packet.

The file is byte-stable: a re-run of a week writes the same bytes. Its UID is the pair's (one
series per pair: importing next week's file updates the series and its link to the newest
packet), and DTSTAMP is the end of the packet's week, never the wall clock."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from salesprep.config import WEEKDAYS, Settings
from salesprep.packets.model import Meeting, PacketContext
from salesprep.weeks import Week

PRODID = "-//salesprep//weekly 1:1//EN"
UID_DOMAIN = "salesprep"
# The calendar's VTIMEZONE spans this many years from the first meeting (clients that know
# the TZID, most of them, use their own rules anyway).
_TZ_YEARS = 10
_BYDAY = {day: day[:2].upper() for day in WEEKDAYS}


class MeetingError(ValueError):
    """A pair whose meeting cannot be written; the message names the pair."""


def pair_time_zone(pair: dict[str, Any], settings: Settings) -> tuple[str, str]:
    """(IANA zone, source) of the pair's 1:1: the manager's User.TimeZoneSidKey when it is a
    zone this machine knows ("manager"), else the org's (`org_timezone`, "org")."""
    zone = (pair.get("manager_time_zone") or "").strip()
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return zone, "manager"
    return settings.org_timezone, "org"


def pair_meeting(
    pair: dict[str, Any], week: Week, settings: Settings, manager_slug: str, rep_slug: str
) -> Meeting:
    """The pair's weekly 1:1 as the packet of `week` offers it: its first occurrence is on the
    configured day of the week after `week` (the week the packet is read in)."""
    rules = settings.meeting
    day, clock, minutes = rules.slot(pair["manager_id"], pair["rep_id"])
    zone, source = pair_time_zone(pair, settings)
    hour, minute = (int(part) for part in clock.split(":"))
    first_day = week.end_date + timedelta(days=WEEKDAYS.index(day))
    packet = f"{rep_slug}.html"
    base = rules.link_base.strip().rstrip("/")
    return Meeting(
        day=day,
        time=clock,
        minutes=minutes,
        time_zone=zone,
        time_zone_source=source,
        first_start=datetime.combine(first_day, time(hour, minute)),
        ics_file=f"{rep_slug}.ics",
        packet_link=f"{base}/{week.label}/{manager_slug}/{packet}" if base else packet,
    )


def meeting_ics(ctx: PacketContext) -> str:
    """The pair's `.ics`: one VEVENT repeating weekly (RRULE) at the configured time in the
    manager's zone (with its VTIMEZONE), organised by the manager with the rep invited, the
    description linking this week's packet. Empty when the context has no meeting."""
    meeting = ctx.meeting
    if meeting is None:
        return ""
    zone = ZoneInfo(meeting.time_zone)
    start = meeting.first_start.replace(tzinfo=zone)
    stamp = datetime.combine(ctx.week_end, time(), UTC)

    event = Event()
    event.add("uid", f"{_uid_part(ctx.pair_id)}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("summary", f"1:1 {ctx.rep.name} / {ctx.manager.name}")
    event.add("dtstart", start)
    event.add("duration", timedelta(minutes=meeting.minutes))
    event.add("rrule", {"freq": "weekly", "byday": _BYDAY[meeting.day]})
    event.add("description", _description(ctx, meeting))
    if "://" in meeting.packet_link:
        event.add("url", meeting.packet_link)
    if ctx.manager.email:
        organizer = vCalAddress(f"mailto:{ctx.manager.email}")
        organizer.params["cn"] = vText(ctx.manager.name)
        event.add("organizer", organizer)
    if ctx.rep.email:
        attendee = vCalAddress(f"mailto:{ctx.rep.email}")
        attendee.params["cn"] = vText(ctx.rep.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    first = start.date()
    _add_missing_timezones(calendar, first, date(first.year + _TZ_YEARS, 1, 1))
    return calendar.to_ical().decode("utf-8")


def _add_missing_timezones(calendar: Calendar, first: date, last: date) -> None:
    """`Calendar.add_missing_timezones`, with each zone's VTIMEZONE computed once per process:
    icalendar walks every UTC offset of the years between `first` and `last` to build it
    (a fifth of a second per packet, more than the rest of the packet)."""
    at = len(calendar.timezones)
    for tzid in sorted(calendar.get_missing_tzids()):
        timezone = _vtimezone(tzid, first, last)
        if timezone is not None:
            calendar.subcomponents.insert(at, timezone)
            at += 1


@functools.lru_cache(maxsize=256)
def _vtimezone(tzid: str, first: date, last: date) -> Timezone | None:
    """The VTIMEZONE of `tzid` covering `first` to `last`, shared by every calendar that needs
    it (serialising it does not change it); None for a zone icalendar does not know."""
    try:
        return Timezone.from_tzid(tzid, first_date=first, last_date=last)
    except ValueError:
        return None


def _description(ctx: PacketContext, meeting: Meeting) -> str:
    return (
        f"Weekly 1:1 of {ctx.rep.name} with {ctx.manager.name}, pre-set every "
        f"{meeting.day_label} at {meeting.time} ({meeting.time_zone}). Cancel or move it only "
        "for a client commitment.\n"
        f"Prep packet of {ctx.week}: {meeting.packet_link}\n"
        f"Suggested length this week: {ctx.agenda.minutes} minutes."
    )


def _uid_part(pair_id: str) -> str:
    """The pair id as a UID's local part: letters, digits and dashes only."""
    part = re.sub(r"[^A-Za-z0-9-]", "-", pair_id)
    if not part.strip("-"):
        raise MeetingError(f"pair {pair_id!r} has no letters or digits for a calendar UID")
    return f"weekly-1on1-{part}"
