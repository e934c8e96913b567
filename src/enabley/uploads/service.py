"""The organisation upload: groups.csv and users.csv, checked whole and written in one go.

Every row is checked; a refused upload names every bad row (up to ``MAX_LISTED_ERRORS``) and
writes nothing. The groups are written once all of them are checked, the users a chunk at a time
as they are checked, while no row has been refused: the caller runs all of it in one transaction,
which a refusal rolls back, so a refused upload, a crash or a kill half-way leaves the database
as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enabley.collector import collector_paused
from enabley.db.base import HasAccount, owned
from enabley.db.columns import utcnow
from enabley.errors import AppError, InvalidRequest, ItemExists, describe_validation_error
from enabley.events import log
from enabley.groups import service as groups_service
from enabley.models import Group, Profile, SubAccount
from enabley.uploads import groups_file, users_file
from enabley.uploads.body import Contents, MalformedJson, Text, TooManyFiles, read_request
from enabley.uploads.csvfiles import CsvFile
from enabley.uploads.problems import Problem, Problems
from enabley.uploads.schemas import (
    MAX_LISTED_ERRORS,
    ExternalOrgBulkUploadResponse,
    UploadCounts,
    UploadErrorResponse,
    UploadRowError,
)

GROUPS, USERS = "groups.csv", "users.csv"
_FILES = {
    GROUPS: (groups_file.COLUMNS, groups_file.REQUIRED),
    USERS: (users_file.COLUMNS, users_file.REQUIRED),
}


class UploadRejected(InvalidRequest):
    """400 with every problem found: the spec's ErrorResponse plus ``errors`` and ``moreErrors``."""

    def __init__(self, description: str, problems: Sequence[Problem] = (), more: int = 0) -> None:
        super().__init__(description)
        self.problems = list(problems)
        self.more = more

    def body(self) -> dict[str, Any]:
        return UploadErrorResponse.model_validate(
            {
                "error": self.error,
                "error_description": self.description,
                "errors": [UploadRowError(**p._asdict()) for p in self.problems],
                "more_errors": self.more,
            }
        ).model_dump(mode="json", by_alias=True)


def _rejection(problems: Problems) -> UploadRejected:
    listed = problems.listed()
    return UploadRejected(problems.summary(), listed, problems.total - len(listed))


@contextmanager
def read_files(body: IO[bytes]) -> Iterator[dict[str, CsvFile]]:
    """The request's files by name, their headers checked: what needs no database. ``body`` is
    the request body; the files' texts last as long as the context."""
    with Contents() as contents:
        given = _read_request(body, contents)
        problems = Problems([name for name, _ in given], MAX_LISTED_ERRORS)
        files: dict[str, CsvFile] = {}
        for name, text in given:
            if name not in _FILES:
                problems.add(name, None, None, f"Unknown file {name!r}: expected {' or '.join(_FILES)}")
            elif name in files:
                problems.add(name, None, None, f"File {name!r} is given more than once")
            else:
                files[name] = CsvFile(name, text)
        for name, file in files.items():
            file.read_header(*_FILES[name], problems)
        if problems:
            raise _rejection(problems)
        yield files


def _read_request(body: IO[bytes], contents: Contents) -> list[tuple[str, Text]]:
    try:
        return read_request(body, contents)
    except MalformedJson as exc:
        error = {"type": "json_invalid", "ctx": {"error": str(exc)}}
        raise UploadRejected(describe_validation_error([error])) from None
    except TooManyFiles as exc:
        raise UploadRejected(str(exc)) from None
    except ValidationError as exc:
        raise UploadRejected(describe_validation_error(exc.errors())) from None


def upload_org(
    session: Session, tenant: HasAccount, files: dict[str, CsvFile]
) -> ExternalOrgBulkUploadResponse:
    """Check every row of the files, then create and update groups (parents first) and users."""
    with collector_paused():
        return _upload_org(session, tenant, files, validate_only=False)


def upload_org_sync(
    session: Session, tenant: HasAccount, files: dict[str, CsvFile]
) -> ExternalOrgBulkUploadResponse | AppError:
    """``upload_org`` for the synchronous route, with its ``upload.completed`` or ``upload.failed``
    event (an upload job emits its own, naming the job).

    A refused upload is answered, not raised: what it wrote is taken back (a savepoint), and the
    caller's transaction commits its ``upload.failed`` event; the caller raises the refusal."""
    try:
        with session.begin_nested():
            answer = upload_org(session, tenant, files)
    except (UploadRejected, ItemExists) as refusal:
        log.emit(session, tenant.account_id, "upload.failed", refusal.body())
        return refusal
    log.emit_object(session, tenant.account_id, "upload.completed", answer)
    return answer


def validate_org(
    session: Session, tenant: HasAccount, files: dict[str, CsvFile]
) -> ExternalOrgBulkUploadResponse:
    """Check every row of the files as ``upload_org`` does, writing nothing: the counts say what
    the upload would create, update and leave unchanged. Runs in a unit of work that only reads."""
    with collector_paused():
        return _upload_org(session, tenant, files, validate_only=True)


def _upload_org(
    session: Session, tenant: HasAccount, files: dict[str, CsvFile], *, validate_only: bool
) -> ExternalOrgBulkUploadResponse:
    # Tree writes of this account wait for the upload, and a concurrent upload waits its turn. A
    # validation reads a snapshot and locks nothing (a read-only transaction can't).
    hierarchy = (
        groups_service.account_hierarchy(session, tenant)
        if validate_only
        else groups_service.lock_account(session, tenant)
    )
    sub_accounts = {
        name: id_
        for name, id_ in session.execute(
            owned(SubAccount, tenant).with_only_columns(SubAccount.name, SubAccount.id)
        )
    }
    problems = Problems(files, MAX_LISTED_ERRORS)
    now = utcnow()
    groups = groups_file.GroupsUpload(session, tenant, files.get(GROUPS), hierarchy, sub_accounts, problems)
    users = None
    try:
        groups.check()
        if USERS in files:
            group_refs = users_file.References(
                session,
                tenant,
                Group,
                ids={identifier: group.id for identifier, group in groups.stored.items()},
                pending=groups.identifiers - groups.stored.keys(),
            )
            if not problems and not validate_only:
                # Written first: users are written as they are checked, and name the groups by id.
                group_refs.written(groups.write(now))
            profile_refs = users_file.References(session, tenant, Profile)
            users = users_file.UsersUpload(
                session, tenant, files[USERS], sub_accounts, group_refs, profile_refs, problems, now
            )
            users.writes = not validate_only
            users.check()
        elif not problems and not validate_only:
            groups.write(now)
        if problems:
            raise _rejection(problems)
        if users is not None and not validate_only:
            users.finish()
        session.flush()
    except IntegrityError:
        raise ItemExists(
            "The organisation changed while the upload was written (a concurrent request took an "
            "identifier or username, or removed a group or profile); nothing was written: retry"
        ) from None
    g_created, g_updated, g_unchanged = groups.counts()
    u_created, u_updated, u_unchanged = (
        (users.created, users.updated, users.unchanged) if users is not None else (0, 0, 0)
    )
    return ExternalOrgBulkUploadResponse(
        files_processed=len(files),
        created=UploadCounts(groups=g_created, users=u_created),
        updated=UploadCounts(groups=g_updated, users=u_updated),
        unchanged=UploadCounts(groups=g_unchanged, users=u_unchanged),
    )
