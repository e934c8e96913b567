from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from enabley.schemas import ApiModel, ErrorCode, Timestamp

MAX_LISTED_ERRORS = 1000
"""A refused upload lists at most this many errors; ``moreErrors`` counts the rest."""


class OrgBulkDataRequest(ApiModel):
    """One CSV file of the upload"""

    content: str = Field(description="content: the file's UTF-8 CSV text, header row first")
    file_name: str = Field(description="fileName: groups.csv or users.csv")


class ExternalOrgBulkUploadRequest(ApiModel):
    """The organisation's groups and users as CSV files, applied all together or not at all.

    - `groups.csv`: identifier, name, parentIdentifier, type, subAccountName.
    - `users.csv`: identifier, email, firstName, lastName, username, phone, address, isActive,
      possibleRoles, subAccountName, groups, profiles; possibleRoles, groups and profiles are
      lists separated by `;`.

    UTF-8, comma-separated, a header row first; columns in any order; `identifier` is required,
    and `name` in groups.csv. A column left out keeps that field of stored rows. An empty cell
    is null and clears the field, as a null does in *Create or update Group/User*, where a null
    `possibleRoles` keeps the roles (LEARNER for a new user); an empty `isActive` is left out:
    true for a new user, unchanged otherwise. `subAccountName` adds the user to that
    sub-account, as *Create or update User* does. `groups` and `profiles`, when present, become
    the user's exact memberships (an empty cell removes them all); they name stored groups or
    groups of the same upload, and stored profiles. Groups are applied parents first, whatever their order.
    Usernames are unique per account whatever their case, once the upload is applied (two users
    may swap theirs). Rows whose cells are all empty are skipped.
    """

    files: list[OrgBulkDataRequest] = Field(description="files")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "files": [
                    {
                        "fileName": "groups.csv",
                        "content": "identifier,name,parentIdentifier,type\n"
                        "latam,América Latina,,Region\nbr,Brasil,latam,Country\n",
                    },
                    {
                        "fileName": "users.csv",
                        "content": "identifier,email,firstName,lastName,groups,profiles\n"
                        "u-1,ana.souza@example.com,Ana,Souza,br,field-tech\n",
                    },
                ]
            }
        }
    )


class UploadCounts(ApiModel):
    groups: int = Field(description="Groups")
    users: int = Field(description="Users")


class ExternalOrgBulkUploadResponse(ApiModel):
    """What the upload did. A user counts as updated when its fields, sub-accounts, groups or
    profiles changed; its `modified` date moves only when its own fields change."""

    files_processed: int = Field(description="Number of files processed")
    created: UploadCounts = Field(description="Rows created")
    updated: UploadCounts = Field(description="Existing rows that changed")
    unchanged: UploadCounts = Field(description="Existing rows that already matched the upload")


class UploadRowError(ApiModel):
    """One problem of a refused upload"""

    file: str | None = Field(description="The file name, as given")
    line: int | None = Field(
        description="The line where the row starts (1-based; the header row is line 1); null when "
        "the problem is the file itself"
    )
    column: str | None = Field(description="The column at fault; null when the whole row or file is")
    message: str = Field(description="What is wrong")


class UploadErrorResponse(ApiModel):
    """ErrorResponse of a refused upload, which wrote nothing. It extends ErrorResponse with the
    problems found, sorted by file (in the request's order), line and column: at most 1000 of
    them, `moreErrors` counting the rest. A line is where the row starts in the file, the header
    being line 1."""

    error: ErrorCode = Field(description="invalid_request")
    error_description: str = Field(
        alias="error_description", description="A summary: how many bad rows, and the first problem"
    )
    errors: list[UploadRowError] = Field(
        default_factory=list, description=f"The problems, at most {MAX_LISTED_ERRORS}"
    )
    more_errors: int = Field(0, description="How many more problems there are beyond those listed")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "error": "invalid_request",
                "error_description": "2 bad rows; nothing was written. users.csv line 3, email: "
                "value is not a valid email address",
                "errors": [
                    {
                        "file": "users.csv",
                        "line": 3,
                        "column": "email",
                        "message": "value is not a valid email address",
                    },
                    {
                        "file": "groups.csv",
                        "line": 7,
                        "column": "parentIdentifier",
                        "message": "Parent group 'emea' not found",
                    },
                ],
                "moreErrors": 0,
            }
        }
    )


class UploadJobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class UploadJobAccepted(ApiModel):
    """An upload accepted to run later (`?async=true`): follow `statusUrl` to learn how it went."""

    job_id: str = Field(description="The job's identifier")
    status: UploadJobStatus = Field(description="queued, running, succeeded or failed")
    status_url: str = Field(description="Where the job's status is read (also the Location header)")


class UploadJobProgress(ApiModel):
    done: int = Field(description="Rows checked so far")
    total: int | None = Field(description="Rows in the files; null until a worker has read them")


class UploadJobInfo(UploadJobAccepted):
    """An upload job: how far it is, and once it has ended, what the synchronous upload would
    have answered (`resultStatus` and `result`)."""

    validate_only: bool = Field(description="True when the files are only checked, nothing written")
    progress: UploadJobProgress = Field(description="Rows checked of the files' rows")
    attempts: int = Field(description="How many times a worker has started the job")
    created: Timestamp = Field(description="When the upload was accepted")
    started: Timestamp | None = Field(description="When a worker first started it")
    finished: Timestamp | None = Field(description="When it ended")
    result_status: int | None = Field(
        description="Once ended: the HTTP status of the synchronous upload's answer (200, 400, 409, ...)"
    )
    result: dict[str, Any] | None = Field(
        description="Once ended: the body of the synchronous upload's answer, ExternalOrgBulkUploadResponse "
        "when it succeeded, UploadErrorResponse (every bad row) or ErrorResponse when it failed"
    )
