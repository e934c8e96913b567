"""Upload jobs: an organisation upload accepted now and run by a worker, on any machine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from enabley.db.base import Base, TenantOwned
from enabley.db.columns import utcnow
from enabley.models.identity import NEVER_REUSED_IDS


class UploadJob(TenantOwned, Base):
    """One upload to run. Its body waits in ``upload_job_parts`` until the job ends."""

    __tablename__ = "upload_jobs"
    __table_args__ = (
        # Also serves the foreign key to accounts (its leading column).
        UniqueConstraint("account_id", "job_key"),
        # The workers' claim: due jobs by status, oldest first; and the purge of finished ones.
        Index("ix_upload_jobs_status_run_after", "status", "run_after"),
        NEVER_REUSED_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_key: Mapped[str] = mapped_column(String(32))
    """The job's id on the wire: random, never the integer key."""
    status: Mapped[str] = mapped_column(String(16), default="queued")
    validate_only: Mapped[bool] = mapped_column(Boolean, default=False)
    body_bytes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    run_after: Mapped[datetime] = mapped_column(default=utcnow)
    """When a worker may take the job: now, a retry's backoff, or a running job's lease end."""
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    claim: Mapped[str | None] = mapped_column(String(32))
    """The running worker's token: only that worker may finish the job or move its progress."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    result_status: Mapped[int | None] = mapped_column(Integer)
    """The HTTP status the synchronous upload would have answered."""
    result: Mapped[dict[str, Any] | None]


class UploadJobPart(Base):
    """A slice of a job's request body, as it was received: workers read the body from here."""

    __tablename__ = "upload_job_parts"

    job_id: Mapped[int] = mapped_column(ForeignKey("upload_jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
