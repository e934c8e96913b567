"""Who calls ``/scim/v2``: an account (or one of its sub-accounts) through a SCIM token.

``admission.AdmissionMiddleware`` finds the token's row once per request (``verify``); the
route's dependency (``get_scim_tenant``) turns it into a ``ScimTenant``, whose every unit of
work confirms again, on its own connection, that the token is still unrevoked.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    def _ensure_active(self, reader: Reader | Connection) -> None:
        if isinstance(reader, Connection):
            reader = Reader(reader.dialect, reader.connection)
        if not tokens.still_active(reader, self.client_id):
            raise revoked()


async def get_scim_tenant(request: Request) -> ScimTenant:
    """The tenant behind the SCIM bearer token; 401 for anything else."""
    context: AppContext = request.app.state.context
    state = request.scope["state"]
    row = state.get(SCIM_TOKEN)
    if row is None:
        raise state.get(REFUSAL) or AccessDenied(
            "Missing bearer token: send 'Authorization: Bearer <SCIM token>'"
        )
    tenant = ScimTenant(
        account_id=row.account_id,
        client_id=row.id,
        client_key=tokens.limiter_key(row),
        db=context.db,
        sub_account_id=row.sub_account_id,
        group_type=row.group_type,
    )
    state["tenant"] = tenant
    return tenant


ScimCaller = Annotated[ScimTenant, Depends(get_scim_tenant)]
