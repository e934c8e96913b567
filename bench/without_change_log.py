"""The application with the change log switched off, for ``bench/events.py`` to compare against:
``emit``, ``emit_object``, ``emit_many``, ``emit_encoded`` and ``emit_batch`` write nothing,
``emit_object_in`` runs its statement without the event, ``encoded_batch`` prepares nothing, and
the upload builds no event data (``UsersUpload._events``, ``_plan_update_events``), so that the
difference is all the change log costs; everything else is this checkout's code."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from enabley.events import log
from enabley.main import create_app as create_enabley_app
from enabley.uploads import users_file


def _nothing(*args: Any, **kwargs: Any) -> int:
    return 0


def _no_events(*args: Any, **kwargs: Any) -> list[Any]:
    return []


def _statement_only(session: Any, statement: Any, params: dict[str, Any], *args: Any) -> Any:
    return session.connection().execute(statement, params)


def create_app() -> FastAPI:
    users_file.UsersUpload._events = _no_events  # type: ignore[method-assign]
    users_file.UsersUpload._plan_update_events = _nothing  # type: ignore[method-assign]
    log.emit = _nothing  # type: ignore[assignment]
    log.emit_many = _nothing
    log.emit_object = _nothing  # type: ignore[assignment]
    log.emit_object_in = _statement_only
    log.emit_encoded = _nothing
    log.encoded_batch = _nothing  # type: ignore[assignment]
    log.emit_batch = _nothing  # type: ignore[assignment]
    return create_enabley_app()
