"""Operator commands, run in-process against a database of their own."""

from __future__ import annotations

import json
import os

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from enabley.cli import app
from enabley.config import get_settings
from enabley.main import create_app
from enabley.models import Account, ApiClient, SigningKey, User
from enabley.security import hash_client_secret
from tests.conftest import settings_for

runner = CliRunner()


@pytest.fixture
def cli_db(scratch, monkeypatch):
    """A fresh, migrated database that the commands find through ENABLEY_DATABASE_URL."""
    url = scratch.new()
    monkeypatch.setenv("ENABLEY_DATABASE_URL", url)
    monkeypatch.delenv("ENABLEY_JWT_SECRET", raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    yield url
    get_settings.cache_clear()


def run(*args: str):
    return runner.invoke(app, list(args))


def one_line_error(result) -> str:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def query(url, stmt):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(stmt).all()
    finally:
        engine.dispose()


def test_db_upgrade_is_idempotent_and_reports_the_revision(cli_db):
    result = run("db", "upgrade")
    assert result.exit_code == 0
    assert "revision" in result.stdout


def test_accounts_create_with_sub_accounts_and_list(cli_db):
    result = run("accounts", "create", "acme", "--sub-account", "EU", "--sub-account", "US")
    assert result.exit_code == 0, result.output
    result = run("accounts", "list")
    assert "acme" in result.stdout and "EU, US" in result.stdout
    error = one_line_error(run("accounts", "create", "acme"))
    assert "already exists" in error


def test_add_sub_account_and_set_hierarchy(cli_db):
    run("accounts", "create", "acme")
    assert run("accounts", "add-sub-account", "acme", "Brazil").exit_code == 0
    assert "already exists" in one_line_error(run("accounts", "add-sub-account", "acme", "Brazil"))
    assert "not found" in one_line_error(run("accounts", "add-sub-account", "nobody", "X"))
    result = run("accounts", "set-hierarchy", "acme", "Company", "Division", "Team")
    assert result.exit_code == 0 and "Company > Division > Team" in result.stdout
    hierarchy = query(cli_db, select(Account.hierarchy).where(Account.name == "acme"))[0][0]
    assert hierarchy == ["Company", "Division", "Team"]
    assert "unique" in one_line_error(run("accounts", "set-hierarchy", "acme", "A", "A"))


def test_clients_create_json_prints_exactly_one_object_and_stores_only_a_hash(cli_db):
    run("accounts", "create", "acme")
    result = run("clients", "create", "acme", "--json")
    assert result.exit_code == 0, result.output
    credentials = json.loads(result.stdout)
    assert set(credentials) == {"clientKey", "secret"}
    assert len(credentials["secret"]) >= 40
    stored = query(
        cli_db, select(ApiClient.secret_hash).where(ApiClient.client_key == credentials["clientKey"])
    )
    assert stored == [(hash_client_secret(credentials["secret"]),)]
    assert credentials["secret"] not in stored[0][0]
    human = run("clients", "create", "acme")
    assert "clientKey:" in human.stdout and "shown only once" in human.stdout
    assert "not found" in one_line_error(run("clients", "create", "nobody", "--json"))


def test_clients_revoke(cli_db):
    run("accounts", "create", "acme")
    key = json.loads(run("clients", "create", "acme", "--json").stdout)["clientKey"]
    assert run("clients", "revoke", key).exit_code == 0
    revoked = query(cli_db, select(ApiClient.revoked_at).where(ApiClient.client_key == key))[0][0]
    assert revoked is not None
    assert "No API client" in one_line_error(run("clients", "revoke", "unknown-key"))


def test_accounts_delete_removes_an_account_that_has_users_and_its_tokens_stop(cli_db):
    run("accounts", "create", "acme", "--sub-account", "EU")
    credentials = json.loads(run("clients", "create", "acme", "--json").stdout)
    with TestClient(create_app(settings_for(cli_db))) as http:
        token = http.post("/api/v1/token", params=credentials).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        body = {"identifier": "ana", "email": "ana@example.com", "subAccountName": "EU"}
        assert http.put("/api/v2/users", json=body, headers=headers).status_code == 201
        result = run("accounts", "delete", "acme", "--yes")
        assert result.exit_code == 0, result.output
        response = http.get("/api/v2/users/ana", headers=headers)
        assert (response.status_code, response.json()["error"]) == (401, "access_denied")
    assert query(cli_db, select(Account.id)) == []
    assert query(cli_db, select(User.id)) == []
    assert query(cli_db, select(ApiClient.id)) == []


def test_keys_rotate_adds_a_signing_key(cli_db):
    before = {k for (k,) in query(cli_db, select(SigningKey.kid))}
    result = run("keys", "rotate")
    assert result.exit_code == 0, result.output
    after = {k for (k,) in query(cli_db, select(SigningKey.kid))}
    assert before < after and len(after - before) == 1


def test_demo_creates_the_account_once_and_keeps_its_credentials(cli_db, tmp_path):
    env_file = tmp_path / "demo.env"
    first = run("demo", "--env-file", str(env_file))
    assert first.exit_code == 0, first.output
    content = env_file.read_text()
    assert "ENABLEY_CLIENT_KEY=" in content and "ENABLEY_SECRET=" in content
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    second = run("demo", "--env-file", str(env_file))
    assert second.exit_code == 0 and env_file.read_text() == content
    env_file.unlink()
    third = run("demo", "--env-file", str(env_file))
    assert third.exit_code == 0 and env_file.read_text() != content
    assert len(query(cli_db, select(Account.id).where(Account.name == "demo"))) == 1


def test_unreachable_database_is_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("ENABLEY_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    get_settings.cache_clear()
    try:
        error = one_line_error(run("accounts", "create", "acme"))
    finally:
        get_settings.cache_clear()
    assert "database" in error


def test_the_suite_runs_on_a_pinned_terminal_whatever_runs_it():
    from rich.console import Console

    from tests.conftest import TERMINAL

    assert {name: os.environ.get(name) for name in TERMINAL} == TERMINAL
    console = Console()
    assert (console.width, console.no_color) == (int(TERMINAL["COLUMNS"]), True)


@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"], ["demo"], ["accounts", "list"]])
@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "ENABLEY_TOKEN_TTL_SECONDS",
            "abc",
            "ENABLEY_TOKEN_TTL_SECONDS=abc is not valid: it takes an integer from 60 to 86400",
        ),
        (
            "ENABLEY_DB_TIMEOUT_SECONDS",
            "0",
            "ENABLEY_DB_TIMEOUT_SECONDS=0 is not valid: it takes a number greater than 0",
        ),
        ("ENABLEY_MAX_CONCURRENT_UPLOADS", "0", "it takes an integer of at least 1"),
        ("ENABLEY_ACCESS_LOG", "maybe", "ENABLEY_ACCESS_LOG=maybe is not valid: it takes true or false"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable_and_its_bounds(
    monkeypatch, tmp_path, command, variable, value, expected
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENABLEY_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        error = one_line_error(run(*command))
    finally:
        get_settings.cache_clear()
    assert expected in error
    assert "Traceback" not in error


@pytest.mark.parametrize(
    "command", [["accounts", "list"], ["accounts", "create", "acme"], ["clients", "create", "acme"], ["demo"]]
)
def test_a_command_on_an_unmigrated_database_says_to_run_db_upgrade(scratch, monkeypatch, tmp_path, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENABLEY_DATABASE_URL", scratch.new())
    get_settings.cache_clear()
    try:
        error = one_line_error(run(*command))
    finally:
        get_settings.cache_clear()
    assert "enabley db upgrade" in error


def test_a_missing_sqlite_file_is_not_created_by_a_command_that_needs_the_schema(monkeypatch, tmp_path):
    path = tmp_path / "enabley.db"
    monkeypatch.setenv("ENABLEY_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    try:
        error = one_line_error(run("accounts", "list"))
    finally:
        get_settings.cache_clear()
    assert "enabley db upgrade" in error
    assert not path.exists()


def test_serve_on_a_port_in_use_is_one_line_before_serving(monkeypatch, tmp_path):
    import socket

    monkeypatch.setenv("ENABLEY_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    get_settings.cache_clear()
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        try:
            result = run("serve", "--host", "127.0.0.1", "--port", str(port))
        finally:
            get_settings.cache_clear()
    error = one_line_error(result)
    assert f"port {port} on 127.0.0.1 is already in use" in error
    assert "serving" not in result.output
    assert not (tmp_path / "x.db").exists(), "refused before migrating"
