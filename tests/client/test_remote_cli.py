"""``enabley remote ...`` in-process, against the real application (and a scripted server where the
application cannot be made to fail that way)."""

from __future__ import annotations

import csv
import io
import json

import httpx2
import pytest
from rich.console import Console
from typer.testing import CliRunner

from enabley.cli import app, remote
from enabley.client import ChannelData, UserData
from tests.client.conftest import BASE_URL
from tests.client.mock import Script, error, fail_with, ok

runner = CliRunner()


@pytest.fixture
def env(credentials) -> dict[str, str]:
    key, secret = credentials
    return {"ENABLEY_URL": BASE_URL, "ENABLEY_CLIENT_KEY": key, "ENABLEY_SECRET": secret}


@pytest.fixture
def cli(client, env):
    """``cli(*args)``: run ``enabley remote *args`` through the test's TestClient."""

    def run(*args: str, environment: dict[str, str] | None = None, http: httpx2.Client | None = None):
        with remote.send_through(http or client, sleep=lambda _seconds: None):
            return runner.invoke(app, ["remote", *args], env=environment if environment is not None else env)

    return run


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_users_streams_every_page_as_csv(cli, sdk, page_size):
    page_size(3)
    for i in range(7):
        sdk.users.upsert(
            UserData(identifier=f"u{i}", email=f"u{i}@example.com", possible_roles=["LEARNER", "EDITOR"],
                     custom_attributes={"team": "blue"}, sub_account_name="EU" if i % 2 else None)
        )  # fmt: skip
    result = cli("export", "users")
    assert result.exit_code == 0, result.output
    exported = rows(result.stdout)
    assert sorted(r["identifier"] for r in exported) == [f"u{i}" for i in range(7)]
    assert list(exported[0]) == [
        "address", "created", "customAttributes", "email", "firstName", "identifier", "isActive",
        "lastName", "modified", "phone", "possibleRoles", "userSubAccountNames", "username",
    ]  # fmt: skip
    first = next(r for r in exported if r["identifier"] == "u1")
    assert first["possibleRoles"] == "LEARNER;EDITOR"
    assert json.loads(first["customAttributes"]) == {"team": "blue"}
    assert (first["isActive"], first["userSubAccountNames"], first["phone"]) == ("true", "EU", "")
    assert first["created"].endswith("Z")

    europe = cli("export", "users", "--sub-account", "EU")
    assert sorted(r["identifier"] for r in rows(europe.stdout)) == ["u1", "u3", "u5"]


