"""The console's uploads page: the upload jobs with every bad row, and a new upload run as a job.

A new upload is sent by the page's script as the API's body (the CSV files inside JSON) and queued
as an upload job, exactly as ``POST /api/v1/uploads/org?async=true`` queues it; the script then
follows the job's progress. Only jobs are kept: a synchronous upload through the API leaves no
history to show.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.orm import Session

from enabley.console.auth import ChangingConsole, ConsoleTenant, CurrentConsole
from enabley.console.door import read, write
from enabley.console.render import PageError, page
from enabley.db.base import owned
from enabley.models import UploadJob
from enabley.uploads import intake, jobs
from enabley.uploads.schemas import UploadJobInfo

router = APIRouter(prefix="/console", include_in_schema=False)

PREFIX = "/console/uploads"
HISTORY = 50


def history(
    session: Session, tenant: ConsoleTenant, base_url: str, limit: int = HISTORY
) -> list[UploadJobInfo]:
    """The account's most recent upload jobs (kept 7 days), newest first."""
    keys = session.scalars(
        owned(UploadJob, tenant)
        .with_only_columns(UploadJob.job_key)
        .order_by(UploadJob.id.desc())
        .limit(limit)
    ).all()
    return [jobs.get_job(session, tenant, key, base_url) for key in keys]


def _whole_account(tenant: ConsoleTenant) -> None:
    # An upload names sub-accounts row by row: it is the whole account's to make.
    if tenant.sub_account_name is not None:
        raise PageError(404, "Uploads belong to the whole account, not to a sub-account's console user")


@router.get("/uploads")
async def uploads(request: Request, console: CurrentConsole) -> HTMLResponse:
    _whole_account(console.tenant)
    found = await read(console, history, console.context.base_url)
    return page(request, console, "uploads.html", active="uploads", jobs=found)


@router.post("/uploads")
async def new_upload(request: Request, console: ChangingConsole, validate_only: bool = False) -> JSONResponse:
    """Queue the files (the API's JSON body) as an upload job; the answer names the job's console URLs."""
    _whole_account(console.tenant)
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise PageError(400, "Send the CSV files inside a JSON body, as the upload API takes them")
    with request.app.state.upload_slots.take(), await intake.spool(request) as body:
        accepted = await write(console, jobs.submit_job, body, validate_only, console.context.base_url)
    return JSONResponse(
        {
            "jobId": accepted.job_id,
            "status": accepted.status.value,
            "page": f"{PREFIX}/{accepted.job_id}",
            "statusUrl": f"{PREFIX}/{accepted.job_id}/status",
        },
        status_code=202,
    )


@router.get("/uploads/{job_id}/status")
async def job_status(console: CurrentConsole, job_id: str) -> JSONResponse:
    """The job's status and progress, for the page's progress bar."""
    _whole_account(console.tenant)
    info = await read(console, jobs.get_job, job_id, console.context.base_url)
    return JSONResponse(
        {
            "status": info.status.value,
            "done": info.progress.done,
            "total": info.progress.total,
            "resultStatus": info.result_status,
        }
    )


@router.get("/uploads/{job_id}")
async def job(request: Request, console: CurrentConsole, job_id: str) -> HTMLResponse:
    _whole_account(console.tenant)
    info = await read(console, jobs.get_job, job_id, console.context.base_url)
    return page(request, console, "upload.html", active="uploads", job=info)
