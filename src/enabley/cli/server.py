"""Operator commands: they run on the server's machine against ENABLEY_DATABASE_URL."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from enabley.cli.common import one_line_errors, safe_url
from enabley.cli.help import Command, Group

if TYPE_CHECKING:
    from enabley.db.database import Database

P = ParamSpec("P")
R = TypeVar("R")

# The server's modules are imported by the commands that run, not here: `enabley --help` and
# `enabley remote ...` load none of them.

db_app = typer.Typer(cls=Group, help="Database schema.", no_args_is_help=True)
accounts_app = typer.Typer(cls=Group, help="Accounts (tenants) and their sub-accounts.", no_args_is_help=True)
clients_app = typer.Typer(
    cls=Group, help="API clients (clientKey and secret) of an account.", no_args_is_help=True
)
keys_app = typer.Typer(cls=Group, help="Token signing keys.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command(cls=Command)(serve)
    app.command(cls=Command)(demo)
    app.command(cls=Command)(worker)
    app.add_typer(db_app, name="db")
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(clients_app, name="clients")
    app.add_typer(keys_app, name="keys")


def _database() -> Database:
    from enabley.config import get_settings
    from enabley.db.database import Database
    from enabley.db.engine import make_engine

    settings = get_settings()
    _refuse_missing_file(settings.database_url)
    return Database(make_engine(settings.database_url, pool_size=1, timeout=settings.db_timeout_seconds))


_UPGRADE = "run `enabley db upgrade` first"


def _refuse_missing_file(url: str) -> None:
    """A SQLite file that doesn't exist is refused rather than created empty."""
    from sqlalchemy.engine import make_url

    from enabley.errors import InvalidRequest

    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() == "sqlite" and path and path != ":memory:" and not Path(path).exists():
        raise InvalidRequest(f"there is no database at {path}: {_UPGRADE}")


def _schema_problem(url: str) -> str | None:
    """Why the database's schema is not this version's (never migrated, or at another revision)."""
    from alembic.runtime.migration import MigrationContext

    from enabley import migrate
    from enabley.db.engine import make_engine

    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current is None:
        return f"the database at {safe_url(url)} has no schema yet: {_UPGRADE}"
    head = migrate.head_revision()
    if current != head:
        return (
            f"the database at {safe_url(url)} is at revision {current}, this version needs {head}: {_UPGRADE}"
        )
    return None


def needs_schema(func: Callable[P, R]) -> Callable[P, R]:
    """A command on the database's tables: when it fails on the database, and the schema is
    missing or at another revision, that is the one line said. Checked after a failure only, so
    that a command on a migrated database pays nothing for it."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from sqlalchemy.exc import SQLAlchemyError

        from enabley.config import get_settings
        from enabley.errors import InvalidRequest, ServiceUnavailable

        try:
            return func(*args, **kwargs)
        except (SQLAlchemyError, ServiceUnavailable) as exc:
            try:
                problem = _schema_problem(get_settings().database_url)
            except SQLAlchemyError:
                problem = None
            if problem is None:
                raise
            raise InvalidRequest(problem) from exc

    return wrapper


@one_line_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="On SQLite, do not deliver webhooks from this process.")
    ] = False,
) -> None:
    """Migrate the schema to head, then serve the API. On SQLite, the process also runs the
    worker's tasks (webhook deliveries) unless --no-worker; on PostgreSQL, run `enabley worker`."""
    from sqlalchemy.engine import make_url

    from enabley import migrate, server
    from enabley.config import get_settings
    from enabley.worker import process

    _check_port(host, port)
    migrate.upgrade()
    _ensure_keys()
    settings = get_settings()
    if not no_worker and make_url(settings.database_url).get_backend_name() == "sqlite":
        process.start_in_background(settings)
    typer.echo(f"enabley serving on http://{host}:{port} (docs at /docs)", err=True)
    server.run(host=host, port=port, workers=workers)