def test_export_as_json_lines_to_a_file(cli, sdk, page_size, tmp_path):
    page_size(2)
    for i in range(5):
        sdk.channels.upsert(ChannelData(identifier=f"c{i}", name=f"Course {i}"))
    target = tmp_path / "channels.jsonl"
    result = cli("export", "channels", "--format", "jsonl", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"exported 5 channels to {target}" in result.stderr
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert sorted(line["identifier"] for line in lines) == [f"c{i}" for i in range(5)]
    assert lines[0]["availability"]["status"] == "DRAFT"


def test_export_groups_certificates_and_performance(cli, sdk, page_size):
    page_size(2)
    sdk.groups.upsert({"identifier": "emea", "name": "EMEA"})
    sdk.groups.upsert({"identifier": "pt", "name": "Portugal", "parentIdentifier": "emea"})
    groups = rows(cli("export", "groups").stdout)
    assert {(g["identifier"], g["parentIdentifier"]) for g in groups} == {("emea", ""), ("pt", "emea")}

    for c in ("c1", "c2"):
        sdk.channels.upsert(ChannelData(identifier=c, name=c))
        sdk.admin.content_items.upsert(c, {"identifier": "v", "name": "Video"})
    for u in ("ana", "bo", "cy"):
        sdk.users.upsert(UserData(identifier=u))
        sdk.channels.assign_user("c1", u)
    sdk.channels.assign_user("c2", "ana")
    sdk.channels.force_complete("c2", "ana")
    sdk.admin.certificates.upsert(
        {"externalCertificateId": "cert", "name": "Cert", "courseIds": ["c1", "c2"]}
    )

    everything = rows(cli("export", "performance").stdout)
    assert sorted((r["externalChannelId"], r["externalUserId"], r["progress"]) for r in everything) == [
        ("c1", "ana", "0"), ("c1", "bo", "0"), ("c1", "cy", "0"), ("c2", "ana", "100"),
    ]  # fmt: skip
    of_ana = rows(cli("export", "performance", "--user", "ana").stdout)
    assert sorted(r["externalChannelId"] for r in of_ana) == ["c1", "c2"]
    one = rows(cli("export", "performance", "--channel", "c2", "--user", "ana").stdout)
    assert [(r["externalUserId"], r["completionDate"] != "") for r in one] == [("ana", True)]

    [cert] = rows(cli("export", "certificates").stdout)
    assert (cert["externalCertificateId"], cert["courseIds"], cert["expiration"]) == ("cert", "c1;c2", "")


FORMULAS = {
    "firstName": '=HYPERLINK("http://evil.example","open")',
    "lastName": "@SUM(1+1)*cmd|' /C calc'!A0",
    "phone": "+55 11 5555 0100",
    "address": "-2+3",
    "username": "\t=1+1",
    "customAttributes": {"note": "\r=1"},
}


def test_export_neutralises_formulas_in_csv_unless_raw(cli, sdk, tmp_path):
    # A spreadsheet runs a cell starting with =, +, -, @, tab or CR as a formula (CSV injection).
    sdk.users.upsert(UserData(identifier="=evil", **FORMULAS))
    sdk.users.upsert(UserData(identifier="plain", firstName="Ana", lastName="O'Neil", phone="555 0100"))
    result = cli("export", "users")
    assert result.exit_code == 0, result.output
    exported = {r["identifier"]: r for r in rows(result.stdout)}
    evil = exported["'=evil"]
    for column, value in FORMULAS.items():
        if column != "customAttributes":
            assert evil[column] == "'" + value, column
    assert json.loads(evil["customAttributes"]) == {"note": "\r=1"}  # starts with "{": no formula
    plain = exported["plain"]
    assert (plain["firstName"], plain["lastName"], plain["phone"]) == ("Ana", "O'Neil", "555 0100")
    assert plain["created"][0].isdigit() and plain["isActive"] == "true"

    raw = {r["identifier"]: r for r in rows(cli("export", "users", "--raw").stdout)}
    assert {column: raw["=evil"][column] for column in FORMULAS if column != "customAttributes"} == {
        column: value for column, value in FORMULAS.items() if column != "customAttributes"
    }
    target = tmp_path / "users.jsonl"
    assert cli("export", "users", "--format", "jsonl", "-o", str(target)).exit_code == 0
    lines = {line["identifier"]: line for line in map(json.loads, target.read_text().splitlines())}
    assert lines["=evil"]["firstName"] == FORMULAS["firstName"]  # JSON lines stay as stored


def test_export_refuses_options_that_do_not_apply(cli):
    assert "apply to performance" in one_line_error(cli("export", "users", "--channel", "c1"))
    assert "--sub-account applies" in one_line_error(cli("export", "certificates", "--sub-account", "EU"))


def test_export_shows_progress_on_a_terminal(cli, sdk, page_size, monkeypatch):
    page_size(1)
    for i in range(3):
        sdk.users.upsert(UserData(identifier=f"p{i}"))
    drawn = io.StringIO()
    monkeypatch.setattr(remote, "stderr", lambda: Console(file=drawn, force_terminal=True, width=100))
    result = cli("export", "users")
    assert result.exit_code == 0, result.output
    assert "users: 3" in drawn.getvalue() and "3/3" in drawn.getvalue()
    assert result.stdout.count("\n") == 4


def test_call_prints_json_and_sends_data_and_query(cli, sdk):
    put = cli("call", "PUT", "/api/v2/users", "--data", '{"identifier": "ana", "email": "ana@example.com"}')
    assert put.exit_code == 0, put.output
    assert json.loads(put.stdout)["email"] == "ana@example.com"
    sdk.channels.upsert(ChannelData(identifier="c1", name="Course"))
    assign = cli(
        "call", "post", "/api/v2/channels/c1/users/ana", "-q", "roles=LEARNER", "-q", "roles=INSTRUCTOR"
    )
    assert assign.exit_code == 0, assign.output
    found = cli("call", "GET", "/api/v2/users", "--query", "emailSubstring=ana@")
    assert [u["identifier"] for u in json.loads(found.stdout)] == ["ana"]


def test_call_reads_data_from_a_file(cli, tmp_path):
    body = tmp_path / "user.json"
    body.write_text('{"identifier": "bo"}')
    result = cli("call", "PUT", "/api/v2/users", "--data", f"@{body}")
    assert result.exit_code == 0 and json.loads(result.stdout)["identifier"] == "bo"


def test_call_shows_the_error_body_and_exits_non_zero(cli):
    result = cli("call", "GET", "/api/v2/users/nobody")
    assert json.loads(result.stdout) == {"error": "not_found", "error_description": "User 'nobody' not found"}
    assert one_line_error(result) == "error: HTTP 404 not_found: User 'nobody' not found"
    assert "not JSON" in one_line_error(cli("call", "PUT", "/api/v2/users", "--data", "{nope"))
    assert "name=value" in one_line_error(cli("call", "GET", "/api/v2/users", "-q", "oops"))


def test_missing_credentials_wrong_secret_and_unreachable_server_are_one_line_errors(cli, env):
    missing = one_line_error(cli("call", "GET", "/api/v2/users", environment={"ENABLEY_URL": BASE_URL}))
    assert "ENABLEY_CLIENT_KEY, ENABLEY_SECRET not set" in missing

    wrong = one_line_error(cli("export", "users", environment={**env, "ENABLEY_SECRET": "wrong"}))
    assert wrong == "error: the server refused the credentials (invalid_client): Invalid clientKey or secret"

    refused = Script(tokens=[fail_with(httpx2.ConnectError)] * 4)
    down = one_line_error(cli("export", "users", http=httpx2.Client(transport=httpx2.MockTransport(refused))))
    assert down.startswith(f"error: no answer from {BASE_URL}/api/v1/token")


def _scripted(*answers) -> tuple[Script, httpx2.Client]:
    script = Script(*answers)
    return script, httpx2.Client(transport=httpx2.MockTransport(script))


def test_upload_sends_the_files_by_base_name_and_prints_the_summary(cli, tmp_path):
    (tmp_path / "groups.csv").write_text("identifier,name\nemea,EMEA\n")
    (tmp_path / "users.csv").write_bytes("\ufeffidentifier,email\nana,ana@example.com\n".encode())
    summary = {
        "filesProcessed": 2,
        "created": {"groups": 1, "users": 1},
        "updated": {"groups": 0, "users": 0},
        "unchanged": {"groups": 0, "users": 3},
    }
    script, http = _scripted(ok(summary))
    result = cli("upload", str(tmp_path / "groups.csv"), str(tmp_path / "users.csv"), http=http)
    assert result.exit_code == 0, result.output
    [request] = [r for r in script.requests if r.url.path == "/api/v1/uploads/org"]
    assert json.loads(request.read()) == {
        "files": [
            {"fileName": "groups.csv", "content": "identifier,name\nemea,EMEA\n"},
            {"fileName": "users.csv", "content": "identifier,email\nana,ana@example.com\n"},
        ]
    }
    assert "Files processed: 2" in result.stdout
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["│", "groups", "│", "1", "│", "0", "│", "0", "│"] in lines
    assert ["│", "users", "│", "1", "│", "0", "│", "3", "│"] in lines


def test_upload_refused_prints_every_bad_row_and_the_count_of_more(cli, tmp_path):
    (tmp_path / "users.csv").write_text("identifier,email\nana,nope\n")
    refusal = error(
        400,
        "invalid_request",
        "3 bad rows; nothing was written. users.csv line 2, email: not a valid email address",
        errors=[
            {"file": "users.csv", "line": 2, "column": "email", "message": "not a valid email address"},
            {"file": "users.csv", "line": 3, "column": None, "message": "duplicate identifier 'ana'"},
        ],
        moreErrors=1,
    )
    _, http = _scripted(refusal)
    result = cli("upload", str(tmp_path / "users.csv"), http=http)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "users.csv: line 2, email: not a valid email address",
        "users.csv: line 3: duplicate identifier 'ana'",
        "... and 1 more",
        "error: upload refused: 3 bad rows; nothing was written. users.csv line 2, email: not a valid email "
        "address",
    ]


