"""The application with the change log switched off, for ``bench/events.py`` to compare against:
``emit``, ``emit_object``, ``emit_many``, ``emit_encoded`` and ``emit_batch`` write nothing (and
``encoded_batch`` prepares nothing), everything else is this checkout's code."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from enabley.events import log
from enabley.main import create_app as create_enabley_app


def _nothing(*args: Any, **kwargs: Any) -> int:
    return 0


def create_app() -> FastAPI:
    log.emit = _nothing  # type: ignore[assignment]
    log.emit_many = _nothing
    log.emit_object = _nothing  # type: ignore[assignment]
    log.emit_encoded = _nothing
    log.encoded_batch = _nothing  # type: ignore[assignment]
    log.emit_batch = _nothing  # type: ignore[assignment]
    return create_enabley_app()
