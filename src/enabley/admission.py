"""Who a request counts against, decided at the door, before any other work (OWASP API4).

- A request with a valid bearer token counts against its API client (``ENABLEY_RATE_LIMIT``),
  wherever it comes from, so that many integrations behind one address are not throttled
  together; whatever answers it (the route, a 404, a 405, the request limits' 413).
- A certificate PDF counts against the client address on a budget of its own
  (``ENABLEY_PDF_RATE_LIMIT``): its link is the only credential, and each render costs CPU.
- Anything else counts against the client address (``ENABLEY_ANONYMOUS_RATE_LIMIT``): no token,
  a token that fails verification, a failed token request.

A token request is refused here only when its address is out of budget: what it counts against
depends on the secret, which the token endpoint checks. One that succeeds counts against its
client there (``mark_issued``); one that doesn't, against the address as its answer leaves.
Every answer to a limited request carries the ``X-RateLimit-*`` headers of the budget it was
counted against (added by ``observability.RequestObserver`` from the scope's state).

The token is verified here, once: ``deps.get_tenant`` reads the outcome from the state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enabley.errors import AccessDenied, AppError, TooManyRequests, is_scim, render_at
from enabley.observability import RATE_LIMITED
from enabley.ratelimit import Decision, Limiter, client_address
from enabley.scim import tokens
from enabley.security import Claims, UnknownKey

if TYPE_CHECKING:
    from enabley.deps import AppContext

CLAIMS = "claims"
"""State key: the verified ``Claims`` of the request's bearer token."""
REFUSAL = "refusal"
"""State key: why the request's bearer token was refused (an ``AccessDenied``)."""
RATE_LIMIT = "rate_limit"
"""State key: the ``Decision`` whose headers the answer carries."""
SCIM_TOKEN = "scim_token"  # noqa: S105 - a state key, not a secret
"""State key: the request's verified SCIM token (``/scim/v2``), a ``scim.tokens.KnownToken``."""
SCIM_FAILURE_KEY = "scim-token"
"""The key failed SCIM token checks are counted under, beside their address (a SCIM token has
no key of its own apart from its secret)."""
ISSUED = "token_issued"
"""State key: a token request succeeded and was counted against its client."""


def mark_issued(state: dict[str, object], decision: Decision | None) -> None:
    """The token endpoint issued a token: the request counted against the client, not the address."""
    state[ISSUED] = True
    if decision is not None:
        state[RATE_LIMIT] = decision


def client_rate_exceeded(decision: Decision, rate: float) -> TooManyRequests:
    return TooManyRequests(
        f"Rate limit of {rate:g} requests per second exceeded; retry in {decision.retry_after} s",
        headers={"Retry-After": str(decision.retry_after)},
    )


def _bearer_token(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


_REFUSALS = {
    "pdf": "Too many certificate PDFs from this address",
    "address": "Too many requests without a valid token from this address",
}


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, *, context: AppContext, token_path: str, pdf_prefix: str) -> None:
        self.app = app
        self.context = context
        self.token_path = token_path
        self.pdf_prefix = pdf_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        limits = self.context.limits
        limiter: Limiter
        if scope["path"].startswith(self.pdf_prefix):
            limiter, key, kind = limits.pdfs, client_address(scope), "pdf"
        elif is_scim(scope["path"]):
            # A SCIM token is a secret as a client's is: its failures are counted and throttled
            # as failed token requests are, then the request counts against the address.
            scim_key = await self._scim_token(scope, state)
            if isinstance(scim_key, AppError):
                await render_at(scope["path"], scim_key)(scope, receive, send)
                return
            if scim_key is not None:
                limiter, key, kind = limits.clients, scim_key, "api"
            else:
                limiter, key, kind = limits.anonymous, client_address(scope), "address"
        elif (claims := await self._verified(scope, state)) is not None:
            limiter, key, kind = limits.clients, claims.client_key, "api"
        elif scope["path"] == self.token_path and REFUSAL not in state:
            await self._token_request(scope, receive, send, client_address(scope))
            return
        else:
            limiter, key, kind = limits.anonymous, client_address(scope), "address"
        decision = await limiter.hit(key)
        state[RATE_LIMIT] = decision
        if decision is not None and not decision.allowed:
            await self._refuse(scope, receive, send, decision, kind)
            return
        await self.app(scope, receive, send)

    async def _verified(self, scope: Scope, state: dict[str, Any]) -> Claims | None:
        """The claims of the request's bearer token; a refused token's error goes to the state."""
        token = _bearer_token(scope)
        if token is None:
            return None
        verifier, db = self.context.verifier, self.context.db
        try:
            try:
                claims = verifier.verify(token)
            except UnknownKey:
                # Once per key another process rotated in: the key set is read again, off the loop.
                claims = await db.probe(verifier.verify, token, db)
        except AccessDenied as exc:
            state[REFUSAL] = exc
            return None
        state[CLAIMS] = claims
        return claims

    async def _scim_token(self, scope: Scope, state: dict[str, Any]) -> str | AppError | None:
        """The rate limiter's key of the request's SCIM token; None (and the refusal in the
        state) when it has none that is valid; the 429 of an address throttled for its failures
        (``ENABLEY_TOKEN_FAILURE_*``, counted under the one key ``SCIM_FAILURE_KEY``)."""
        token = _bearer_token(scope)
        if token is None:
            return None
        failures, address = self.context.limits.failures, client_address(scope)
        wait = await failures.blocked_for(SCIM_FAILURE_KEY, address)
        if wait:
            RATE_LIMITED.labels("token").inc()
            return TooManyRequests(
                f"Too many failed SCIM token checks; retry in {wait} s", headers={"Retry-After": str(wait)}
            )
        known = await tokens.verify(self.context.db, token, self.context.scim_tokens)
        if known is None:
            await failures.record(SCIM_FAILURE_KEY, address)
            state[REFUSAL] = AccessDenied("Invalid or revoked SCIM token")
            return None
        state[SCIM_TOKEN] = known
        return known.limiter_key

    async def _token_request(self, scope: Scope, receive: Receive, send: Send, address: str) -> None:
        """Refused at once from an address out of budget; otherwise counted against it as the
        answer leaves, unless the token endpoint counted it against the client it issued to."""
        anonymous = self.context.limits.anonymous
        refusal = await anonymous.refusal(address)
        if refusal is not None:
            await self._refuse(scope, receive, send, refusal, "address")
            return
        state = scope["state"]

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start" and not state.get(ISSUED):
                state[RATE_LIMIT] = await anonymous.hit(address)
            await send(message)

        await self.app(scope, receive, counted)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, decision: Decision, kind: str
    ) -> None:
        scope["state"][RATE_LIMIT] = decision
        RATE_LIMITED.labels(kind).inc()
        if kind == "api":
            error = client_rate_exceeded(decision, self.context.settings.rate_limit)
        else:
            error = TooManyRequests(
                f"{_REFUSALS[kind]}; retry in {decision.retry_after} s",
                headers={"Retry-After": str(decision.retry_after)},
            )
        await render_at(scope["path"], error)(scope, receive, send)