def test_upload_of_a_missing_or_non_utf8_file_fails_cleanly(cli, tmp_path):
    missing = cli("upload", str(tmp_path / "nope.csv"))
    assert missing.exit_code != 0 and "does not exist" in missing.stderr
    (tmp_path / "users.csv").write_bytes(b"identifier\n\xff\xfe\n")
    assert "not UTF-8" in one_line_error(cli("upload", str(tmp_path / "users.csv")))


def test_credentials_may_follow_the_command(cli, sdk, env):
    sdk.users.upsert(UserData(identifier="after", email="after@example.com"))
    given = [
        "--url",
        env["ENABLEY_URL"],
        "--client-key",
        env["ENABLEY_CLIENT_KEY"],
        "--secret",
        env["ENABLEY_SECRET"],
    ]
    exported = cli("export", "users", *given, environment={})
    assert exported.exit_code == 0, exported.output
    assert [row["identifier"] for row in rows(exported.stdout)] == ["after"]
    called = cli("call", "GET", "/api/v2/users/after", *given, environment={})
    assert json.loads(called.stdout)["email"] == "after@example.com"
    # After the command wins over before it and over the environment.
    wrong = cli("call", "GET", "/api/v2/users/after", "--secret", "wrong", environment=env)
    assert "refused the credentials" in one_line_error(wrong)


