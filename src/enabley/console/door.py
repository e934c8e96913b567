"""The console's way to its data: a unit of work through the signed-in user's tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from enabley.console.auth import Console, ConsoleTenant, SignInRequired
from enabley.console.render import PageError
from enabley.errors import AccessDenied, AppError

P = ParamSpec("P")
T = TypeVar("T")


@contextmanager
def _refusals() -> Iterator[None]:
    """A service's refusal becomes the page's; a refused tenant, a new sign-in."""
    try:
        yield
    except AccessDenied:
        raise SignInRequired() from None
    except AppError as exc:
        if exc.status_code in (400, 404, 409):
            raise PageError(exc.status_code, exc.description) from exc
        raise


async def read(
    console: Console,
    work: Callable[Concatenate[Session, ConsoleTenant, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``work`` through the console user's tenant."""
    with _refusals():
        return await console.tenant.read(work, *args, **kwargs)


async def write(
    console: Console,
    work: Callable[Concatenate[Session, ConsoleTenant, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``work`` in a unit of work that writes, through the console user's tenant."""
    with _refusals():
        return await console.tenant.write(work, *args, **kwargs)
