"""Operator commands for the web console's users."""

from __future__ import annotations

from typing import Annotated

import typer

from enabley.cli.common import one_line_errors
from enabley.cli.help import Command, Group
from enabley.cli.server import _database, needs_schema

console_app = typer.Typer(cls=Group, help="The web console at /console.", no_args_is_help=True)
users_app = typer.Typer(
    cls=Group,
    help="People who sign in to the console (an account, or one sub-account).",
    no_args_is_help=True,
)
console_app.add_typer(users_app, name="users")


def register(app: typer.Typer) -> None:
    app.add_typer(console_app, name="console")


@users_app.command("create", cls=Command)
@one_line_errors
@needs_schema
def users_create(
    account: str,
    email: str,
    sub_account: Annotated[
        str | None, typer.Option("--sub-account", help="Limit the user to this sub-account.")
    ] = None,
) -> None:
    """Create a console user; its password is shown once."""
    from enabley.config import get_settings
    from enabley.console import service

    db = _database()
    with db.session(write=True) as session:
        user, password = service.create_user(session, account, email, sub_account)
        folded = user.email
    where = f"{account!r}" + (f", sub-account {sub_account!r}" if sub_account else "")
    base = get_settings().public_base_url.rstrip("/")
    typer.echo(
        f"console user {folded} of {where}\n  password: {password}\n"
        f"  (shown only once; sign in at {base}/console)"
    )


@users_app.command("list", cls=Command)
@one_line_errors
@needs_schema
def users_list(account: str) -> None:
    """List an account's console users."""
    from enabley.console import service

    db = _database()
    with db.session() as session:
        for email, sub in service.list_users(session, account):
            typer.echo(email + (f"  (sub-account {sub})" if sub else ""))


@users_app.command("reset-password", cls=Command)
@one_line_errors
@needs_schema
def users_reset_password(email: str) -> None:
    """Give a console user a new password (shown once); its sessions end."""
    from enabley.console import service

    db = _database()
    with db.session(write=True) as session:
        password = service.reset_password(session, email)
    typer.echo(f"new password of {service.fold_email(email)}: {password}\n  (shown only once)")


@users_app.command("delete", cls=Command)
@one_line_errors
@needs_schema
def users_delete(email: str) -> None:
    """Delete a console user: a browser signed in as it is signed out on its next request."""
    from enabley.console import service

    db = _database()
    with db.session(write=True) as session:
        service.delete_user(session, email)
    typer.echo(f"console user {service.fold_email(email)} deleted")
