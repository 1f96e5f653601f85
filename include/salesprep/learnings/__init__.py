"""The learnings loop: lessons, field feedback and agreed actions that pairs record after a 1:1,
read back in."""

from salesprep.learnings.entries import (
    TEMPLATE,
    EntryProblem,
    Learning,
    LearningsFormatError,
    parse_learnings,
    read_entries,
)
from salesprep.learnings.load import land_learnings

__all__ = [
    "TEMPLATE",
    "EntryProblem",
    "Learning",
    "LearningsFormatError",
    "land_learnings",
    "parse_learnings",
    "read_entries",
]
