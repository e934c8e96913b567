"""The user walk's fast path has the database write its JSON: it must answer, byte for byte, what
the general path, through ``UserInfo``, answers for the same page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, null, select, update

from enabley.auth import service as auth_service
from enabley.db.fastquery import reader_of
from enabley.deps import Tenant
from enabley.models import User
from enabley.users import service
from enabley.users.schemas import UserQuery
from tests import factories

TEXT = st.one_of(st.none(), st.text(max_size=12).filter(lambda s: "\x00" not in s))
ATTRIBUTES = st.one_of(
    st.none(),
    st.dictionaries(
        st.text(min_size=1, max_size=6).filter(lambda s: "\x00" not in s),
        st.one_of(
            st.integers(-5, 5),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.booleans(),
            st.none(),
            st.text(max_size=6).filter(lambda s: "\x00" not in s),
        ),
        max_size=3,
    ),
)
USER = st.fixed_dictionaries(
    {
        "email": st.one_of(
            st.none(), st.from_regex(r"[a-zà-ÿ0-9]{1,6}@[a-z]{1,5}\.(com|org)", fullmatch=True)
        ),
        "firstName": TEXT,
        "lastName": TEXT,
        "phone": TEXT,
        "address": TEXT,
        "isActive": st.booleans(),
        "possibleRoles": st.lists(st.sampled_from(["LEARNER", "INSTRUCTOR", "MANAGER"]), max_size=3),
        "customAttributes": ATTRIBUTES,
        "subAccountName": st.sampled_from([None, "EU", "US"]),
    }
)


def _fast(session, tenant, walk):
    """The plain walk's page, as ``find_users_page`` has ``Tenant.scan`` serve it."""
    return service.walk_page(reader_of(session), tenant, walk)


def _general(session, tenant, walk):
    return service.users_page(session, tenant, walk).model_dump_json()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(users=st.lists(USER, min_size=0, max_size=7))
def test_the_fast_walk_answers_what_userinfo_answers(users, client, headers, context, db, account, page_size):
    page_size(3)
    for i, fields in enumerate(users):
        body = {"identifier": f"walk-{i}", **{k: v for k, v in fields.items() if v is not None}}
        body.setdefault("possibleRoles", fields["possibleRoles"])
        response = client.put("/api/v2/users", json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
    tenant = Tenant(account_id=account.id, client_id=0, client_key="", db=context.db)
    paginator = context.paginator
    filters = {}
    assert service.walks_fast(UserQuery())
    fast = _page_bytes(_fast, db, tenant, paginator, filters)
    general = _page_bytes(_general, db, tenant, paginator, filters)
    assert fast == general
    for narrowed in ("EU", "US"):
        by_sub = {**filters, "subAccountName": narrowed}
        assert _page_bytes(_fast, db, tenant, paginator, by_sub) == _page_bytes(
            _general, db, tenant, paginator, by_sub
        )


TRICKY_SUB_ACCOUNTS = ["EU", "US", "a", "B", 'q"uote', "back\\slash", "émoji 😀", "tab\there", "\u2028line"]
TRICKY_TEXT = [
    'quote " and \\ backslash',
    "control \x01\x08\t\n\x0c\r\x1f\x7f",
    "unicode é ß 中文 \u2028\u2029 😀 \U0010ffff",
    "",
    " ",
    "</script>&<>'",
]
TRICKY_ATTRIBUTES = [
    None,
    {},
    {"float": 1e16, "small": 1e-7, "tenth": 0.1, "one": 1.0, "negative": -2.5e-300, "huge": 1.5e300},
    {"big": 12345678901234567890, "zero": 0, "minus": -7, "flag": False, "nothing": None},
    {"nested": {"list": [1, "two", None, True, [], {}], 'é"\\\n': "\u2028\x01😀"}, "": ""},
    {"z": 1, "a": 2, "m": [3, 2, 1]},
]
TRICKY_TIMES = [
    datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 1_000, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_499, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 0, 0, 123_456, tzinfo=timezone(timedelta(hours=-5))),
]


_KEY = re.compile(rb'"paginationKey":"[^"]+"')


