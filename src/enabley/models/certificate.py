"""Certificates, the courses that earn them, per-user certificate facts, and each learner's kept
standing in each certificate."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.db.columns import utcnow
from enabley.models.identity import NEVER_REUSED_IDS, link_id_column
from enabley.models.lengths import TEXT_LENGTH


class Certificate(TenantOwned, Base):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_certificates_account_id_id", "account_id", "id"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    link_id: Mapped[uuid.UUID] = link_id_column()
    name: Mapped[str] = mapped_column(String(TEXT_LENGTH))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    expiration_duration: Mapped[int | None] = mapped_column(Integer)
    expiration_period: Mapped[str | None] = mapped_column(String(8))
    requires_learner_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertificateCourse(Base):
    __tablename__ = "certificate_courses"
    __table_args__ = (Index("ix_certificate_courses_channel_id", "channel_id"),)

    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class UserCertificate(Base):
    """What is recorded about a user and a certificate; the state itself is derived (the compliance
    answers read what the derivation gives, kept in ``certificate_standings``)."""

    __tablename__ = "user_certificates"
    __table_args__ = (Index("ix_user_certificates_certificate_id", "certificate_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    is_required: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]


class CertificateStanding(TenantOwned, Base):
    """Each learner's standing in a certificate, derived from the records above and kept as they
    are written (``compliance.standings``): what the state will be at any instant, without
    re-deriving it from the progress of every course. A pair without a row has no record at all:
    INIT, never certified. ``due`` orders the compliance listings and ranges every status over an
    index: the expiration date when certified, else a far-future sentinel
    (``compliance.rules.NEVER_ENDS`` when the certification never ends, ``NOT_CERTIFIED`` when it
    is not held)."""

    __tablename__ = "certificate_standings"
    __table_args__ = (
        Index("ix_certificate_standings_certificate_id_due", "certificate_id", "due", "user_id"),
        Index("ix_certificate_standings_account_id_due", "account_id", "due", "user_id", "certificate_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    is_required: Mapped[bool] = mapped_column(Boolean)
    unearned_state: Mapped[str | None] = mapped_column(String(32))
    """INIT, IN_PROGRESS, AWAITS_LEARNER_CONFIRMATION or REVOKED; NULL once earned."""
    certification_date: Mapped[datetime | None]
    expiration_date: Mapped[datetime | None]
    due: Mapped[datetime]


class ComplianceTally(TenantOwned, Base):
    """How many required (learner, certificate) pairs of a group's subtree stand in each bucket:
    an unearned state, or for a certificate held the UTC day it ends (``compliance.tallies``).
    Kept by the worker from ``ComplianceContribution``; ``group_id`` 0 is the whole account."""

    __tablename__ = "compliance_tallies"
    __table_args__ = (Index("ix_compliance_tallies_certificate_id", "certificate_id"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    unearned_state: Mapped[str] = mapped_column(String(32), primary_key=True)
    """The standing's unearned state, '' when the certificate is held."""
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    """The UTC day of the standing's ``due``."""
    pairs: Mapped[int] = mapped_column(BigInteger)


class ComplianceContribution(TenantOwned, Base):
    """Where each learner's required standings are counted in ``ComplianceTally``: one row per
    (learner, certificate, group he counts in: each group he belongs to, their ancestors, and 0
    for the account). No key to the user: a deleted learner's rows wait for the recount that
    takes them out of the tallies."""

    __tablename__ = "compliance_contributions"
    __table_args__ = (
        Index("ix_compliance_contributions_account_id_group_id", "account_id", "group_id"),
        Index("ix_compliance_contributions_certificate_id", "certificate_id"),
    )

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_id: Mapped[int] = mapped_column(
        ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unearned_state: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)


class ComplianceLearner(TenantOwned, Base):
    """The learners counted in the compliance tallies (with contributions), or marked to be:
    ``waiting`` when their contributions may no longer match their standings, memberships and
    groups. Marked in the transaction that changed those (by ``compliance.standings`` and by
    triggers on memberships, groups and users), recounted by the worker; reads correct for them
    meanwhile. One row per learner, so that a membership's trigger finds in one probe whether he
    is counted or marked."""

    __tablename__ = "compliance_learners"
    __table_args__ = (
        Index(
            "ix_compliance_learners_waiting",
            "account_id",
            "user_id",
            sqlite_where=text("waiting = 1"),  # as SQLAlchemy writes the test
            postgresql_where=text("waiting"),
        ),
    )

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    waiting: Mapped[bool] = mapped_column(Boolean)
