"""Idempotency keys on the API's writes (draft-ietf-httpapi-idempotency-key-header-09): see
``middleware`` for what a client gets, ``store`` for how the database keeps them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from starlette.responses import Response

from enabley.idempotency.middleware import IdempotencyMiddleware, Keys, Replay, replayed
from enabley.idempotency.store import purge_idempotency_keys

if TYPE_CHECKING:
    from enabley.deps import AppContext

__all__ = ["Keys", "install", "purge_idempotency_keys"]


def install(
    app: FastAPI, context: AppContext, *, token_path: str, streamed_prefixes: tuple[str, ...]
) -> Keys:
    """The idempotency layer, innermost of the middlewares (after the token check, whose client
    scopes the keys, and the request limits, which bound the bodies it reads)."""
    keys = Keys(streamed_prefixes=streamed_prefixes)
    app.state.idempotency = keys

    async def replay(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Replay)
        return replayed(exc.answer)

    app.add_exception_handler(Replay, replay)
    app.add_middleware(IdempotencyMiddleware, context=context, keys=keys, token_path=token_path)
    return keys
