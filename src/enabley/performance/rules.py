"""Performance arithmetic: what a learner's recorded item progress amounts to in one channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ITEM_KINDS = ("CONTENT", "EVENT")
"""The kinds of item that count towards progress (when not optional)."""


@dataclass(frozen=True, slots=True)
class Tally:
    """What the database counted for one learner and channel."""

    required: int
    """Non-optional content items and training events of the channel."""
    completed: int
    """How many of those the learner completed."""
    last_completed_at: datetime | None
    """The latest completion among the completed required items."""
    score_total: int
    score_count: int
    """Sum and number of the scores of the learner's completed scored items."""


def progress(tally: Tally) -> int:
    """Whole percent (rounded down) of the required items completed; 0 when nothing is required."""
    if tally.required <= 0:
        return 0
    return min(100, (100 * tally.completed) // tally.required)


def completion_date(tally: Tally) -> datetime | None:
    """When the last required item was completed, once every one is; a channel with no
    required items is never complete."""
    if tally.required <= 0 or tally.completed < tally.required:
        return None
    return tally.last_completed_at


def mean_score(tally: Tally) -> int | None:
    """The mean of the scores, rounded half up; None when no scored item is completed."""
    if tally.score_count <= 0:
        return None
    return (2 * tally.score_total + tally.score_count) // (2 * tally.score_count)
