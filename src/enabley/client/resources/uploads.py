"""The organisation bulk upload (``POST /api/v1/uploads/org``), at once or as a job."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx2

from enabley.client import _call as c
from enabley.client._call import Call, Progress
from enabley.client.errors import error_from_response
from enabley.client.models import ExternalOrgBulkUploadResponse, OrgBulkDataRequest, UploadJob
from enabley.client.resources._base import AsyncResource, SyncResource

JobWatcher = Callable[[UploadJob], None]
"""``watch(job)``, called with each status read while waiting for a job."""

UploadFile = OrgBulkDataRequest | Mapping[str, Any] | tuple[str, str] | str | os.PathLike[str]
"""A file to upload: a model, ``(file_name, content)``, or the path of a file to read."""


def _file(item: UploadFile) -> OrgBulkDataRequest:
    if isinstance(item, OrgBulkDataRequest):
        return item
    if isinstance(item, tuple):
        name, text = item
        return OrgBulkDataRequest(file_name=name, content=text)
    if isinstance(item, Mapping):
        return OrgBulkDataRequest.model_validate(item)
    return OrgBulkDataRequest.from_path(Path(item))


def _org(
    files: Iterable[UploadFile],
    progress: Progress | None,
    timeout: float | None,
    validate_only: bool = False,
) -> Call[ExternalOrgBulkUploadResponse]:
    body = {"files": [_file(item).wire() for item in files]}
    return Call(
        "POST",
        "/api/v1/uploads/org",
        c.model(ExternalOrgBulkUploadResponse),
        params={"validateOnly": True} if validate_only else {},
        json=body,
        progress=progress,
        timeout=timeout,
    )


def _submit(
    files: Iterable[UploadFile], progress: Progress | None, timeout: float | None, validate_only: bool
) -> Call[UploadJob]:
    body = {"files": [_file(item).wire() for item in files]}
    params: dict[str, c.QueryValue] = {"async": True, "validateOnly": True if validate_only else None}
    return Call(
        "POST",
        "/api/v1/uploads/org",
        c.model(UploadJob),
        params=params,
        json=body,
        progress=progress,
        timeout=timeout,
    )


def _job(job_id: str) -> Call[UploadJob]:
    return Call("GET", c.path("/api/v1/uploads/org/jobs/{}", job_id), c.model(UploadJob))


def outcome(job: UploadJob) -> ExternalOrgBulkUploadResponse:
    """The ended job's result as the synchronous upload gives it: the counts, or the error it
    would have raised (``InvalidRequest`` listing the bad rows, ``Conflict``, ...)."""
    if job.status == "succeeded" and job.result is not None:
        return ExternalOrgBulkUploadResponse.model_validate(job.result)
    answer = httpx2.Response(job.result_status or 500, json=job.result or {})
    raise error_from_response(answer)


class Uploads(SyncResource):
    """``client.uploads``: bulk uploads of the organisation as CSV files."""

    def org(
        self, files: Iterable[UploadFile], progress: Progress | None = None, timeout: float | None = None
    ) -> ExternalOrgBulkUploadResponse:
        """Upload organisation files (users, groups, ...) in one request.

        A refused upload raises ``InvalidRequest`` whose ``errors`` list the bad rows. ``progress``
        is called with ``(bytes_sent, bytes_total)`` as the body goes out. Not retried once sent.
        """
        return self._engine.send(_org(files, progress, timeout))

    def validate(
        self, files: Iterable[UploadFile], progress: Progress | None = None, timeout: float | None = None
    ) -> ExternalOrgBulkUploadResponse:
        """Check the files as ``org`` would (``validateOnly=true``), writing nothing: the counts the
        upload would make, or ``InvalidRequest`` listing every bad row."""
        return self._engine.send(_org(files, progress, timeout, validate_only=True))

    def submit(
        self,
        files: Iterable[UploadFile],
        validate_only: bool = False,
        progress: Progress | None = None,
        timeout: float | None = None,
    ) -> UploadJob:
        """Send the files to be uploaded by a job (``async=true``): answered as soon as the body
        is stored. Follow the job with ``job`` or ``wait``."""
        return self._engine.send(_submit(files, progress, timeout, validate_only))

    def job(self, job_id: str) -> UploadJob:
        """The job's status (``GET /api/v1/uploads/org/jobs/{jobId}``)."""
        return self._engine.send(_job(job_id))

    def wait(
        self, job_id: str, poll_every: float = 1.0, watch: JobWatcher | None = None
    ) -> ExternalOrgBulkUploadResponse:
        """Poll the job until it ends; its result as ``org`` answers it, or the error ``org``
        would raise. ``watch`` sees every status read."""
        while True:
            job = self.job(job_id)
            if watch is not None:
                watch(job)
            if job.ended:
                return outcome(job)
            self._engine._sleep(poll_every)  # the client's own sleep: tests pass one that does not wait


class AsyncUploads(AsyncResource):
    async def org(
        self,
        files: Iterable[UploadFile],
        progress: Progress | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the HTTP timeout of this request)
    ) -> ExternalOrgBulkUploadResponse:
        return await self._engine.send(_org(files, progress, timeout))

    async def validate(
        self,
        files: Iterable[UploadFile],
        progress: Progress | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the HTTP timeout of this request)
    ) -> ExternalOrgBulkUploadResponse:
        return await self._engine.send(_org(files, progress, timeout, validate_only=True))

    async def submit(
        self,
        files: Iterable[UploadFile],
        validate_only: bool = False,
        progress: Progress | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the HTTP timeout of this request)
    ) -> UploadJob:
        return await self._engine.send(_submit(files, progress, timeout, validate_only))

    async def job(self, job_id: str) -> UploadJob:
        return await self._engine.send(_job(job_id))

    async def wait(
        self, job_id: str, poll_every: float = 1.0, watch: JobWatcher | None = None
    ) -> ExternalOrgBulkUploadResponse:
        while True:
            job = await self.job(job_id)
            if watch is not None:
                watch(job)
            if job.ended:
                return outcome(job)
            await self._engine._sleep(poll_every)
