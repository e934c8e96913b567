"""What only shows with more rows than a chunk (users.csv is read and written chunk by chunk), a
failure half-way through the writes, and the number of statements an upload runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine

from enabley.db import bulk
from enabley.uploads import users_file
from tests.factories import counted_statements
from tests.uploads.helpers import (
    get_user,
    groups_of,
    make_profile,
    ok,
    profiles_of,
    put_group,
    put_user,
    refused,
    snapshot,
    to_csv,
    upload,
)


@pytest.fixture
def small_chunks(monkeypatch):
    """Three rows a chunk, two rows an INSERT statement."""
    monkeypatch.setattr(users_file, "CHUNK", 3)
    for insert in (users_file._INSERT_USERS, *users_file._ADD_LINKS.values()):
        monkeypatch.setattr(insert, "per_statement", 2)
        monkeypatch.setattr(insert, "_texts", {})


def test_rows_across_chunks_are_all_written(client, headers, small_chunks):
    make_profile(client, headers, "p")
    put_group(client, headers, "stored")
    put_user(client, headers, identifier="u-4", firstName="Old")
    groups = to_csv(
        ["identifier", "name", "parentIdentifier"], ["new-child", "Child", "new"], ["new", "New", ""]
    )
    rows = [[f"u-{i}", f"First {i}", "new-child;stored" if i % 2 else "new", "p"] for i in range(11)]
    users = to_csv(["identifier", "firstName", "groups", "profiles"], *rows)
    result = ok(upload(client, headers, groups=groups, users=users))
    assert (result["created"]["users"], result["updated"]["users"]) == (10, 1)
    assert [get_user(client, headers, f"u-{i}")["firstName"] for i in range(11)] == [
        f"First {i}" for i in range(11)
    ]
    assert groups_of(client, headers, "u-9") == ["new-child", "stored"]
    assert groups_of(client, headers, "u-4") == ["new"]
    assert profiles_of(client, headers, "u-10") == ["p"]
    again = ok(upload(client, headers, groups=groups, users=users))
    assert again["unchanged"] == {"groups": 2, "users": 11}


def test_many_chunks_of_usernames_are_all_written(client, headers, small_chunks):
    rows = [[f"u-{i}", f"First {i}", f"user.{i}"] for i in range(20)]
    result = ok(upload(client, headers, users=to_csv(["identifier", "firstName", "username"], *rows)))
    assert result["created"]["users"] == 20
    assert [get_user(client, headers, f"u-{i}")["username"] for i in range(20)] == [
        f"user.{i}" for i in range(20)
    ]


def test_a_row_refused_after_chunks_were_written_leaves_nothing(client, headers, db, account, small_chunks):
    """Chunks are written as they are checked while no row is refused: a bad row further down
    takes them all back."""
    put_user(client, headers, identifier="u-1", firstName="Old")
    before = snapshot(db, account)
    groups = to_csv(["identifier", "name"], ["g", "G"])
    rows = [[f"u-{i}", f"First {i}", "g"] for i in range(12)] + [["bad", "Bad", "nope"]]
    users = to_csv(["identifier", "firstName", "groups"], *rows)
    assert refused(upload(client, headers, groups=groups, users=users)) == [("users.csv", 14, "groups")]
    assert snapshot(db, account) == before


def test_a_username_taken_by_a_user_not_in_the_upload_leaves_nothing(
    client, headers, db, account, small_chunks
):
    """The holder of a username given away is freed before the row taking it is written; when
    the holder then never shows up, the row is refused and the holder keeps its username."""
    put_user(client, headers, identifier="holder", username="Taken")
    before = snapshot(db, account)
    rows = [["taker", "taken"], *([f"f{i}", ""] for i in range(8))]
    assert refused(upload(client, headers, users=to_csv(["identifier", "username"], *rows))) == [
        ("users.csv", 2, "username")
    ]
    assert snapshot(db, account) == before
    assert get_user(client, headers, "holder")["username"] == "Taken"


def test_a_username_given_back_and_forth_across_chunks(client, headers, small_chunks):
    """A holder written before the row taking its old username keeps its new one."""
    put_user(client, headers, identifier="a", username="one")
    rows = [["a", "two"], ["f1", ""], ["f2", ""], ["f3", ""], ["b", "one"]]
    ok(upload(client, headers, users=to_csv(["identifier", "username"], *rows)))
    assert (get_user(client, headers, "a")["username"], get_user(client, headers, "b")["username"]) == (
        "two",
        "one",
    )
    put_user(client, headers, identifier="c", username="three")
    swap = [["a", "three"], ["f1", ""], ["f2", ""], ["f3", ""], ["c", "two"]]
    ok(upload(client, headers, users=to_csv(["identifier", "username"], *swap)))
    assert (get_user(client, headers, "a")["username"], get_user(client, headers, "c")["username"]) == (
        "three",
        "two",
    )


def test_duplicates_and_username_clashes_across_chunks(client, headers, small_chunks):
    users = to_csv(
        ["identifier", "username"], ["a", "x"], ["b", "y"], ["c", "z"], ["d", "X"], ["a", "w"], ["e", ""]
    )
    assert refused(upload(client, headers, users=users)) == [
        ("users.csv", 5, "username"),
        ("users.csv", 6, "identifier"),
    ]


def test_a_username_swap_across_chunks(client, headers, small_chunks):
    put_user(client, headers, identifier="first", username="one")
    put_user(client, headers, identifier="last", username="two")
    rows = [["first", "two"], ["f1", ""], ["f2", ""], ["f3", ""], ["last", "one"]]
    ok(upload(client, headers, users=to_csv(["identifier", "username"], *rows)))
    assert (
        get_user(client, headers, "first")["username"],
        get_user(client, headers, "last")["username"],
    ) == (
        "two",
        "one",
    )


def test_a_failure_half_way_through_the_writes_leaves_nothing(client, headers, db, account, monkeypatch):
    put_user(client, headers, identifier="old", firstName="Old")
    before = snapshot(db, account)
    original = users_file._ADD_LINKS["groups"].run

    def crash(session, rows):
        rows = list(rows)
        if rows:
            raise RuntimeError("killed")
        return original(session, rows)

    monkeypatch.setattr(users_file._ADD_LINKS["groups"], "run", crash)
    groups = to_csv(["identifier", "name"], ["g", "G"])
    users = to_csv(["identifier", "firstName", "groups"], ["old", "Changed", "g"], ["new", "New", "g"])
    with pytest.raises(RuntimeError, match="killed"):  # the test client re-raises what the app raised
        upload(client, headers, groups=groups, users=users)
    assert snapshot(db, account) == before


def test_postgresql_refreshes_its_statistics_after_a_large_upload(
    client, headers, engine, monkeypatch, backend
):
    monkeypatch.setattr(users_file, "ANALYZE_AFTER", 2)
    with counted_statements(engine) as seen:
        ok(upload(client, headers, users=to_csv(["identifier"], ["a"], ["b"], ["c"])))
    analyzed = [s for s in seen if s.startswith("ANALYZE")]
    assert analyzed == (
        ["ANALYZE users, user_sub_accounts, user_groups, user_profiles"] if backend == "postgresql" else []
    )


@contextmanager
def every_statement(engine: Engine) -> Iterator[list[str]]:
    """Statements through SQLAlchemy and the bulk ones sent straight to the driver (an
    executemany counts once: that is one batch, not a statement per row)."""
    sent: list[str] = []
    execute, read, copy = bulk._execute, bulk.KeyedRead.all, bulk._copy

    def counted_execute(session, dialect, sql, params, **kw):
        sent.append(sql)
        return execute(session, dialect, sql, params, **kw)

    def counted_copy(session, dialect, sql, rows):
        sent.append(sql)
        return copy(session, dialect, sql, rows)

    def counted_read(self, session, keys):
        if keys:
            sent.append("keyed read")
        return read(self, session, keys)

    bulk._execute, bulk.KeyedRead.all, bulk._copy = counted_execute, counted_read, counted_copy
    try:
        with counted_statements(engine) as seen:
            yield sent
        sent.extend(seen)
    finally:
        bulk._execute, bulk.KeyedRead.all, bulk._copy = execute, read, copy


def test_no_statement_runs_per_row(client, headers, engine):
    put_group(client, headers, "g")
    put_group(client, headers, "h")
    make_profile(client, headers, "p")

    def statements(users: str) -> int:
        with every_statement(engine) as sent:
            ok(upload(client, headers, users=users))
        assert sent
        return len(sent)

    def created(n: int, tag: str) -> int:
        rows = [[f"{tag}-{i}", f"{tag}.{i}", f"u{i}@example.com", "g", "p", "EU"] for i in range(n)]
        return statements(
            to_csv(["identifier", "username", "email", "groups", "profiles", "subAccountName"], *rows)
        )

    def updated(n: int, tag: str) -> int:
        rows = [[f"{tag}-{i}", f"{tag}.{i}.new", "Changed", "h"] for i in range(n)]
        return statements(to_csv(["identifier", "username", "firstName", "groups"], *rows))

    # 150 rows: each row makes two or three events (the user, the group it joins and the one it
    # leaves), and 450 events still fit one statement of the change log's bulk insert, as 30 rows' do.
    assert created(150, "big") == created(30, "small")
    assert updated(150, "big") == updated(30, "small")


def test_postgresql_refreshes_the_users_statistics_while_an_upload_writes(
    client, headers, engine, monkeypatch, backend, small_chunks
):
    """Once the upload has created ANALYZE_WHILE_WRITING users and the statistics count fewer,
    they are refreshed once, before the look-ups of the chunks that follow."""
    monkeypatch.setattr(users_file, "ANALYZE_WHILE_WRITING", 4)
    monkeypatch.setattr(users_file, "ANALYZE_AFTER", 10**9)  # not the refresh at the end
    # The test database's statistics depend on the tests before: as if never counted.
    monkeypatch.setattr(users_file, "estimated_rows", lambda target, table: -1.0)
    rows = [[f"s-{i}", f"stat.{i}"] for i in range(12)]
    with every_statement(engine) as sent:
        ok(upload(client, headers, users=to_csv(["identifier", "username"], *rows)))
    analyzed = [s for s in sent if s.startswith("ANALYZE")]
    assert analyzed == (["ANALYZE users"] if backend == "postgresql" else [])
