"""Upload jobs: an upload accepted at once (202) and run by a worker process, on any machine.

The request's body is stored in the database as it was received (``upload_job_parts``, a row per
``PART_BYTES``), so any worker can run the job; it is deleted when the job ends. A worker claims
a due job (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's single writer serialises claims)
and holds it for a lease; a worker killed mid-run leaves its job to be claimed again once the
lease has passed. The upload and the job's end are one transaction, which succeeds only while
the claim is still the worker's: a re-run job never applies twice, and an upload that was cut
short left nothing behind (the upload is one transaction, its upserts idempotent anyway).
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any, Protocol

from sqlalchemy import ColumnElement, Engine, Select, delete, func, insert, select, update
from sqlalchemy.orm import Session

from enabley.db.base import HasAccount, owned
from enabley.db.columns import utcnow
from enabley.db.database import Database
from enabley.errors import AppError, ItemExists, NotFound, ServiceUnavailable
from enabley.events.log import emit
from enabley.models import UploadJob, UploadJobPart
from enabley.uploads import service
from enabley.uploads.csvfiles import CsvFile
from enabley.uploads.intake import IN_MEMORY
from enabley.uploads.schemas import (
    UploadJobAccepted,
    UploadJobInfo,
    UploadJobProgress,
    UploadJobStatus,
)

log = logging.getLogger(__name__)

PART_BYTES = 1024 * 1024
"""Bytes of a body per stored part: a 95 MB upload is 95 rows, none large for either database."""
LEASE = {"postgresql": timedelta(minutes=2), "sqlite": timedelta(minutes=15)}
"""How long a claim holds a job before another worker may take it. On PostgreSQL the running
worker renews it with each progress report; on SQLite the upload's transaction holds the only
write lock, so nothing is written until it ends and the lease covers the longest upload."""
REPORT_EVERY = 1.0
"""Seconds between two progress reports of a running job (not a write per row)."""
MAX_ATTEMPTS = 3
"""Starts of a job before a failure that could pass (503, 409, a lost worker) is its answer."""
RETRY_BACKOFF = timedelta(seconds=30)
KEEP = timedelta(days=7)
"""How long an ended job's status stays readable before ``purge_upload_jobs`` removes it."""
JOBS_PATH = "/api/v1/uploads/org/jobs/"
RETRIED: tuple[type[AppError], ...] = (ItemExists, ServiceUnavailable)
"""Failures of the moment: the organisation changed under the upload, the database was busy."""


class LiveProgress:
    """Progress of the jobs this process runs, as it happens (keyed by the job's row id).

    On SQLite the upload's transaction holds the database's only write lock until it ends, so
    its progress can't be stored meanwhile: the status route of the process running it (the
    server's in-process worker) reads it from here. PostgreSQL's workers also store it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, tuple[int, int]] = {}

    def set(self, job_id: int, done: int, total: int) -> None:
        with self._lock:
            self._jobs[job_id] = (done, total)

    def get(self, job_id: int) -> tuple[int, int] | None:
        with self._lock:
            return self._jobs.get(job_id)

    def drop(self, job_id: int) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)


LIVE = LiveProgress()


def status_url(base_url: str, job_key: str) -> str:
    return f"{base_url}{JOBS_PATH}{job_key}"


# The route's side.


def submit_job(
    session: Session, tenant: HasAccount, body: IO[bytes], validate_only: bool, base_url: str
) -> UploadJobAccepted:
    """Store the request's body and queue a job to upload (or only check) it."""
    job = UploadJob(
        account_id=tenant.account_id,
        job_key=secrets.token_hex(16),
        status=UploadJobStatus.QUEUED,
        validate_only=validate_only,
        body_bytes=0,
        attempts=0,
        rows_done=0,
    )
    session.add(job)
    session.flush()
    seq = size = 0
    while data := body.read(PART_BYTES):
        session.execute(insert(UploadJobPart), {"job_id": job.id, "seq": seq, "data": data})
        seq, size = seq + 1, size + len(data)
    job.body_bytes = size
    return UploadJobAccepted(
        job_id=job.job_key, status=UploadJobStatus.QUEUED, status_url=status_url(base_url, job.job_key)
    )


def get_job(session: Session, tenant: HasAccount, job_key: str, base_url: str) -> UploadJobInfo:
    """The tenant's job; 404 for any other."""
    job = session.scalar(owned(UploadJob, tenant).where(UploadJob.job_key == job_key))
    if job is None:
        raise NotFound(f"Upload job {job_key!r} not found")
    done, total = job.rows_done, job.rows_total
    if job.status == UploadJobStatus.RUNNING and (live := LIVE.get(job.id)) is not None:
        done, total = max(done, live[0]), live[1]
    return UploadJobInfo(
        job_id=job.job_key,
        status=UploadJobStatus(job.status),
        status_url=status_url(base_url, job.job_key),
        validate_only=job.validate_only,
        progress=UploadJobProgress(done=done, total=total),
        attempts=job.attempts,
        created=job.created_at,
        started=job.started_at,
        finished=job.finished_at,
        result_status=job.result_status,
        result=job.result,
    )


