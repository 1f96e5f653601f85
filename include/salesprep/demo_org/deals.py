"""Opportunities and their history: each deal is simulated from creation through its stages,
close-date pushes, amount changes, a win or a loss (rarely a reopen), cut at the window's end."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from salesprep.demo_org import vocabulary as vocab
from salesprep.demo_org.accounts import Book, workday_ts
from salesprep.demo_org.money import Currencies
from salesprep.demo_org.people import Person
from salesprep.demo_org.rhythm import poisson
from salesprep.demo_org.sinks import ObjectSink
from salesprep.demo_org.timeline import DAY, HOUR, Timeline

OPPORTUNITY_COLUMNS = (
    "Id", "Name", "AccountId", "OwnerId", "StageName", "Amount", "CloseDate", "Probability",
    "ForecastCategoryName", "Type", "LeadSource", "NextStep", "Description", "IsClosed", "IsWon",
    "Loss_Reason__c", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp",
    "CurrencyIsoCode", "RecordTypeId",
)  # fmt: skip
HISTORY_COLUMNS = (
    "Id", "OpportunityId", "StageName", "Amount", "CloseDate", "Probability", "ForecastCategory",
    "CreatedById", "IsDeleted", "CreatedDate", "SystemModstamp", "CurrencyIsoCode",
)  # fmt: skip
FIELD_HISTORY_COLUMNS = (
    "Id", "OpportunityId", "Field", "OldValue", "NewValue", "CreatedById", "IsDeleted",
    "CreatedDate",
)  # fmt: skip
CONTACT_ROLE_COLUMNS = (
    "Id", "OpportunityId", "ContactId", "Role", "IsPrimary", "IsDeleted", "CreatedDate",
    "LastModifiedDate", "SystemModstamp",
)  # fmt: skip

PROPOSAL, NEGOTIATION, WON, LOST = 6, 7, 8, 9
STAGE_NAMES = [s[0] for s in vocab.STAGES]
PROBABILITIES = [s[1] for s in vocab.STAGES]
FORECAST = [s[2] for s in vocab.STAGES]
# Median days a deal spends in each open stage before it moves (for a steady rep).
STAGE_DAYS = (6, 8, 10, 12, 9, 9, 11, 13)
P_STALL = 0.12  # the deal sits in one stage for months
P_SKIP = 0.12  # jumps a stage
P_REGRESS = 0.05  # falls back one stage (once per deal)
P_REOPEN = 0.02  # a lost deal comes back
P_DELETE = 0.006  # a duplicate entered by mistake and deleted days later
P_NULL_AMOUNT = 0.12
# Org shapes (shape.OrgShape); drawn from a stream of their own, so the default org is unchanged.
P_CURRENCY_FIXED_LATER = 0.04  # created in the corporate currency, switched to its own later
P_HISTORY_WITHOUT_CURRENCY = 0.02  # history rows from before multi-currency: no code
P_NO_RECORD_TYPE = 0.1  # migrated deals from before record types: none
P_OMITTED = 0.08  # the rep marks an open deal Omitted (out of the forecast)
P_BEST_CASE, P_COMMIT = 0.5, 0.6  # overrides of late-stage deals' categories
# Opportunity Type -> the record type (DeveloperName) a deal of that type has.
RECORD_TYPE_OF = {
    "New Business": "New_Business",
    "Existing Customer - Upgrade": "Expansion",
    "Existing Customer - Renewal": "Renewal",
    "Existing Customer - Replacement": "Expansion",
}

_TYPES = [t for t, _ in vocab.OPPORTUNITY_TYPES]
_TYPE_WEIGHTS = [w for _, w in vocab.OPPORTUNITY_TYPES]
_SOURCES = [s for s, _ in vocab.LEAD_SOURCES]
_SOURCE_WEIGHTS = [w for _, w in vocab.LEAD_SOURCES]
_THEMES = list(vocab.LOSS_REASONS)

Event = tuple[int, int, "int | None", int]  # (second, stage index, amount, close day)
# What activities need of a deal: (opportunity id, account id, primary contact id, open from,
# open until, stalled from, stalled until), all in window seconds.
DealRef = tuple[str, str, "str | None", int, int, int, int]


@dataclass
class DealOutput:
    """What a seller's deals leave for activities and quotas."""

    lite: list[DealRef] = field(default_factory=list)
    won_by_quarter: dict[date, int] = field(default_factory=dict)
    won_by_week: dict[int, int] = field(default_factory=dict)  # window week -> won amount


