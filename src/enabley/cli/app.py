from __future__ import annotations

import typer

from enabley.cli import console, remote, scim, server
from enabley.cli.help import Group

app = typer.Typer(
    cls=Group,
    name="enabley",
    help="Enabley-compatible LMS integration API server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
server.register(app)
console.register(app)
scim.register(app)
remote.register(app)
