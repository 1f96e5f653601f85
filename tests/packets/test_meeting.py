"""The pre-set weekly 1:1: config `meeting` (default, per manager, per pair), the manager's
time zone, and the pair's `.ics` file (byte-stable, published with the packet, linked from the
packet and the manager's index)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest
from icalendar import Calendar

from salesprep.config import ConfigError, Settings, load_settings
from salesprep.packets.context import build_contexts
from salesprep.packets.publish import publish_week
from salesprep.packets.render import render_packet

from .marts_fixture import M1, M2, R1, R2, R3, R4, WEEK


def _event(ics: str):
    calendar = Calendar.from_ical(ics)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


def _contexts(con: duckdb.DuckDBPyConnection, settings: Settings, **meeting):
    changed = settings.model_copy(update={"meeting": load_settings(meeting=meeting).meeting})
    return {ctx.rep.id: ctx for ctx in build_contexts(con, WEEK, changed)}


def test_default_meeting_is_weekly_in_the_managers_time_zone(by_rep, rendered):
    ics = next(p.ics for p in rendered if p.rep_id == R1)
    calendar, event = _event(ics)
    # 2026-W10 ends Monday 9 March: the 1:1 the packet prepares is on the next Tuesday.
    assert event.decoded("dtstart") == datetime(
        2026, 3, 10, 10, 0, tzinfo=ZoneInfo("America/New_York")
    )
    assert event["dtstart"].params["TZID"] == "America/New_York"
    assert event.decoded("duration") == timedelta(minutes=30)
    rule = event["rrule"]
    assert rule["FREQ"] == ["WEEKLY"] and rule["BYDAY"] == ["TU"]
    assert "COUNT" not in rule and "UNTIL" not in rule
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    # Deterministic: the pair's UID, DTSTAMP from the week (its end), never the wall clock.
    assert str(event["uid"]) == "weekly-1on1-P1@salesprep"
    assert event.decoded("dtstamp") == datetime(2026, 3, 9, tzinfo=UTC)
    assert "mailto:dana@example.com" in str(event["organizer"])
    assert "mailto:alex1@example.com" in str(event["attendee"])
    description = str(event["description"])
    assert "Prep packet of 2026-W10: alex-rep-00r01aac.html" in description
    assert "client commitment" in description
    meeting = by_rep[R1].to_dict()["meeting"]
    assert meeting["ics_file"] == "alex-rep-00r01aac.ics"
    assert meeting["first_start"] == "2026-03-10T10:00:00"
    assert meeting["time_zone_source"] == "manager"


def test_the_ics_is_byte_stable_across_renders(contexts, rendered):
    again = [render_packet(ctx) for ctx in contexts]
    assert [p.ics for p in again] == [p.ics for p in rendered]
    assert all(p.ics.startswith("BEGIN:VCALENDAR") for p in rendered)
    assert len({_event(p.ics)[1]["uid"] for p in rendered}) == len(rendered)


def test_an_unknown_manager_time_zone_falls_back_to_the_org_zone(by_rep, rendered):
    # M2's TimeZoneSidKey in the fixture is not an IANA zone: the org's (UTC) is used, said.
    meeting = by_rep[R4].meeting
    assert (meeting.time_zone, meeting.time_zone_source) == ("UTC", "org")
    packet = next(p for p in rendered if p.rep_id == R4)
    assert "the manager's time zone is not set in Salesforce" in packet.html
    assert _event(packet.ics)[1]["dtstart"].dt.tzinfo is not None


def test_manager_and_pair_settings_override_the_default(con, settings):
    by_rep = _contexts(
        con,
        settings,
        day="Wednesday",
        time="9:00",
        managers={M1: {"time": "14:30", "minutes": 45}},
        pairs={R2[:15]: {"day": "friday"}, R4: {"time": "08:15"}},
    )
    slots = {rep: (c.meeting.day, c.meeting.time, c.meeting.minutes) for rep, c in by_rep.items()}
    assert slots == {
        R1: ("wednesday", "14:30", 45),  # the manager's time and length, the default day
        R2: ("friday", "14:30", 45),  # keyed by the 15-character rep Id
        R3: ("wednesday", "14:30", 45),
        R4: ("wednesday", "08:15", 30),  # another manager: default day and length
    }
    event = _event(render_packet(by_rep[R2]).ics)[1]
    assert event["rrule"]["BYDAY"] == ["FR"]
    assert event.decoded("dtstart") == datetime(
        2026, 3, 13, 14, 30, tzinfo=ZoneInfo("America/New_York")
    )
    assert event.decoded("duration") == timedelta(minutes=45)


def test_a_link_base_makes_the_packet_link_absolute(con, settings):
    by_rep = _contexts(con, settings, link_base="https://intranet.example.com/salesprep/")
    event = _event(render_packet(by_rep[R1]).ics)[1]
    link = "https://intranet.example.com/salesprep/2026-W10/dana-manager-00m01aaa/alex-rep-00r01aac.html"
    assert link in str(event["description"])
    assert str(event["url"]) == link


@pytest.mark.parametrize(
    ("meeting", "message"),
    [
        ({"day": "tue"}, "'tue' is not a day of the week"),
        ({"time": "25:00"}, "'25:00' is not a time of day"),
        ({"time": "10am"}, "'10am' is not a time of day"),
        ({"minutes": 0}, "meeting.minutes"),
        ({"managers": {"Dana": {"time": "10:00"}}}, "'Dana' is not a Salesforce User Id"),
        ({"pairs": {R1: {"hour": "10"}}}, f"meeting.pairs.{R1}.hour"),
        ({"pairs": {R1: {"day": "someday"}}}, "'someday' is not a day of the week"),
    ],
)
def test_bad_meeting_settings_are_clear_errors(meeting, message):
    with pytest.raises(ConfigError, match="meeting") as error:
        load_settings(meeting=meeting)
    assert message in str(error.value)


def test_an_unquoted_yaml_time_is_read_as_a_time(tmp_path, monkeypatch):
    config = tmp_path / "salesprep.yml"
    config.write_text(f"meeting:\n  time: 9:30\n  managers:\n    {M2}: {{time: 14:00}}\n")
    monkeypatch.setenv("SALESPREP_CONFIG", str(config))
    rules = load_settings().meeting
    assert rules.time == "09:30"
    assert rules.slot(M2, R4) == ("tuesday", "14:00", 30)


def test_the_ics_is_published_beside_the_packet_and_linked(tmp_path, rendered):
    manifest = publish_week(rendered, str(tmp_path), WEEK)
    week_dir = tmp_path / WEEK.label
    alex = manifest.packet(R1)
    ics_path = alex.paths["ics"]
    assert ics_path == f"{alex.manager_slug}/{alex.rep_slug}.ics"
    ics = (week_dir / ics_path).read_bytes()
    assert ics == next(p.ics for p in rendered if p.rep_id == R1).encode()
    on_disk = json.loads((week_dir / "manifest.json").read_text())
    assert any(p["paths"].get("ics") == ics_path for p in on_disk["packets"])
    # The packet links the file beside it, the manager's index links it from the rep's row.
    html = (week_dir / alex.paths["html"]).read_text()
    assert f'href="{alex.rep_slug}.ics"' in html
    index = (week_dir / alex.manager_slug / "index.html").read_text()
    assert f'href="{alex.rep_slug}.ics"' in index
    # Re-publishing the same week writes the same bytes.
    publish_week(rendered, str(tmp_path), WEEK)
    assert (week_dir / ics_path).read_bytes() == ics
