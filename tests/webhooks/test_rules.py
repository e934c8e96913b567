"""The pure rules of deliveries: which events an endpoint wants, waits, what an answer means."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from enabley.webhooks import rules

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_patterns_match_exactly_by_resource_or_all():
    assert rules.matches(["user.created"], "user.created")
    assert not rules.matches(["user.created"], "user.updated")
    assert rules.matches(["user.*"], "user.identifier_changed")
    assert not rules.matches(["user.*"], "users.created") and not rules.matches(["group.*"], "user.created")
    assert rules.matches(["*"], "certificate.expired")
    assert not rules.matches([], "user.created")


def test_backoff_doubles_with_jitter_up_to_a_ceiling():
    rng = random.Random(7)
    for attempts in range(1, 30):
        ceiling = min(rules.FIRST_DELAY * 2 ** (attempts - 1), rules.LONGEST_DELAY)
        wait = rules.backoff(attempts, rng)
        assert ceiling / 2 <= wait <= ceiling


def test_retry_after_reads_seconds_and_dates_within_a_day():
    assert rules.retry_after("120", NOW) == timedelta(seconds=120)
    assert rules.retry_after(format_datetime(NOW + timedelta(minutes=5), usegmt=True), NOW) == timedelta(
        minutes=5
    )
    assert rules.retry_after("999999", NOW) == rules.LONGEST_RETRY_AFTER
    assert rules.retry_after(format_datetime(NOW - timedelta(hours=1), usegmt=True), NOW) == timedelta(0)
    assert rules.retry_after("soon", NOW) is None and rules.retry_after(None, NOW) is None


def test_what_an_answer_means():
    assert rules.outcome_of(204, None, NOW).delivered
    assert rules.outcome_of(410, None, NOW).gone
    assert rules.outcome_of(429, "30", NOW).wait == timedelta(seconds=30)
    assert rules.outcome_of(500, "30", NOW).wait is None, "Retry-After is honoured on 429 and 503 only"
    until = NOW + timedelta(hours=1)
    assert rules.next_step(rules.outcome_of(503, "7200", NOW), 1, until, NOW).status == "failed"
    assert rules.next_step(rules.outcome_of(503, "60", NOW), 1, until, NOW).at == NOW + timedelta(seconds=60)
