"""Availability and duration as pure rules: time is a parameter."""

from datetime import UTC, datetime, timedelta

import pytest

from enabley.channels import rules
from enabley.channels.schemas import AvailabilityStatus as S

NOW = datetime(2027, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
FILLED = rules.ItemTotals(content_items=1)


@pytest.mark.parametrize(
    ("status", "totals", "start", "end", "expected"),
    [
        ("INACTIVE", FILLED, None, None, S.NONACTIVE),
        ("INACTIVE", rules.ItemTotals(), NOW - DAY, NOW + DAY, S.NONACTIVE),
        ("ACTIVE", rules.ItemTotals(), None, None, S.DRAFT),
        ("ACTIVE", rules.ItemTotals(), NOW - DAY, NOW + DAY, S.DRAFT),
        ("ACTIVE", FILLED, None, None, S.ACTIVE),
        ("ACTIVE", rules.ItemTotals(training_events=1), None, None, S.ACTIVE),
        ("ACTIVE", FILLED, NOW + DAY, NOW + 2 * DAY, S.SCHEDULED),
        ("ACTIVE", FILLED, NOW + DAY, None, S.SCHEDULED),
        ("ACTIVE", FILLED, NOW - DAY, NOW + DAY, S.STARTED),
        ("ACTIVE", FILLED, NOW, NOW + DAY, S.STARTED),
        ("ACTIVE", FILLED, NOW - DAY, None, S.STARTED),
        ("ACTIVE", FILLED, None, NOW + DAY, S.STARTED),
        ("ACTIVE", FILLED, NOW - 2 * DAY, NOW - DAY, S.FINISHED),
        ("ACTIVE", FILLED, NOW - DAY, NOW, S.FINISHED),
        ("ACTIVE", FILLED, None, NOW - DAY, S.FINISHED),
    ],
)
def test_availability(status, totals, start, end, expected):
    assert rules.availability(status, totals, start, end, NOW) is expected


def test_tally_sums_content_durations_only():
    totals = rules.tally([(rules.CONTENT, 3, 700), (rules.EVENT, 2, None)])
    assert totals == rules.ItemTotals(content_items=3, training_events=2, content_seconds=700)
    assert rules.duration(totals) == 700
    assert rules.duration(rules.tally([(rules.CONTENT, 1, None)])) == 0
    assert rules.duration(rules.tally([])) == 0
