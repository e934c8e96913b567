"""SCIM filter and PATCH path parsing, validation and evaluation (RFC 7644 §3.4.2.2, §3.5.2)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from enabley.scim.filter import (
    And,
    AttrPath,
    Compare,
    FilterError,
    Not,
    Or,
    PatchPath,
    ValuePath,
    matches,
    parse_datetime,
    parse_filter,
    parse_patch_path,
    validate,
)
from enabley.scim.schema import ENTERPRISE_URN, GROUP_RESOURCE, USER_RESOURCE, USER_SCHEMA_URN

ENTERPRISE = ENTERPRISE_URN.lower()


def attr(name: str, sub: str | None = None, urn: str | None = None) -> AttrPath:
    return AttrPath(urn, name, sub)


def pr(name: str) -> Compare:
    return Compare(attr(name), "pr", None)


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])
def test_every_comparison_operator_in_any_case(op: str) -> None:
    for spelled in (op, op.upper(), op.capitalize()):
        assert parse_filter(f'userName {spelled} "x"') == Compare(attr("username"), op, "x")


def test_present_takes_no_value() -> None:
    assert parse_filter("title PR") == pr("title")


def test_and_binds_tighter_than_or() -> None:
    assert parse_filter("a pr or b pr and c pr") == Or(pr("a"), And(pr("b"), pr("c")))
    assert parse_filter("a pr and b pr or c pr") == Or(And(pr("a"), pr("b")), pr("c"))


def test_parentheses_override_precedence() -> None:
    assert parse_filter("(a pr or b pr) and c pr") == And(Or(pr("a"), pr("b")), pr("c"))


def test_same_operator_groups_from_the_left() -> None:
    assert parse_filter("a pr or b pr or c pr") == Or(Or(pr("a"), pr("b")), pr("c"))
    assert parse_filter("a pr AND b pr And c pr") == And(And(pr("a"), pr("b")), pr("c"))


def test_not_takes_a_parenthesised_filter() -> None:
    assert parse_filter("NOT (a pr or b pr) and c pr") == And(Not(Or(pr("a"), pr("b"))), pr("c"))
    assert parse_filter("not(a pr)") == Not(pr("a"))


def test_values_of_every_json_kind() -> None:
    values = {
        '"text"': "text",
        "true": True,
        "False": False,
        "null": None,
        "42": 42,
        "-7": -7,
        "1.5": 1.5,
        "2e3": 2000.0,
        "-0.5E-1": -0.05,
    }
    for written, value in values.items():
        found = parse_filter(f"x eq {written}")
        assert isinstance(found, Compare)
        assert found.value == value
        assert type(found.value) is type(value)


def test_strings_are_json_strings() -> None:
    found = parse_filter(r'displayName eq "say \"hi\" \\ \u00e9\n" and title pr')
    assert found == And(Compare(attr("displayname"), "eq", 'say "hi" \\ é\n'), pr("title"))
    # Keywords, brackets and parentheses inside a string are text.
    assert parse_filter('title eq "a) or (b [c] and"') == Compare(attr("title"), "eq", "a) or (b [c] and")


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_any_text_survives_json_escaping(text: str) -> None:
    assert parse_filter(f"userName eq {json.dumps(text)}") == Compare(attr("username"), "eq", text)


def test_attribute_names_are_lower_cased_with_sub_attributes() -> None:
    found = parse_filter('name.GivenName eq "Barbara"')
    assert found == Compare(attr("name", "givenname"), "eq", "Barbara")
    assert isinstance(found, Compare)
    assert found.path.dotted == "name.givenname"


def test_urn_prefixed_names() -> None:
    found = parse_filter(f'{ENTERPRISE_URN}:employeeNumber eq "701984"')
    assert found == Compare(attr("employeenumber", urn=ENTERPRISE), "eq", "701984")
    assert isinstance(found, Compare)
    assert found.path.dotted == f"{ENTERPRISE}:employeenumber"
    manager = parse_filter(f'{ENTERPRISE_URN}:manager.value eq "26118915"')
    assert isinstance(manager, Compare)
    assert manager.path == attr("manager", "value", ENTERPRISE)
    assert manager.path.dotted == f"{ENTERPRISE}:manager.value"


def test_a_core_urn_prefix_names_the_bare_attribute() -> None:
    found = parse_filter(f'{USER_SCHEMA_URN}:userName eq "bjensen"')
    assert isinstance(found, Compare)
    assert found.path.urn == USER_SCHEMA_URN.lower()
    assert found.path.dotted == "username"


def test_value_paths() -> None:
    found = parse_filter('emails[type eq "work" and value co "@example.com"] or ims pr')
    inner = And(Compare(attr("type"), "eq", "work"), Compare(attr("value"), "co", "@example.com"))
    assert found == Or(ValuePath(attr("emails"), inner), pr("ims"))
    assert parse_filter('members[value eq "u1"]') == ValuePath(
        attr("members"), Compare(attr("value"), "eq", "u1")
    )
    assert parse_filter("emails[not (type eq null)]") == ValuePath(
        attr("emails"), Not(Compare(attr("type"), "eq", None))
    )


def test_spaces_are_free_between_tokens() -> None:
    assert parse_filter('  ( userName   eq  "x" )  ') == Compare(attr("username"), "eq", "x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the filter is empty"),
        ("   ", "the filter is empty"),
        (
            "userName",
            "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) at position 9, "
            "found the end of the filter",
        ),
        (
            "userName eq",
            "expected a value (a quoted string, a number, true, false or null) at position 12, "
            "found the end of the filter",
        ),
        (
            'userName zz "x"',
            "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) at position 10, found 'zz'",
        ),
        ('userName eq "x" foo', "expected 'and', 'or' or the end of the filter at position 17, found 'foo'"),
        ('userName eq "x" and', "expected an attribute name at position 20, found the end of the filter"),
        ("(a pr", "expected ')' at position 6, found the end of the filter"),
        ("a pr)", "expected 'and', 'or' or the end of the filter at position 5, found ')'"),
        ("a[b pr", "expected ']' at position 7, found the end of the filter"),
        ("a[b pr]]", "expected 'and', 'or' or the end of the filter at position 8, found ']'"),
        ("a[b[c pr]]", "expected an operator (value filters cannot nest) at position 4, found '['"),
        ("not a pr", "expected '(' after 'not' at position 5, found 'a'"),
        ('a eq "open', "unterminated string starting at position 6"),
        ('a eq "\\q"', "invalid string at position 7: Invalid \\escape"),
        (
            "a eq bare",
            "expected a value (a quoted string, a number, true, false or null) at position 6, found 'bare'",
        ),
        (
            "a eq 01",
            "expected a value (a quoted string, a number, true, false or null) at position 6, found '01'",
        ),
        ("1a pr", "expected an attribute name at position 1, found '1a'"),
        ("a.b.c pr", "expected an attribute name at position 1, found 'a.b.c'"),
        ('"a" eq "b"', "expected an attribute name at position 1, found '\"a\"'"),
        ("() ", "expected an attribute name at position 2, found ')'"),
        (
            'emails[type eq "w"].value eq "x"',
            "a sub-attribute after ']' (position 20) is allowed only in a PATCH path",
        ),
    ],
)
def test_errors_name_the_position_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    assert str(caught.value).startswith(message)


def test_nesting_and_size_are_bounded() -> None:
    assert parse_filter("(" * 32 + "a pr" + ")" * 32) == pr("a")
    with pytest.raises(FilterError, match="the filter nests more than 32 levels deep at position 33"):
        parse_filter("(" * 33 + "a pr" + ")" * 33)
    with pytest.raises(FilterError, match="nests more than 32 levels deep at position 161"):
        parse_filter("not (" * 33 + "a pr" + ")" * 33)
    assert parse_filter(" or ".join(["a pr"] * 100)) is not None
    with pytest.raises(FilterError, match="the filter has more than 100 comparisons"):
        parse_filter(" or ".join(["a pr"] * 101))
    with pytest.raises(FilterError, match="more than 100 comparisons"):
        parse_filter(" and ".join(["a pr"] * 5000))
    with pytest.raises(FilterError, match="nests more than 32 levels"):
        parse_filter("(" * 5000 + "a pr" + ")" * 5000)


# --- PATCH paths -------------------------------------------------------------------------------


def test_patch_paths() -> None:
    assert parse_patch_path("name.givenName") == PatchPath(attr("name", "givenname"))
    assert parse_patch_path('members[value eq "u1"]') == PatchPath(
        attr("members"), Compare(attr("value"), "eq", "u1")
    )
    assert parse_patch_path('emails[type eq "work"].value') == PatchPath(
        attr("emails"), Compare(attr("type"), "eq", "work"), "value"
    )
    assert parse_patch_path('addresses[type eq "work"].Formatted') == PatchPath(
        attr("addresses"), Compare(attr("type"), "eq", "work"), "formatted"
    )
    assert parse_patch_path(f"{ENTERPRISE_URN}:manager.value") == PatchPath(
        attr("manager", "value", ENTERPRISE)
    )
    assert parse_patch_path(f"{ENTERPRISE_URN}:manager") == PatchPath(attr("manager", urn=ENTERPRISE))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the path is empty"),
        ("name givenName", "expected '[' or the end of the path at position 6, found 'givenName'"),
        (
            'emails[type eq "work"]value',
            "expected '.' and a sub-attribute, or the end of the path at position 23",
        ),
        (
            'emails[type eq "work"].',
            "expected '.' and a sub-attribute, or the end of the path at position 23",
        ),
        ('emails[type eq "work"', "expected ']' at position 22, found the end of the path"),
        ('name.x[type eq "work"].value', "'name.x' has no sub-attributes to select at position 23"),
        ('emails[type eq "work"].value.x', "expected '.' and a sub-attribute, or the end of the path"),
    ],
)
def test_patch_path_errors(text: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_patch_path(text)
    assert str(caught.value).startswith(message)


# --- validation against the schema ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "x"',
        'USERNAME Eq "x"',
        'id eq "x"',
        'externalId eq "x"',
        'displayName eq "x"',
        'name.givenName sw "B"',
        'name.familyName ew "n"',
        'emails.value co "@"',
        'emails[type eq "work"]',
        "active eq true",
        'active eq "False"',
        "active pr",
        'meta.created gt "2026-01-01T00:00:00Z"',
        'meta.lastModified le "2026-01-01T00:00:00.123+01:00"',
        f'{ENTERPRISE_URN}:department eq "R&D"',
        'department eq "R&D"',
        f'{USER_SCHEMA_URN}:userName eq "x"',
        "name pr",
        "title eq null",
    ],
)
def test_valid_user_filters(text: str) -> None:
    validate(parse_filter(text), USER_RESOURCE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('nickName eq "x"', "unknown attribute 'nickname'"),
        ('name.middleName eq "x"', "unknown attribute 'name.middlename'"),
        ('emails[display eq "x"]', "unknown attribute 'emails.display'"),
        ('urn:example:ext:1.0:User:shoeSize eq "x"', "unknown attribute 'urn:example:ext:1.0:user:shoesize'"),
        ('members.value eq "x"', "unknown attribute 'members.value'"),
        ("active gt true", "'active' is a boolean: only eq, ne and pr apply to it, not gt"),
        ('active co "t"', "'active' is a boolean: only eq, ne and pr apply to it, not co"),
        ('active eq "yes"', "'active' is a boolean: compare it with true or false"),
        ('meta.created gt "yesterday"', "'meta.created' is a dateTime: compare it with an RFC 3339"),
        ('meta.created co "2026"', "'meta.created' is a dateTime: co applies only to strings"),
        ("userName eq 5", "'username' is a string: compare it with a quoted string"),
        ('name eq "x"', "'name' is complex: filter on one of its sub-attributes"),
        ("userName gt null", "null can be compared only with eq or ne, not gt"),
        ('userName[value eq "x"]', "'username' has no sub-attributes to filter on"),
        ('password eq "secret"', "'password' cannot be filtered on"),
        ("password pr", "'password' cannot be filtered on"),
    ],
)
def test_invalid_user_filters(text: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        validate(parse_filter(text), USER_RESOURCE)
    assert str(caught.value).startswith(message)


def test_group_filters() -> None:
    for text in (
        'id eq "g"',
        'externalId eq "e"',
        'displayName eq "Sales"',
        'members.value eq "u1"',
        'members[value eq "u1"]',
    ):
        validate(parse_filter(text), GROUP_RESOURCE)
    with pytest.raises(FilterError, match="unknown attribute 'username'"):
        validate(parse_filter('userName eq "x"'), GROUP_RESOURCE)


# --- evaluation --------------------------------------------------------------------------------

BJENSEN: dict[str, Any] = {
    "schemas": [USER_SCHEMA_URN, ENTERPRISE_URN],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "userName": "bjensen@example.com",
    "name": {"familyName": "Jensen", "givenName": "Barbara"},
    "active": True,
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    "meta": {"created": "2026-01-23T04:56:22Z", "lastModified": "2026-05-13T04:42:34.5+02:00"},
    ENTERPRISE_URN: {"employeeNumber": "701984", "manager": {"value": "26118915"}},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "BJENSEN@example.com"', True),
        ('USERNAME eq "bjensen@example.com"', True),
        ('userName ne "bjensen@example.com"', False),
        ('userName co "JENSEN"', True),
        ('userName sw "bj"', True),
        ('userName ew ".COM"', True),
        ('userName ew "org"', False),
        ('userName gt "a"', True),
        ('userName lt "a"', False),
        ('userName ge "bjensen@example.com"', True),
        ('userName le "bjensen@example.co"', False),
        ('name.givenName eq "barbara"', True),
        ('id eq "2819C223-7F76-453A-919D-413861904646"', False),  # id is caseExact
        ('id eq "2819c223-7f76-453a-919d-413861904646"', True),
        ("active eq true", True),
        ("active eq false", False),
        ("active ne false", True),
        ('active eq "True"', True),
        ("title pr", False),
        ('title ne "x"', True),  # ne on a missing value is true
        ("title eq null", True),
        ("userName eq null", False),
        ("userName ne null", True),
        ('emails.value eq "babs@jensen.org"', True),
        ('emails.type eq "other"', False),
        ('emails[type eq "work" and value co "@example.com"]', True),
        ('emails[type eq "home" and value co "@example.com"]', False),
        ('emails[type eq "home"] and not (emails[type eq "other"])', True),
        ("emails pr", True),
        ("phoneNumbers pr", False),
        ('meta.created gt "2026-01-23T04:56:21.999Z"', True),
        ('meta.created ge "2026-01-23T05:56:22+01:00"', True),
        ('meta.created lt "2026-01-23T04:56:22Z"', False),
        ('meta.lastModified eq "2026-05-13T02:42:34.500Z"', True),
        (f'{ENTERPRISE_URN}:employeeNumber eq "701984"', True),
        ('employeeNumber eq "701984"', True),
        (f'{ENTERPRISE_URN}:manager.value eq "26118915"', True),
        ('userName eq "x" or name.familyName eq "jensen" and active eq true', True),
        ('(userName eq "x" or name.familyName eq "jensen") and active eq false', False),
        ('not (userName eq "x")', True),
    ],
)
def test_matches_with_the_schema(text: str, expected: bool) -> None:
    assert matches(parse_filter(text), BJENSEN, USER_RESOURCE) is expected


def test_matches_without_a_schema_follows_the_json() -> None:
    resource = {"Count": 3, "Flag": False, "Name": "Ada", "tags": ["x", "Y"], "list": [{"value": "v"}]}
    assert matches(parse_filter("count gt 2"), resource)
    assert not matches(parse_filter("count gt 3.5"), resource)
    assert not matches(parse_filter('count eq "3"'), resource)
    assert matches(parse_filter("flag eq false"), resource)
    assert matches(parse_filter('name eq "ADA"'), resource)
    assert matches(parse_filter('tags eq "y"'), resource)
    assert matches(parse_filter('list eq "V"'), resource)
    assert not matches(parse_filter("missing pr"), resource)
    with pytest.raises(FilterError, match="only eq, ne and pr"):
        matches(parse_filter("flag lt true"), resource)


def test_matches_validates_against_the_schema() -> None:
    with pytest.raises(FilterError, match="unknown attribute 'nickname'"):
        matches(parse_filter('nickName eq "x"'), BJENSEN, USER_RESOURCE)


def test_empty_values_are_not_present() -> None:
    resource = {"userName": "x", "title": "", "emails": [], "name": {}}
    for name in ("title", "emails", "name"):
        assert not matches(parse_filter(f"{name} pr"), resource, USER_RESOURCE)


def test_parse_datetime() -> None:
    assert parse_datetime("2026-12-06T12:00:00Z") == parse_datetime("2026-12-06T13:00:00+01:00")
    assert parse_datetime("2026-12-06T12:00:00.1234567z") is not None
    assert parse_datetime("2026-12-06T12:00:00") == parse_datetime("2026-12-06T12:00:00Z")
    for bad in ("2026-12-06", "2026-13-06T12:00:00Z", "yesterday", "2026-12-06T12:00Z"):
        assert parse_datetime(bad) is None


# --- round trip: any filter written out parses back to itself ------------------------------------

NAMES = st.builds(
    lambda dollar, head, tail: dollar + head + tail,
    st.sampled_from(["", "$"]),
    st.sampled_from("abnoxz"),
    st.text("abdnortz019_-", max_size=5),
).filter(lambda name: name != "not")
URNS = st.sampled_from([None, ENTERPRISE, "urn:example:params:scim:ext:1.0:thing"])
PATHS = st.builds(AttrPath, URNS, NAMES, st.one_of(st.none(), NAMES))
VALUES = st.one_of(
    st.text(max_size=8),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
COMPARES = st.one_of(
    st.builds(
        Compare,
        PATHS,
        st.sampled_from(sorted(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])),
        VALUES,
    ),
    st.builds(lambda path: Compare(path, "pr", None), PATHS),
)


def _inner(compare: Compare) -> Compare:
    return Compare(AttrPath(None, compare.path.attr), compare.op, compare.value)


def _trees(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda kids: st.one_of(st.builds(And, kids, kids), st.builds(Or, kids, kids), st.builds(Not, kids)),
        max_leaves=5,
    )


FILTERS = _trees(st.one_of(COMPARES, st.builds(ValuePath, PATHS, _trees(COMPARES.map(_inner)))))


def written(filter: Any) -> str:
    match filter:
        case And(left, right):
            return f"({written(left)}) AND ({written(right)})"
        case Or(left, right):
            return f"({written(left)}) or ({written(right)})"
        case Not(inner):
            return f"not ({written(inner)})"
        case ValuePath(path, inner):
            return f"{_path(path)}[{written(inner)}]"
        case Compare(path, "pr", _):
            return f"{_path(path)} PR"
        case Compare(path, op, value):
            return f"{_path(path)} {op.upper()} {json.dumps(value)}"
    raise AssertionError(filter)


def _path(path: AttrPath) -> str:
    name = path.attr.upper() + (f".{path.sub}" if path.sub else "")
    return f"{path.urn}:{name}" if path.urn else name


@settings(max_examples=60, deadline=None)
@given(FILTERS)
def test_written_filters_parse_back(filter: Any) -> None:
    assert parse_filter(written(filter)) == filter


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "eq", "pr", "and", "or", "not", "(", ")", "[", "]", '"x"', '"', "\\", ".", ":",
                         "urn:x", "1", "-", "true", "emails", "type", "userName", " "]),
        max_size=12,
    ).map(" ".join)
)  # fmt: skip
def test_any_text_parses_or_is_refused_with_a_filter_error(text: str) -> None:
    for parse in (parse_filter, parse_patch_path):
        try:
            parsed = parse(text)
        except FilterError as exc:
            assert str(exc)
        else:
            assert parsed is not None
    try:
        found = parse_filter(text)
        validate(found, USER_RESOURCE)
        matches(found, BJENSEN, USER_RESOURCE)
    except FilterError:
        pass
