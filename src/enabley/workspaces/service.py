"""Workspaces: put in by the LMS side, the targets of WORKSPACE entitlements."""

from __future__ import annotations

from sqlalchemy.orm import Session

from enabley.db.base import HasAccount, owned
from enabley.db.columns import utcnow
from enabley.db.upsert import add, insert_or_find
from enabley.errors import NotFound
from enabley.models import Workspace
from enabley.workspaces.schemas import WorkspaceData, WorkspaceInfo


def require_workspace(session: Session, tenant: HasAccount, identifier: str) -> Workspace:
    """The tenant's workspace with this identifier; 404 otherwise."""
    workspace = session.scalar(owned(Workspace, tenant).where(Workspace.external_id == identifier))
    if workspace is None:
        raise NotFound(f"Workspace {identifier!r} not found")
    return workspace


def get_workspace(session: Session, tenant: HasAccount, identifier: str) -> WorkspaceInfo:
    return WorkspaceInfo.model_validate(require_workspace(session, tenant, identifier))


def put_workspace(session: Session, tenant: HasAccount, data: WorkspaceData) -> tuple[WorkspaceInfo, bool]:
    workspace, created = upsert_workspace(session, tenant, data)
    return WorkspaceInfo.model_validate(workspace), created


def list_workspaces(session: Session, tenant: HasAccount) -> list[WorkspaceInfo]:
    return [
        WorkspaceInfo.model_validate(w)
        for w in session.scalars(owned(Workspace, tenant).order_by(Workspace.id))
    ]


def upsert_workspace(session: Session, tenant: HasAccount, data: WorkspaceData) -> tuple[Workspace, bool]:
    """Create or update; returns the workspace and whether it was created."""
    find = owned(Workspace, tenant).where(Workspace.external_id == data.identifier)
    workspace = session.scalar(find)
    if workspace is None:
        now = utcnow()
        new = Workspace(
            account_id=tenant.account_id,
            external_id=data.identifier,
            name=data.name,
            created_at=now,
            modified_at=now,
        )
        stored, created = insert_or_find(lambda: add(session, new), lambda: session.scalar(find))
        if created:
            return stored, True
        workspace = stored
    if workspace.name != data.name:
        workspace.name = data.name
        workspace.modified_at = utcnow()
        session.flush()
    return workspace, False
