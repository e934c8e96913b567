"""``enabley scim tokens ...``: the bearer tokens identity providers provision through."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from enabley.cli.common import one_line_errors
from enabley.cli.help import Command, Group
from enabley.cli.server import _database, needs_schema

scim_app = typer.Typer(cls=Group, help="SCIM 2.0 provisioning (/scim/v2).", no_args_is_help=True)
tokens_app = typer.Typer(
    cls=Group, help="Bearer tokens of identity providers (Entra ID, Okta).", no_args_is_help=True
)
scim_app.add_typer(tokens_app, name="tokens")


def register(app: typer.Typer) -> None:
    app.add_typer(scim_app, name="scim")


@tokens_app.command("create", cls=Command)
@one_line_errors
@needs_schema
def tokens_create(
    account: str,
    sub_account: Annotated[
        str | None, typer.Option("--sub-account", help="Confine the token to this sub-account.")
    ] = None,
    group_type: Annotated[
        str | None,
        typer.Option("--group-type", help="Type of the groups it creates, if the hierarchy needs one."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object {token, id}.")] = False,
) -> None:
    """Create a SCIM bearer token; it is shown once."""
    from enabley.scim import tokens

    db = _database()
    with db.session(write=True) as session:
        row, token = tokens.create_token(session, account, sub_account, group_type)
        public_id = row.public_id
    if as_json:
        typer.echo(json.dumps({"token": token, "id": public_id}))
    else:
        typer.echo(f"id:    {public_id}\ntoken: {token}\n(the token is shown only once)")


@tokens_app.command("list", cls=Command)
@one_line_errors
@needs_schema
def tokens_list(account: str) -> None:
    """List an account's SCIM tokens (never their values)."""
    from enabley.scim import tokens

    db = _database()
    with db.session() as session:
        rows = tokens.list_tokens(session, account)
    if not rows:
        typer.echo(f"no SCIM tokens for {account!r}")
    for row in rows:
        scope = f"sub-account {row.sub_account!r}" if row.sub_account else "whole account"
        used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "never"
        state = f"revoked {row.revoked_at.isoformat(timespec='seconds')}" if row.revoked_at else "active"
        group_type = f", group type {row.group_type!r}" if row.group_type else ""
        typer.echo(f"{row.id}  {state}  {scope}{group_type}  last used: {used}")


@tokens_app.command("revoke", cls=Command)
@one_line_errors
@needs_schema
def tokens_revoke(token_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Revoke a SCIM token: it stops working on the next request, on every process."""
    from enabley.scim import tokens

    db = _database()
    with db.session(write=True) as session:
        tokens.revoke_token(session, token_id)
    typer.echo(f"SCIM token {token_id} revoked")
