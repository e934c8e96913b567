"""``enabley remote export compliance`` against the real application, in-process."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from enabley.cli import app, remote
from tests import factories
from tests.compliance import world as w

BASE_URL = "http://testserver"
runner = CliRunner()


@pytest.fixture
def cli(db, client, account, headers):
    w.build(db, client, account, headers)
    key, secret = factories.make_client(db, account)
    env = {"ENABLEY_URL": BASE_URL, "ENABLEY_CLIENT_KEY": key, "ENABLEY_SECRET": secret}

    def run(*args: str):
        with remote.send_through(client, sleep=lambda _seconds: None):
            return runner.invoke(app, ["remote", "export", "compliance", *args], env=env)

    return run


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_compliance_as_csv_in_expiration_order(cli, page_size):
    page_size(2)
    result = cli("--certificate", "cert-1", "--status", "ALL")
    assert result.exit_code == 0, result.output
    exported = rows(result.stdout)
    assert [r["userIdentifier"] for r in exported] == ["cid", "bob", "ana", "dee", "fay", "gus"]
    bob = exported[1]
    assert (bob["state"], bob["status"], bob["isRequired"]) == ("ABOUT_TO_EXPIRE", "EXPIRING", "true")
    assert json.loads(bob["groupPaths"]) == [["org", "north"]]
    assert list(exported[0])[:3] == ["userIdentifier", "firstName", "lastName"]


def test_export_compliance_of_a_group_as_json_lines(cli):
    result = cli("--group", "south", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["userIdentifier"], line["state"]) for line in lines] == [
        ("cid", "EXPIRED"),
        ("dee", "IN_PROGRESS"),
    ]


def test_export_compliance_neutralises_formulas(cli, db, account):
    user = db.query(factories.User).filter_by(account_id=account.id, external_id="gus").one()
    user.first_name = "=HYPERLINK(1)"
    db.flush()
    [gus] = [r for r in rows(cli("--status", "NON_COMPLIANT").stdout) if r["userIdentifier"] == "gus"]
    assert gus["firstName"] == "'=HYPERLINK(1)"


def test_compliance_options_apply_to_compliance_only(db, client, account, headers):
    key, secret = factories.make_client(db, account)
    env = {"ENABLEY_URL": BASE_URL, "ENABLEY_CLIENT_KEY": key, "ENABLEY_SECRET": secret}
    with remote.send_through(client, sleep=lambda _seconds: None):
        result = runner.invoke(app, ["remote", "export", "users", "--status", "ALL"], env=env)
    assert result.exit_code == 1
    assert "apply to compliance" in result.stderr
