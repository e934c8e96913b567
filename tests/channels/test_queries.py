"""Lists cost a fixed number of statements, whatever their length (no N+1)."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from tests import factories
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


def _reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def test_members_count_is_one_query_after_the_channel_whatever_the_tree(
    client, headers, statements, db, account
):
    """A recursive group tree, users in several of its groups and assigned directly too: each
    learner counts once, and the count is one statement however deep and wide the tree."""
    channel = factories.make_channel(db, account, "tree")
    root = factories.make_group(db, account)
    factories.assign_channel_group(db, channel, root, recursive=True)
    outsider = factories.make_group(db, account)
    tops, learners, counts = [root], 0, []
    for depth in (1, 3):
        while len(tops) < depth + 1:
            tops.append(factories.make_group(db, account, parent=tops[-1]))
        for group in tops[1:]:
            sibling = factories.make_group(db, account, parent=group)
            user = factories.make_user(db, account)
            factories.add_to_group(db, user.id, group)
            factories.add_to_group(db, user.id, sibling)
            factories.add_to_group(db, user.id, outsider)
            factories.enrol_user(db, channel, user)
            learners += 1
        factories.add_to_group(db, factories.make_user(db, account).id, outsider)
        with statements() as seen:
            r = client.get("/api/v2/channels/channels/tree/members/count", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"learners": learners}
        reads = _reads(seen)
        # The channel's lookup, then the count.
        assert "FROM channels" in reads[0], reads
        counts.append(len(reads))
    assert counts == [2, 2]
