"""The ASGI application: ``create_app()`` wires settings, database, keys, routers and handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from enabley import __version__, ratelimit
from enabley.admission import AdmissionMiddleware
from enabley.auth.router import router as auth_router
from enabley.catalog.router import router as catalog_router
from enabley.certificates.router import router as certificates_router
from enabley.channels.admin_router import router as channels_admin_router
from enabley.channels.router import router as channels_router
from enabley.config import Settings, get_settings
from enabley.db import Database
from enabley.deps import Services
from enabley.docs import install_docs
from enabley.entitlements.router import router as entitlements_router
from enabley.errors import install_error_handlers
from enabley.groups.router import admin_router as groups_admin_router
from enabley.groups.router import router as groups_router
from enabley.limits import RequestLimitsMiddleware
from enabley.observability import install_observability
from enabley.openapi import AUTHORIZATION_PATH, install_openapi
from enabley.pagination import Paginator
from enabley.performance.router import router as performance_router
from enabley.profiles.router import router as profiles_router
from enabley.security import KeyRing, TokenVerifier, ensure_server_keys
from enabley.uploads.intake import UploadSlots
from enabley.uploads.router import router as uploads_router
from enabley.users.router import router as users_router
from enabley.workspaces.router import router as workspaces_router

DESCRIPTION = """
Welcome to Enabley API documentation which will guide you on how to integrate an external
application by using our REST APIs.

Get a token with `POST /api/v1/token?clientKey=...&secret=...`, then send it on every other call
as `Authorization: Bearer <access_token>`. Paged endpoints answer `{items, pageSize, currentPage,
totalPages, paginationKey}`: pass `paginationKey` back to get the next page; it is `null` on the
last page, and an invalid or expired key answers 404. Every error is
`{"error", "error_description"}`.
"""

UPLOADS_PREFIX = "/api/v1/uploads/"
PDF_PREFIX = "/api/v1/certificates/pdf/"

TAGS = [
    {"name": "Authorization", "description": "Authorization"},
    {"name": "Catalog", "description": "Catalog operations"},
    {"name": "Certificates", "description": "Certificates related information"},
    {"name": "Channels", "description": "Operations on Channels"},
    {"name": "Groups", "description": "Operations on Groups"},
    {"name": "Performance", "description": "User related performance"},
    {"name": "Uploads", "description": "Uploads operations"},
    {"name": "UserProfiles", "description": "Operations on UserProfiles"},
    {"name": "Users", "description": "Operations on Users"},
    {"name": "Admin", "description": "What the LMS side puts in: the integration API only reads it"},
]


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    owns_database = database is None
    db = database or Database.for_server(
        settings.database_url,
        pool_size=settings.db_pool_size,
        timeout=settings.db_timeout_seconds,
        statement_timeout=settings.statement_timeout_seconds,
    )
    keyring = KeyRing(settings)
    limits = ratelimit.build(settings)
    services = Services(
        settings=settings,
        db=db,
        keyring=keyring,
        verifier=TokenVerifier(keyring, settings),
        paginator=Paginator(keyring, settings),
        limits=limits,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Write routes are sync handlers, run in the thread pool (decision 0002): no more threads
        # than the pool's steady connections, so a wait for the database (a lock, a slow commit)
        # holds a thread and a connection, never the event loop, and the loop's own reads still
        # find a connection in the pool's overflow.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        with db.session(write=True) as session:
            ensure_server_keys(session, settings)
        with db.session() as session:
            keyring.load(session)
        yield
        if owns_database:
            db.dispose()

    app = FastAPI(
        title="Enabley API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # A body is JSON only when its Content-Type says so; errors.py names a wrong or missing one.
        strict_content_type=True,
        # Tracing through FastAPI's OpenTelemetry hooks costs every request; off unless wanted.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    app.state.upload_slots = UploadSlots(settings.max_concurrent_uploads)
    app.add_middleware(
        RequestLimitsMiddleware,
        default=settings.max_body_bytes,
        by_prefix={UPLOADS_PREFIX: settings.max_upload_bytes},
    )
    # Outside the request limits, so that their refusals count against a budget too.
    app.add_middleware(
        AdmissionMiddleware, services=services, token_path=AUTHORIZATION_PATH, pdf_prefix=PDF_PREFIX
    )
    install_error_handlers(app)
    for router in (
        auth_router,
        # Before users: DELETE /api/v2/users/entitlements would otherwise match /api/v2/users/{identifier}.
        entitlements_router,
        users_router,
        groups_router,
        groups_admin_router,
        profiles_router,
        workspaces_router,
        channels_router,
        channels_admin_router,
        catalog_router,
        performance_router,
        certificates_router,
        uploads_router,
    ):
        app.include_router(router)
    install_observability(app, access_log=settings.access_log)
    install_openapi(app)
    install_docs(app)
    return app
