"""Which weeks a run may prepare: never one that has not ended, one the source data does not
reach, or one before the org's first data, because each of those publishes packets that look
complete and are not (zero activity, "data as of" a day that has not come).

Two checks, both before extraction (decision 18):

- `check_week_ended`, against the wall clock at the run's start (no data needed);
- `judge_coverage`, against the org's data span (`DataSpan`: its first `CreatedDate` and its
  freshest `SystemModstamp`), which the extract step asks the org for in one composite call
  right after login, before it reads any data.

`guards.allow_partial_week` is the one explicit exception: the week is prepared up to the
freshest data, and `WeekCoverage` (saved in the data dir for the render step) makes every
packet say "partial week, data to <time>".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from salesprep.runs.atomic_swap import write_text_atomic
from salesprep.weeks import Week

_PARTIAL_HINT = (
    "or pass --allow-partial-week (Airflow: param allow_partial_week; setting "
    "guards.allow_partial_week) for packets labelled as a partial week"
)


class WeekRefusedError(ValueError):
    """A week the run must not prepare; one line naming the week, why, and what to do."""


@dataclass(frozen=True)
class DataSpan:
    """When the org's data starts and how fresh it is (None: the org has no such records)."""

    first: datetime | None
    freshest: datetime | None


@dataclass(frozen=True)
class WeekCoverage:
    """How far the source data of a prepared week reaches; `partial` weeks are labelled."""

    week: str
    partial: bool
    data_to: str  # ISO 8601 in the org timezone: where the week's data ends

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def coverage_path(data_dir: Path, week: Week) -> Path:
    """Where the extract step records the week's coverage for the render step."""
    return Path(data_dir) / "state" / f"coverage-{week.label}.json"


def save_coverage(data_dir: Path, coverage: WeekCoverage) -> Path:
    path = coverage_path(data_dir, Week.parse(coverage.week))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(coverage.to_dict(), sort_keys=True) + "\n")
    return path


def load_coverage(data_dir: Path, week: Week) -> WeekCoverage | None:
    """The coverage the extract step recorded for `week`, None if it recorded none."""
    path = coverage_path(data_dir, week)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return WeekCoverage(str(data["week"]), bool(data["partial"]), str(data["data_to"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WeekRefusedError(
            f"the week coverage record {path} cannot be read ({exc}): run the week again"
        ) from exc


def check_week_ended(week: Week, now: datetime, tz: str, *, allow_partial: bool) -> None:
    """Refuse a week that ends after `now` (the run's start), unless partial weeks are allowed;
    a week that has not even started is refused either way."""
    start, end = week.start(tz), week.end(tz)
    if now >= end:
        return
    if now < start:
        raise WeekRefusedError(
            f"week {week} has not started: it runs {_when(start)} to {_when(end)} and this run "
            f"started {_when(now.astimezone(ZoneInfo(tz)))}; choose a week that has ended, "
            f"such as {Week.last_complete(now, tz)}"
        )
    if not allow_partial:
        raise WeekRefusedError(
            f"week {week} has not ended: it ends {_when(end)} and this run started "
            f"{_when(now.astimezone(ZoneInfo(tz)))}; run it after it ends, {_PARTIAL_HINT}"
        )


def judge_coverage(
    week: Week, span: DataSpan, now: datetime, tz: str, *, allow_partial: bool, grace_hours: float
) -> WeekCoverage:
    """The week's coverage by the org's data, or WeekRefusedError when the week ends before the
    org's first data, has no data at all, or (unless partial weeks are allowed) ends more than
    `grace_hours` after the freshest data."""
    zone = ZoneInfo(tz)
    start, end = week.start(tz), week.end(tz)
    if span.first is None or span.freshest is None:
        raise WeekRefusedError(
            f"week {week}: the org has no opportunities, tasks or events, so there is nothing to "
            "prepare; check that the integration user can read them"
        )
    first = span.first.astimezone(zone)
    freshest = span.freshest.astimezone(zone)
    if end <= first:
        raise WeekRefusedError(
            f"week {week} ends {_when(end)}, before the org's first data ({_when(first)}); "
            f"choose {Week.containing(first.date())} or a later week"
        )
    if freshest < start:
        raise WeekRefusedError(
            f"week {week} starts {_when(start)}, after the org's freshest data "
            f"({_when(freshest)}); the org (or its export) stops before the week: extract a "
            f"current org, or choose {Week.containing(freshest.date())} or an earlier week"
        )
    data_to = min(freshest, now.astimezone(zone))
    if data_to >= end - timedelta(hours=grace_hours):
        return WeekCoverage(week.label, partial=False, data_to=end.isoformat())
    if not allow_partial:
        raise WeekRefusedError(
            f"week {week} ends {_when(end)} but the org's freshest data is from "
            f"{_when(freshest)}; extract again once the org is up to date, {_PARTIAL_HINT}"
        )
    return WeekCoverage(
        week.label, partial=True, data_to=data_to.replace(microsecond=0).isoformat()
    )


def _when(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b %Y %H:%M %Z}"
