"""The upload's pure rules, and the email shortcut that keeps 100,000 addresses cheap to check."""

from __future__ import annotations

import random

import pytest
from email_validator import EmailNotValidError, validate_email
from pydantic import ValidationError

from enabley.uploads import rules
from enabley.uploads.problems import Problems
from enabley.users.schemas import UserData


def library_accepts(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def schema_accepts(address: str) -> bool:
    try:
        UserData(identifier="u", email=address)
    except ValidationError:
        return False
    return True


TRICKY = [
    "ana@example.com",
    "Ana.Souza+tag@Example.COM",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@example",
    "a@localhost",
    "a@x.test",
    "a@b.invalid",
    "a@-example.com",
    "a@example-.com",
    "a@ex_ample.com",
    "a@1.2.3.4",
    "a@[1.2.3.4]",
    "a@example.com.",
    "a@xn--bcher-kva.example",
    "a@XN--BCHER-KVA.example",
    "a@münchen.de",
    "ü@example.com",
    '"a b"@example.com',
    "Ana <a@example.com>",
    "a@b@example.com",
    "a@example.123",
    "a" * 64 + "@example.com",
    "a" * 240 + "@example.com",
    "a" * 242 + "@example.com",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
    "a@" + ".".join(["abcdefghi"] * 25) + ".com",
    "!#$%&'*+-/=?^_`{|}~@example.com",
    "a(b)@example.com",
]


@pytest.mark.parametrize("address", TRICKY)
def test_the_email_shortcut_agrees_with_the_library(address):
    assert schema_accepts(address) == library_accepts(address)


def test_the_email_shortcut_agrees_with_the_library_on_random_addresses():
    rnd = random.Random(20261127)
    alphabet = "ab.-_+@\"'<> \u00e9\u4e2dxn-[]1"
    domains = [
        "example.com",
        "EXAMPLE.org",
        "a.b",
        "localhost",
        "x.test",
        "xn--bcher-kva.example",
        "a..com",
        "com",
    ]
    for _ in range(3000):
        local = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        address = f"{local}@{rnd.choice(domains)}" if rnd.random() < 0.7 else local
        if not address.strip():
            continue  # a blank address is no address (null), not an invalid one
        assert schema_accepts(address) == library_accepts(address), address


def test_problems_keep_the_first_by_file_and_line_and_count_the_rest():
    problems = Problems(["users.csv", "groups.csv"], cap=3)
    for line in range(100, 1, -1):
        problems.add("groups.csv", line, "name", "bad")
    problems.add("users.csv", 7, "email", "bad")
    problems.add("users.csv", 7, "username", "bad")
    listed = problems.listed()
    assert [(p.file, p.line, p.column) for p in listed] == [
        ("users.csv", 7, "email"),
        ("users.csv", 7, "username"),
        ("groups.csv", 2, "name"),
    ]
    assert (problems.total, problems.bad_rows) == (101, 100)
    assert problems.summary().startswith(
        "100 bad rows (101 problems); nothing was written. users.csv, line 7, email"
    )


def test_split_list():
    assert rules.split_list(" a ; b;;a; ") == ["a", "b"]
    assert rules.split_list("") == []


def test_cycles_are_found_with_their_path():
    parents = {"a": "b", "b": "c", "c": "a", "d": "a", "e": None, "f": "x"}
    found = rules.cycles(parents, {"x": "y", "y": None})
    assert found == {"a": ["a", "b", "c", "a"], "b": ["b", "c", "a", "b"], "c": ["c", "a", "b", "c"]}


def test_a_cycle_through_stored_groups_names_only_uploaded_ones():
    # Stored: root <- mid <- leaf; the upload hangs root under leaf.
    found = rules.cycles({"root": "leaf"}, {"leaf": "mid", "mid": "root"})
    assert found == {"root": ["root", "leaf", "mid", "root"]}


def test_creation_levels_put_parents_first():
    new = {"e": "d", "d": "c", "c": "b", "b": "a", "a": None, "x": "stored", "y": "x"}
    levels = rules.creation_levels(new)
    assert [sorted(level) for level in levels] == [["a", "x"], ["b", "y"], ["c"], ["d"], ["e"]]
    assert rules.creation_levels({}) == []
