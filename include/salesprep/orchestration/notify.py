"""Telling each manager that the week's packets are ready: one email each (`SmtpNotifier`), its
body from the template `packets_ready.html.j2`, linking their team page and each packet and
naming the two reps who need attention first, with the reason.

The recipients come from the published warehouse (`dim_sales_pairs.manager_email`), the links
from the week's `manifest.json` in the shared folder, the reps to attend to first from the
week's `teams.json` beside it (rpt_manager_team_weekly's order, as the team page shows it).
Links start at `SALESPREP_PACKETS_BASE_URL` when set (the address managers open the shared
folder at, e.g. an intranet or SharePoint URL), else at the shared folder URL itself
(`file://` for a local path).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from salesprep.packets.team import WeekTeams
    from salesprep.warehouse.connection import Marts

log = logging.getLogger(__name__)


class NotifyError(RuntimeError):
    """The week's manifest or the managers' addresses cannot be read; names which and where."""


@dataclass(frozen=True)
class PacketLink:
    rep_name: str
    url: str


@dataclass(frozen=True)
class AttentionLink:
    """A rep who needs attention first: the place in the order, why, and their packet."""

    rank: int
    rep_name: str
    why: str
    url: str | None


@dataclass(frozen=True)
class ManagerNotice:
    """One email: a manager, their team page for the week, a link per packet, and the reps
    who need attention first."""

    week: str
    manager_id: str
    manager_name: str
    email: str | None
    folder_url: str
    packets: tuple[PacketLink, ...]
    first: tuple[AttentionLink, ...] = ()

    @property
    def subject(self) -> str:
        count = len(self.packets)
        return f"Your 1:1 prep packets for {self.week} are ready ({count} rep{'s' * (count != 1)})"

    @property
    def html(self) -> str:
        from salesprep.orchestration.notifiers import render

        return render("packets_ready.html.j2", notice=self)


@dataclass
class NotifySummary:
    """What a notification round did (small, for XCom)."""

    week: str
    sent: list[str] = field(default_factory=list)
    without_email: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "sent": self.sent, "without_email": self.without_email}


def read_manifest(shared_folder_url: str, week: str) -> dict[str, Any]:
    """The week's `manifest.json` from the shared folder (any fsspec URL)."""
    import fsspec

    url = f"{shared_folder_url.rstrip('/')}/{week}/manifest.json"
    try:
        with fsspec.open(url, "rb") as handle:
            return json.loads(handle.read())
    except FileNotFoundError as exc:
        raise NotifyError(f"no manifest for {week} at {url}: were the packets published?") from exc
    except (OSError, ValueError) as exc:
        raise NotifyError(f"reading the manifest of {week} at {url} failed: {exc}") from exc


def read_teams(shared_folder_url: str, week: str) -> WeekTeams | None:
    """The week's `teams.json` from the shared folder, or None for a week published without
    it (before team pages existed); one that cannot be read or parsed is an error."""
    import fsspec

    from salesprep.packets.layout import TEAMS_JSON
    from salesprep.packets.team import TeamDataError, parse_teams

    url = f"{shared_folder_url.rstrip('/')}/{week}/{TEAMS_JSON}"
    try:
        with fsspec.open(url, "rb") as handle:
            text = handle.read()
    except FileNotFoundError:
        log.warning(
            "no %s for %s at %s: notices name no rep to attend to first", TEAMS_JSON, week, url
        )
        return None
    except OSError as exc:
        raise NotifyError(f"reading {TEAMS_JSON} of {week} at {url} failed: {exc}") from exc
    try:
        teams = parse_teams(text)
    except TeamDataError as exc:
        raise NotifyError(f"{exc} (at {url})") from exc
    if teams.week != week:
        raise NotifyError(f"{url} is for {teams.week}, not {week}")
    return teams


def manager_emails(marts: Marts | Path) -> dict[str, tuple[str, str | None]]:
    """manager_id → (manager_name, manager_email) from `dim_sales_pairs` of the published
    marts (open marts, `salesprep.warehouse.connection`, or a DuckDB file), read-only."""
    from salesprep.warehouse.connection import DuckDBMarts, Marts, WarehouseReadError

    try:
        if isinstance(marts, Marts):
            rows = _manager_rows(marts)
        else:
            path = Path(marts)
            if not path.is_file():
                raise NotifyError(f"the published warehouse {path} does not exist")
            with DuckDBMarts.open(path) as opened:
                rows = _manager_rows(opened)
    except WarehouseReadError as exc:
        raise NotifyError(f"reading the managers' addresses failed: {exc}") from exc
    return {str(m): (str(n or ""), str(e) if e else None) for m, n, e in rows}


def _manager_rows(marts: Marts) -> list[tuple]:
    return marts.query(
        "select manager_id, max(manager_name), max(manager_email) "
        "from dim_sales_pairs group by manager_id"
    )


def link_base(shared_folder_url: str) -> str:
    """Where links start: $SALESPREP_PACKETS_BASE_URL, else the shared folder as a URL."""
    from salesprep.config import NotificationSettings

    configured = NotificationSettings().packets_base_url
    if configured:
        return configured.rstrip("/")
    if "://" in shared_folder_url:
        return shared_folder_url.rstrip("/")
    return Path(shared_folder_url).resolve().as_uri()


def manager_notices(
    manifest: dict[str, Any],
    emails: dict[str, tuple[str, str | None]],
    base_url: str,
    teams: WeekTeams | None = None,
) -> list[ManagerNotice]:
    """One notice per manager of the manifest, in manifest order, naming the first two reps
    of the manager's team in `teams` (the week's teams.json) when given."""
    week = str(manifest["week"])
    by_manager: dict[str, list[dict[str, Any]]] = {}
    for packet in manifest.get("packets", []):
        by_manager.setdefault(packet["manager_id"], []).append(packet)
    notices = []
    for manager_id, packets in by_manager.items():
        name, email = emails.get(manager_id, (packets[0]["manager_name"], None))
        slug = packets[0]["manager_slug"]
        urls = {p["rep_id"]: f"{base_url}/{week}/{p['paths']['html']}" for p in packets}
        team = teams.manager(manager_id) if teams is not None else None
        first = tuple(
            AttentionLink(rep.rank, rep.rep_name, rep.why, urls.get(rep.rep_id))
            for rep in (team.first if team is not None else [])
        )
        notices.append(
            ManagerNotice(
                week=week,
                manager_id=manager_id,
                manager_name=name or packets[0]["manager_name"],
                email=email,
                folder_url=f"{base_url}/{week}/{slug}/index.html",
                packets=tuple(
                    PacketLink(p["rep_name"], f"{base_url}/{week}/{p['paths']['html']}")
                    for p in packets
                ),
                first=first,
            )
        )
    return notices


def notify_managers(week: str, settings: Any, smtp_conn_id: str = "smtp_default") -> NotifySummary:
    """Email every manager of `week` a link to their packets; managers without an email
    address in the warehouse are listed in the summary and logged, not an error."""
    from salesprep import storage
    from salesprep.orchestration.notifiers import send_email

    storage.use_options(settings)
    manifest = read_manifest(settings.shared_folder_url, week)
    from salesprep.warehouse.connection import WarehouseReadError, open_marts

    try:
        with open_marts(settings, "published") as marts:
            emails = manager_emails(marts)
    except WarehouseReadError as exc:
        raise NotifyError(f"reading the managers' addresses failed: {exc}") from exc
    teams = read_teams(settings.shared_folder_url, week)
    notices = manager_notices(manifest, emails, link_base(settings.shared_folder_url), teams)
    summary = NotifySummary(week=week)
    for notice in notices:
        if not notice.email:
            log.warning("manager %s has no email address: not notified", notice.manager_id)
            summary.without_email.append(notice.manager_id)
            continue
        send_email(smtp_conn_id, [notice.email], notice.subject, notice.html)
        summary.sent.append(notice.email)
    log.info(
        "notified %d manager(s) that the packets of %s are ready (%d without an address)",
        len(summary.sent),
        week,
        len(summary.without_email),
    )
    return summary
