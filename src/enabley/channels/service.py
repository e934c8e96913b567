"""Channels, master channels and their instances."""

from __future__ import annotations

from sqlalchemy.orm import Session

from enabley.db import HasAccount, owned
from enabley.errors import NotFound
from enabley.models import Channel


def require_channel(
    session: Session, tenant: HasAccount, identifier: str, *, master: bool | None = False
) -> Channel:
    """The tenant's channel with this identifier; 404 otherwise.

    ``master``: False for ordinary channels (the default), True for master channels, None for either
    (they share one identifier space).
    """
    stmt = owned(Channel, tenant).where(Channel.external_id == identifier)
    if master is not None:
        stmt = stmt.where(Channel.is_master.is_(master))
    channel = session.scalar(stmt)
    if channel is None:
        kind = "Master channel" if master else "Channel"
        raise NotFound(f"{kind} {identifier!r} not found")
    return channel
