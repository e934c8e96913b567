"""Request dependencies: the application's services and the calling tenant."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from enabley.admission import CLAIMS, REFUSAL
from enabley.auth.service import ACTIVE_CLIENT
from enabley.config import Settings
from enabley.db import Database, Reader
from enabley.errors import AccessDenied
from enabley.pagination import Paginator
from enabley.ratelimit import Limits
from enabley.security import KeyRing, TokenVerifier


@dataclass(slots=True)
class Services:
    """Everything a request handler may need besides the tenant; one per application."""

    settings: Settings
    db: Database
    keyring: KeyRing
    verifier: TokenVerifier
    paginator: Paginator
    limits: Limits
    tenants: dict[str, Tenant] = field(default_factory=dict)
    """client_key -> Tenant: which account and client a key stands for never changes."""


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


AppServices = Annotated[Services, Depends(get_services)]

P = ParamSpec("P")
T = TypeVar("T")

_MAX_CACHED_TENANTS = 10_000


def _revoked() -> AccessDenied:
    return AccessDenied("The API client of this token has been revoked")


@dataclass(frozen=True, slots=True)
class Tenant:
    """Who is calling, an account through one of its API clients, and the door to its data.

    ``session()`` and ``read()`` are the only ways a route reaches the database, and both first
    confirm, on the same connection, that the client is still active: revoking a client or
    deleting its account takes effect on the very next call, on every process.
    """

    account_id: int
    client_id: int
    client_key: str = field(repr=False)
    services: Services = field(repr=False, compare=False)

    async def read(
        self, work: Callable[Concatenate[Session, Tenant, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(session, tenant, ...)`` in a unit of work that only reads, on the database's
        threads (docs/decisions/0006-execution-model.md)."""
        return await self.services.db.run(partial(self._unit, False, work, *args, **kwargs))

    async def write(
        self, work: Callable[Concatenate[Session, Tenant, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(session, tenant, ...)`` in a unit of work that writes, on the database's threads:
        committed when it returns, before the answer leaves; nothing of it kept if it raises."""
        return await self.services.db.run(partial(self._unit, True, work, *args, **kwargs))

    async def scan(
        self, work: Callable[Concatenate[Reader, Tenant, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(reader, tenant, ...)``: ``FastQuery`` reads too long to run inline (a page of a
        walk), on the database's threads, without the ORM session a unit of work opens."""
        return await self.services.db.run(partial(self._probe, work, *args, **kwargs))

    async def lookup(
        self, work: Callable[Concatenate[Reader, Tenant, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``work(reader, tenant, ...)``: ``FastQuery`` reads that are bounded index probes (a row
        by its key, a short keyset page). SQLite answers them from its own file faster than a
        thread hop, so they run inline there; on PostgreSQL they wait a network round trip, so
        they run on the database's threads like any other work."""
        return await self.services.db.probe(partial(self._probe, work, *args, **kwargs))

    def _unit(
        self,
        write: bool,
        work: Callable[Concatenate[Session, Tenant, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        with self.services.db.session(write=write, check=self._ensure_active) as session:
            return work(session, self, *args, **kwargs)

    def _probe(
        self, work: Callable[Concatenate[Reader, Tenant, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        # A probe that selects from the caller's active client (auth.service.ACTIVE_CLIENT) checks
        # it on its own; the others are checked first, on the same connection.
        check = None if getattr(work, "checks_client", False) else self._ensure_active
        with self.services.db.read(check=check) as reader:
            return work(reader, self, *args, **kwargs)

    def revoked(self) -> AccessDenied:
        return _revoked()

    def _ensure_active(self, reader: Reader | Connection) -> None:
        if isinstance(reader, Connection):
            reader = Reader(reader.dialect, reader.connection)
        row = ACTIVE_CLIENT.first(reader, {"client_key": self.client_key})
        if row is None or row.id != self.client_id:
            raise _revoked()


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
    services: Services = request.app.state.services
    state = request.scope["state"]
    claims = state.get(CLAIMS)
    if claims is None:
        raise state.get(REFUSAL) or AccessDenied(
            "Missing bearer token: send 'Authorization: Bearer <access_token>'"
        )
    tenant = services.tenants.get(claims.client_key)
    if tenant is None:
        tenant = await services.db.probe(_load_tenant, services, claims.client_key)
    state["tenant"] = tenant
    return tenant


def _load_tenant(services: Services, client_key: str) -> Tenant:
    with services.db.read() as reader:
        row = ACTIVE_CLIENT.first(reader, {"client_key": client_key})
    if row is None:
        raise _revoked()
    if len(services.tenants) >= _MAX_CACHED_TENANTS:
        services.tenants.clear()
    tenant = Tenant(account_id=row.account_id, client_id=row.id, client_key=client_key, services=services)
    services.tenants[client_key] = tenant
    return tenant


CurrentTenant = Annotated[Tenant, Depends(get_tenant)]
