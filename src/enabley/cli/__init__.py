"""The ``enabley`` command: operator commands (serve, db, accounts, clients, keys) and more."""

from __future__ import annotations

from enabley.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