# The worker's side.


@dataclass(frozen=True, slots=True)
class Claim:
    job_id: int
    account_id: int
    job_key: str
    token: str
    validate_only: bool
    attempts: int


class LostClaim(Exception):
    """The job was claimed again by another worker (this one outlived its lease)."""


class HasDatabase(Protocol):
    """What the jobs need of a context: the server's (``AppContext``) or a worker's."""

    @property
    def db(self) -> Database: ...


def run_upload_jobs(context: HasDatabase, now: datetime) -> int:
    """Claim one due upload job and run it to its end; 1 when there was one, else 0."""
    claim = _claim_if_due(context.db, now)
    if claim is None:
        return 0
    _execute(context.db, claim)
    return 1


class BackgroundUploads:
    """``run_upload_jobs`` for a worker's task list: the job runs on a thread of its own, so that
    the worker's other tasks (webhook deliveries) go on during an upload of a minute. One job at
    a time per worker process; a process that ends mid-upload leaves the job to its lease."""

    def __init__(self) -> None:
        self._running: threading.Thread | None = None

    def __call__(self, context: HasDatabase, now: datetime) -> int:
        if self._running is not None and self._running.is_alive():
            return 0
        claim = _claim_if_due(context.db, now)
        if claim is None:
            return 0
        self._running = threading.Thread(
            target=_execute, args=(context.db, claim), name=f"upload-job-{claim.job_key}", daemon=True
        )
        self._running.start()
        return 1


def _claim_if_due(db: Database, now: datetime) -> Claim | None:
    try:
        with db.session() as session:
            # Looked for first in a read: SQLite's write lock is taken only when there is a job.
            if session.scalar(select(UploadJob.id).where(*_due(now)).limit(1)) is None:
                return None
        return _claim(db, now)
    except ServiceUnavailable:
        return None  # the database is busy (SQLite: another writer): the next pass looks again


def _execute(db: Database, claim: Claim) -> None:
    if claim.attempts > MAX_ATTEMPTS:
        _give_up(db, claim)
        return
    try:
        _run(db, claim)
    finally:
        LIVE.drop(claim.job_id)


def purge_upload_jobs(context: HasDatabase, now: datetime) -> int:
    """Remove the jobs that ended more than ``KEEP`` ago; how many were removed."""
    ended = (UploadJobStatus.SUCCEEDED, UploadJobStatus.FAILED)
    with context.db.session(write=True) as session:
        ids = list(
            session.scalars(
                select(UploadJob.id).where(UploadJob.status.in_(ended), UploadJob.finished_at < now - KEEP)
            )
        )
        if ids:
            session.execute(delete(UploadJobPart).where(UploadJobPart.job_id.in_(ids)))
            session.execute(delete(UploadJob).where(UploadJob.id.in_(ids)))
    return len(ids)


