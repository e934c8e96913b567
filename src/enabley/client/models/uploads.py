"""The organisation bulk upload: CSV files in, a summary out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from enabley.client.models._base import DataModel, Timestamp, WireModel


class OrgBulkDataRequest(DataModel):
    """One file of an upload: its name (which tells its kind, e.g. ``users.csv``) and its text."""

    file_name: str
    content: str

    @classmethod
    def from_path(cls, path: str | Path, encoding: str = "utf-8-sig") -> OrgBulkDataRequest:
        """The file at ``path``, sent under its base name (a byte-order mark is dropped)."""
        path = Path(path)
        return cls(file_name=path.name, content=path.read_text(encoding=encoding))


class UploadCounts(WireModel):
    """Rows per kind of file; a server that uploads more kinds adds fields (kept in ``model_extra``)."""

    groups: int = 0
    users: int = 0

    def by_kind(self) -> dict[str, int]:
        """Every kind's count, including kinds this SDK does not know yet."""
        return {kind: int(count) for kind, count in self.model_dump().items()}


class ExternalOrgBulkUploadResponse(WireModel):
    """What an upload did: files processed, and rows created, updated and left unchanged per kind."""

    files_processed: int
    created: UploadCounts
    updated: UploadCounts
    unchanged: UploadCounts


class UploadRowError(WireModel):
    """One refused row of an upload: where it is and what is wrong with it."""

    file: str | None = None
    line: int | None = None
    column: str | None = None
    message: str


class UploadJobProgress(WireModel):
    """Rows checked of the files' rows (``total`` is None until a worker has read the files)."""

    done: int = 0
    total: int | None = None


class UploadJob(WireModel):
    """An upload sent with ``async=true``: its status, and once it has ended, what the upload
    answered (``result_status`` and ``result``, the body the synchronous upload would have sent)."""

    job_id: str
    status: str
    """queued, running, succeeded or failed."""
    status_url: str
    validate_only: bool = False
    progress: UploadJobProgress = UploadJobProgress()
    attempts: int = 0
    created: Timestamp | None = None
    started: Timestamp | None = None
    finished: Timestamp | None = None
    result_status: int | None = None
    result: dict[str, Any] | None = None

    @property
    def ended(self) -> bool:
        return self.status in ("succeeded", "failed")
