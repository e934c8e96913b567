"""Lists cost a fixed number of statements, whatever their length (no N+1)."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from tests.channels.helpers import put_channel, put_content, put_event, put_master


@pytest.fixture
def statements(engine):
    @contextlib.contextmanager
    def counting():
        seen: list[str] = []

        def record(_conn, _cursor, statement, *_args):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


def _fill(client, headers, start: int, count: int) -> None:
    for i in range(start, start + count):
        put_channel(client, headers, f"c{i}", subAccountName="EU")
        put_content(client, headers, f"c{i}", "a", durationSeconds=10)
        put_event(client, headers, f"c{i}", "e")
        put_master(client, headers, f"m{i}", subAccountName="EU")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/channels?includeCategories=true",
        "/api/v3/channels?includeCategories=true",
        "/api/v2/channels/channels/masters",
        "/api/v3/channels/masters",
    ],
)
def test_list_statements_do_not_grow_with_the_list(client, headers, statements, path):
    _fill(client, headers, 0, 2)
    with statements() as few:
        r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    _fill(client, headers, 2, 6)
    with statements() as many:
        r = client.get(path, headers=headers)
    body = r.json()
    assert len(body if isinstance(body, list) else body["items"]) == 8
    assert len(many) == len(few), many
