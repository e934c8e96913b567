"""What every command shares: one-line errors on stderr and a non-zero exit."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from enabley.config import get_settings
from enabley.db.engine import is_unavailable
from enabley.errors import AppError

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable ENABLEY_DATABASE_URL>"


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn expected failures into ``error: ...`` on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AppError as exc:
            raise fail(exc.description) from None
        except SQLAlchemyError as exc:
            url = safe_url(get_settings().database_url)
            if is_unavailable(exc):
                raise fail(
                    f"cannot use the database at {url}: {str(exc.__cause__ or exc).splitlines()[0]}"
                ) from None
            raise fail(f"database error at {url}: {str(exc).splitlines()[0]}") from None
        except (ValueError, OSError) as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper
