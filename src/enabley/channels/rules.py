"""What a channel's availability and duration are: derived from stored facts and the time, never stored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from enabley.channels.schemas import AvailabilityStatus, ChannelStatus

CONTENT = "CONTENT"
EVENT = "EVENT"


@dataclass(frozen=True, slots=True)
class ItemTotals:
    """What a channel holds: its content items, training events and the content's summed duration."""

    content_items: int = 0
    training_events: int = 0
    content_seconds: int = 0


def tally(rows: Iterable[tuple[str, int, int | None]]) -> ItemTotals:
    """Totals from ``(kind, count, summed durationSeconds)`` rows, one per kind of item."""
    content = events = seconds = 0
    for kind, count, duration in rows:
        if kind == CONTENT:
            content += count
            seconds += duration or 0
        elif kind == EVENT:
            events += count
    return ItemTotals(content, events, seconds)


def duration(totals: ItemTotals) -> int:
    """A channel's duration: the sum of its content items' durations (0 when none)."""
    return totals.content_seconds


def availability(
    status: str,
    totals: ItemTotals,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> AvailabilityStatus:
    """NONACTIVE when inactive; DRAFT while empty; by its schedule when it has one; else ACTIVE."""
    if status == ChannelStatus.INACTIVE:
        return AvailabilityStatus.NONACTIVE
    if totals.content_items == 0 and totals.training_events == 0:
        return AvailabilityStatus.DRAFT
    if start is None and end is None:
        return AvailabilityStatus.ACTIVE
    if start is not None and now < start:
        return AvailabilityStatus.SCHEDULED
    if end is not None and now >= end:
        return AvailabilityStatus.FINISHED
    return AvailabilityStatus.STARTED
