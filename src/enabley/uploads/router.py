from __future__ import annotations

from contextlib import ExitStack
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from enabley.deps import BaseUrl, CurrentTenant
from enabley.errors import AppError, content_type_problem
from enabley.openapi import json_body
from enabley.schemas import ERRORS, ErrorResponse
from enabley.uploads import intake, jobs, service
from enabley.uploads.schemas import (
    ExternalOrgBulkUploadRequest,
    ExternalOrgBulkUploadResponse,
    UploadErrorResponse,
    UploadJobAccepted,
    UploadJobInfo,
)

router = APIRouter(responses=ERRORS, prefix="/api", tags=["Uploads"])

# The body (up to ENABLEY_MAX_UPLOAD_BYTES) is spooled to a file here and parsed from there as a
# stream, off the event loop, rather than declared as a parameter that FastAPI would hold whole,
# decode and validate.
_BODY_DOC = json_body(
    ExternalOrgBulkUploadRequest, "The organisation's CSV files: groups.csv, users.csv or both"
)
_SHAPE = (
    '{"files": [{"fileName": "groups.csv", "content": "identifier,name\\n..."}, '
    '{"fileName": "users.csv", "content": "identifier,email\\n..."}]}'
)
_RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}


@router.post(
    "/v1/uploads/org",
    summary="Upload the organisation's groups and users",
    response_model=ExternalOrgBulkUploadResponse,
    responses={
        202: {
            "model": UploadJobAccepted,
            "description": "With async=true: the upload is queued as a job; its status is at statusUrl",
            "headers": {"Location": {"description": "The job's statusUrl", "schema": {"type": "string"}}},
        },
        400: {"model": UploadErrorResponse, "description": "Invalid input: nothing was written"},
        409: {"model": ErrorResponse, "description": "Changed concurrently: nothing was written"},
        413: {"model": ErrorResponse, "description": "Request body larger than the upload limit"},
        429: {
            "model": ErrorResponse,
            "description": "The API client's rate limit is exceeded, or the server already runs "
            "its most uploads at once (ENABLEY_MAX_CONCURRENT_UPLOADS): the body was not read and "
            "nothing was written",
            "headers": {
                "Retry-After": {
                    "description": "Seconds to wait before trying again",
                    "schema": {"type": "integer"},
                }
            },
        },
    },
    openapi_extra=_BODY_DOC,
)
async def upload_org(
    request: Request,
    tenant: CurrentTenant,
    base_url: BaseUrl,
    run_async: Annotated[
        bool,
        Query(
            alias="async",
            description="true: answer 202 at once with the job that runs the upload (its status at "
            "statusUrl, also the Location header), instead of the upload's own answer when it is done",
        ),
    ] = False,
    validate_only: Annotated[
        bool,
        Query(
            alias="validateOnly",
            description="true: check every row and answer as the upload would (the counts it would "
            "make, or every bad row), writing nothing",
        ),
    ] = False,
) -> ExternalOrgBulkUploadResponse | JSONResponse:
    """Create or update the organisation's groups and users from CSV files (`groups.csv`,
    `users.csv`), all together or not at all: every row is checked as *Create or update Group* and
    *Create or update User* would check it, and when any row is refused nothing is written and the
    400 answer lists every bad row with its file, line and column. Groups are applied parents
    first. Uploading the same files again changes nothing. A body over the upload limit
    (ENABLEY_MAX_UPLOAD_BYTES, 100 MB by default) is refused with 413. A server runs a few uploads
    at once (ENABLEY_MAX_CONCURRENT_UPLOADS, 2 by default): one more is refused with 429 and a
    Retry-After header.

    With `validateOnly=true` every row is checked and the answer is the same, but nothing is
    written. With `async=true` the body is stored and the answer is 202 at once, naming a job
    (`GET /api/v1/uploads/org/jobs/{jobId}`) that a worker runs; its result is this answer."""
    if problem := content_type_problem(request.headers.get("content-type")):
        # Refused before a slot is taken or a byte of the body read (a multipart form, a bare CSV).
        raise service.UploadRejected(
            f"{problem}. This endpoint takes the CSV files inside a JSON body: {_SHAPE}"
        )
    with request.app.state.upload_slots.take(), await intake.spool(request) as body, ExitStack() as files:
        # The files are read apart, on a thread, before the unit of work begins: on SQLite the
        # writer's turn is taken only once there is something to write.
        if run_async:
            accepted = await tenant.write(jobs.submit_job, body, validate_only, base_url)
            return JSONResponse(
                accepted.model_dump(mode="json", by_alias=True),
                status_code=202,
                headers={"Location": accepted.status_url},
            )
        opened = await run_in_threadpool(files.enter_context, service.read_files(body))
        if validate_only:
            return await tenant.read(service.validate_org, opened)
        answer = await tenant.write(service.upload_org_sync, opened)
    if isinstance(answer, AppError):
        raise answer
    return answer


@router.get(
    "/v1/uploads/org/jobs/{jobId}",
    summary="Read an upload job's status",
    response_model=UploadJobInfo,
    responses={404: {"model": ErrorResponse, "description": "No such job in this account"}},
)
async def get_upload_job(
    job_id: Annotated[str, Path(alias="jobId", max_length=64)], tenant: CurrentTenant, base_url: BaseUrl
) -> UploadJobInfo:
    """The status of an upload sent with `async=true`: queued, running, succeeded or failed, the
    rows checked of the files' rows, and once it has ended, the HTTP status and the body that the
    synchronous upload would have answered (its counts, or every bad row). Ended jobs are kept
    7 days."""
    return await tenant.read(jobs.get_job, job_id, base_url)
