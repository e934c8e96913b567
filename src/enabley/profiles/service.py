"""User profiles (job profiles) and the users who hold them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from enabley.db.base import HasAccount, owned
from enabley.db.columns import utcnow
from enabley.db.sql import insert_ignore
from enabley.db.upsert import add, insert_or_find
from enabley.errors import NotFound
from enabley.models import Profile, UserProfile
from enabley.profiles.schemas import UserProfileData, UserProfileInfo
from enabley.users import service as users_service


def require_profile(session: Session, tenant: HasAccount, identifier: str) -> Profile:
    """The tenant's profile with this identifier; 404 otherwise."""
    profile = session.scalar(owned(Profile, tenant).where(Profile.external_id == identifier))
    if profile is None:
        raise NotFound(f"User profile {identifier!r} not found")
    return profile


def profiles_by_identifiers(
    session: Session, tenant: HasAccount, identifiers: Sequence[str]
) -> list[UserProfileInfo]:
    """The profiles among ``identifiers`` that exist, each once; unknown identifiers are skipped."""
    wanted = list(dict.fromkeys(identifiers))
    if not wanted:
        return []
    profiles = session.scalars(
        owned(Profile, tenant).where(Profile.external_id.in_(wanted)).order_by(Profile.id)
    )
    return [UserProfileInfo.model_validate(p) for p in profiles]


def put_profile(session: Session, tenant: HasAccount, data: UserProfileData) -> tuple[UserProfileInfo, bool]:
    profile, created = upsert_profile(session, tenant, data)
    return UserProfileInfo.model_validate(profile), created


def upsert_profile(session: Session, tenant: HasAccount, data: UserProfileData) -> tuple[Profile, bool]:
    """Create or update; returns the profile and whether it was created."""
    find = owned(Profile, tenant).where(Profile.external_id == data.identifier)
    profile = session.scalar(find)
    if profile is None:
        now = utcnow()
        new = Profile(
            account_id=tenant.account_id,
            external_id=data.identifier,
            name=data.name,
            created_at=now,
            modified_at=now,
        )
        stored, created = insert_or_find(lambda: add(session, new), lambda: session.scalar(find))
        if created:
            return stored, True
        profile = stored
    if profile.name != data.name:
        profile.name = data.name
        profile.modified_at = utcnow()
        session.flush()
    return profile, False


def profiles_of_user(session: Session, tenant: HasAccount, user_identifier: str) -> list[UserProfileInfo]:
    user = users_service.require_user(session, tenant, user_identifier)
    profiles = session.scalars(
        owned(Profile, tenant)
        .where(Profile.id.in_(select(UserProfile.profile_id).where(UserProfile.user_id == user.id)))
        .order_by(Profile.id)
    )
    return [UserProfileInfo.model_validate(p) for p in profiles]


def assign_user(
    session: Session, tenant: HasAccount, profile_identifier: str, user_identifier: str, *, replace: bool
) -> None:
    profile = require_profile(session, tenant, profile_identifier)
    user = users_service.require_user(session, tenant, user_identifier)
    if replace:
        session.execute(
            delete(UserProfile).where(UserProfile.user_id == user.id, UserProfile.profile_id != profile.id)
        )
    insert_ignore(session, UserProfile.__table__, [{"user_id": user.id, "profile_id": profile.id}])


def remove_user(session: Session, tenant: HasAccount, profile_identifier: str, user_identifier: str) -> None:
    profile = require_profile(session, tenant, profile_identifier)
    user = users_service.require_user(session, tenant, user_identifier)
    session.execute(
        delete(UserProfile).where(UserProfile.user_id == user.id, UserProfile.profile_id == profile.id)
    )
