"""What an operator watches: one JSON log line per request, request ids, Prometheus metrics, probes.

Log lines carry the method, the route template (never the concrete path, which holds
identifiers), the status, the duration, the account, the client key and the request id. No
header, query string, body or token is ever logged.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from enabley.errors import ServiceUnavailable, render

access_stream: TextIO | None = None
"""Where access lines go: the process's standard error unless set (tests set it)."""
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

REQUESTS = Counter("enabley_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "enabley_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RATE_LIMITED = Counter("enabley_rate_limited_total", "Requests refused with 429", ["kind"])


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging() -> None:
    """JSON lines on stderr for every ``enabley`` logger; safe to call more than once."""
    root = logging.getLogger("enabley")
    if any(getattr(h, "_enabley", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._enabley = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)


class RequestObserver:
    """Pure ASGI middleware: request id in and out, rate-limit headers, one log line, metrics."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log
        # labels() validates and hashes on every call; the children it returns are stable.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                decision = state.get("rate_limit")
                if decision is not None:
                    headers.extend(decision.headers())
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path_format", None) or "unmatched"
            method = scope["method"]
            counter = self._counters.get((method, route, status))
            if counter is None:
                counter = self._counters[(method, route, status)] = REQUESTS.labels(
                    method, route, str(status)
                )
            counter.inc()
            timer = self._timers.get((method, route))
            if timer is None:
                timer = self._timers[(method, route)] = LATENCY.labels(method, route)
            timer.observe(elapsed)
            if self.access_log:
                tenant = state.get("tenant")
                _write_access_line(
                    {
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "account": tenant.account_id if tenant is not None else None,
                        "client": tenant.client_key if tenant is not None else None,
                        "request_id": request_id,
                    }
                )


def _write_access_line(fields: dict[str, Any]) -> None:
    """The access line, written straight to stderr in the same JSON shape as every other log line.

    Through the logging module the line costs five times as much (record, handler lock,
    formatter), which shows on the hottest endpoints.
    """
    entry = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": "info",
        "logger": "enabley.access",
        "msg": "request",
        **fields,
    }
    (access_stream or sys.__stderr__ or sys.stderr).write(json.dumps(entry, ensure_ascii=False) + "\n")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _REQUEST_ID.match(candidate) else None
    return None


class PoolCollector(Collector):
    """Database pool usage of this process."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Any:
        pool = self.app.state.context.db.engine.pool
        in_use = GaugeMetricFamily("enabley_db_pool_in_use", "Connections checked out of the pool")
        size = GaugeMetricFamily("enabley_db_pool_size", "Connections the pool keeps open")
        in_use.add_metric([], float(getattr(pool, "checkedout", lambda: 0)()))
        size.add_metric([], float(getattr(pool, "size", lambda: 0)()))
        yield in_use
        yield size


probes = APIRouter(include_in_schema=False)


@probes.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive (no dependency is checked)."""
    return {"status": "ok"}


@probes.get("/readyz")
async def readyz(request: Request) -> Any:
    """The process can serve: the database answers."""
    db = request.app.state.context.db
    try:
        await db.reading(lambda session: session.execute(text("SELECT 1")))
    except ServiceUnavailable as exc:
        return render(exc)
    return {"status": "ready"}


@probes.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics: of every worker when PROMETHEUS_MULTIPROC_DIR is set, else of this one."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    output = generate_latest(registry)
    output += generate_latest(request.app.state.pool_registry)
    return Response(output, media_type=CONTENT_TYPE_LATEST)


def install_observability(app: FastAPI, *, access_log: bool) -> None:
    configure_logging()
    pool_registry = CollectorRegistry(auto_describe=True)
    pool_registry.register(PoolCollector(app))
    app.state.pool_registry = pool_registry
    app.include_router(probes)
    app.add_middleware(RequestObserver, access_log=access_log)
