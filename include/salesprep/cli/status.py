"""`salesprep status`: what the configured data dir and shared folder hold, for people (one
line per fact) or, with `--json`, for scripts (`salesprep.status`, docs/operations.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salesprep.status import Freshness, LastRun, PublishedWeek, Status

_LABEL = 18


def status_cli(*, as_json: bool, shared_folder: str | None, data_dir: Path | None) -> int:
    """Print the status; 0 when it could be read (whatever the last run did)."""
    from salesprep.config import load_settings
    from salesprep.status import read_status

    overrides: dict[str, object] = {}
    if shared_folder:
        overrides["shared_folder"] = shared_folder
    if data_dir:
        overrides["data_dir"] = data_dir
    status = read_status(load_settings(**overrides))
    if as_json:
        print(status.to_json(), end="", flush=True)
    else:
        print("\n".join(status_lines(status, datetime.now(UTC))), flush=True)
    return 0


def status_lines(status: Status, now: datetime) -> list[str]:
    """The status for people: a label, then the facts; `now` dates the ages."""
    lines = [
        _row("data dir", status.data_dir),
        _row("shared folder", status.shared_folder),
    ]
    org = status.org
    if org is None:
        lines.append(_row("org", "none recorded yet (no extraction has succeeded)"))
    else:
        name = f" ({org['org_name']})" if org["org_name"] else ""
        lines.append(_row("org", f"{org['org_id']}{name}"))
    weeks = status.published_weeks
    if not weeks:
        lines.append(_row("published weeks", "none"))
    else:
        shown = ", ".join(weeks) if len(weeks) <= 8 else f"{weeks[0]} … {weeks[-1]}"
        lines.append(_row("published weeks", f"{len(weeks)}: {shown}"))
    if status.newest_week is not None:
        lines += _newest_week(status.newest_week)
    if status.running_now is not None:
        lines.append(_row("running now", status.running_now["holder"]))
    lines += _last_run(status.last_run)
    lines += _freshness(status.freshness, now)
    return lines


def _newest_week(week: PublishedWeek) -> list[str]:
    lines = [
        _row("newest week", f"{week.week}: {week.pairs_published} pairs published"),
        _row("", f"{week.url}/index.html"),
    ]
    if week.left_out is None:
        lines.append(_row("left out", "unknown (no record of the run that published it)"))
    elif not week.left_out:
        lines.append(_row("left out", "nobody"))
    else:
        lines.append(_row("left out", f"{len(week.left_out)} user(s) got no packet:"))
        lines += [_row("", f"{u.name} ({u.user_id}) {u.why}") for u in week.left_out]
    return lines


def _last_run(run: LastRun | None) -> list[str]:
    if run is None:
        return [_row("last run", "none recorded")]
    took = f", took {_duration(run.seconds)}" if run.seconds is not None else ""
    outcome = run.outcome.upper() if run.outcome not in ("succeeded", "running") else run.outcome
    where = f" at step {run.failed_step}" if run.failed_step else ""
    lines = [
        _row("last run", f"{run.week} by {run.launcher}, started {_when(run.started_at)}{took}"),
        _row("", f"{outcome}{where}"),
    ]
    if run.error:
        lines.append(_row("", f"error: {run.error}"))
    if run.quality_report:
        lines.append(_row("", f"quality report: {run.quality_report}"))
    calls = (
        f"{run.api_calls:,}"
        if run.api_calls is not None
        else "not known (the run did not finish its extraction)"
    )
    lines.append(_row("API calls", calls))
    return lines


def _freshness(freshness: Freshness | None, now: datetime) -> list[str]:
    if freshness is None:
        return [_row("source freshness", "not known (no extraction recorded)")]
    facts = []
    if freshness.freshest_record:
        when = _when(freshness.freshest_record)
        facts.append(f"freshest record {when} ({_age(freshness.freshest_record, now)})")
    if freshness.extracted_at:
        partial = ""
        if freshness.partial_week and freshness.data_to:
            partial = f"; partial week, data to {_when(freshness.data_to)}"
        when = _when(freshness.extracted_at)
        facts.append(f"extracted {when} for {freshness.extracted_for_week}{partial}")
    if freshness.dbt_week:
        counts = ", ".join(f"{n} {status}" for status, n in freshness.dbt_sources.items())
        facts.append(f"dbt source freshness ({freshness.dbt_week}): {counts or 'no results'}")
        for problem in freshness.dbt_problems:
            message = f": {problem['message']}" if problem["message"] else ""
            facts.append(f"{problem['status']}: {problem['source']}{message}")
    return [_row("source freshness" if i == 0 else "", fact) for i, fact in enumerate(facts)]


def _row(label: str, text: str) -> str:
    return f"{label:<{_LABEL}}{text}"


def _when(stamp: str | None) -> str:
    """An ISO time as `2026-11-30 06:02 UTC`."""
    if not stamp:
        return "unknown"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        return f"{moment:%Y-%m-%d %H:%M}"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _age(stamp: str, now: datetime) -> str:
    try:
        days = (now - datetime.fromisoformat(stamp)).total_seconds() / 86400
    except (TypeError, ValueError):
        return "age unknown"
    return f"{days:.1f} days ago" if days >= 1 else f"{days * 24:.1f} hours ago"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{seconds:.1f}s"
