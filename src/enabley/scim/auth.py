"""Who calls ``/scim/v2``: an account (or one of its sub-accounts) through a SCIM token.

``admission.AdmissionMiddleware`` finds the token (``tokens.verify``: from the tokens this
process found active, else by a probe); the route's dependency (``get_scim_tenant``) answers the
``ScimTenant`` it stands for, made by its first request and kept with it. Every unit of work of
that tenant confirms, in its own transaction, that the token is still unrevoked: that check, not
the door's, is what makes a revocation take effect on the next call on every process (a unit
that finds the token revoked also forgets it at the door). Routes that need no data (discovery)
still make one such check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from enabley.admission import REFUSAL, SCIM_TOKEN
from enabley.db.fastquery import Reader
from enabley.deps import AppContext, Tenant
from enabley.errors import AccessDenied
from enabley.scim import tokens

SCIM_BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A SCIM token from `enabley scim tokens create`, sent as `Authorization: Bearer <token>`.",
}


def refused() -> AccessDenied:
    return AccessDenied("Invalid or revoked SCIM token")


def revoked() -> AccessDenied:
    return AccessDenied("The SCIM token has been revoked")


@dataclass(frozen=True, slots=True)
class ScimTenant(Tenant):
    """A tenant whose credential is a SCIM token: the door of ``Tenant``, checked against the token.

    ``client_id`` is the token's row id and ``client_key`` names it for the rate limiter; no API
    client has that key, so a probe that checks an API client on its own (``checks_client``)
    refuses it rather than serve it.
    """

    sub_account_id: int | None
    group_type: str | None
    base_url: str = field(default="", repr=False, compare=False)
    """What the links in its answers start with (``AppContext.base_url``)."""
    known: tokens.ActiveTokens | None = field(default=None, repr=False, compare=False)

    def _ensure_active(self, reader: Reader | Connection) -> None:
        if isinstance(reader, Connection):
            reader = Reader(reader.dialect, reader.connection)
        if not tokens.still_active(reader, self.client_id):
            if self.known is not None:
                self.known.forget(self.client_id)
            raise revoked()

    async def confirm(self) -> None:
        """Checks that the token is still unrevoked, for a route that reads nothing else."""
        await self.lookup(_nothing)


def _nothing(reader: Reader, tenant: ScimTenant) -> None:
    """No work: the door's check of the token (``_ensure_active``) runs before it."""


async def get_scim_tenant(request: Request) -> ScimTenant:
    """The tenant behind the SCIM bearer token; 401 for anything else."""
    state = request.scope["state"]
    known: tokens.KnownToken | None = state.get(SCIM_TOKEN)
    if known is None:
        raise state.get(REFUSAL) or AccessDenied(
            "Missing bearer token: send 'Authorization: Bearer <SCIM token>'"
        )
    tenant: ScimTenant | None = known.tenant
    if tenant is None:
        # Made once per token and process: what it holds never changes while the token is active.
        context: AppContext = request.app.state.context
        row = known.row
        tenant = known.tenant = ScimTenant(
            account_id=row.account_id,
            client_id=row.id,
            client_key=known.limiter_key,
            db=context.db,
            sub_account_id=row.sub_account_id,
            group_type=row.group_type,
            base_url=context.base_url,
            known=context.scim_tokens,
        )
    state["tenant"] = tenant
    return tenant


ScimCaller = Annotated[ScimTenant, Depends(get_scim_tenant)]
