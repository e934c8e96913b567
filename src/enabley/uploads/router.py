from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from enabley.deps import CurrentTenant, Tenant
from enabley.openapi import json_body
from enabley.schemas import ERRORS, ErrorResponse
from enabley.uploads import service
from enabley.uploads.schemas import (
    ExternalOrgBulkUploadRequest,
    ExternalOrgBulkUploadResponse,
    UploadErrorResponse,
)

router = APIRouter(prefix="/api", tags=["Uploads"])

# The body (up to ENABLEY_MAX_UPLOAD_BYTES) is read here and parsed once, off the event loop,
# rather than declared as a parameter that FastAPI would decode and validate a second time.
_BODY_DOC = json_body(
    ExternalOrgBulkUploadRequest, "The organisation's CSV files: groups.csv, users.csv or both"
)


@router.post(
    "/v1/uploads/org",
    summary="Upload the organisation's groups and users",
    response_model=ExternalOrgBulkUploadResponse,
    responses={
        **ERRORS,
        400: {"model": UploadErrorResponse, "description": "Invalid input: nothing was written"},
        409: {"model": ErrorResponse, "description": "Changed concurrently: nothing was written"},
        413: {"model": ErrorResponse, "description": "Request body larger than the upload limit"},
    },
    openapi_extra=_BODY_DOC,
)
async def upload_org(request: Request, tenant: CurrentTenant) -> ExternalOrgBulkUploadResponse:
    """Create or update the organisation's groups and users from CSV files (`groups.csv`,
    `users.csv`), all together or not at all: every row is checked as *Create or update Group* and
    *Create or update User* would check it, and when any row is refused nothing is written and the
    400 answer lists every bad row with its file, line and column. Groups are applied parents
    first. Uploading the same files again changes nothing. A body over the upload limit
    (ENABLEY_MAX_UPLOAD_BYTES, 100 MB by default) is refused with 413."""
    raw = await request.body()
    return await run_in_threadpool(_upload, tenant, raw)


def _upload(tenant: Tenant, raw: bytes) -> ExternalOrgBulkUploadResponse:
    files = service.read_files(raw)
    with tenant.session(write=True) as session:
        return service.upload_org(session, tenant, files)
