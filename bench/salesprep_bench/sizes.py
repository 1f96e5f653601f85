"""Benchmark sizes: the generated org of each size and the history lengths of its growth series."""

from __future__ import annotations

from dataclasses import dataclass

from salesprep.weeks import Week

# A fixed last week, so two runs of one size benchmark the same bytes whatever the date.
END_WEEK = Week.parse("2026-W10")


class UnknownSizeError(ValueError):
    """A size name the benchmark does not define; the message lists the sizes."""


@dataclass(frozen=True)
class Size:
    """One benchmark size: the org to generate and the history lengths of the growth series."""

    name: str
    reps: int
    managers: int
    weeks: int
    # Weeks of history for the weekly-cost-against-history series, at `growth_reps` reps.
    growth_weeks: tuple[int, ...]
    growth_reps: int
    growth_managers: int
    description: str
    seed: int = 7

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "reps": self.reps,
            "managers": self.managers,
            "weeks": self.weeks,
            "end_week": END_WEEK.label,
            "growth_weeks": list(self.growth_weeks),
            "growth_reps": self.growth_reps,
            "seed": self.seed,
            "description": self.description,
        }


SIZES: dict[str, Size] = {
    # For the harness's own smoke test: seconds, not minutes.
    "XS": Size("XS", 6, 2, 6, (4, 8), 6, 2, "smoke test of the harness"),
    "S": Size("S", 20, 3, 26, (13, 26, 52), 20, 3, "20 reps, 26 weeks"),
    "M": Size("M", 200, 20, 104, (26, 52, 104, 156), 40, 5, "200 reps, 104 weeks"),
    "L": Size("L", 1000, 100, 156, (26, 52, 104, 156), 200, 20, "1,000 reps, 156 weeks"),
}


def get_size(name: str) -> Size:
    """The size called `name` (case-insensitive)."""
    try:
        return SIZES[name.upper()]
    except KeyError as exc:
        raise UnknownSizeError(
            f"unknown benchmark size {name!r}; sizes: {', '.join(SIZES)}"
        ) from exc
