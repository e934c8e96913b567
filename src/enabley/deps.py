"""Request dependencies: the application's context and the calling tenant."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, Concatenate, ParamSpec, Self, TypeVar

from cachetools import LRUCache
from fastapi import Depends, Query, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from enabley.admission import CLAIMS, REFUSAL
from enabley.auth.service import ACTIVE_CLIENT, revoked
from enabley.config import Settings
from enabley.db.database import Database
from enabley.db.fastquery import Reader
from enabley.errors import AccessDenied
from enabley.pagination import PageQuery, Paginator, Walk
from enabley.ratelimit import Limits
from enabley.scim.tokens import ActiveTokens
from enabley.security import Claims, KeyRing, TokenVerifier

MAX_CACHED_TENANTS = 10_000


@dataclass(slots=True)
class AppContext:
    """Everything a request handler may need besides the tenant; one per application."""

    settings: Settings
    db: Database
    keyring: KeyRing
    verifier: TokenVerifier
    paginator: Paginator
    limits: Limits
    tenants: LRUCache[str, Tenant] = field(default_factory=lambda: LRUCache(MAX_CACHED_TENANTS))
    """client_key -> Tenant: which account and client a key stands for never changes. Used on the
    event loop only (cachetools' caches are not thread-safe); full, it forgets the client that
    called least recently, not every client at once."""
    scim_tokens: ActiveTokens = field(default_factory=ActiveTokens)
    """The SCIM tokens this process found active (``scim.tokens.ActiveTokens``)."""

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url.rstrip("/")


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


Context = Annotated[AppContext, Depends(get_context)]


async def get_base_url(request: Request) -> str:
    context: AppContext = request.app.state.context
    return context.base_url


BaseUrl = Annotated[str, Depends(get_base_url)]
"""The server's public address (ENABLEY_PUBLIC_BASE_URL, without a trailing slash): what the
links in answers start with."""

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Tenant:
    """Who is calling, an account through one of its API clients, and the door to its data.

    ``read``, ``write``, ``scan`` and ``lookup`` are the only ways a route reaches the database
    (decision 0006), and each first confirms, on the same connection, that the client is still
    active: revoking a client or deleting its account takes effect on the very next call, on
    every process.
    """

    account_id: int
    client_id: int
    client_key: str = field(repr=False)
    db: Database = field(repr=False, compare=False)

    async def read(
        self, work: Callable[Concatenate[Session, Self, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(session, tenant, ...)`` in a unit of work that only reads, on the database's
        threads (docs/decisions/0006-execution-model.md)."""
        return await self.db.run(partial(self._unit, False, work, *args, **kwargs))

    async def write(
        self, work: Callable[Concatenate[Session, Self, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(session, tenant, ...)`` in a unit of work that writes, on the database's threads:
        committed when it returns, before the answer leaves; nothing of it kept if it raises."""
        return await self.db.run(partial(self._unit, True, work, *args, **kwargs))

    async def scan(
        self, work: Callable[Concatenate[Reader, Self, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(reader, tenant, ...)``: ``FastQuery`` reads too long to run inline (a page of a
        walk), on the database's threads, without the ORM session a unit of work opens."""
        return await self.db.run(partial(self._probe, work, *args, **kwargs))

    async def lookup(
        self, work: Callable[Concatenate[Reader, Self, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(reader, tenant, ...)``: ``FastQuery`` reads that are bounded index probes (a row
        by its key, a short keyset page). SQLite answers them from its own file faster than a
        thread hop, so they run inline there; on PostgreSQL they wait a network round trip, so
        they run on the database's threads like any other work."""
        return await self.db.probe(partial(self._probe, work, *args, **kwargs))

    def _unit(
        self,
        write: bool,
        work: Callable[Concatenate[Session, Self, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        with self.db.session(write=write, check=self._ensure_active) as session:
            return work(session, self, *args, **kwargs)

    def _probe(self, work: Callable[Concatenate[Reader, Self, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        # A probe that selects from the caller's active client (auth.service.ACTIVE_CLIENT) checks
        # it on its own; the others are checked first, on the same connection.
        check = None if getattr(work, "checks_client", False) else self._ensure_active
        with self.db.read(check=check) as reader:
            return work(reader, self, *args, **kwargs)

    def _ensure_active(self, reader: Reader | Connection) -> None:
        if isinstance(reader, Connection):
            reader = Reader(reader.dialect, reader.connection)
        row = ACTIVE_CLIENT.first(reader, {"client_key": self.client_key})
        if row is None or row.id != self.client_id:
            raise revoked()


BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "An access token from `POST /api/v1/token`, sent as `Authorization: Bearer <token>`.",
}


async def get_tenant(request: Request) -> Tenant:
    """The tenant behind the bearer token; 401 ``access_denied`` for anything unacceptable.

    ``admission.AdmissionMiddleware`` has verified the token already (and counted the request
    against its client): this reads its outcome from the scope's state. A sub-dependency such as
    ``HTTPBearer`` would cost as much as the token check itself on the hottest paths;
    ``openapi.py`` documents the scheme.
    """
    context: AppContext = request.app.state.context
    state = request.scope["state"]
    claims = state.get(CLAIMS)
    if claims is None:
        raise state.get(REFUSAL) or AccessDenied(
            "Missing bearer token: send 'Authorization: Bearer <access_token>'"
        )
    tenant = await tenant_for(context, claims)
    state["tenant"] = tenant
    return tenant


async def tenant_for(context: AppContext, claims: Claims) -> Tenant:
    """The tenant a verified token stands for (cached: it never changes); 401 when its client
    is gone. For the layers that run before the route (idempotency keys)."""
    tenant = context.tenants.get(claims.client_key)
    if tenant is None:
        tenant = await context.db.probe(_load_tenant, context, claims.client_key)
        context.tenants[claims.client_key] = tenant
    return tenant


def _load_tenant(context: AppContext, client_key: str) -> Tenant:
    with context.db.read() as reader:
        row = ACTIVE_CLIENT.first(reader, {"client_key": client_key})
    if row is None:
        raise revoked()
    return Tenant(account_id=row.account_id, client_id=row.id, client_key=client_key, db=context.db)


CurrentTenant = Annotated[Tenant, Depends(get_tenant)]


Q = TypeVar("Q", bound=PageQuery)


def paged(endpoint: str, query: type[Q]) -> Any:
    """The dependency of a paged route: its query parameters read as ``query`` (filters and
    ``paginationKey``), and the walk they ask for opened for the calling tenant, whose key binds
    it to ``endpoint``. Use as ``Annotated[Walk[Query], paged("v3/things", Query)]``."""

    async def open_walk(request: Request, params: Any, tenant: Tenant) -> Walk[Q]:
        context: AppContext = request.app.state.context
        return context.paginator.walk(params, account_id=tenant.account_id, endpoint=endpoint)

    # The parameters' model is this call's: set in the signature FastAPI reads, since a string
    # annotation naming a local can't be resolved.
    open_walk.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
            inspect.Parameter(
                "params", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[query, Query()]
            ),
            inspect.Parameter("tenant", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=CurrentTenant),
        ]
    )
    return Depends(open_walk)
