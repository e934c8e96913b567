"""Entitlements: a user's roles on courses (ordinary channels), groups and workspaces."""

from __future__ import annotations

from sqlalchemy import and_, delete, func
from sqlalchemy.orm import Session

from enabley.channels import service as channels_service
from enabley.db.base import HasAccount, owned
from enabley.db.columns import utcnow
from enabley.db.sql import insert_ignore
from enabley.entitlements.schemas import EntityType, ExternalEntitlement
from enabley.groups import service as groups_service
from enabley.models import Channel, Entitlement, Group, Workspace
from enabley.users import service as users_service
from enabley.workspaces import service as workspaces_service


def _entity_id(session: Session, tenant: HasAccount, entity_type: EntityType, identifier: str) -> int:
    """The internal id of the entitlement's target; 404 when the account has no such entity."""
    match entity_type:
        case EntityType.GROUP:
            return groups_service.require_group(session, tenant, identifier).id
        case EntityType.WORKSPACE:
            return workspaces_service.require_workspace(session, tenant, identifier).id
        case EntityType.COURSE:
            return channels_service.require_channel(session, tenant, identifier).id


def add_entitlement(session: Session, tenant: HasAccount, data: ExternalEntitlement) -> None:
    """Give the user the role on the entity; having it already is fine."""
    user = users_service.require_user(session, tenant, data.user_identifier)
    entity_id = _entity_id(session, tenant, data.entity_type, data.entity_identifier)
    insert_ignore(
        session,
        Entitlement.__table__,
        [
            {
                "account_id": tenant.account_id,
                "user_id": user.id,
                "entity_type": data.entity_type.value,
                "entity_id": entity_id,
                "role": data.user_role.value,
                "created_at": utcnow(),
            }
        ],
    )


def remove_entitlement(session: Session, tenant: HasAccount, data: ExternalEntitlement) -> None:
    """Take the role on the entity from the user; not having it is fine."""
    user = users_service.require_user(session, tenant, data.user_identifier)
    entity_id = _entity_id(session, tenant, data.entity_type, data.entity_identifier)
    session.execute(
        delete(Entitlement).where(
            Entitlement.user_id == user.id,
            Entitlement.entity_type == data.entity_type.value,
            Entitlement.entity_id == entity_id,
            Entitlement.role == data.user_role.value,
        )
    )


def entitlements_of_user(session: Session, tenant: HasAccount, identifier: str) -> list[ExternalEntitlement]:
    user = users_service.require_user(session, tenant, identifier)
    target = func.coalesce(Group.external_id, Workspace.external_id, Channel.external_id)
    rows = session.execute(
        owned(Entitlement, tenant)
        .with_only_columns(Entitlement.entity_type, Entitlement.role, target.label("entity_identifier"))
        .outerjoin(
            Group,
            and_(
                Entitlement.entity_type == EntityType.GROUP.value,
                Group.id == Entitlement.entity_id,
                Group.account_id == Entitlement.account_id,
            ),
        )
        .outerjoin(
            Workspace,
            and_(
                Entitlement.entity_type == EntityType.WORKSPACE.value,
                Workspace.id == Entitlement.entity_id,
                Workspace.account_id == Entitlement.account_id,
            ),
        )
        .outerjoin(
            Channel,
            and_(
                Entitlement.entity_type == EntityType.COURSE.value,
                Channel.id == Entitlement.entity_id,
                Channel.account_id == Entitlement.account_id,
                Channel.is_master.is_(False),
            ),
        )
        .where(Entitlement.user_id == user.id, target.is_not(None))
        .order_by(Entitlement.id)
    )
    return [
        ExternalEntitlement(
            entity_identifier=row.entity_identifier,
            entity_type=EntityType(row.entity_type),
            user_identifier=user.external_id,
            user_role=row.role,
        )
        for row in rows
    ]
