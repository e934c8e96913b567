"""The ``Idempotency-Key`` header on every write of the integration and admin APIs
(draft-ietf-httpapi-idempotency-key-header-09).

A write sent with a key runs once: the same key with the same request (method, path, query
string and body) replays the first answer, marked ``Idempotency-Replayed: true``, without
running it again; with another request it is 422; while the first still runs, a retry waits up
to ``WAIT_FOR_FIRST`` seconds for its answer, then gets 409 with ``Retry-After``. Keys belong
to the API client that sent them and are kept 24 hours.

An ASGI layer rather than a route dependency: it must see the answer to keep it, and the body
as it streams. A request without the header pays one scan of its headers.

- The body is read whole before the key is claimed (ordinary bodies, up to
  ``ENABLEY_MAX_BODY_BYTES``), or, on the paths that stream theirs to disk (the bulk upload),
  hashed as the route reads it: the key is claimed when its last byte arrives, before the route
  has written anything.
- The answer is kept before it leaves: a client that got it and retries finds it. An answer
  that is not final (a 5xx, 401, 408, 409, 425, 429) gives the key back, so a retry runs; an
  answer body over ``MAX_KEPT_BODY`` is not kept (a 4xx gives its key back: nothing was
  written; a 2xx keeps it, and a retry gets a 422 saying so rather than running again).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enabley.admission import CLAIMS
from enabley.db.columns import utcnow
from enabley.deps import tenant_for
from enabley.errors import AppError, InvalidRequest, PayloadTooLarge, render
from enabley.idempotency import rules, store
from enabley.idempotency.store import Answer, Found

if TYPE_CHECKING:
    from enabley.deps import AppContext, Tenant

log = logging.getLogger("enabley.idempotency")


class KeyReused(AppError):
    status_code, error = 422, "invalid_request"


class KeyInUse(AppError):
    status_code, error = 409, "invalid_request"


class Replay(Exception):
    """Raised from a streamed body's last read when its key was answered already: the app's
    handler (``install``) answers with the kept answer."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("replay")
        self.answer = answer


@dataclass(slots=True)
class Keys:
    """The application's idempotency settings: tests move ``clock`` to expire keys and shorten
    ``wait_for_first``."""

    clock: Callable[[], datetime] = utcnow
    streamed_prefixes: tuple[str, ...] = ()
    wait_for_first: float = rules.WAIT_FOR_FIRST


def replayed(answer: Answer) -> Response:
    assert answer.body is not None
    headers = dict(answer.headers)
    headers[rules.REPLAYED] = "true"
    return Response(rules.unpack(answer.body), status_code=answer.status, headers=headers)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, context: AppContext, keys: Keys, token_path: str) -> None:
        self.app = app
        self.context = context
        self.keys = keys
        self.token_path = token_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The hot path: a read, or a write without the header, costs this loop and no more.
        if scope["type"] == "http" and scope["method"] in _WRITES:
            for name, raw in scope["headers"]:
                if name == _HEADER:
                    await self.keyed(scope, receive, send, bytes(raw))
                    return
        await self.app(scope, receive, send)

    async def keyed(self, scope: Scope, receive: Receive, send: Send, raw: bytes) -> None:
        path: str = scope["path"]
        claims = scope.get("state", {}).get(CLAIMS)
        # Without a verified token the route answers 401; the token request has no client yet
        # (and issuing a second token changes nothing a retry could repeat).
        if claims is None or path == self.token_path or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        try:
            key = rules.parse_key(raw)
            tenant = await tenant_for(self.context, claims)
        except rules.InvalidKey as exc:
            await render(InvalidRequest(str(exc)))(scope, receive, send)
            return
        except AppError as exc:
            await render(exc)(scope, receive, send)
            return
        scope["state"]["tenant"] = tenant  # the access log's account, also when the route never runs
        exchange = Exchange(self, scope, tenant, key)
        if path.startswith(self.keys.streamed_prefixes):
            await exchange.streamed(receive, send)
        else:
            await exchange.buffered(receive, send)


