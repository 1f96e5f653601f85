"""The demo sales team: profiles, the role hierarchy and users, with rep personas and the edge
cases a real org has (an admin without a manager, a former rep, a rep under a former manager)."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from salesprep.demo_org import vocabulary as vocab
from salesprep.demo_org.ids import id_sequence
from salesprep.demo_org.timeline import DAY, HOUR, Timeline

PROFILES = ("System Administrator", "Standard User", "Sales Manager")


@dataclass(frozen=True)
class Persona:
    """How a kind of rep sells: weekly volumes, win rate, deal size, speed and quota level."""

    name: str
    opportunities_per_week: float
    win_rate: float
    amount_median: int
    slowness: float  # multiplies every stage's dwell time
    calls: int
    emails: int
    meetings: int
    quota_factor: float  # quota as a multiple of the typical steady rep's quarterly wins
    title: str


PERSONAS: dict[str, Persona] = {
    p.name: p
    for p in (
        Persona("top", 3.6, 0.36, 42_000, 0.8, 46, 60, 7, 1.45, "Senior Account Executive"),
        Persona("steady", 3.0, 0.30, 34_000, 1.0, 36, 48, 5, 1.05, "Account Executive"),
        Persona("struggling", 3.0, 0.28, 32_000, 1.2, 34, 44, 4, 1.0, "Account Executive"),
        Persona("new_hire", 2.8, 0.25, 30_000, 0.85, 40, 50, 4, 0.75, "Associate AE"),
    )
}


@dataclass
class Person:
    """One User row plus what the generator needs to simulate the person's work."""

    id: str
    kind: str  # vp, admin, manager, former_manager, rep, former_rep
    first_name: str
    last_name: str
    email: str
    title: str
    department: str
    profile_id: str
    role_id: str | None
    time_zone: str
    manager: Person | None = None
    is_active: bool = True
    created_ts: int = 0
    modified_ts: int = 0
    persona: Persona | None = None
    region: int = 0
    index: int = 0  # position among the people simulated as reps
    has_quota: bool = True
    # Working span in seconds: no activity or deals outside it.
    start_ts: int = 0
    stop_ts: int = 0
    reports: list[Person] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Team:
    """Everyone in the org, in the order the User rows are written."""

    profiles: list[tuple[str, str, int]]  # (id, name, created_ts)
    roles: list[tuple[str, str, str, str | None, int]]  # (id, name, developer name, parent, ts)
    users: list[Person]

    @property
    def sellers(self) -> list[Person]:
        """People who own accounts and deals: active reps, the former rep."""
        return [u for u in self.users if u.kind in ("rep", "former_rep")]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in "-")).lower()


