"""The shortcut for plain users.csv rows stores what ``UserData`` would, or leaves the row to it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from enabley.uploads import user_rows
from enabley.uploads.users_file import COLUMNS
from enabley.users import rules as user_rules
from enabley.users.schemas import UserData

CELLS = {
    "identifier": ["u-1", "", " ", "i" * 255, "i" * 256, "Ünï", "a,b"],
    "email": [
        "",
        " ",
        "ana@example.com",
        " ana@example.com ",
        "Ana.Souza+tag@Example.COM",
        "not-an-email",
        "a..b@example.com",
        "ü@example.com",
        "a@xn--mnchen-3ya.de",
        "a" * 310 + "@example.com",
    ],
    "firstName": ["", " ", "Ana", "美咲", "x" * 255, "x" * 256],
    "lastName": ["", "Souza", " Souza ", "y" * 256],
    "username": ["", "  ", "ana", " Ana ", "u" * 255, "u" * 256],
    "phone": ["", "+55 11 5555 0100", "9" * 256],
    "address": ["", "Rua 1, São Paulo", "a" * 2000, "a" * 2001],
    "isActive": ["", "true", "false", "True", "FALSE", "1", "0", "yes", "maybe", " true"],
    "possibleRoles": [
        "",
        " ",
        "LEARNER",
        "LEARNER;MANAGER",
        "MANAGER; LEARNER ;MANAGER",
        "learner",
        "KING",
        ";".join(["LEARNER"] * 25),
        ";".join(["LEARNER", "MANAGER", "INSTRUCTOR", "EDITOR", "PREVIEW", "SITE_ADMIN"] * 4),
    ],
    "subAccountName": ["", "EU", "z" * 256],
    "groups": ["", "g"],
    "profiles": ["", "p"],
}


def reader(columns: list[str]) -> user_rows.RowReader:
    return user_rows.RowReader({column: i for i, column in enumerate(columns)})


def by_user_data(columns: list[str], cells: list[str]) -> user_rows.Row | None:
    """What the row gives through ``UserData``; None when it is refused."""
    try:
        data = UserData.model_validate(reader(columns).body(cells))
    except ValidationError:
        return None
    return data.identifier, user_rules.user_values(data, creating=False), data.sub_account_name


@st.composite
def rows(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    optional = [c for c in COLUMNS if c != "identifier"]
    columns = ["identifier", *draw(st.lists(st.sampled_from(optional), unique=True))]
    columns = draw(st.permutations(columns))
    cells = [draw(st.sampled_from(CELLS[c]) | st.text(max_size=6)) for c in columns]
    return columns, cells


@settings(max_examples=1500, deadline=None)
@given(rows())
def test_a_row_the_shortcut_takes_is_stored_as_user_data_stores_it(row: tuple[list[str], list[str]]) -> None:
    columns, cells = row
    fast = reader(columns).fast(cells)
    if fast is not None:
        assert fast == by_user_data(columns, cells)


def test_plain_rows_take_the_shortcut() -> None:
    columns = list(COLUMNS)
    cells = {
        "identifier": "u-1",
        "email": "ana.souza@example.com",
        "firstName": "Ana",
        "lastName": "山田",
        "username": "ana.souza",
        "phone": "+55 11 5555 0100",
        "address": "Rua 1, São Paulo",
        "isActive": "false",
        "possibleRoles": "LEARNER;MANAGER",
        "subAccountName": "EU",
        "groups": "g;h",
        "profiles": "p",
    }
    row = [cells[c] for c in columns]
    fast = reader(columns).fast(row)
    assert fast is not None
    assert fast == by_user_data(columns, row)
    assert fast[1]["possible_roles"] == ["LEARNER", "MANAGER"] and fast[1]["is_active"] is False


def test_rows_it_is_unsure_of_are_left_to_user_data() -> None:
    fast = reader(["identifier", "email", "isActive", "possibleRoles"]).fast
    assert fast(["u", "ana@example.com", "true", "LEARNER"]) is not None
    for unsure in (
        ["", "", "", ""],
        ["u", "not-an-email", "", ""],
        ["u", "", "yes", ""],
        ["u", "", "", "LEARNER;KING"],
    ):
        assert fast(unsure) is None
