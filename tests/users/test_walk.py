"""The user walk's fast path writes its JSON itself: it must answer exactly what the general path,
through ``UserInfo``, answers for the same page."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enabley.deps import Tenant
from enabley.users import service
from enabley.users.schemas import UserQuery

TEXT = st.one_of(st.none(), st.text(max_size=12).filter(lambda s: "\x00" not in s))
ATTRIBUTES = st.one_of(
    st.none(),
    st.dictionaries(
        st.text(min_size=1, max_size=6).filter(lambda s: "\x00" not in s),
        st.one_of(st.integers(-5, 5), st.booleans(), st.text(max_size=6).filter(lambda s: "\x00" not in s)),
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


def _pages(find, session, tenant, paginator, filters):
    """Every page of the walk ``filters`` ask for, as ``find`` answers them."""
    query = UserQuery.model_validate(filters)
    pages = []
    while True:
        walk = paginator.walk(query, account_id=tenant.account_id, endpoint="v3/users")
        page = json.loads(find(session, tenant, walk))
        # A key is encrypted afresh each time: whether there is one is what both must agree on.
        pages.append({**page, "paginationKey": bool(page["paginationKey"])})
        if not page["paginationKey"]:
            return pages
        query = UserQuery.model_validate({**filters, "paginationKey": page["paginationKey"]})


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
    fast = _pages(service.find_users_page, db, tenant, paginator, filters)
    general = _pages(_general, db, tenant, paginator, filters)
    assert fast == general
    for narrowed in ("EU", "US"):
        by_sub = {**filters, "subAccountName": narrowed}
        assert _pages(service.find_users_page, db, tenant, paginator, by_sub) == _pages(
            _general, db, tenant, paginator, by_sub
        )