class _Names:
    """Realistic, unique person names and emails, with the hard ones handed out first."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._emails: set[str] = set()
        self._names: set[tuple[str, str]] = set()

    def take(self, hard: list[tuple[str, str, str]]) -> tuple[str, str, str]:
        if hard:
            first, last, local = hard.pop(0)
        else:
            while True:
                first = self._rng.choice(vocab.FIRST_NAMES)
                last = self._rng.choice(vocab.LAST_NAMES)
                if (first, last) not in self._names:
                    break
            local = f"{_ascii(first)}.{_ascii(last)}"
        self._names.add((first, last))
        email, number = f"{local}@{vocab.EMAIL_DOMAIN}", 1
        while email in self._emails:
            number += 1
            email = f"{local}{number}@{vocab.EMAIL_DOMAIN}"
        self._emails.add(email)
        return first, last, email


def _personas(rng: random.Random, count: int) -> list[Persona]:
    """Persona per rep: about 20% top, 15% struggling, 10% new hires, the rest steady."""
    if count < 4:
        names = ["steady", "top", "struggling", "new_hire"][:count]
    else:
        top = max(1, round(count * 0.2))
        struggling = max(1, round(count * 0.15))
        new = max(1, round(count * 0.1))
        names = ["top"] * top + ["struggling"] * struggling + ["new_hire"] * new
        names += ["steady"] * (count - len(names))
    rng.shuffle(names)
    return [PERSONAS[n] for n in names]


def build_team(rng: random.Random, timeline: Timeline, *, reps: int, managers: int) -> Team:
    """The org chart: a VP, `managers` managers, `reps` active reps and the edge cases."""
    profile_ids = id_sequence("00e")
    role_ids = id_sequence("00E")
    user_ids = id_sequence("005")
    profiles = [(next(profile_ids), name, 60 + i) for i, name in enumerate(PROFILES)]
    admin_profile, standard_profile, manager_profile = (p[0] for p in profiles)

    roles: list[tuple[str, str, str, str | None, int]] = []

    def add_role(name: str, developer: str, parent: str | None) -> str:
        role_id = next(role_ids)
        roles.append((role_id, name, developer, parent, 120 + len(roles) * 7))
        return role_id

    vp_role = add_role("VP Sales", "VP_Sales", None)
    ops_role = add_role("Sales Operations", "Sales_Operations", vp_role)
    team_roles: list[tuple[str, str]] = []  # (manager role, rep role) per team
    for team in range(managers + 1):  # the last team belongs to the former manager
        label, _, _ = vocab.REGIONS[team % len(vocab.REGIONS)]
        repeat = team // len(vocab.REGIONS)
        if repeat:
            label = f"{label} {repeat + 1}"
        developer = label.replace(" ", "_")
        manager_role = add_role(f"Sales Manager, {label}", f"Sales_Manager_{developer}", vp_role)
        rep_role = add_role(
            f"Account Executive, {label}", f"Account_Executive_{developer}", manager_role
        )
        team_roles.append((manager_role, rep_role))

    names = _Names(rng)
    hard_reps = list(vocab.HARD_REP_NAMES)
    hard_managers = list(vocab.HARD_MANAGER_NAMES)
    setup = 7 * HOUR  # the org's users were loaded on the first Monday morning
    users: list[Person] = []

    def add_user(kind: str, hard: list[tuple[str, str, str]], **values: Any) -> Person:
        first, last, email = names.take(hard)
        person = Person(
            id=next(user_ids),
            kind=kind,
            first_name=first,
            last_name=last,
            email=email,
            created_ts=setup + len(users) * 7,
            **values,
        )
        person.modified_ts = person.created_ts
        person.stop_ts = timeline.end_ts
        users.append(person)
        return person

    add_user(
        "admin",
        [],
        title="Sales Operations Manager",
        department="Sales Operations",
        profile_id=admin_profile,
        role_id=ops_role,
        time_zone="America/New_York",
    )
    vp = add_user(
        "vp",
        [],
        title="VP Sales",
        department="Sales",
        profile_id=manager_profile,
        role_id=vp_role,
        time_zone="America/New_York",
    )
    bosses: list[Person] = []
    for team in range(managers + 1):
        _, zone, _ = vocab.REGIONS[team % len(vocab.REGIONS)]
        former = team == managers
        boss = add_user(
            "former_manager" if former else "manager",
            [] if former else hard_managers,
            title="Regional Sales Manager",
            department="Sales",
            profile_id=manager_profile,
            role_id=team_roles[team][0],
            time_zone=zone,
            manager=vp,
            region=team,
        )
        bosses.append(boss)

    def add_rep(kind: str, persona: Persona, boss: Person) -> Person:
        return add_user(
            kind,
            hard_reps,
            title=persona.title,
            department="Sales",
            profile_id=standard_profile,
            role_id=team_roles[boss.region][1],
            time_zone=boss.time_zone,
            manager=boss,
            persona=persona,
            region=boss.region,
        )

    sellers = [
        add_rep("rep", persona, bosses[number % managers])
        for number, persona in enumerate(_personas(rng, reps - 1))
    ]
    # The edge cases: a steady rep whose manager has left, and a rep who has left.
    orphan = add_rep("rep", PERSONAS["steady"], bosses[managers])
    former_rep = add_rep("former_rep", PERSONAS["steady"], bosses[0])
    sellers += [orphan, former_rep]

    former_manager = bosses[managers]
    former_manager.is_active = False
    former_manager.modified_ts = _day_in_window(timeline, 0.55) + 9 * HOUR
    former_manager.stop_ts = former_manager.modified_ts
    former_rep.is_active = False
    former_rep.stop_ts = _day_in_window(timeline, 0.35) + 17 * HOUR
    former_rep.modified_ts = former_rep.stop_ts + 2 * HOUR
    for person in sellers:
        if person.persona is PERSONAS["new_hire"]:
            person.created_ts = _day_in_window(timeline, rng.uniform(0.3, 0.6)) + 8 * HOUR
            person.modified_ts = person.start_ts = person.created_ts
    steady = [
        p
        for p in sellers
        if p.kind == "rep" and p is not orphan and p.persona is PERSONAS["steady"]
    ]
    if steady:  # one rep with a manager but no quota: the packet must say `quota: null`
        steady[-1].has_quota = False
    for index, person in enumerate(sellers):
        person.index = index
        if person.manager is not None:
            person.manager.reports.append(person)
    return Team(profiles=profiles, roles=roles, users=users)


def _day_in_window(timeline: Timeline, fraction: float) -> int:
    """Midnight (UTC) of a weekday about `fraction` into the window, after the first day."""
    day = min(timeline.days - 3, max(1, round(timeline.days * fraction)))
    if day % 7 >= 5:
        day -= day % 7 - 4  # back to Friday
    return day * DAY
