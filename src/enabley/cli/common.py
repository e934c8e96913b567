"""What every command shares: one-line errors on stderr and a non-zero exit.

Nothing of the server is imported here (``enabley remote`` uses this module): what the server's
errors need is imported when one is being reported.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable ENABLEY_DATABASE_URL>"


def _describe(exc: Exception) -> str | None:
    """The one line for an expected failure of an operator command; None for a bug."""
    from sqlalchemy.exc import SQLAlchemyError

    from enabley.errors import AppError

    if isinstance(exc, AppError):
        return exc.description
    if isinstance(exc, SQLAlchemyError):
        from enabley.config import get_settings
        from enabley.db.engine import is_unavailable

        url = safe_url(get_settings().database_url)
        if is_unavailable(exc):
            return f"cannot use the database at {url}: {str(exc.__cause__ or exc).splitlines()[0]}"
        return f"database error at {url}: {str(exc).splitlines()[0]}"
    if isinstance(exc, ValueError | OSError):
        return str(exc)
    return None


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn expected failures into ``error: ...`` on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KeyboardInterrupt:
            sys.exit(130)
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:
            message = _describe(exc)
            if message is None:
                raise
            raise fail(message) from None

    return wrapper
