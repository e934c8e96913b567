"""SCIM filters compiled to SQL: the rows selected are the resources `matches` selects, on SQLite
and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    exists,
    select,
)
from sqlalchemy import Column as SqlColumn

from enabley.db.columns import UtcDateTime
from enabley.scim.filter import Compare, FilterError, matches, parse_filter
from enabley.scim.schema import ENTERPRISE_URN, USER_RESOURCE
from enabley.scim.sql import Column, Mapping, compile_filter, sort_key
from tests.conftest import ScratchDatabases

METADATA = MetaData()
PEOPLE = Table(
    "scim_people",
    METADATA,
    SqlColumn("id", Integer, primary_key=True),
    SqlColumn("identifier", String(64)),
    SqlColumn("username", String(64)),
    SqlColumn("username_key", String(64)),
    SqlColumn("external_id", String(64)),
    SqlColumn("given", String(64)),
    SqlColumn("active", Boolean),
    SqlColumn("created", UtcDateTime),
    SqlColumn("score", Integer),
    SqlColumn("email", String(64)),
    SqlColumn("email_type", String(16)),
    SqlColumn("department", String(64)),
)
MEMBERSHIPS = Table(
    "scim_memberships",
    METADATA,
    SqlColumn("person_id", ForeignKey("scim_people.id"), primary_key=True),
    SqlColumn("group_id", String(64), primary_key=True),
)


def _member_of(compare: Compare) -> ColumnElement[bool]:
    if compare.op != "eq":
        raise FilterError(f"'groups.value' supports only eq, not {compare.op}")
    return exists(
        select(MEMBERSHIPS.c.person_id).where(
            MEMBERSHIPS.c.person_id == PEOPLE.c.id, MEMBERSHIPS.c.group_id == compare.value
        )
    )


MAPPING: Mapping = {
    "id": Column(PEOPLE.c.identifier, "string", case_exact=True),
    "username": Column(PEOPLE.c.username_key, "string", folded=True),
    "externalid": Column(PEOPLE.c.external_id, "string", case_exact=True),
    "name.givenname": Column(PEOPLE.c.given, "string"),
    "active": Column(PEOPLE.c.active, "boolean"),
    "meta.created": Column(PEOPLE.c.created, "dateTime"),
    "emails.value": Column(PEOPLE.c.email, "string"),
    "emails.type": Column(PEOPLE.c.email_type, "string"),
    "groups.value": _member_of,
    f"{ENTERPRISE_URN.lower()}:department": Column(PEOPLE.c.department, "string"),
}

ROWS: list[dict[str, Any]] = [
    {"identifier": "u1", "username": "Alice@Example.com", "external_id": "ext-A", "given": "Alice",
     "active": True, "created": datetime(2026, 1, 1, tzinfo=UTC), "score": 10,
     "email": "alice@example.com", "email_type": "work", "department": "R&D"},
    {"identifier": "u2", "username": "bob", "external_id": "EXT-b", "given": None, "active": False,
     "created": datetime(2026, 6, 1, 12, tzinfo=UTC), "score": 20, "email": "bob@home.org",
     "email_type": "home", "department": None},
    {"identifier": "u3", "username": "carol_100%", "external_id": None, "given": "", "active": True,
     "created": datetime(2026, 12, 6, 0, 0, 0, 500000, tzinfo=UTC), "score": None, "email": None,
     "email_type": None, "department": "Sales"},
    {"identifier": "u4", "username": "Dave\\Back", "external_id": "ext-a", "given": "dave", "active": None,
     "created": None, "score": 5, "email": "d_a_v_e@x.org", "email_type": "work", "department": "r&d"},
    {"identifier": "u5", "username": "ÉCLAIR", "external_id": "Ext-Ä", "given": "Éclair", "active": False,
     "created": datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), "score": 0, "email": "e/c@x.org",
     "email_type": "home", "department": None},
]  # fmt: skip
GROUPS = {"u1": ["g1", "g2"], "u4": ["g2"]}


def resource(row: dict[str, Any]) -> dict[str, Any]:
    """The row as the SCIM resource it stands for."""
    created = row["created"]
    out: dict[str, Any] = {
        "id": row["identifier"],
        "userName": row["username"],
        "externalId": row["external_id"],
        "name": {"givenName": row["given"]},
        "active": row["active"],
        "meta": {"created": created.isoformat() if created else None},
        "emails": [{"value": row["email"], "type": row["email_type"]}] if row["email"] else [],
        "groups": [{"value": g} for g in GROUPS.get(row["identifier"], [])],
    }
    if row["department"] is not None:
        out[ENTERPRISE_URN] = {"department": row["department"]}
    return out


@pytest.fixture(scope="module")
def people(scratch: ScratchDatabases) -> Iterator[Engine]:
    engine = create_engine(scratch.new())
    METADATA.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            PEOPLE.insert(),
            [{"id": i, "username_key": row["username"].casefold(), **row} for i, row in enumerate(ROWS, 1)],
        )
        conn.execute(
            MEMBERSHIPS.insert(),
            [
                {"person_id": i, "group_id": g}
                for i, row in enumerate(ROWS, 1)
                for g in GROUPS.get(row["identifier"], [])
            ],
        )
    yield engine
    engine.dispose()


def selected(engine: Engine, text: str, mapping: Mapping = MAPPING) -> list[str]:
    condition = compile_filter(parse_filter(text), mapping)
    with engine.connect() as conn:
        return list(conn.scalars(select(PEOPLE.c.identifier).where(condition).order_by(PEOPLE.c.id)))


def expected(text: str) -> list[str]:
    return [row["identifier"] for row in ROWS if matches(parse_filter(text), resource(row), USER_RESOURCE)]


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ('userName eq "alice@example.com"', ["u1"]),
        ('USERNAME EQ "ALICE@EXAMPLE.COM"', ["u1"]),
        ('userName eq "éclair"', ["u5"]),
        ('userName ne "bob"', ["u1", "u3", "u4", "u5"]),
        ('userName co "_1"', ["u3"]),
        ('userName co "%"', ["u3"]),
        ('userName co "\\\\"', ["u4"]),
        ('userName sw "DAVE\\\\"', ["u4"]),
        ('userName ew "COM"', ["u1"]),
        ('userName gt "c"', ["u3", "u4", "u5"]),
        ('userName le "bob"', ["u1", "u2"]),
        ('externalId eq "ext-a"', ["u4"]),
        ('externalId co "A"', ["u1"]),
        ('externalId sw "EXT"', ["u2"]),
        ('externalId ew "b"', ["u2"]),
        ('externalId ew "xext-a"', []),
        ('externalId co ""', ["u1", "u2", "u4", "u5"]),
        ('externalId ne "ext-a"', ["u1", "u2", "u3", "u5"]),
        ("externalId pr", ["u1", "u2", "u4", "u5"]),
        ("externalId eq null", ["u3"]),
        ("name.givenName pr", ["u1", "u4", "u5"]),
        ('name.givenName eq "DAVE"', ["u4"]),
        ('name.givenName co "_"', []),
        ("active eq true", ["u1", "u3"]),
        ("active eq false", ["u2", "u5"]),
        ('active eq "False"', ["u2", "u5"]),
        ("active ne true", ["u2", "u4", "u5"]),
        ("active pr", ["u1", "u2", "u3", "u5"]),
        ('meta.created gt "2026-06-01T12:00:00Z"', ["u3"]),
        ('meta.created ge "2026-06-01T14:00:00+02:00"', ["u2", "u3"]),
        ('meta.created lt "2026-01-01T00:00:00Z"', ["u5"]),
        ('meta.created eq "2026-12-06T00:00:00.5Z"', ["u3"]),
        ('meta.created ne "2026-01-01T00:00:00Z"', ["u2", "u3", "u4", "u5"]),
        ('emails.value ew ".org"', ["u2", "u4", "u5"]),
        ('emails.value co "/"', ["u5"]),
        ('emails co "_a_"', ["u4"]),
        ('emails[type eq "work"]', ["u1", "u4"]),
        ('emails[type eq "work" and value co "x.org"]', ["u4"]),
        ('groups.value eq "g2"', ["u1", "u4"]),
        ('groups[value eq "g1"]', ["u1"]),
        (f'{ENTERPRISE_URN}:department eq "r&d"', ["u1", "u4"]),
        ('department eq "sales"', ["u3"]),
        ('not (userName eq "bob")', ["u1", "u3", "u4", "u5"]),
        ("not (externalId pr)", ["u3"]),
        ('not (name.givenName eq "dave")', ["u1", "u2", "u3", "u5"]),
        ('userName eq "bob" or active eq true and externalId pr', ["u1", "u2"]),
        ('(userName eq "bob" or active eq true) and externalId pr', ["u1", "u2"]),
        ('(userName eq "bob" or active eq true) and not (externalId pr)', ["u3"]),
    ],
)
def test_filters_select_the_matching_rows(people: Engine, text: str, ids: list[str]) -> None:
    assert expected(text) == ids
    assert selected(people, text) == ids


def test_integer_columns(people: Engine) -> None:
    mapping: Mapping = {"score": Column(PEOPLE.c.score, "integer")}
    assert selected(people, "score gt 5", mapping) == ["u1", "u2"]
    assert selected(people, "score le 5", mapping) == ["u4", "u5"]
    assert selected(people, "score ne 10", mapping) == ["u2", "u3", "u4", "u5"]
    assert selected(people, "score pr", mapping) == ["u1", "u2", "u4", "u5"]
    with pytest.raises(FilterError, match="'score' is an integer: co applies only to strings"):
        compile_filter(parse_filter('score co "1"'), mapping)


ATOMS = [
    'userName eq "alice@example.com"', 'userName sw "B"', 'userName co "%"', 'userName ew "back"',
    'userName gt "c"', 'externalId eq "ext-a"', 'externalId co "A"', "externalId pr", "externalId eq null",
    "name.givenName pr", 'name.givenName ne "alice"', "active eq true", "active ne false",
    'meta.created gt "2026-03-01T00:00:00Z"', 'meta.created le "2026-06-01T14:00:00+02:00"',
    'emails.value ew ".org"', 'emails[type eq "work"]', 'groups.value eq "g2"', 'department eq "R&D"',
]  # fmt: skip
FILTERS = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) and ({pair[1]})"),
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]}) or ({pair[1]})"),
        inner.map(lambda one: f"not ({one})"),
    ),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(FILTERS)
def test_sql_agrees_with_evaluation(people: Engine, text: str) -> None:
    assert selected(people, text) == expected(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('title eq "x"', "attribute 'title' cannot be filtered on"),
        ('name.familyName eq "x"', "attribute 'name.familyname' cannot be filtered on"),
        ("active gt true", "'active' is a boolean: only eq, ne and pr apply to it, not gt"),
        ('active co "t"', "'active' is a boolean: only eq, ne and pr apply to it, not co"),
        ('active eq "yes"', "'active' is a boolean: compare it with true or false"),
        (
            'meta.created gt "last week"',
            "'meta.created' is a dateTime: compare it with an RFC 3339 date-time",
        ),
        ('meta.created sw "2026"', "'meta.created' is a dateTime: sw applies only to strings"),
        ("userName eq 1", "'username' is a string: compare it with a quoted string"),
        ("userName lt null", "null can be compared only with eq or ne, not lt"),
        ('groups.value ne "g1"', "'groups.value' supports only eq, not ne"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(parse_filter(text), MAPPING)
    assert str(caught.value).startswith(message)


def test_case_insensitive_equality_compares_lower_cased() -> None:
    mapping: Mapping = {"name.givenname": Column(PEOPLE.c.given, "string")}
    compiled = compile_filter(parse_filter('name.givenName eq "Alice"'), mapping)
    sql = str(compiled.compile(compile_kwargs={"literal_binds": True}))
    assert "lower(scim_people.given) = 'alice'" in sql


def test_an_unknown_column_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown SCIM column type 'text'"):
        Column(PEOPLE.c.given, "text")


def ordered(engine: Engine, sort_by: str) -> list[str]:
    with engine.connect() as conn:
        query = select(PEOPLE.c.identifier).order_by(sort_key(sort_by, MAPPING).nulls_last(), PEOPLE.c.id)
        return list(conn.scalars(query))


def test_sort_keys(people: Engine) -> None:
    assert ordered(people, "userName") == ["u1", "u2", "u3", "u4", "u5"]
    assert ordered(people, "NAME.GIVENNAME") == ["u3", "u1", "u4", "u5", "u2"]
    assert ordered(people, "meta.created") == ["u5", "u1", "u2", "u3", "u4"]
    assert ordered(people, f"{ENTERPRISE_URN}:department") == ["u1", "u4", "u3", "u2", "u5"]


@pytest.mark.parametrize(
    ("sort_by", "message"),
    [
        ("title", "sortBy: attribute 'title' cannot be sorted on"),
        ("groups.value", "sortBy: attribute 'groups.value' cannot be sorted on"),
        ('emails[type eq "work"]', "sortBy: attribute 'emails[type eq \"work\"]' cannot be sorted on"),
        ("user name", "sortBy: expected '[' or the end of the path at position 6, found 'name'"),
    ],
)
def test_sort_key_errors(sort_by: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        sort_key(sort_by, MAPPING)
    assert str(caught.value) == message
