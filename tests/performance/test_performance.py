"""Performance 3.6.1-3.6.2, force complete 3.4.14 and the admin activity endpoint."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, select

from enabley.channels import enrolment
from enabley.models import ChannelUser, ItemProgress
from enabley.performance import distribution
from enabley.performance import service as performance_service
from tests import factories

ROW_FIELDS = {"channelName", "completionDate", "externalChannelId", "externalUserId", "progress", "score"}
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def activity(client, headers, user, channel, item, completed=True, **fields):
    body = {
        "userIdentifier": user,
        "channelIdentifier": channel,
        "itemIdentifier": item,
        "completed": completed,
        **fields,
    }
    return client.post("/api/admin/v1/activity", json=body, headers=headers)


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    return response.json()["error_description"]


@pytest.fixture
def course(db, account):
    """A channel with three required items (two content items, one training event), an optional
    one, two learners and an instructor."""
    channel = factories.make_channel(db, account, "c-1", name="Forklift basics")
    items = {
        "video": factories.make_channel_item(db, channel, "video", scored=True),
        "quiz": factories.make_channel_item(db, channel, "quiz", scored=True),
        "event": factories.make_channel_item(db, channel, "event", kind="EVENT", scored=True),
        "extra": factories.make_channel_item(db, channel, "extra", optional=True, scored=True),
    }
    users = {}
    for name in ("ana", "bia"):
        users[name] = factories.make_user(db, account, name)
        factories.enrol_user(db, channel, users[name])
    users["ivo"] = factories.make_user(db, account, "ivo")
    factories.enrol_user(db, channel, users["ivo"], role="INSTRUCTOR")
    return channel, items, users


def test_activity_answers_the_learners_row_and_progress_is_the_floor_percent_of_required_items(
    client, headers, course
):
    row = ok(activity(client, headers, "ana", "c-1", "video", occurredAt=at(0)))
    assert set(row) == ROW_FIELDS
    assert row == {
        "channelName": "Forklift basics",
        "completionDate": None,
        "externalChannelId": "c-1",
        "externalUserId": "ana",
        "progress": 33,
        "score": None,
    }
    # Optional items do not count towards progress.
    assert ok(activity(client, headers, "ana", "c-1", "extra", occurredAt=at(1)))["progress"] == 33
    assert ok(activity(client, headers, "ana", "c-1", "event", occurredAt=at(2)))["progress"] == 66
    done = ok(activity(client, headers, "ana", "c-1", "quiz", occurredAt=at(3)))
    assert (done["progress"], done["completionDate"]) == (100, at(3))


def test_completion_date_is_the_completion_that_brought_progress_to_100(client, headers, course):
    for hours, item in ((5, "quiz"), (1, "video"), (3, "event")):
        activity(client, headers, "ana", "c-1", item, occurredAt=at(hours))
    assert ok(client.get("/api/v1/performance?externalUserId=ana", headers=headers))[0][
        "completionDate"
    ] == at(5)


def test_a_completion_keeps_its_first_date_until_it_is_undone(client, headers, course):
    for item in ("video", "quiz", "event"):
        activity(client, headers, "ana", "c-1", item, occurredAt=at(1))
    again = ok(activity(client, headers, "ana", "c-1", "quiz", occurredAt=at(9)))
    assert (again["progress"], again["completionDate"]) == (100, at(1))
    undone = ok(activity(client, headers, "ana", "c-1", "quiz", completed=False, occurredAt=at(10)))
    assert (undone["progress"], undone["completionDate"]) == (66, None)
    redone = ok(activity(client, headers, "ana", "c-1", "quiz", occurredAt=at(12)))
    assert (redone["progress"], redone["completionDate"]) == (100, at(12))


def test_one_progress_row_per_user_and_item_updated_in_place(client, headers, course, db):
    _, items, users = course
    for hours in (1, 2, 3):
        activity(client, headers, "ana", "c-1", "video", completed=hours != 2, occurredAt=at(hours))
    rows = db.scalars(select(ItemProgress).where(ItemProgress.user_id == users["ana"].id)).all()
    assert len(rows) == 1
    assert rows[0].item_id == items["video"].id and rows[0].completed is True
    assert rows[0].completed_at == T0 + timedelta(hours=3)


def test_score_is_the_rounded_mean_of_completed_scored_items(client, headers, course, db, account):
    channel, _, _ = course
    factories.make_channel_item(db, channel, "survey", optional=True, scored=False)
    assert ok(activity(client, headers, "ana", "c-1", "video", score=80))["score"] == 80
    # A scored event (includeGrade) counts; 80 and 85 average 82.5, rounded half up.
    assert ok(activity(client, headers, "ana", "c-1", "event", score=85))["score"] == 83
    # An item that gives no score, and a scored item not completed, leave the mean alone.
    assert ok(activity(client, headers, "ana", "c-1", "survey", score=0))["score"] == 83
    assert ok(activity(client, headers, "ana", "c-1", "quiz", completed=False, score=10))["score"] == 83
    # Optional scored items count; a score left out of a later call is kept.
    assert ok(activity(client, headers, "ana", "c-1", "extra", score=100))["score"] == 88
    assert ok(activity(client, headers, "ana", "c-1", "extra"))["score"] == 88
    assert ok(activity(client, headers, "ana", "c-1", "extra", score=None))["score"] == 83
    assert ok(activity(client, headers, "bia", "c-1", "video"))["score"] is None


def test_a_channel_without_required_items_has_progress_0_and_never_completes(client, headers, db, account):
    channel = factories.make_channel(db, account, "c-opt")
    factories.make_channel_item(db, channel, "only", optional=True)
    user = factories.make_user(db, account, "u")
    factories.enrol_user(db, channel, user)
    row = ok(activity(client, headers, "u", "c-opt", "only", occurredAt=at(0)))
    assert (row["progress"], row["completionDate"]) == (0, None)


def test_activity_errors(client, headers, course, db, account):
    other = factories.make_channel(db, account, "c-2")
    factories.make_channel_item(db, other, "elsewhere")
    factories.make_user(db, account, "stranger")
    assert "nobody" in error(activity(client, headers, "nobody", "c-1", "video"), 404, "not_found")
    assert "c-9" in error(activity(client, headers, "ana", "c-9", "video"), 404, "not_found")
    assert "elsewhere" in error(activity(client, headers, "ana", "c-1", "elsewhere"), 404, "not_found")
    assert "stranger" in error(activity(client, headers, "stranger", "c-1", "video"), 400, "invalid_request")
    # An instructor is not a learner.
    error(activity(client, headers, "ivo", "c-1", "video"), 400, "invalid_request")
    for score in (101, -1):
        assert "score" in error(
            activity(client, headers, "ana", "c-1", "video", score=score), 400, "invalid_request"
        )
    error(
        client.post("/api/admin/v1/activity", json={"userIdentifier": "ana"}, headers=headers),
        400,
        "invalid_request",
    )


def _get(client, headers, **params):
    return client.get("/api/v1/performance", params=params, headers=headers)


def test_v1_filters_by_channel_user_both_or_neither(client, headers, course, db, account):
    _, _, users = course
    second = factories.make_channel(db, account, "c-2", name="Second")
    factories.make_channel_item(db, second, "s1")
    factories.enrol_user(db, second, users["ana"])
    activity(client, headers, "ana", "c-1", "video")
    activity(client, headers, "ana", "c-2", "s1", occurredAt=at(4))

    by_channel = ok(_get(client, headers, externalChannelId="c-1"))
    assert [(r["externalUserId"], r["progress"]) for r in by_channel] == [("ana", 33), ("bia", 0)]
    by_user = ok(_get(client, headers, externalUserId="ana"))
    assert [(r["externalChannelId"], r["progress"], r["completionDate"]) for r in by_user] == [
        ("c-1", 33, None),
        ("c-2", 100, at(4)),
    ]
    assert [r["channelName"] for r in by_user] == ["Forklift basics", "Second"]
    both = ok(_get(client, headers, externalChannelId="c-2", externalUserId="ana"))
    assert [(r["externalChannelId"], r["externalUserId"]) for r in both] == [("c-2", "ana")]
    assert ok(_get(client, headers, externalChannelId="c-2", externalUserId="bia")) == []
    everything = ok(_get(client, headers))
    assert [(r["externalChannelId"], r["externalUserId"]) for r in everything] == [
        ("c-1", "ana"),
        ("c-1", "bia"),
        ("c-2", "ana"),
    ]
    error(_get(client, headers, externalChannelId="nope"), 404, "not_found")
    error(_get(client, headers, externalUserId="nope"), 404, "not_found")


def test_v1_refuses_more_rows_than_it_may_list(client, headers, course, monkeypatch):
    monkeypatch.setattr(performance_service, "MAX_UNPAGED_ROWS", 1)
    assert "/api/v2/performance" in error(_get(client, headers), 400, "invalid_request")
    assert len(ok(_get(client, headers, externalUserId="ana"))) == 1


def test_rows_exist_only_for_current_learners_and_progress_outlives_leaving(client, headers, course, db):
    channel, _, users = course
    activity(client, headers, "bia", "c-1", "video", occurredAt=at(1))
    db.execute(delete(ChannelUser).where(ChannelUser.user_id == users["bia"].id))
    assert [r["externalUserId"] for r in ok(_get(client, headers, externalChannelId="c-1"))] == ["ana"]
    assert ok(_get(client, headers, externalUserId="bia")) == []
    factories.enrol_user(db, channel, users["bia"])
    assert ok(_get(client, headers, externalUserId="bia"))[0]["progress"] == 33


def test_group_members_learn_including_recursive_descendants(client, headers, db, account):
    channel = factories.make_channel(db, account, "c-g")
    factories.make_channel_item(db, channel, "i")
    top = factories.make_group(db, account, "top")
    leaf = factories.make_group(db, account, "leaf", parent=top)
    flat = factories.make_group(db, account, "flat")
    flat_child = factories.make_group(db, account, "flat-child", parent=flat)
    for name, group in (("deep", leaf), ("member", flat), ("outside", flat_child)):
        factories.add_to_group(db, factories.make_user(db, account, name).id, group)
    factories.assign_channel_group(db, channel, top, recursive=True)
    factories.assign_channel_group(db, channel, flat, recursive=False)
    expected = ["deep", "member"]
    for params in ({"externalChannelId": "c-g"}, {}):
        assert [r["externalUserId"] for r in ok(_get(client, headers, **params))] == expected
    assert ok(activity(client, headers, "deep", "c-g", "i"))["progress"] == 100
    error(activity(client, headers, "outside", "c-g", "i"), 400, "invalid_request")


def test_learner_pairs_agree_with_the_membership_rule(db, account):
    top = factories.make_group(db, account)
    mid = factories.make_group(db, account, parent=top)
    leaf = factories.make_group(db, account, parent=mid)
    other = factories.make_group(db, account)
    users = [factories.make_user(db, account) for _ in range(6)]
    for user, group in zip(users, (top, mid, leaf, other, leaf, mid), strict=True):
        factories.add_to_group(db, user.id, group)
    channels = [factories.make_channel(db, account) for _ in range(4)]
    factories.assign_channel_group(db, channels[0], mid, recursive=True)
    factories.assign_channel_group(db, channels[1], mid)
    factories.assign_channel_group(db, channels[1], other, recursive=True)
    factories.assign_channel_group(db, channels[2], top, recursive=True)
    factories.enrol_user(db, channels[2], users[3])
    factories.enrol_user(db, channels[3], users[0])
    factories.enrol_user(db, channels[3], users[1], role="INSTRUCTOR")
    pairs = enrolment.learner_pairs(account)
    got = {tuple(row) for row in db.execute(select(pairs.c.channel_id, pairs.c.user_id))}
    expected = {
        (c.id, user_id)
        for c in channels
        for user_id in db.scalars(select(enrolment.learner_ids(c.id).subquery().c.user_id))
    }
    assert got == expected
    assert len(expected) == 4 + 3 + 6 + 1


def _v2(client, headers, **params):
    return client.get("/api/v2/performance", params=params, headers=headers)


def _walk(client, headers, **params):
    pages, key = [], None
    while True:
        body = ok(_v2(client, headers, **params, **({"paginationKey": key} if key else {})))
        pages.append(body)
        key = body["paginationKey"]
        if key is None:
            return pages


def test_v2_pages_a_channel_by_user_and_a_user_by_channel(client, headers, db, account, page_size):
    page_size(2)
    channels = [factories.make_channel(db, account, f"ch-{i}") for i in range(3)]
    for channel in channels:
        factories.make_channel_item(db, channel, "i")
    users = [factories.make_user(db, account, f"z-{i}") for i in range(5)]
    for user in users:
        factories.enrol_user(db, channels[0], user)
    for channel in reversed(channels[1:]):
        factories.enrol_user(db, channel, users[0])
    activity(client, headers, "z-3", "ch-0", "i", occurredAt=at(2), score=70)

    pages = _walk(client, headers, channelIdentifier="ch-0")
    assert [p["currentPage"] for p in pages] == [1, 2, 3]
    assert {(p["pageSize"], p["totalPages"]) for p in pages} == {(2, 3)}
    rows = [r for p in pages for r in p["items"]]
    assert [r["externalUserId"] for r in rows] == [u.external_id for u in users]
    assert rows[3] == {
        "channelName": "ch-0",
        "completionDate": at(2),
        "externalChannelId": "ch-0",
        "externalUserId": "z-3",
        "progress": 100,
        "score": None,
    }
    by_user = [
        r["externalChannelId"] for p in _walk(client, headers, userIdentifier="z-0") for r in p["items"]
    ]
    assert by_user == ["ch-0", "ch-1", "ch-2"]
    both = ok(_v2(client, headers, channelIdentifier="ch-1", userIdentifier="z-0"))
    assert [r["externalChannelId"] for r in both["items"]] == ["ch-1"]
    assert both["paginationKey"] is None


def test_v2_needs_a_filter_and_a_key_keeps_its_own(client, headers, course, page_size):
    page_size(1)
    assert "channelIdentifier" in error(_v2(client, headers), 400, "invalid_request")
    first = ok(_v2(client, headers, channelIdentifier="c-1"))
    key = first["paginationKey"]
    assert key is not None
    # The key alone continues its walk; a different filter beside it is refused.
    second = ok(_v2(client, headers, paginationKey=key))
    assert [r["externalUserId"] for r in first["items"] + second["items"]] == ["ana", "bia"]
    error(_v2(client, headers, paginationKey=key, userIdentifier="ana"), 404, "not_found")
    error(_v2(client, headers, paginationKey="garbage"), 404, "not_found")
    error(_v2(client, headers, channelIdentifier="nope"), 404, "not_found")
    error(_v2(client, headers, userIdentifier="nope"), 404, "not_found")


@contextmanager
def _statements(context):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    connection = context.db.bind
    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_a_page_costs_the_same_queries_whatever_its_size(client, headers, db, account, context, page_size):
    page_size(50)
    channel = factories.make_channel(db, account, "big")
    items = [factories.make_channel_item(db, channel, f"i{i}", scored=True) for i in range(3)]
    counts = []
    for batch in (1, 12):
        for _ in range(batch):
            user = factories.make_user(db, account)
            factories.enrol_user(db, channel, user)
            for item in items:
                db.add(
                    ItemProgress(
                        user_id=user.id,
                        item_id=item.id,
                        channel_id=channel.id,
                        completed=True,
                        score=50,
                        completed_at=T0,
                    )
                )
        db.flush()
        with _statements(context) as seen:
            body = ok(_v2(client, headers, channelIdentifier="big"))
        assert all(r["progress"] == 100 and r["score"] == 50 for r in body["items"])
        counts.append(len(seen))
    assert len(body["items"]) == 13
    assert 0 < counts[0] == counts[1]


def _data_reads(seen: list[str]) -> list[str]:
    """The reads after the lookup of the user or channel the request names (the first read)."""
    reads = [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert reads and "external_id = " in reads[0] and "item_progress" not in reads[0], reads
    return reads[1:]


@pytest.mark.parametrize(
    ("path", "param", "queries"),
    [
        # The rows, with every channel's tally.
        ("/api/v1/performance", "externalUserId", 1),
        # The walk's total, then the page.
        ("/api/v2/performance", "userIdentifier", 2),
    ],
)
def test_one_users_performance_costs_one_or_two_queries_whatever_his_channels(
    client, headers, db, account, context, page_size, path, param, queries
):
    page_size(50)
    solo = factories.make_user(db, account, "solo")
    parent = factories.make_group(db, account)
    child = factories.make_group(db, account, parent=parent)
    factories.add_to_group(db, solo.id, child)
    made, counts = 0, []
    for batch in (1, 29):
        for _ in range(batch):
            channel = factories.make_channel(db, account)
            item = factories.make_channel_item(db, channel, "i", scored=True)
            factories.make_channel_item(db, channel, "j")
            # Learner directly, through his group and through an ancestor's recursive assignment.
            if made % 3 == 0:
                factories.enrol_user(db, channel, solo)
            else:
                group = child if made % 3 == 1 else parent
                factories.assign_channel_group(db, channel, group, recursive=True)
            db.add(
                ItemProgress(
                    user_id=solo.id,
                    item_id=item.id,
                    channel_id=channel.id,
                    completed=True,
                    score=40 + made,
                    completed_at=T0,
                )
            )
            made += 1
        db.flush()
        with _statements(context) as seen:
            body = ok(client.get(path, params={param: "solo"}, headers=headers))
        rows = body if isinstance(body, list) else body["items"]
        assert len(rows) == made
        assert [(r["progress"], r["score"]) for r in rows] == [(50, 40 + n) for n in range(made)]
        counts.append(len(_data_reads(seen)))
    assert counts == [queries, queries]


def test_a_channel_walk_counts_each_learner_once_and_a_later_page_is_one_query(
    client, headers, db, account, context, page_size
):
    page_size(2)
    channel = factories.make_channel(db, account, "walk")
    factories.make_channel_item(db, channel, "i")
    top = factories.make_group(db, account)
    mid = factories.make_group(db, account, parent=top)
    leaf = factories.make_group(db, account, parent=mid)
    factories.assign_channel_group(db, channel, top, recursive=True)
    factories.assign_channel_group(db, channel, leaf)
    users = [factories.make_user(db, account) for _ in range(5)]
    for user, groups in zip(users, ((top,), (mid, leaf), (leaf,), (), (top, mid, leaf)), strict=True):
        for group in groups:
            factories.add_to_group(db, user.id, group)
    for user in users[2:4]:
        factories.enrol_user(db, channel, user)
    factories.enrol_user(db, channel, factories.make_user(db, account), role="INSTRUCTOR")

    pages, key, reads = [], None, []
    while True:
        params = {"paginationKey": key} if key else {"channelIdentifier": "walk"}
        with _statements(context) as seen:
            body = ok(_v2(client, headers, **params))
        pages.append(body)
        reads.append(len(_data_reads(seen)))
        key = body["paginationKey"]
        if key is None:
            break
    assert [r["externalUserId"] for p in pages for r in p["items"]] == [u.external_id for u in users]
    assert {p["totalPages"] for p in pages} == {3}
    # Page 1 counts the learners, then reads its rows; later pages read their rows only.
    assert reads == [2, 1, 1]


def _force(client, headers, channel, user, **kwargs):
    return client.post(
        f"/api/v4/channels/forceComplete/channel/{channel}/user/{user}", headers=headers, **kwargs
    )


def test_force_complete_completes_required_items_now_and_keeps_earlier_completions(
    client, headers, course, db
):
    _, items, users = course
    activity(client, headers, "ana", "c-1", "video", occurredAt=at(0))
    activity(client, headers, "ana", "c-1", "quiz", completed=False, score=40)
    before = datetime.now(UTC)
    response = _force(client, headers, "c-1", "ana")
    assert response.status_code == 200, response.text
    assert response.content == b""
    progress = {
        p.item_id: p for p in db.scalars(select(ItemProgress).where(ItemProgress.user_id == users["ana"].id))
    }
    assert progress[items["video"].id].completed_at == T0
    for name in ("quiz", "event"):
        assert progress[items[name].id].completed is True
        assert progress[items[name].id].completed_at >= before - timedelta(seconds=1)
    assert items["extra"].id not in progress
    assert progress[items["quiz"].id].score == 40
    row = ok(_get(client, headers, externalChannelId="c-1", externalUserId="ana"))[0]
    assert row["progress"] == 100 and row["completionDate"] is not None
    # Again, with an empty JSON-typed body: nothing changes.
    again = _force(client, {**headers, "Content-Type": "application/json"}, "c-1", "ana")
    assert again.status_code == 200, again.text
    assert ok(_get(client, headers, externalChannelId="c-1", externalUserId="ana"))[0] == row


def test_force_complete_errors(client, headers, course):
    error(_force(client, headers, "nope", "ana"), 404, "not_found")
    error(_force(client, headers, "c-1", "nope"), 404, "not_found")
    error(_force(client, headers, "c-1", "ivo"), 400, "invalid_request")


def test_other_accounts_see_not_found(client, headers, course, auth, db):
    other = auth(factories.make_account(db))
    activity(client, headers, "ana", "c-1", "video")
    error(_get(client, other, externalChannelId="c-1"), 404, "not_found")
    error(_get(client, other, externalUserId="ana"), 404, "not_found")
    assert ok(_get(client, other)) == []
    error(_v2(client, other, channelIdentifier="c-1"), 404, "not_found")
    error(_v2(client, other, userIdentifier="ana"), 404, "not_found")
    key_page = ok(_v2(client, headers, channelIdentifier="c-1"))
    assert key_page["paginationKey"] is None
    error(_force(client, other, "c-1", "ana"), 404, "not_found")
    error(activity(client, other, "ana", "c-1", "video"), 404, "not_found")


def test_the_distribution_counts_each_learner_once_by_the_rows_own_tally(db, account):
    channel = factories.make_channel(db, account)
    required = [factories.make_channel_item(db, channel, kind=k) for k in ("CONTENT", "CONTENT", "EVENT")]
    extra = factories.make_channel_item(db, channel, optional=True)
    top = factories.make_group(db, account)
    leaf = factories.make_group(db, account, parent=factories.make_group(db, account, parent=top))
    factories.assign_channel_group(db, channel, top, recursive=True)
    users = [factories.make_user(db, account) for _ in range(8)]
    for user, group in ((users[0], top), (users[0], leaf), (users[1], leaf), (users[2], leaf)):
        factories.add_to_group(db, user.id, group)
    for user in (users[2], users[3], users[7]):
        factories.enrol_user(db, channel, user)  # users[2] learns twice over
    factories.enrol_user(db, channel, users[4], role="INSTRUCTOR")
    done = {  # users[4] teaches and users[5] left: their completions count for no learner
        users[0]: required,
        users[1]: [required[0], extra],
        users[2]: [extra],
        users[3]: required[:2],
        users[4]: required,
        users[5]: required,
    }
    for user, items in done.items():
        for item in items:
            db.add(ItemProgress(user_id=user.id, item_id=item.id, channel_id=channel.id, completed=True))
    db.add(ItemProgress(user_id=users[3].id, item_id=required[2].id, channel_id=channel.id, completed=False))
    db.flush()

    counted = distribution.of_channel(db, account, channel.id, first=3)

    stmt, order = performance_service.performance_stmt(account, channel=channel, user=None)
    rows = db.execute(stmt.order_by(*order)).all()
    assert counted.learners == len(rows) == 5
    assert counted.required == 3 == {row.required for row in rows}.pop()
    by_completed = Counter(row.completed for row in rows if row.completed)
    assert counted.by_completed == by_completed == {3: 1, 1: 1, 2: 1}
    assert counted.first == [users[0].id, users[1].id, users[2].id]
    shown = performance_service.learner_rows(db, account, channel, counted.first)
    assert [r.external_user_id for r in shown] == [u.external_id for u in users[:3]]
    assert [r.progress for r in shown] == [100, 33, 0]


def test_the_distribution_of_a_channel_without_required_items(db, account):
    channel = factories.make_channel(db, account)
    extra = factories.make_channel_item(db, channel, optional=True)
    learner = factories.make_user(db, account)
    factories.enrol_user(db, channel, learner)
    db.add(ItemProgress(user_id=learner.id, item_id=extra.id, channel_id=channel.id, completed=True))
    db.flush()
    counted = distribution.of_channel(db, account, channel.id, first=3)
    assert (counted.learners, counted.required, counted.first) == (1, 0, [learner.id])
    assert counted.by_completed == {}
