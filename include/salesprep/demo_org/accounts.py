"""Each seller's book of business: accounts, with the contacts that later sit on their deals."""

from __future__ import annotations

import bisect
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from salesprep.demo_org import vocabulary as vocab
from salesprep.demo_org.people import Person
from salesprep.demo_org.sinks import ObjectSink
from salesprep.demo_org.timeline import DAY, HOUR, Timeline

ACCOUNT_COLUMNS = (
    "Id", "Name", "Industry", "Type", "BillingCountry", "NumberOfEmployees", "AnnualRevenue",
    "OwnerId", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp",
)  # fmt: skip
CONTACT_COLUMNS = (
    "Id", "AccountId", "FirstName", "LastName", "Title", "Email", "OwnerId", "IsDeleted",
    "CreatedDate", "LastModifiedDate", "SystemModstamp",
)  # fmt: skip
_INDUSTRIES = [i for i, _ in vocab.INDUSTRIES]
_INDUSTRY_WEIGHTS = [w for _, w in vocab.INDUSTRIES]
_TYPES = [t for t, _ in vocab.ACCOUNT_TYPES]
_TYPE_WEIGHTS = [w for _, w in vocab.ACCOUNT_TYPES]


@dataclass
class Book:
    """A seller's accounts in creation order: what deals and activities can point at."""

    ids: list[str]
    names: list[str]
    created: list[int]
    contacts: list[list[tuple[str, str]]]  # per account: (contact id, first name)

    def available(self, ts: int) -> int:
        """How many accounts exist at second `ts` (they are the first ones)."""
        return bisect.bisect_right(self.created, ts)


class AccountNames:
    """Unique, plausible company names across the whole org."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[str] = set()
        self._odd = list(vocab.ODD_ACCOUNT_NAMES)

    def take(self) -> tuple[str, str]:
        """A new company name and its email domain."""
        if self._odd:
            name = self._odd.pop(0)
        else:
            rng = self._rng
            for attempt in range(50):
                head = rng.choice(vocab.COMPANY_HEADS)
                if attempt > 5 or rng.random() < 0.3:
                    head = f"{head} {rng.choice(vocab.COMPANY_HEADS)}"
                name = f"{head} {rng.choice(vocab.COMPANY_TAILS)}{rng.choice(vocab.COMPANY_FORMS)}"
                if name not in self._taken:
                    break
            else:
                name = f"{name} {len(self._taken)}"
        self._taken.add(name)
        core = re.sub(r"\b(inc|llc|ltd|gmbh|group|co)\b\.?", "", name.lower())
        domain = re.sub(r"[^a-z0-9]+", "-", core).strip("-") + ".example.com"
        return name, domain


def workday_ts(rng: random.Random, day: int, offsets: list[int]) -> int:
    """A business-hours instant (08:00-18:00 local) on day `day`, moved off weekends."""
    weekday = day % 7
    if weekday >= 5:
        day += 7 - weekday
    offset = offsets[min(day, len(offsets) - 1)]
    return day * DAY + 8 * HOUR + int(rng.random() * 10 * HOUR) - offset


def write_book(
    rng: random.Random,
    timeline: Timeline,
    seller: Person,
    names: AccountNames,
    account_ids: Iterator[str],
    contact_ids: Iterator[str],
    accounts: ObjectSink,
    contacts: ObjectSink,
) -> Book:
    """Write the seller's accounts and contacts; return the book for deals and activities."""
    persona = seller.persona
    assert persona is not None
    count = min(160, max(8, round(persona.opportunities_per_week * timeline.weeks / 2.5)))
    offsets = timeline.offsets(seller.time_zone)
    start_day = seller.start_ts // DAY
    last_day = max(start_day, (seller.stop_ts - 1) // DAY - 3)
    _, _, countries = vocab.REGIONS[seller.region % len(vocab.REGIONS)]
    created: list[int] = []
    for _ in range(count):
        if rng.random() < 0.6:  # the seller's existing book, loaded when they started
            ts = max(seller.start_ts, workday_ts(rng, start_day + rng.randint(0, 2), offsets))
        else:
            ts = max(seller.start_ts, workday_ts(rng, rng.randint(start_day, last_day), offsets))
        created.append(min(ts, timeline.end_ts - HOUR))
    created.sort()
    book = Book(ids=[], names=[], created=created, contacts=[])
    stamp = timeline.stamp
    for ts in created:
        account_id = next(account_ids)
        name, domain = names.take()
        employees = int(rng.lognormvariate(5.5, 1.4)) + 5
        revenue = int(round(employees * rng.uniform(90_000, 260_000), -4))
        industry = None if rng.random() < 0.03 else rng.choices(_INDUSTRIES, _INDUSTRY_WEIGHTS)[0]
        created_at = stamp(ts)
        accounts.write(
            (
                account_id,
                name,
                industry,
                rng.choices(_TYPES, _TYPE_WEIGHTS)[0],
                rng.choice(countries),
                employees,
                revenue,
                seller.id,
                "false",
                created_at,
                created_at,
                created_at,
            )
        )
        people: list[tuple[str, str]] = []
        for _ in range(rng.randint(2, 5)):
            contact_id = next(contact_ids)
            first = rng.choice(vocab.FIRST_NAMES)
            last = rng.choice(vocab.LAST_NAMES)
            email = f"{first.lower()}.{last.lower()}@{domain}"
            at = stamp(ts + 60 * (len(people) + 1))
            contacts.write(
                (
                    contact_id,
                    account_id,
                    first,
                    last,
                    rng.choice(vocab.CONTACT_TITLES),
                    email,
                    seller.id,
                    "false",
                    at,
                    at,
                    at,
                )
            )
            people.append((contact_id, first))
        book.ids.append(account_id)
        book.names.append(name)
        book.contacts.append(people)
    return book