@one_line_errors
@needs_schema
def worker(
    metrics_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Serve Prometheus metrics on 127.0.0.1 at this port.")
    ] = None,
) -> None:
    """Deliver webhooks and run the periodic tasks until stopped (Ctrl-C, SIGTERM). Run as many
    as you like on PostgreSQL; on SQLite, `enabley serve` runs one already."""
    from enabley.config import get_settings
    from enabley.worker import process

    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr="127.0.0.1")
    typer.echo("enabley worker running", err=True)
    process.run(get_settings())


def _check_port(host: str, port: int) -> None:
    """Fail in one line, before migrating or printing anything, when the port can't be listened on."""
    import errno
    import socket

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        socket.create_server((host, port), family=family).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise OSError(
                f"port {port} on {host} is already in use: stop what listens there, or choose another "
                f"port (--port; make run PORT=...)"
            ) from None
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _ensure_keys() -> None:
    from enabley.config import get_settings
    from enabley.security import ensure_server_keys

    db = _database()
    try:
        with db.session(write=True) as session:
            ensure_server_keys(session, get_settings())
    finally:
        db.dispose()


@db_app.command("upgrade", cls=Command)
@one_line_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the newest revision."""
    from enabley import migrate

    migrate.upgrade()
    _ensure_keys()
    typer.echo(f"database at revision {migrate.current_revision()}")


@accounts_app.command("create", cls=Command)
@one_line_errors
@needs_schema
def accounts_create(
    name: str,
    sub_account: Annotated[
        list[str] | None, typer.Option("--sub-account", help="A sub-account (repeatable).")
    ] = None,
) -> None:
    """Create an account (a tenant)."""
    from enabley.accounts import service as accounts_service

    db = _database()
    with db.session(write=True) as session:
        accounts_service.create_account(session, name, sub_account or [])
    typer.echo(f"account {name!r} created")


@accounts_app.command("add-sub-account", cls=Command)
@one_line_errors
@needs_schema
def accounts_add_sub_account(account: str, name: str) -> None:
    """Add a sub-account to an account."""
    from enabley.accounts import service as accounts_service

    db = _database()
    with db.session(write=True) as session:
        accounts_service.add_sub_account(session, accounts_service.get_account(session, account), name)
    typer.echo(f"sub-account {name!r} added to {account!r}")


@accounts_app.command("set-hierarchy", cls=Command)
@one_line_errors
@needs_schema
def accounts_set_hierarchy(account: str, types: list[str]) -> None:
    """Set the ordered group types of an account (top level first)."""
    from enabley.accounts import service as accounts_service
    from enabley.groups import service as groups_service

    db = _database()
    with db.session(write=True) as session:
        acc = accounts_service.get_account(session, account)
        hierarchy = groups_service.set_hierarchy(session, acc, types)
    typer.echo(f"hierarchy of {account!r}: {' > '.join(hierarchy)}")


@accounts_app.command("list", cls=Command)
@one_line_errors
@needs_schema
def accounts_list() -> None:
    """List accounts with their sub-accounts."""
    from sqlalchemy import select

    from enabley.accounts import service as accounts_service
    from enabley.models import Account

    db = _database()
    with db.session() as session:
        for account in session.scalars(select(Account).order_by(Account.name)):
            subs = accounts_service.list_sub_accounts(session, account)
            typer.echo(f"{account.name}" + (f"  (sub-accounts: {', '.join(subs)})" if subs else ""))


@accounts_app.command("delete", cls=Command)
@one_line_errors
@needs_schema
def accounts_delete(
    name: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False
) -> None:
    """Delete an account and everything it owns."""
    if not yes:
        typer.confirm(f"Delete account {name!r} and all its data?", abort=True)
    from enabley.accounts import service as accounts_service

    db = _database()
    with db.session(write=True) as session:
        accounts_service.delete_account(session, name)
    typer.echo(f"account {name!r} deleted")


@clients_app.command("create", cls=Command)
@one_line_errors
@needs_schema
def clients_create(
    account: str,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object {clientKey, secret}.")
    ] = False,
) -> None:
    """Create an API client; its secret is shown once."""
    from enabley.auth import service as auth_service

    db = _database()
    with db.session(write=True) as session:
        client, secret = auth_service.create_client(session, account)
        key = client.client_key
    if as_json:
        typer.echo(json.dumps({"clientKey": key, "secret": secret}))
    else:
        typer.echo(f"clientKey: {key}\nsecret:    {secret}\n(the secret is shown only once)")


@clients_app.command("revoke", cls=Command)
@one_line_errors
@needs_schema
def clients_revoke(client_key: str) -> None:
    """Revoke a client: its tokens stop working at once."""
    from enabley.auth import service as auth_service

    db = _database()
    with db.session(write=True) as session:
        auth_service.revoke_client(session, client_key)
    typer.echo(f"client {client_key} revoked")


@keys_app.command("rotate", cls=Command)
@one_line_errors
@needs_schema
def keys_rotate() -> None:
    """Sign new tokens with a new key; tokens signed before stay valid until they expire."""
    from enabley.config import get_settings
    from enabley.security import rotate_signing_key

    db = _database()
    with db.session(write=True) as session:
        kid = rotate_signing_key(session, get_settings())
    typer.echo(f"new signing key {kid} is in use")


DEMO_ACCOUNT = "demo"


@one_line_errors
@needs_schema
def demo(
    env_file: Annotated[Path, typer.Option(help="Where to keep the demo credentials.")] = Path("demo.env"),
) -> None:
    """Make sure a demo account exists and print its credentials (kept in --env-file)."""
    from sqlalchemy import select

    from enabley.accounts import service as accounts_service
    from enabley.auth import service as auth_service
    from enabley.config import get_settings
    from enabley.errors import InvalidRequest
    from enabley.models import Account, ApiClient

    settings = get_settings()
    db = _database()
    existing = _read_env(env_file)
    with db.session(write=True) as session:
        account = session.scalar(select(Account).where(Account.name == DEMO_ACCOUNT))
        if account is None:
            accounts_service.create_account(session, DEMO_ACCOUNT, ["Europe", "Americas"])
        key = existing.get("ENABLEY_CLIENT_KEY")
        live = key is not None and session.scalar(
            select(ApiClient.id).where(ApiClient.client_key == key, ApiClient.revoked_at.is_(None))
        )
        if live and existing.get("ENABLEY_SECRET"):
            secret = existing["ENABLEY_SECRET"]
        else:
            client, secret = auth_service.create_client(session, DEMO_ACCOUNT)
            key = client.client_key
    if key is None:
        raise InvalidRequest("could not create the demo client")
    console_email, console_password = _demo_console_user(db, existing)
    lines = {
        "ENABLEY_URL": settings.public_base_url,
        "ENABLEY_CLIENT_KEY": key,
        "ENABLEY_SECRET": secret,
        "ENABLEY_CONSOLE_EMAIL": console_email,
        "ENABLEY_CONSOLE_PASSWORD": console_password,
    }
    env_file.write_text("".join(f"export {k}={v}\n" for k, v in lines.items()))
    os.chmod(env_file, 0o600)
    base = settings.public_base_url.rstrip("/")
    typer.echo(
        f"demo account {DEMO_ACCOUNT!r}\n  clientKey: {key}\n  secret:    {secret}\n"
        f"  console:   {base}/console  email {console_email}  password {console_password}\n"
        f"  (also in {env_file}: run `. ./{env_file}` in another shell)"
    )


DEMO_CONSOLE_EMAIL = "demo@example.com"


def _demo_console_user(db: Database, existing: dict[str, str]) -> tuple[str, str]:
    """The demo account's console user and its password: the one kept in the env file while it
    still signs in, else a new one."""
    from enabley.console import service
    from enabley.errors import NotFound

    with db.session(write=True) as session:
        try:
            user = service.require_user(session, DEMO_CONSOLE_EMAIL)
        except NotFound:
            _, password = service.create_user(session, DEMO_ACCOUNT, DEMO_CONSOLE_EMAIL, None)
            return DEMO_CONSOLE_EMAIL, password
        kept = existing.get("ENABLEY_CONSOLE_PASSWORD")
        if kept and service.password_matches((user.id, user.password_hash), kept) is not None:
            return DEMO_CONSOLE_EMAIL, kept
        return DEMO_CONSOLE_EMAIL, service.reset_password(session, DEMO_CONSOLE_EMAIL)


def _read_env(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        if value:
            found[name.strip()] = value.strip()
    return found