@dataclass
class DealSinks:
    opportunities: ObjectSink
    history: ObjectSink
    field_history: ObjectSink
    contact_roles: ObjectSink


@dataclass
class DealShape:
    """What an org shape adds to one seller's deals: their currency, record types and
    forecast category overrides, drawn from `rng` (not the seller's main stream)."""

    rng: random.Random
    currencies: Currencies
    home_currency: str
    record_type_ids: dict[str, str] = field(default_factory=dict)  # DeveloperName -> Id
    forecast_categories: bool = False


@dataclass
class DealIds:
    opportunity: Iterator[str]
    history: Iterator[str]
    field_history: Iterator[str]
    contact_role: Iterator[str]


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


class DealSimulator:
    """Simulates and writes every opportunity one seller owns."""

    def __init__(
        self,
        rng: random.Random,
        timeline: Timeline,
        seller: Person,
        book: Book,
        ids: DealIds,
        sinks: DealSinks,
        shape: DealShape | None = None,
    ) -> None:
        assert seller.persona is not None
        self.shape = shape
        self.rng = rng
        self.timeline = timeline
        self.seller = seller
        self.persona = seller.persona
        self.book = book
        self.ids = ids
        self.sinks = sinks
        self.offsets = timeline.offsets(seller.time_zone)
        self.limit = min(timeline.end_ts, seller.stop_ts)
        self.out = DealOutput()
        self._month_end: dict[int, int] = {}
        self.levels: list[float] = [1.0]

    # -- the seller's deals over the window -----------------------------------------------------

    def run(self, factors: list[float], levels: list[float]) -> DealOutput:
        rng, persona, seller = self.rng, self.persona, self.seller
        self.levels = levels
        if seller.start_ts == 0:
            # Open pipeline migrated into the org on the first morning, at many stages.
            imported = round(persona.opportunities_per_week * rng.uniform(5, 7))
            ts = 5 * HOUR + seller.index
            for _ in range(imported):
                stage = min(NEGOTIATION, int(rng.random() ** 1.4 * 8))
                self._deal(ts, 0, stage, rng.randint(3, 84), levels[0])
        for week, factor in enumerate(factors):
            if factor <= 0:
                continue
            for _ in range(poisson(rng, persona.opportunities_per_week * factor)):
                day = week * 7 + int(rng.random() * 5)
                ts = workday_ts(rng, day, self.offsets)
                if seller.start_ts <= ts < self.limit:
                    self._deal(ts, day, self._initial_stage(), None, levels[week])
        self.out.lite.sort(key=lambda item: item[3])
        return self.out

    def _initial_stage(self) -> int:
        r = self.rng.random()
        return 0 if r < 0.6 else 1 if r < 0.9 else 2

    def _amount(self) -> int:
        value = self.rng.lognormvariate(math.log(self.persona.amount_median), 0.45)
        return max(1_500, round(value / 500) * 500)

    def _workday(self, day: int) -> int:
        weekday = day % 7
        return day + 7 - weekday if weekday >= 5 else day

    def _month_end_of(self, day: int) -> int:
        cached = self._month_end.get(day)
        if cached is None:
            d = self.timeline.to_date(day)
            first_next = date(d.year + d.month // 12, d.month % 12 + 1, 1)
            cached = self.timeline.day_of(first_next - timedelta(days=1))
            self._month_end[day] = cached
        return cached

    def _plan_close(self, day: int, stage: int) -> int:
        """The close date a rep types: optimistic, often the end of a month."""
        remaining = sum(STAGE_DAYS[stage:WON]) * self.persona.slowness
        close = day + max(7, round(remaining * self.rng.uniform(0.45, 0.95)))
        return self._month_end_of(close) if self.rng.random() < 0.45 else close

    # -- one deal -------------------------------------------------------------------------------

    def _deal(self, ts0: int, day0: int, stage: int, close_day: int | None, level: float) -> None:
        rng = self.rng
        limit = self.limit
        deleted_ts = None
        if rng.random() < P_DELETE and ts0 + 11 * DAY < limit:
            deleted_ts = ts0 + rng.randint(1, 10) * DAY + rng.randint(0, 8 * HOUR)
            limit = deleted_ts
        amount = None if rng.random() < P_NULL_AMOUNT else self._amount()
        if close_day is None:
            close_day = self._plan_close(day0, stage)
        won = rng.random() < self.persona.win_rate * min(1.1, level)
        events, stall = self._lifecycle(ts0, day0, stage, amount, close_day, won, level, limit)
        self._write(events, stall, deleted_ts)

    def _emit(
        self,
        events: list[Event],
        day: int,
        stage: int,
        amount: int | None,
        close_day: int,
        limit: int,
    ) -> int | None:
        """Append a change on `day`; None when it would fall after the deal's horizon."""
        if day >= self.timeline.days:  # a local date after the window, even if UTC is not
            return None
        ts = workday_ts(self.rng, day, self.offsets)
        previous = events[-1][0]
        if ts <= previous:
            ts = previous + self.rng.randint(300, 5400)
        if ts >= limit:
            return None
        events.append((ts, stage, amount, close_day))
        return ts

    def _lifecycle(
        self,
        ts0: int,
        day0: int,
        stage: int,
        amount: int | None,
        close_day: int,
        won: bool,
        level: float,
        limit: int,
    ) -> tuple[list[Event], tuple[int, int]]:
        rng, slowness = self.rng, self.persona.slowness
        events: list[Event] = [(ts0, stage, amount, close_day)]
        target = NEGOTIATION if won else self._peak(stage)
        stall_stage = rng.randint(stage, target) if rng.random() < P_STALL else -1
        stall = (0, 0)
        day, regressed, reopened = day0, False, False
        while True:
            dwell = STAGE_DAYS[stage] * slowness * rng.lognormvariate(0, 0.45)
            if stage == stall_stage:
                dwell *= rng.uniform(5, 12)
                stall_stage = -1
                stall = (events[-1][0], (day + round(dwell)) * DAY)
            next_day = self._workday(day + max(1, round(dwell)))
            # The close date passes while the deal waits: the rep pushes it, again and again.
            while close_day < next_day:
                push_day = self._workday(max(day + 1, close_day + rng.randint(0, 6)))
                if push_day >= next_day:
                    break
                new_close = push_day + rng.randint(10, 42)
                if rng.random() < 0.4:
                    new_close = self._month_end_of(new_close)
                if self._emit(events, push_day, stage, amount, new_close, limit) is None:
                    return events, stall
                close_day = new_close
            if stage >= target:
                if won and not reopened:
                    # A rep whose form fades loses late deals they would once have won.
                    late = self.levels[min(next_day // 7, len(self.levels) - 1)]
                    won = rng.random() < late / max(0.01, level)
                if won and amount is None and rng.random() < 0.9:
                    amount = self._amount()
                final = WON if won else LOST
                if self._emit(events, next_day, final, amount, next_day, limit) is None:
                    return events, stall
                if won or reopened or rng.random() >= P_REOPEN:
                    return events, stall
                reopened = True
                day = self._workday(next_day + rng.randint(14, 60))
                stage = rng.choice((PROPOSAL, NEGOTIATION))
                close_day = day + rng.randint(21, 45)
                if self._emit(events, day, stage, amount, close_day, limit) is None:
                    return events, stall
                won = rng.random() < 0.5
                target = NEGOTIATION if won else stage
                continue
            if not regressed and stage >= 2 and rng.random() < P_REGRESS:
                stage, regressed = stage - 1, True
            elif stage + 2 <= target and rng.random() < P_SKIP:
                stage += 2
            else:
                stage += 1
            amount = self._revise(stage, amount)
            if self._emit(events, next_day, stage, amount, close_day, limit) is None:
                return events, stall
            day = next_day

    def _peak(self, stage: int) -> int:
        """The furthest stage a deal that will be lost reaches."""
        while stage < NEGOTIATION and self.rng.random() < 0.72:
            stage += 1
        return stage

    def _revise(self, stage: int, amount: int | None) -> int | None:
        rng = self.rng
        if amount is None:
            return self._amount() if stage >= 3 and rng.random() < 0.75 else None
        if stage == PROPOSAL and rng.random() < 0.3:
            return max(1_500, round(amount * rng.uniform(0.8, 1.25) / 500) * 500)
        if stage == NEGOTIATION and rng.random() < 0.3:
            return max(1_500, round(amount * rng.uniform(0.85, 0.97) / 500) * 500)
        return amount

    # -- rows -----------------------------------------------------------------------------------

    def _write(self, events: list[Event], stall: tuple[int, int], deleted_ts: int | None) -> None:
        rng, tl, seller, book = self.rng, self.timeline, self.seller, self.book
        stamp, date_of = tl.stamp, tl.date
        created_ts = events[0][0]
        available = max(1, book.available(created_ts))
        account = rng.randrange(available)
        people = book.contacts[account]
        opp_id = next(self.ids.opportunity)
        deleted = "true" if deleted_ts is not None else "false"
        owner = seller.id

        history, changes = [], []
        previous: Event | None = None
        open_until = self.limit
        look = self._looks(events)
        for index, event in enumerate(events):
            ts, stage, amount, close_day = event
            at = stamp(ts)
            history.append(
                (
                    next(self.ids.history),
                    opp_id,
                    STAGE_NAMES[stage],
                    look.amount(index, amount),
                    date_of(close_day),
                    PROBABILITIES[stage],
                    vocab.FORECAST_CATEGORY_API[look.categories[index]],
                    owner,
                    deleted,
                    at,
                    stamp(deleted_ts) if deleted_ts is not None else at,
                    look.history_currency(index),
                )
            )
            if previous is not None:
                _, old_stage, _, old_close = previous
                old_amount = look.amount(index - 1, previous[2])
                amount = look.amount(index, amount)
                if stage != old_stage:
                    changes.append(
                        (
                            next(self.ids.field_history),
                            opp_id,
                            "StageName",
                            STAGE_NAMES[old_stage],
                            STAGE_NAMES[stage],
                            owner,
                            deleted,
                            at,
                        )
                    )
                    if stage >= WON and open_until == self.limit:
                        open_until = ts
                if amount != old_amount:
                    changes.append(
                        (
                            next(self.ids.field_history),
                            opp_id,
                            "Amount",
                            old_amount,
                            amount,
                            owner,
                            deleted,
                            at,
                        )
                    )
                if close_day != old_close:
                    changes.append(
                        (
                            next(self.ids.field_history),
                            opp_id,
                            "CloseDate",
                            date_of(old_close),
                            date_of(close_day),
                            owner,
                            deleted,
                            at,
                        )
                    )
            previous = event
        last_ts, stage, amount, close_day = events[-1]
        won_amount = amount  # in corporate units, for quotas
        amount = look.amount(len(events) - 1, amount)
        modified_ts = deleted_ts if deleted_ts is not None else last_ts
        is_closed = stage >= WON
        first = people[0][1] if people else "them"
        if not is_closed or rng.random() < 0.1:
            next_step = rng.choice(vocab.NEXT_STEPS).replace("{first}", first)
            if not is_closed and rng.random() < 0.15:
                next_step = None
        else:
            next_step = None
        loss_reason = self._loss_reason(close_day) if stage == LOST else None
        modified = stamp(modified_ts)
        # Drawn in the order the default org always drew them, so its bytes do not change.
        name = f"{book.names[account]} - {rng.choice(vocab.PRODUCTS)}"
        opportunity_type = rng.choices(_TYPES, _TYPE_WEIGHTS)[0]
        source = rng.choices(_SOURCES, _SOURCE_WEIGHTS)[0]
        description = rng.choice(vocab.DESCRIPTIONS)
        self.sinks.opportunities.write(
            (
                opp_id,
                name,
                book.ids[account],
                owner,
                STAGE_NAMES[stage],
                amount,
                date_of(close_day),
                PROBABILITIES[stage],
                look.categories[-1],
                opportunity_type,
                source,
                next_step,
                description,
                "true" if is_closed else "false",
                "true" if stage == WON else "false",
                loss_reason,
                deleted,
                stamp(created_ts),
                modified,
                modified,
                look.currency,
                self._record_type(opportunity_type, created_ts),
            )
        )
        self.sinks.history.write_many(history)
        if changes:
            self.sinks.field_history.write_many(changes)
        roles = rng.sample(people, min(len(people), rng.randint(1, 3))) if people else []
        for position, (contact_id, _) in enumerate(roles):
            at = stamp(min(created_ts + 60 * (position + 1), tl.end_ts - 1))
            self.sinks.contact_roles.write(
                (
                    next(self.ids.contact_role),
                    opp_id,
                    contact_id,
                    rng.choice(vocab.CONTACT_ROLES),
                    "true" if position == 0 else "false",
                    deleted,
                    at,
                    at,
                    stamp(deleted_ts) if deleted_ts is not None else at,
                )
            )
        if deleted_ts is None:
            contact = roles[0][0] if roles else None
            self.out.lite.append(
                (opp_id, book.ids[account], contact, created_ts, open_until, *stall)
            )
            if stage == WON and won_amount:
                quarter = quarter_start(tl.to_date(close_day))
                won = self.out.won_by_quarter.get(quarter, 0) + won_amount
                self.out.won_by_quarter[quarter] = won
                week = close_day // 7
                self.out.won_by_week[week] = self.out.won_by_week.get(week, 0) + won_amount

    def _looks(self, events: list[Event]) -> _DealLook:
        """The deal as the org shape shows it: its currency (and from which row on), whether
        its history rows carry the code, and its forecast category at each event."""
        categories = [FORECAST[e[1]] for e in events]
        shape = self.shape
        if shape is None:
            return _DealLook(None, None, categories)
        rng = shape.rng
        currencies = shape.currencies
        currency = currencies.deal_currency(rng, shape.home_currency)
        switch_at = 0
        blank = False
        if currencies.multi:
            if (
                currency != currencies.corporate
                and len(events) >= 3
                and rng.random() < P_CURRENCY_FIXED_LATER
            ):
                switch_at = rng.randrange(1, len(events))
            elif rng.random() < P_HISTORY_WITHOUT_CURRENCY:
                blank = True
        if shape.forecast_categories:
            categories = self._categories(events, rng)
        return _DealLook(
            currency if currencies.multi else None,
            currencies,
            categories,
            switch_at=switch_at,
            blank_history=blank,
        )

    @staticmethod
    def _categories(events: list[Event], rng: random.Random) -> list[str]:
        """Forecast categories a rep sets: Best Case or Commit on late-stage deals (one
        judgment per deal), and Omitted from some update on for a deal they give up on."""
        judgment = rng.random()
        omitted_from = rng.randrange(1, len(events)) if len(events) > 1 else 0
        if rng.random() >= P_OMITTED or omitted_from == 0:
            omitted_from = len(events)
        categories = []
        for index, (_, stage, _, _) in enumerate(events):
            category = FORECAST[stage]
            if stage < WON:
                if index >= omitted_from:
                    category = "Omitted"
                elif stage == NEGOTIATION and judgment < P_COMMIT:
                    category = "Commit"
                elif stage >= PROPOSAL and judgment < P_BEST_CASE + 0.35 * (stage == NEGOTIATION):
                    category = "Best Case"
            categories.append(category)
        return categories

    def _record_type(self, opportunity_type: str, created_ts: int) -> str | None:
        shape = self.shape
        if shape is None or not shape.record_type_ids:
            return None
        migrated = created_ts < self.seller.start_ts + DAY and self.seller.start_ts == 0
        if migrated and shape.rng.random() < P_NO_RECORD_TYPE:
            return None
        return shape.record_type_ids[RECORD_TYPE_OF[opportunity_type]]

    def _loss_reason(self, close_day: int) -> str:
        rng = self.rng
        x = min(1.0, max(0.0, close_day / self.timeline.days))
        # Implementation-timeline losses grow over the window: a pattern worth a 1:1 talk.
        weights = [0.12 + 0.4 * x, 0.3, 0.25, 0.3]
        theme = rng.choices(_THEMES, weights)[0]
        text = rng.choice(vocab.LOSS_REASONS[theme])
        r = rng.random()
        if r < 0.12:
            return text.lower()
        if r < 0.2:
            return f"{text}."
        return text


@dataclass
class _DealLook:
    """One deal's currency and categories (see `DealSimulator._looks`): rows before
    `switch_at` are in the corporate currency, the rest in `currency`; `currencies` None
    keeps the simulated amounts as they are (a single-currency org)."""

    currency: str | None
    currencies: Currencies | None
    categories: list[str]
    switch_at: int = 0
    blank_history: bool = False

    def code(self, index: int) -> str | None:
        if self.currency is None or self.currencies is None:
            return None
        return self.currencies.corporate if index < self.switch_at else self.currency

    def amount(self, index: int, amount: int | None) -> int | None:
        code = self.code(index)
        if amount is None or code is None or self.currencies is None:
            return amount
        return self.currencies.local_amount(amount, code)

    def history_currency(self, index: int) -> str | None:
        return None if self.blank_history else self.code(index)