@dataclass(slots=True)
class Exchange:
    """One keyed request: its claim on the key, and its answer on the way out."""

    layer: IdempotencyMiddleware
    scope: Scope
    tenant: Tenant
    key: str
    claimed_at: datetime | None = None
    settled: bool = False
    held: list[Message] = field(default_factory=list)
    held_bytes: int = 0
    overflowed: bool = False

    async def buffered(self, receive: Receive, send: Send) -> None:
        """Read the body, claim the key, then run the request (or replay, or refuse)."""
        try:
            body = await _read_all(receive)
            answer = await self.settle(hashlib.sha256(body).hexdigest())
        except ClientDisconnect:
            return
        except HTTPException as exc:  # the request limits' 413 or NUL refusal
            detail = str(exc.detail)
            error = PayloadTooLarge(detail) if exc.status_code == 413 else InvalidRequest(detail)
            await self.answer_instead(render(error), receive, send)
            return
        except AppError as exc:
            await self.answer_instead(render(exc), receive, send)
            return
        if answer is not None:
            await self.answer_instead(replayed(answer), receive, send)
            return
        sent = False

        async def once() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.run(once, send)

    async def answer_instead(self, response: Response, receive: Receive, send: Send) -> None:
        """Answer without running the route; metrics and the access log name it all the same."""
        app = self.scope.get("app")
        for route in getattr(getattr(app, "router", None), "routes", ()):
            if route.matches(self.scope)[0] is Match.FULL:
                self.scope["route"] = route
                break
        await response(self.scope, receive, send)

    async def streamed(self, receive: Receive, send: Send) -> None:
        """Hash the body as the route reads it; claim the key on its last byte."""
        digest = hashlib.sha256()

        async def hashing() -> Message:
            message = await receive()
            if message["type"] == "http.request" and self.claimed_at is None:
                digest.update(message.get("body", b""))
                if not message.get("more_body", False):
                    answer = await self.settle(digest.hexdigest())
                    if answer is not None:
                        raise Replay(answer)
            return message

        await self.run(hashing, send)

    async def settle(self, body_digest: str) -> Answer | None:
        """Claim the key for this request (None), or the answer to replay; 422 or 409 raised."""
        scope = self.scope
        query: bytes = scope.get("query_string", b"")
        fingerprint = rules.fingerprint(scope["method"], scope["path"], query, body_digest)
        loop = asyncio.get_running_loop()
        give_up, pause = loop.time() + self.layer.keys.wait_for_first, 0.01
        while True:
            outcome = await self._claim(fingerprint)
            if outcome.found is Found.CLAIMED:
                self.claimed_at = outcome.claimed_at
                return None
            if outcome.found is Found.DIFFERENT:
                raise KeyReused(
                    f"The Idempotency-Key {self.key!r} was sent with a different request (method, "
                    "path, query or body) in the last 24 hours: send a new key with a new request"
                )
            if outcome.found is Found.ANSWERED and outcome.answer is not None:
                if outcome.answer.body is None:
                    raise KeyReused(self._unkept(outcome.answer))
                return outcome.answer
            if loop.time() + pause > give_up:
                raise KeyInUse(
                    f"A request with the Idempotency-Key {self.key!r} is still running: retry once "
                    "it has answered",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _unkept(self, answer: Answer) -> str:
        why = (
            "it showed a secret, which is never kept"
            if rules.secret(answer.headers)
            else f"it was larger than the {rules.MAX_KEPT_BODY} bytes kept for replays"
        )
        return (
            f"The request sent with the Idempotency-Key {self.key!r} was executed (status "
            f"{answer.status}), but its answer cannot be replayed ({why}); it is not executed again"
        )

    async def _claim(self, fingerprint: str) -> store.Outcome:
        tenant, now = self.tenant, self.layer.keys.clock()
        if tenant.db.dialect == "sqlite":
            # The request holding the key may hold SQLite's one writer too: look before waiting for it.
            held = await tenant.lookup(store.peek, self.key, fingerprint, now)
            if held is not None:
                return held
        return await tenant.write(store.claim, self.key, fingerprint, now)

    async def run(self, receive: Receive, send: Send) -> None:
        async def answering(message: Message) -> None:
            await self.answer(message, send)

        try:
            await self.layer.app(self.scope, receive, answering)
        finally:
            if self.claimed_at is not None and not self.settled:
                # An exception, or a request that ended without answering: the key goes back.
                await self.finish(None)

    async def answer(self, message: Message, send: Send) -> None:
        """Hold the answer until it is complete, keep it, then send it."""
        if self.claimed_at is None or self.settled or message["type"] not in _ANSWER:
            await send(message)
            return
        if self.overflowed:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await self.finish(self.held[0])
            return
        self.held.append(message)
        self.held_bytes += len(message.get("body", b""))
        self.overflowed = self.held_bytes > rules.MAX_KEPT_BODY
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            await self.finish(self.held[0])
            for held in self.held:
                await send(held)
        elif self.overflowed:
            for held in self.held:
                await send(held)
            self.held = self.held[:1]

    async def finish(self, start: Message | None) -> None:
        """Keep the answer whose start is ``start``, or give the key back."""
        self.settled = True
        assert self.claimed_at is not None
        status = start["status"] if start is not None else 500
        write = self.tenant.write
        try:
            with anyio.CancelScope(shield=True):
                if not rules.kept(status) or (self.overflowed and status >= 400):
                    await write(store.give_back, self.key, self.claimed_at)
                    return
                headers = rules.kept_headers(start["headers"]) if start is not None else {}
                body = None
                if not self.overflowed and not rules.secret(headers):
                    body = rules.pack(b"".join(m.get("body", b"") for m in self.held[1:]))
                await write(store.keep, self.key, self.claimed_at, Answer(status, headers, body))
        except Exception:
            # The answer still leaves; the key stays claimed until its lease ends (rules.LEASE).
            log.exception("could not record the answer of an idempotent request")


_ANSWER = frozenset({"http.response.start", "http.response.body"})
_WRITES = rules.WRITE_METHODS
_HEADER = rules.HEADER


async def _read_all(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