def due_job(now: datetime) -> Select[UploadJob]:
    """The oldest job due at ``now``, locked; on PostgreSQL one that another worker is claiming
    is skipped rather than waited for. (SQLite ignores the clause: its claims are serialised by
    its single writer.)"""
    return (
        select(UploadJob)
        .where(*_due(now))
        .order_by(UploadJob.run_after, UploadJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        UploadJob.status.in_((UploadJobStatus.QUEUED, UploadJobStatus.RUNNING)),
        UploadJob.run_after <= now,
    )


def _claim(db: Database, now: datetime) -> Claim | None:
    """The oldest due job, queued or running past its lease, now this worker's."""
    with db.session(write=True) as session:
        job = session.scalar(due_job(now))
        if job is None:
            return None
        job.status = UploadJobStatus.RUNNING
        job.claim = secrets.token_hex(16)
        job.attempts += 1
        job.started_at = job.started_at or now
        job.run_after = now + LEASE[db.dialect]
        return Claim(job.id, job.account_id, job.job_key, job.claim, job.validate_only, job.attempts)


@dataclass(frozen=True, slots=True)
class _Owner:
    account_id: int


def _run(db: Database, claim: Claim) -> None:
    try:
        _attempt(db, claim)
    except LostClaim:
        log.warning("upload job %s was claimed by another worker; this run is dropped", claim.job_key)


def _attempt(db: Database, claim: Claim) -> None:
    """Run the job; its end (or its return to the queue) is stored unless the claim was lost."""
    try:
        with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as body, ExitStack() as files_scope:
            _load_body(db, claim, body)
            files = files_scope.enter_context(service.read_files(body))
            _upload(db, claim, files)
    except LostClaim:
        raise
    except AppError as exc:
        if isinstance(exc, RETRIED) and claim.attempts < MAX_ATTEMPTS:
            _retry(db, claim)
        else:
            _end(db, claim, exc.status_code, exc.body())
    except Exception:
        log.exception("upload job %s failed", claim.job_key)
        if claim.attempts < MAX_ATTEMPTS:
            _retry(db, claim)
        else:
            _end(db, claim, 500, AppError("The upload failed on the server").body())


def _load_body(db: Database, claim: Claim, body: IO[bytes]) -> None:
    """The job's stored body, part by part, into ``body`` (rewound)."""
    with db.session() as session:
        mine = select(UploadJob.id).where(UploadJob.id == claim.job_id, UploadJob.claim == claim.token)
        if session.scalar(mine) is None:
            raise LostClaim
        parts = session.execute(
            select(UploadJobPart.data)
            .where(UploadJobPart.job_id == claim.job_id)
            .order_by(UploadJobPart.seq)
            .execution_options(yield_per=4)
        )
        for (data,) in parts:
            body.write(data)
    body.seek(0)


def _upload(db: Database, claim: Claim, files: dict[str, CsvFile]) -> None:
    owner = _Owner(claim.account_id)
    total = sum(file.count() for file in files.values())
    progress = _Progress(db, claim, total)
    progress.store(0)
    for file in files.values():
        file.counter = progress
    if claim.validate_only:
        with db.session() as session:
            result = service.validate_org(session, owner, files)
        _end(db, claim, 200, result.model_dump(mode="json", by_alias=True))
        return
    with db.session(write=True) as session:
        result = service.upload_org(session, owner, files)
        _finish(session, claim, 200, result.model_dump(mode="json", by_alias=True))


class _Progress:
    """Counts the rows checked; stores the count (and renews the lease) every ``REPORT_EVERY``."""

    def __init__(self, db: Database, claim: Claim, total: int) -> None:
        self.db, self.claim, self.total = db, claim, total
        self.done = 0
        self.reported = time.monotonic()
        # While the upload's transaction is open, only PostgreSQL takes another writer; the
        # tests' shared connection takes none either.
        self.stores_while_running = db.dialect == "postgresql" and isinstance(db.bind, Engine)

    def __call__(self, rows: int) -> None:
        self.done += rows
        LIVE.set(self.claim.job_id, self.done, self.total)
        if self.stores_while_running and time.monotonic() - self.reported >= REPORT_EVERY:
            self.store(self.done)

    def store(self, done: int) -> None:
        self.reported = time.monotonic()
        LIVE.set(self.claim.job_id, done, self.total)
        with self.db.session(write=True) as session:
            changed = session.execute(
                _mine(self.claim).values(
                    rows_done=done, rows_total=self.total, run_after=utcnow() + LEASE[self.db.dialect]
                )
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise LostClaim


def _mine(claim: Claim) -> Any:
    return update(UploadJob).where(UploadJob.id == claim.job_id, UploadJob.claim == claim.token)


def _finish(session: Session, claim: Claim, status: int, body: dict[str, Any]) -> None:
    """End the job in ``session``'s transaction: raises ``LostClaim`` (rolling back whatever the
    transaction did) unless the claim is still this worker's."""
    ok = status < 400
    values: dict[str, Any] = {
        "status": UploadJobStatus.SUCCEEDED if ok else UploadJobStatus.FAILED,
        "finished_at": utcnow(),
        "claim": None,
        "result_status": status,
        "result": body,
    }
    if status in (200, 400):  # every row was checked (a refusal lists every bad row)
        values["rows_done"] = func.coalesce(UploadJob.rows_total, UploadJob.rows_done)
    if session.execute(_mine(claim).values(values)).rowcount != 1:  # type: ignore[attr-defined]
        raise LostClaim
    session.execute(delete(UploadJobPart).where(UploadJobPart.job_id == claim.job_id))
    emit_upload_outcome(session, claim, status, body)


def emit_upload_outcome(session: Session, claim: Claim, status: int, body: dict[str, Any]) -> None:
    """The ``upload.completed`` / ``upload.failed`` event, in the transaction that ends the job:
    the job as its status route ends it (its result being the synchronous upload's answer)."""
    ok = status < 400
    data = {
        "jobId": claim.job_key,
        "status": UploadJobStatus.SUCCEEDED if ok else UploadJobStatus.FAILED,
        "validateOnly": claim.validate_only,
        "resultStatus": status,
        "result": body,
    }
    emit(session, claim.account_id, "upload.completed" if ok else "upload.failed", data)


def _end(db: Database, claim: Claim, status: int, body: dict[str, Any]) -> None:
    with db.session(write=True) as session:
        _finish(session, claim, status, body)


def _retry(db: Database, claim: Claim) -> None:
    """Back to the queue, to be tried again after a pause that grows with each attempt."""
    with db.session(write=True) as session:
        session.execute(
            _mine(claim).values(
                status=UploadJobStatus.QUEUED, claim=None, run_after=utcnow() + RETRY_BACKOFF * claim.attempts
            )
        )


def _give_up(db: Database, claim: Claim) -> None:
    """A job whose workers kept disappearing (killed, out of memory) ends failed."""
    message = (
        f"The upload was started {claim.attempts - 1} times and never finished "
        f"(the worker running it stopped); it is not tried again"
    )
    _end(db, claim, 500, AppError(message).body())
