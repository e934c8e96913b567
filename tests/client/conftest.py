"""The SDK against the real application, through the test's TestClient (no server process)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from enabley.client import Client
from tests import factories

BASE_URL = "http://testserver"


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def credentials(db: Any, account: Any) -> tuple[str, str]:
    return factories.make_client(db, account)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def sdk(client: Any, credentials: tuple[str, str], clock: FakeClock, sleeps: list[float]) -> Iterator[Client]:
    """The SDK for the test's account (sub-accounts EU and US), talking to the app in-process."""
    key, secret = credentials
    with Client(BASE_URL, key, secret, http=client, clock=clock, sleep=sleeps.append) as sdk:
        yield sdk
