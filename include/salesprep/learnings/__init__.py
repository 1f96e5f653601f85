"""The learnings loop: lessons and field feedback that pairs record after a 1:1, read back in."""

from salesprep.learnings.entries import (
    TEMPLATE,
    Learning,
    LearningsFormatError,
    parse_learnings,
)
from salesprep.learnings.load import land_learnings

__all__ = ["TEMPLATE", "Learning", "LearningsFormatError", "land_learnings", "parse_learnings"]