def test_an_unknown_http_method_is_refused_before_anything_is_sent(cli):
    script, http = _scripted()
    error_line = one_line_error(cli("call", "FETCH", "/api/v2/users", http=http))
    assert error_line == "error: unknown HTTP method 'FETCH': the API takes GET, PUT, POST or DELETE"
    assert script.requests == []
    lower = cli("call", "get", "/api/v2/users/nobody")
    assert one_line_error(lower) == "error: HTTP 404 not_found: User 'nobody' not found"


def test_a_wrongly_named_upload_file_is_an_unknown_file_and_nothing_is_sent(cli, tmp_path):
    (tmp_path / "people.csv").write_text("identifier,email\nana,ana@example.com\n")
    script, http = _scripted()
    error_line = one_line_error(cli("upload", str(tmp_path / "people.csv"), http=http))
    assert "unknown file 'people.csv'" in error_line
    assert "groups.csv and users.csv" in error_line
    assert "bad row" not in error_line
    assert script.requests == []


def test_upload_shows_progress_on_a_terminal_and_none_without_one(cli, tmp_path, monkeypatch):
    (tmp_path / "users.csv").write_text("identifier,email\nana,ana@example.com\n")
    summary = {"filesProcessed": 1, "created": {"users": 1}, "updated": {}, "unchanged": {}}
    drawn = io.StringIO()
    monkeypatch.setattr(remote, "stderr", lambda: Console(file=drawn, force_terminal=True, width=100))
    _, http = _scripted(ok(summary))
    assert cli("upload", str(tmp_path / "users.csv"), http=http).exit_code == 0
    assert "reading" in drawn.getvalue() or "sending" in drawn.getvalue() or "processing" in drawn.getvalue()
    piped = io.StringIO()
    monkeypatch.setattr(remote, "stderr", lambda: Console(file=piped, force_terminal=False, width=100))
    _, http = _scripted(ok(summary))
    result = cli("upload", str(tmp_path / "users.csv"), http=http)
    assert result.exit_code == 0
    assert piped.getvalue() == "" and result.stderr == ""


def test_export_draws_no_progress_without_a_terminal(cli, sdk, page_size, monkeypatch):
    page_size(1)
    for i in range(3):
        sdk.users.upsert(UserData(identifier=f"q{i}"))
    piped = io.StringIO()
    monkeypatch.setattr(remote, "stderr", lambda: Console(file=piped, force_terminal=False, width=100))
    result = cli("export", "users")
    assert result.exit_code == 0, result.output
    assert piped.getvalue() == "" and result.stderr == ""
