"""Plain factory functions: they add and flush through the test's session, never commit."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.compliance import standings, tallies
from enabley.console import service as console_service
from enabley.events import log as events_log
from enabley.models import (
    Account,
    ApiClient,
    CatalogEntry,
    Certificate,
    CertificateCourse,
    CertificateNotice,
    Channel,
    ChannelGroup,
    ChannelItem,
    ChannelUser,
    ConsoleSession,
    ConsoleUser,
    Entitlement,
    Group,
    IdempotencyKey,
    ItemProgress,
    Profile,
    SubAccount,
    UploadJob,
    UploadJobPart,
    User,
    UserCertificate,
    UserGroup,
    UserPermission,
    UserProfile,
    UserSubAccount,
    WebhookDelivery,
    WebhookEndpoint,
    Workspace,
)
from enabley.scim import tokens as scim_tokens

_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_seq)}"


def make_account(session: Session, name: str | None = None, sub_accounts: list[str] | None = None) -> Account:
    return accounts_service.create_account(session, name or unique("account"), sub_accounts or [])


def make_client(session: Session, account: Account) -> tuple[str, str]:
    client, secret = auth_service.create_client(session, account.name)
    return client.client_key, secret


def user_body(identifier: str | None = None, **fields: Any) -> dict[str, Any]:
    identifier = identifier or unique("user")
    body: dict[str, Any] = {
        "identifier": identifier,
        "email": f"{identifier}@example.com",
        "firstName": "Ana",
        "lastName": "Souza",
    }
    body.update(fields)
    return body


def make_group(
    session: Session, account: Account, external_id: str | None = None, parent: Group | None = None
) -> Group:
    external_id = external_id or unique("group")
    group = Group(
        account_id=account.id,
        external_id=external_id,
        name=external_id,
        parent_id=parent.id if parent is not None else None,
    )
    session.add(group)
    session.flush()
    return group


def add_to_group(session: Session, user_id: int, group: Group) -> None:
    session.add(UserGroup(user_id=user_id, group_id=group.id))
    session.flush()


def make_course(
    session: Session, account: Account, external_id: str | None = None, *, is_master: bool = False
) -> Channel:
    """A channel row (ordinary unless ``is_master``), for tests that only need one to exist."""
    external_id = external_id or unique("course")
    channel = Channel(account_id=account.id, external_id=external_id, name=external_id, is_master=is_master)
    session.add(channel)
    session.flush()
    return channel


@contextmanager
def counted_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run through ``engine`` inside the block (to keep N+1 queries out)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def make_user(session: Session, account: Account, external_id: str | None = None, **fields: Any) -> User:
    """A user row; ``fields`` are User columns (first_name, last_name, ...)."""
    user = User(account_id=account.id, external_id=external_id or unique("user"), **fields)
    session.add(user)
    session.flush()
    return user


def make_channel(
    session: Session, account: Account, external_id: str | None = None, name: str | None = None
) -> Channel:
    external_id = external_id or unique("channel")
    channel = Channel(account_id=account.id, external_id=external_id, name=name or external_id)
    session.add(channel)
    session.flush()
    return channel


def make_channel_item(
    session: Session,
    channel: Channel,
    external_id: str | None = None,
    *,
    kind: str = "CONTENT",
    optional: bool = False,
    scored: bool = False,
) -> ChannelItem:
    """A content item (kind CONTENT) or training event (kind EVENT) of the channel."""
    external_id = external_id or unique("item")
    item = ChannelItem(
        account_id=channel.account_id,
        channel_id=channel.id,
        external_id=external_id,
        kind=kind,
        name=external_id,
        optional=optional,
        scored=scored,
    )
    session.add(item)
    session.flush()
    return item


def enrol_user(session: Session, channel: Channel, user: User, role: str = "LEARNER") -> None:
    """Assign the user to the channel directly."""
    session.add(ChannelUser(channel_id=channel.id, user_id=user.id, role=role))
    session.flush()


def assign_channel_group(
    session: Session, channel: Channel, group: Group, *, recursive: bool = False
) -> None:
    session.add(ChannelGroup(channel_id=channel.id, group_id=group.id, recursive=recursive))
    session.flush()


FILLED_AT = datetime(2026, 5, 4, 12, tzinfo=UTC)


def fill_account(db: Session, account: Account) -> None:
    """A row of this account in every table (tests/test_account_deletion.py proves it is every one)."""
    sub = db.scalars(select(SubAccount).where(SubAccount.account_id == account.id)).first()
    assert sub is not None
    client_key, _secret = make_client(db, account)
    ana = make_user(db, account, "ana", first_name="Ana", email="ana@example.com")
    bob = make_user(db, account, "bob", last_name="Reis")
    parent = make_group(db, account, "company")
    team = make_group(db, account, "team", parent=parent)
    team.sub_account_id = sub.id
    master = make_course(db, account, "master", is_master=True)
    course = make_channel(db, account, "course")
    course.master_id, course.sub_account_id = master.id, sub.id
    item = make_channel_item(db, course, "i1")
    profile = Profile(account_id=account.id, external_id="driver", name="Driver")
    workspace = Workspace(account_id=account.id, external_id="ws", name="Workspace")
    certificate = Certificate(account_id=account.id, external_id="cert", name="Forklift")
    db.add_all([profile, workspace, certificate])
    db.flush()
    console_user, _password = console_service.create_user(
        db, account.name, f"{unique('console')}@example.com", sub.name
    )
    console_service.open_session(db, console_user.id, hours=1)
    db.add_all(
        [
            UserSubAccount(user_id=ana.id, sub_account_id=sub.id),
            UserPermission(user_id=ana.id, permission="ADMIN"),
            UserGroup(user_id=bob.id, group_id=team.id),
            UserProfile(user_id=ana.id, profile_id=profile.id),
            ChannelUser(channel_id=course.id, user_id=ana.id, role="LEARNER"),
            ChannelGroup(channel_id=course.id, group_id=team.id),
            ItemProgress(
                user_id=ana.id, item_id=item.id, channel_id=course.id, completed=True, completed_at=FILLED_AT
            ),
            CertificateCourse(certificate_id=certificate.id, channel_id=course.id),
            UserCertificate(user_id=ana.id, certificate_id=certificate.id, is_required=True),
            Entitlement(
                account_id=account.id, user_id=bob.id, entity_type="GROUP", entity_id=team.id, role="ADMIN"
            ),
            CatalogEntry(account_id=account.id, catalog_item_id=unique("entry"), channel_id=course.id),
            CatalogEntry(
                account_id=account.id,
                catalog_item_id=unique("entry"),
                channel_id=course.id,
                sub_account_id=sub.id,
            ),
        ]
    )
    events_log.emit(db, account.id, "user.created", {"identifier": "ana"})
    db.add(
        CertificateNotice(
            user_id=ana.id, certificate_id=certificate.id, type="certificate.expired", certified_at=FILLED_AT
        )
    )
    endpoint = WebhookEndpoint(
        account_id=account.id,
        external_id="hook",
        url="https://hooks.example.com/enabley",
        event_types=["user.*"],
        sealed_secret="sealed",
    )
    db.add(endpoint)
    db.flush()
    standings.refresh_account(db, account)  # the certificate records above, written around the services
    tallies.recount_account(db, account)
    db.add(UserGroup(user_id=ana.id, group_id=parent.id))  # marks ana, counted, for a recount
    db.add(
        WebhookDelivery(
            account_id=account.id,
            public_id=unique("dlv"),
            endpoint_id=endpoint.id,
            message_id=unique("evt"),
            event_type="user.created",
            payload="{}",
            retry_until=FILLED_AT,
        )
    )
    job = UploadJob(account_id=account.id, job_key=unique("job"))
    db.add(job)
    db.flush()
    db.add(UploadJobPart(job_id=job.id, seq=0, data=b"identifier\n"))
    client = db.scalars(select(ApiClient).where(ApiClient.client_key == client_key)).one()
    scim_tokens.create_token(db, account.name, sub.name, None)
    console_user = ConsoleUser(
        account_id=account.id, email=f"{unique('console')}@example.com", password_hash="argon2-hash"
    )
    db.add(console_user)
    db.flush()
    db.add(
        ConsoleSession(
            token_hash=unique("session").ljust(64, "0"),
            console_user_id=console_user.id,
            csrf_token="csrf",
            expires_at=FILLED_AT,
        )
    )
    db.add(
        IdempotencyKey(
            account_id=account.id,
            client_id=client.id,
            key=unique("key"),
            fingerprint="0" * 64,
            created_at=FILLED_AT,
            status=201,
        )
    )
    db.flush()