def _page_bytes(find, session, tenant, paginator, filters):
    """Every page's bytes, each key replaced by a mark (a key is encrypted afresh each time)."""
    query = UserQuery.model_validate(filters)
    pages = []
    while True:
        walk = paginator.walk(query, account_id=tenant.account_id, endpoint="v3/users")
        body = find(session, tenant, walk)
        body = body if isinstance(body, bytes) else body.encode()
        key = json.loads(body)["paginationKey"]
        pages.append(_KEY.sub(b'"paginationKey":"KEY"', body))
        if not key:
            return pages
        query = UserQuery.model_validate({**filters, "paginationKey": key})


def test_the_walk_writes_tricky_users_byte_for_byte(client, auth, context, db, page_size):
    """Unicode, quotes, backslashes, control characters, emoji, nulls, empty and long lists,
    several sub-accounts, floats and nesting in the custom attributes, timestamps at the edges
    of their milliseconds and of the calendar: the fast walk's bytes are the general path's."""
    account = factories.make_account(db, sub_accounts=TRICKY_SUB_ACCOUNTS)
    headers = auth(account)
    for i, attributes in enumerate(TRICKY_ATTRIBUTES * 2):
        text = TRICKY_TEXT[i % len(TRICKY_TEXT)]
        body = {
            "identifier": f"tricky-{text}-{i}",
            "firstName": text,
            "lastName": TRICKY_TEXT[(i + 1) % len(TRICKY_TEXT)] if i % 3 else None,
            "address": text * 3,
            "phone": None if i % 2 else "+1 555 0100",
            "username": f"{text}-{i}" if i % 4 else None,
            "email": f"user{i}@example.com" if i % 2 else None,
            "isActive": bool(i % 2),
            "possibleRoles": [["LEARNER"], [], ["LEARNER", "INSTRUCTOR", "MANAGER"], ["MANAGER"]][i % 4],
            "customAttributes": attributes,
        }
        response = client.put("/api/v2/users", json=body, headers=headers)
        assert response.status_code in (200, 201), response.text
        for name in TRICKY_SUB_ACCOUNTS[: i % 5] + TRICKY_SUB_ACCOUNTS[::-1][: i % 3]:
            response = client.put("/api/v2/users", json={**body, "subAccountName": name}, headers=headers)
            assert response.status_code == 200, response.text
    users = db.scalars(select(User).where(User.account_id == account.id).order_by(User.id)).all()
    for i, user in enumerate(users):
        user.created_at = TRICKY_TIMES[i % len(TRICKY_TIMES)]
        user.modified_at = TRICKY_TIMES[(i + 1) % len(TRICKY_TIMES)]
    db.flush()
    # Both ways of storing "no attributes": SQL NULL and JSON null.
    db.execute(update(User).where(User.id == users[0].id).values(custom_attributes=null()))
    db.execute(update(User).where(User.id == users[6].id).values(custom_attributes=JSON.NULL))
    db.expire_all()
    tenant = Tenant(account_id=account.id, client_id=0, client_key="", db=context.db)
    paginator = context.paginator
    for size in (5, 100):
        page_size(size)
        for narrowed in (None, "a", 'q"uote', "émoji 😀"):
            filters = {"subAccountName": narrowed}
            assert service.walks_fast(UserQuery.model_validate(filters))
            fast = _page_bytes(_fast, db, tenant, paginator, filters)
            assert fast == _page_bytes(_general, db, tenant, paginator, filters)
    # And over HTTP: the route answers those bytes.
    page_size(100)
    response = client.get("/api/v3/users", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    filters = {}
    assert [_KEY.sub(b'"paginationKey":"KEY"', response.content)] == _page_bytes(
        _general, db, tenant, paginator, filters
    )


def test_the_walk_checks_the_client_on_every_page(client, db, account, page_size):
    """The walk reads without an ORM session, but still confirms the caller's client each page."""
    page_size(2)
    key, secret = factories.make_client(db, account)
    token = client.post("/api/v1/token", params={"clientKey": key, "secret": secret}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(3):
        factories.make_user(db, account, f"checked-{i}")
    first = client.get("/api/v3/users", headers=headers)
    assert first.status_code == 200, first.text
    next_key = first.json()["paginationKey"]
    assert next_key
    auth_service.revoke_client(db, key)
    db.flush()
    for params in ({}, {"paginationKey": next_key}, {"subAccountName": "EU"}):
        response = client.get("/api/v3/users", params=params, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "access_denied"
