"""The organisation bulk upload (``POST /api/v1/uploads/org``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from enabley.client import _call as c
from enabley.client._call import Call, Progress
from enabley.client.models import ExternalOrgBulkUploadResponse, OrgBulkDataRequest
from enabley.client.resources._base import AsyncResource, SyncResource

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
    files: Iterable[UploadFile], progress: Progress | None, timeout: float | None
) -> Call[ExternalOrgBulkUploadResponse]:
    body = {"files": [_file(item).wire() for item in files]}
    return Call(
        "POST",
        "/api/v1/uploads/org",
        c.model(ExternalOrgBulkUploadResponse),
        json=body,
        progress=progress,
        timeout=timeout,
    )


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


class AsyncUploads(AsyncResource):
    async def org(
        self,
        files: Iterable[UploadFile],
        progress: Progress | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the HTTP timeout of this request)
    ) -> ExternalOrgBulkUploadResponse:
        return await self._engine.send(_org(files, progress, timeout))
