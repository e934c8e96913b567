from __future__ import annotations

from contextlib import ExitStack

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from enabley.deps import CurrentTenant
from enabley.errors import AppError, content_type_problem
from enabley.openapi import json_body
from enabley.schemas import ERRORS, ErrorResponse
from enabley.uploads import intake, service
from enabley.uploads.schemas import (
    ExternalOrgBulkUploadRequest,
    ExternalOrgBulkUploadResponse,
    UploadErrorResponse,
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
async def upload_org(request: Request, tenant: CurrentTenant) -> ExternalOrgBulkUploadResponse:
    """Create or update the organisation's groups and users from CSV files (`groups.csv`,
    `users.csv`), all together or not at all: every row is checked as *Create or update Group* and
    *Create or update User* would check it, and when any row is refused nothing is written and the
    400 answer lists every bad row with its file, line and column. Groups are applied parents
    first. Uploading the same files again changes nothing. A body over the upload limit
    (ENABLEY_MAX_UPLOAD_BYTES, 100 MB by default) is refused with 413. A server runs a few uploads
    at once (ENABLEY_MAX_CONCURRENT_UPLOADS, 2 by default): one more is refused with 429 and a
    Retry-After header."""
    if problem := content_type_problem(request.headers.get("content-type")):
        # Refused before a slot is taken or a byte of the body read (a multipart form, a bare CSV).
        raise service.UploadRejected(
            f"{problem}. This endpoint takes the CSV files inside a JSON body: {_SHAPE}"
        )
    with request.app.state.upload_slots.take(), await intake.spool(request) as body, ExitStack() as files:
        # The files are read apart, on a thread, before the unit of work begins: on SQLite the
        # writer's turn is taken only once there is something to write.
        opened = await run_in_threadpool(files.enter_context, service.read_files(body))
        answer = await tenant.write(service.upload_org, opened)
    if isinstance(answer, AppError):
        raise answer
    return answer
