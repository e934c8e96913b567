"""POST /api/v1/uploads/org: what a good upload writes, and that writing it again changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from enabley.models import User
from enabley.uploads import groups_file, users_file
from tests import factories
from tests.uploads.helpers import (
    LONG_AGO_TEXT,
    age_everything,
    counts,
    get_group,
    get_user,
    groups_of,
    make_profile,
    ok,
    profiles_of,
    put_group,
    put_user,
    refused,
    set_hierarchy,
    to_csv,
    upload,
)

GROUP_HEADER = list(groups_file.COLUMNS)
USER_HEADER = list(users_file.COLUMNS)


def org(client, headers):
    """A small organisation: two levels of groups, two users in them with profiles."""
    set_hierarchy(client, headers, ["Region", "Country"])
    make_profile(client, headers, "p-sales")
    make_profile(client, headers, "p-tech")
    groups = to_csv(
        GROUP_HEADER,
        ["br", "Brasil", "latam", "Country", "US"],
        ["latam", "América Latina", "", "Region", ""],
    )
    users = to_csv(
        USER_HEADER,
        [
            "u-1",
            "ana@example.com",
            "Ana",
            "Souza",
            "ana",
            "+55 11",
            "Av. Paulista",
            "true",
            "LEARNER",
            "EU",
            "br",
            "p-sales",
        ],
        [
            "u-2",
            "bo@example.com",
            "Bo",
            "",
            "",
            "",
            "",
            "false",
            "LEARNER;MANAGER",
            "",
            "br;latam",
            "p-sales;p-tech",
        ],
    )
    return groups, users


def test_creates_groups_and_users_and_counts_them(client, headers):
    groups, users = org(client, headers)
    result = ok(upload(client, headers, groups=groups, users=users))
    assert result == {"filesProcessed": 2, **counts(created=(2, 2))}
    ana = get_user(client, headers, "u-1")
    assert (ana["email"], ana["firstName"], ana["lastName"], ana["username"]) == (
        "ana@example.com",
        "Ana",
        "Souza",
        "ana",
    )
    assert (ana["phone"], ana["address"], ana["isActive"], ana["possibleRoles"]) == (
        "+55 11",
        "Av. Paulista",
        True,
        ["LEARNER"],
    )
    assert ana["userSubAccountNames"] == ["EU"]
    bo = get_user(client, headers, "u-2")
    assert (bo["isActive"], bo["possibleRoles"], bo["lastName"], bo["username"]) == (
        False,
        ["LEARNER", "MANAGER"],
        None,
        None,
    )
    assert get_group(client, headers, "br")["parentIdentifier"] == "latam"
    assert get_group(client, headers, "br")["subAccountName"] == "US"
    assert (groups_of(client, headers, "u-1"), groups_of(client, headers, "u-2")) == (["br"], ["br", "latam"])
    assert profiles_of(client, headers, "u-2") == ["p-sales", "p-tech"]


def test_the_same_upload_twice_changes_nothing(client, headers, db, account):
    groups, users = org(client, headers)
    ok(upload(client, headers, groups=groups, users=users))
    age_everything(db, account)
    before = [get_user(client, headers, u) for u in ("u-1", "u-2")]
    assert ok(upload(client, headers, groups=groups, users=users)) == {
        "filesProcessed": 2,
        **counts(unchanged=(2, 2)),
    }
    assert [get_user(client, headers, u) for u in ("u-1", "u-2")] == before
    assert {before[0]["modified"], get_group(client, headers, "br")["modified"]} == {LONG_AGO_TEXT}
    assert groups_of(client, headers, "u-2") == ["br", "latam"]


def test_a_changed_row_is_updated_and_only_it_gets_a_new_modified_date(client, headers, db, account):
    groups, users = org(client, headers)
    ok(upload(client, headers, groups=groups, users=users))
    age_everything(db, account)
    changed = users.replace("Av. Paulista", "Rua Augusta")
    assert ok(upload(client, headers, groups=groups, users=changed)) == {
        "filesProcessed": 2,
        **counts(updated=(0, 1), unchanged=(2, 1)),
    }
    ana, bo = get_user(client, headers, "u-1"), get_user(client, headers, "u-2")
    assert ana["address"] == "Rua Augusta" and ana["modified"] != LONG_AGO_TEXT
    assert bo["modified"] == LONG_AGO_TEXT


def test_a_membership_change_counts_as_an_update_without_moving_modified(client, headers, db, account):
    groups, users = org(client, headers)
    ok(upload(client, headers, groups=groups, users=users))
    age_everything(db, account)
    moved = to_csv(["identifier", "groups"], ["u-1", "latam"])
    assert ok(upload(client, headers, users=moved)) == {"filesProcessed": 1, **counts(updated=(0, 1))}
    assert groups_of(client, headers, "u-1") == ["latam"]
    assert get_user(client, headers, "u-1")["modified"] == LONG_AGO_TEXT


def test_columns_come_in_any_order(client, headers):
    users = to_csv(
        ["lastName", "username", "identifier", "email"], ["Souza", "ana", "u-1", "ana@example.com"]
    )
    groups = to_csv(["type", "name", "identifier"], ["", "Sales", "g-1"])
    ok(upload(client, headers, users=users, groups=groups))
    ana = get_user(client, headers, "u-1")
    assert (ana["lastName"], ana["username"], ana["email"]) == ("Souza", "ana", "ana@example.com")
    assert get_group(client, headers, "g-1")["name"] == "Sales"


def test_an_absent_column_keeps_the_field_and_an_empty_cell_clears_it(client, headers):
    put_user(
        client,
        headers,
        identifier="u-1",
        email="ana@example.com",
        firstName="Ana",
        phone="123",
        username="ana",
    )
    users = to_csv(["identifier", "firstName", "phone"], ["u-1", "Anita", ""])
    assert ok(upload(client, headers, users=users))["updated"] == {"groups": 0, "users": 1}
    ana = get_user(client, headers, "u-1")
    assert (ana["firstName"], ana["phone"]) == ("Anita", None)
    assert (ana["email"], ana["username"]) == ("ana@example.com", "ana")


def test_an_empty_is_active_means_true_on_creation_and_no_change_on_update(client, headers):
    put_user(client, headers, identifier="off", isActive=False)
    users = to_csv(["identifier", "isActive"], ["off", ""], ["new", ""], ["on", "false"])
    ok(upload(client, headers, users=users))
    assert get_user(client, headers, "off")["isActive"] is False
    assert get_user(client, headers, "new")["isActive"] is True
    assert get_user(client, headers, "on")["isActive"] is False


def test_an_empty_possible_roles_keeps_the_roles_and_a_new_user_is_a_learner(client, headers):
    put_user(client, headers, identifier="boss", possibleRoles=["MANAGER"])
    ok(upload(client, headers, users=to_csv(["identifier", "possibleRoles"], ["boss", ""], ["new", ""])))
    assert get_user(client, headers, "boss")["possibleRoles"] == ["MANAGER"]
    assert get_user(client, headers, "new")["possibleRoles"] == ["LEARNER"]


def test_groups_are_applied_parents_first_whatever_their_order(client, headers):
    chain = ["l1", "l2", "l3", "l4", "l5"]
    rows = [[g, g.upper(), chain[i - 1] if i else ""] for i, g in enumerate(chain)]
    result = ok(
        upload(client, headers, groups=to_csv(["identifier", "name", "parentIdentifier"], *reversed(rows)))
    )
    assert result["created"]["groups"] == 5
    assert [get_group(client, headers, g)["parentIdentifier"] for g in chain] == [None, *chain[:-1]]


def test_a_stored_group_can_move_under_a_group_of_the_same_upload(client, headers):
    put_group(client, headers, "team")
    groups = to_csv(
        ["identifier", "name", "parentIdentifier"], ["team", "team", "dept"], ["dept", "Dept", ""]
    )
    assert ok(upload(client, headers, groups=groups))["updated"]["groups"] == 1
    assert get_group(client, headers, "team")["parentIdentifier"] == "dept"


def test_group_fields_follow_create_or_update_group(client, headers):
    put_group(client, headers, "root")
    put_group(client, headers, "g", parentIdentifier="root", subAccountName="EU", type="Team")
    ok(upload(client, headers, groups=to_csv(["identifier", "name"], ["g", "Renamed"])))
    g = get_group(client, headers, "g")
    assert (g["name"], g["parentIdentifier"], g["subAccountName"], g["type"]) == (
        "Renamed",
        "root",
        "EU",
        "Team",
    )
    cleared = to_csv(
        ["identifier", "name", "parentIdentifier", "subAccountName", "type"], ["g", "G", "", "", ""]
    )
    ok(upload(client, headers, groups=cleared))
    g = get_group(client, headers, "g")
    assert (g["parentIdentifier"], g["subAccountName"], g["type"]) == (None, None, None)


def test_group_and_profile_columns_replace_memberships(client, headers):
    groups, users = org(client, headers)
    ok(upload(client, headers, groups=groups, users=users))
    replace = to_csv(["identifier", "groups", "profiles"], ["u-2", "latam", "p-tech"], ["u-1", "", ""])
    ok(upload(client, headers, users=replace))
    assert (groups_of(client, headers, "u-2"), profiles_of(client, headers, "u-2")) == (["latam"], ["p-tech"])
    assert (groups_of(client, headers, "u-1"), profiles_of(client, headers, "u-1")) == ([], [])


def test_without_the_membership_columns_memberships_stay(client, headers):
    groups, users = org(client, headers)
    ok(upload(client, headers, groups=groups, users=users))
    ok(upload(client, headers, users=to_csv(["identifier", "firstName"], ["u-2", "Bob"])))
    assert groups_of(client, headers, "u-2") == ["br", "latam"]
    assert profiles_of(client, headers, "u-2") == ["p-sales", "p-tech"]


def test_list_cells_are_trimmed_and_deduplicated(client, headers):
    put_group(client, headers, "a")
    put_group(client, headers, "b")
    ok(
        upload(
            client,
            headers,
            users=to_csv(["identifier", "groups", "possibleRoles"], ["u", " a ; b;a;", "MANAGER; LEARNER"]),
        )
    )
    assert groups_of(client, headers, "u") == ["a", "b"]
    assert get_user(client, headers, "u")["possibleRoles"] == ["MANAGER", "LEARNER"]


def test_a_sub_account_is_added_as_create_or_update_user_adds_it(client, headers):
    put_user(client, headers, identifier="u", subAccountName="EU")
    ok(upload(client, headers, users=to_csv(["identifier", "subAccountName"], ["u", "US"])))
    assert get_user(client, headers, "u")["userSubAccountNames"] == ["EU", "US"]


def test_usernames_may_swap_within_one_upload(client, headers):
    put_user(client, headers, identifier="a", username="first")
    put_user(client, headers, identifier="b", username="second")
    ok(upload(client, headers, users=to_csv(["identifier", "username"], ["a", "SECOND"], ["b", "first"])))
    assert (get_user(client, headers, "a")["username"], get_user(client, headers, "b")["username"]) == (
        "SECOND",
        "first",
    )


def test_names_in_any_script(client, headers):
    names = ["São Paulo", "東京", "Київ", "القاهرة", "Ελλάδα", "देहली", "Zürich 🏔"]
    groups = to_csv(["identifier", "name"], *[[f"g-{i}", n] for i, n in enumerate(names)])
    users = to_csv(
        ["identifier", "firstName", "lastName"], *[[f"u-{i}", n, n[::-1]] for i, n in enumerate(names)]
    )
    ok(upload(client, headers, groups=groups, users=users))
    assert [get_group(client, headers, f"g-{i}")["name"] for i in range(len(names))] == names
    assert [get_user(client, headers, f"u-{i}")["firstName"] for i in range(len(names))] == names


def test_a_byte_order_mark_and_crlf_line_ends_are_read(client, headers):
    users = '\ufeffidentifier,firstName\r\nu-1,Ana\r\n\r\nu-2,"Bo, ""the"" second"\r\n'
    ok(upload(client, headers, users=users))
    assert get_user(client, headers, "u-2")["firstName"] == 'Bo, "the" second'


def test_an_uploaded_row_is_the_user_a_put_would_make(client, headers):
    make_profile(client, headers, "p")
    fields = {
        "email": "Ana.Souza@Example.COM",
        "firstName": "Ana",
        "lastName": "Souza",
        "username": "Ana.S",
        "phone": "+55 11 5555 0100",
        "address": "Av. Paulista 1000, São Paulo",
        "isActive": False,
        "possibleRoles": ["INSTRUCTOR", "LEARNER", "INSTRUCTOR"],
        "subAccountName": "EU",
    }
    put_user(client, headers, identifier="by-put", **fields)
    cells = {
        **fields,
        "username": "Ana.U",
        "isActive": "false",
        "possibleRoles": "INSTRUCTOR;LEARNER;INSTRUCTOR",
    }
    ok(upload(client, headers, users=to_csv(["identifier", *cells], ["by-upload", *cells.values()])))
    by_put, by_upload = get_user(client, headers, "by-put"), get_user(client, headers, "by-upload")
    for user in (by_put, by_upload):
        for key in ("identifier", "created", "modified", "username"):
            user.pop(key)
    assert by_upload == by_put
    # And both are found by the same case-folded filters.
    r = client.get("/api/v2/users", params={"usernameSubstring": "ana."}, headers=headers)
    assert sorted(u["identifier"] for u in r.json()) == ["by-put", "by-upload"]


def test_another_accounts_groups_and_profiles_are_unknown(client, headers, auth, db):
    other = factories.make_account(db)
    other_headers = auth(other)
    put_group(client, other_headers, "theirs")
    make_profile(client, other_headers, "their-profile")
    put_user(client, other_headers, identifier="u-1", username="ana")
    users = to_csv(["identifier", "groups"], ["u-1", "theirs"])
    assert refused(upload(client, headers, users=users)) == [("users.csv", 2, "groups")]
    users = to_csv(["identifier", "profiles"], ["u-1", "their-profile"])
    assert refused(upload(client, headers, users=users)) == [("users.csv", 2, "profiles")]
    groups = to_csv(["identifier", "name", "parentIdentifier"], ["mine", "Mine", "theirs"])
    assert refused(upload(client, headers, groups=groups)) == [("groups.csv", 2, "parentIdentifier")]
    # Their user of the same identifier and username is neither updated nor in the way.
    ok(upload(client, headers, users=to_csv(["identifier", "username", "firstName"], ["u-1", "ana", "Mine"])))
    assert get_user(client, other_headers, "u-1")["firstName"] is None
    assert get_user(client, headers, "u-1")["firstName"] == "Mine"


def test_a_user_file_alone_may_name_stored_groups(client, headers, db, account):
    put_group(client, headers, "g")
    ok(upload(client, headers, users=to_csv(["identifier", "groups"], ["u", "g"])))
    assert groups_of(client, headers, "u") == ["g"]
    assert db.scalar(select(User.is_active).where(User.account_id == account.id, User.external_id == "u"))


def test_hierarchy_types_are_accepted(client, headers):
    set_hierarchy(client, headers, ["Region", "Country"])
    groups = to_csv(
        ["identifier", "name", "type"], ["r", "R", "Region"], ["c", "C", "Country"], ["x", "X", ""]
    )
    assert ok(upload(client, headers, groups=groups))["created"]["groups"] == 3
    assert get_group(client, headers, "c")["type"] == "Country"
