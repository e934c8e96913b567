"""The organisation bulk upload through the SDK and `enabley remote upload`, against the real app."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from enabley.cli import app, remote
from enabley.client import InvalidRequest

GROUPS = "identifier,name,parentIdentifier,subAccountName\nemea,EMEA,,EU\niberia,Iberia,emea,EU\n"
USERS = "identifier,email,firstName,subAccountName,groups\nana,ana@example.com,Ana,EU,iberia\n"


def test_upload_creates_then_leaves_unchanged(sdk):
    result = sdk.uploads.org([("groups.csv", GROUPS), ("users.csv", USERS)])
    assert result.files_processed == 2
    assert result.created.by_kind() == {"groups": 2, "users": 1}
    assert [g.identifier for g in sdk.groups.of_user("ana")] == ["iberia"]

    again = sdk.uploads.org([("groups.csv", GROUPS), ("users.csv", USERS)])
    assert again.created.by_kind() == {"groups": 0, "users": 0}
    assert again.unchanged.by_kind() == {"groups": 2, "users": 1}


def test_upload_reads_files_from_paths(sdk, tmp_path):
    (tmp_path / "users.csv").write_text(USERS.replace(",EU,iberia", ",EU,"))
    assert sdk.uploads.org([tmp_path / "users.csv"]).created.users == 1
    assert sdk.users.get("ana").first_name == "Ana"


def test_a_refused_upload_lists_each_bad_row(sdk):
    bad = "identifier,email\nbo,not-an-email\nbo,bo@example.com\n"
    with pytest.raises(InvalidRequest) as caught:
        sdk.uploads.org([("users.csv", bad)])
    assert [(e.file, e.line, e.column) for e in caught.value.errors] == [
        ("users.csv", 2, "email"),
        ("users.csv", 3, "identifier"),
    ]
    assert caught.value.more_errors == 0
    assert sdk.users.find() == []


def test_remote_upload_against_the_application(client, credentials, tmp_path):
    (tmp_path / "groups.csv").write_text(GROUPS)
    (tmp_path / "users.csv").write_text("identifier,email\nbo,not-an-email\n")
    env = {
        "ENABLEY_URL": "http://testserver",
        "ENABLEY_CLIENT_KEY": credentials[0],
        "ENABLEY_SECRET": credentials[1],
    }
    with remote.send_through(client):
        refused = CliRunner().invoke(
            app, ["remote", "upload", *(str(tmp_path / f) for f in ("groups.csv", "users.csv"))], env=env
        )
        (tmp_path / "users.csv").write_text(USERS)
        done = CliRunner().invoke(
            app, ["remote", "upload", str(tmp_path / "groups.csv"), str(tmp_path / "users.csv")], env=env
        )
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[0].startswith("users.csv: line 2, email: ")
    assert refused.stderr.splitlines()[-1].startswith("error: upload refused: 1 bad row")
    assert done.exit_code == 0, done.output
    assert "Files processed: 2" in done.stdout
    assert ["│", "groups", "│", "2", "│", "0", "│", "0", "│"] in [
        line.split() for line in done.stdout.splitlines()
    ]
