"""The organisation bulk upload: CSV files in, a summary out."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict

from enabley.client.models._base import DataModel, WireModel


class OrgBulkDataRequest(DataModel):
    """One file of an upload: its name (which tells its kind, e.g. ``users.csv``) and its text."""

    file_name: str
    content: str

    @classmethod
    def from_path(cls, path: str | Path, encoding: str = "utf-8-sig") -> OrgBulkDataRequest:
        """The file at ``path``, sent under its base name (a byte-order mark is dropped)."""
        path = Path(path)
        return cls(file_name=path.name, content=path.read_text(encoding=encoding))


class ExternalOrgBulkUploadResponse(WireModel):
    """The server's summary of an upload (files processed; created, updated and unchanged counts per
    kind). Its fields are the server's: read them as attributes or with ``model_dump()``."""

    model_config = ConfigDict(extra="allow")


class UploadRowError(WireModel):
    """One refused row of an upload: where it is and what is wrong with it."""

    file: str | None = None
    line: int | None = None
    column: str | int | None = None
    message: str
