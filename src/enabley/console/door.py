"""The console's way to its data: a unit of work through the signed-in user's tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from enabley.console.auth import Console, ConsoleTenant, SignInRequired
from enabley.console.render import PageError
from enabley.errors import AccessDenied, AppError

P = ParamSpec("P")
T = TypeVar("T")


async def read(
    console: Console,
    work: Callable[Concatenate[Session, ConsoleTenant, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``work`` through the console user's tenant; a service's refusal becomes the page's."""
    try:
        return await console.tenant.read(work, *args, **kwargs)
    except AccessDenied:
        raise SignInRequired() from None
    except AppError as exc:
        if exc.status_code in (400, 404, 409):
            raise PageError(exc.status_code, exc.description) from exc
        raise


async def write(
    console: Console,
    work: Callable[Concatenate[Session, ConsoleTenant, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``work`` in a unit of work that writes, through the console user's tenant."""
    try:
        return await console.tenant.write(work, *args, **kwargs)
    except AccessDenied:
        raise SignInRequired() from None
    except AppError as exc:
        if exc.status_code in (400, 404, 409):
            raise PageError(exc.status_code, exc.description) from exc
        raise
