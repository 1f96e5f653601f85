"""Who got no packet this week and why, and which of last week's pairs vanished.

METRICS.md: an active user with no manager, an inactive manager, a ManagerId that is no user,
or a manager cycle gets no packet, and is listed in the run's data-quality report. The marts
checkpoint lists them (a warning, with names, in its Data Docs and `unpaired_users.json`), the
run log warns, the week index and the CLI summary name them. A reporting line that breaks for
many people at once (a bad import, a reorganisation half done) is worse: when more than
`guards.max_vanished_pair_share` of the pairs published last week have no packet this week,
the marts gate blocks the run unless `guards.accept_vanished_pairs` says it is expected.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from salesprep.shared_folder import join
from salesprep.warehouse.connection import Marts
from salesprep.weeks import Week

log = logging.getLogger(__name__)

# dim_reps.ineligible_reason values that are broken reporting lines (not config, not a
# manager, not an inactive user), and what each means in words.
REASONS = {
    "no_manager": "has no manager in Salesforce",
    "unknown_manager": "has a ManagerId ({manager_id}) that is not a user of the org",
    "inactive_manager": "reports to {manager_name} ({manager_id}), who is inactive",
    "manager_cycle": "is in a manager cycle: the chain of managers above loops",
}
UNPAIRED_FILE = "unpaired_users.json"

_UNPAIRED_SQL = """
select user_id, user_name, ineligible_reason, manager_id, manager_name
from dim_reps
where is_active and ineligible_reason in ('no_manager', 'inactive_manager', 'manager_cycle')
order by user_name, user_id
"""


@dataclass(frozen=True)
class UnpairedUser:
    """An active user who got no packet because their reporting line is broken."""

    user_id: str
    name: str
    reason: str
    manager_id: str | None
    manager_name: str | None

    @property
    def why(self) -> str:
        return REASONS[self.reason].format(
            manager_id=self.manager_id or "", manager_name=self.manager_name or "a user"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "why": self.why}


def unpaired_users(marts: Marts) -> list[UnpairedUser]:
    """The active users of `dim_reps` whose reporting line keeps them from a packet."""
    users = []
    for user_id, name, reason, manager_id, manager_name in marts.query(_UNPAIRED_SQL):
        # A ManagerId pointing at no user reads as no manager in the mart: say which it is.
        if reason == "no_manager" and manager_id:
            reason = "unknown_manager"
        users.append(UnpairedUser(user_id, name or user_id, reason, manager_id, manager_name))
    return users


def current_pairs(marts: Marts) -> dict[tuple[str, str], str]:
    """(manager id, rep id) → "manager → rep" for every pair of `dim_sales_pairs`."""
    rows = marts.query("select manager_id, rep_id, manager_name, rep_name from dim_sales_pairs")
    return {(m, r): f"{m_name} → {r_name}" for m, r, m_name, r_name in rows}


def published_pairs(shared_folder_url: str, week: Week) -> dict[tuple[str, str], str] | None:
    """The pairs of `week` as its published manifest lists them, None when the shared folder
    has no such week (the first run, or a week that was never published)."""
    import fsspec

    path = join(shared_folder_url, week.label, "manifest.json")
    try:
        with fsspec.open(path, "rb") as handle:
            manifest = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("cannot read last week's manifest %s: %s; pairs are not compared", path, exc)
        return None
    pairs = {}
    for packet in manifest.get("packets", []):
        key = (str(packet["manager_id"]), str(packet["rep_id"]))
        pairs[key] = f"{packet.get('manager_name', key[0])} → {packet.get('rep_name', key[1])}"
    return pairs
