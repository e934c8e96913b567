"""The ASGI application: ``create_app()`` wires settings, database, keys, routers and handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from enabley import __version__, idempotency, ratelimit
from enabley.admission import AdmissionMiddleware
from enabley.auth.router import router as auth_router
from enabley.catalog import admin_router as catalog_admin
from enabley.catalog.router import router as catalog_router
from enabley.certificates import admin_router as certificates_admin
from enabley.certificates.router import links_router as certificate_links_router
from enabley.certificates.router import router as certificates_router
from enabley.channels import admin_router as channels_admin
from enabley.channels.router import router as channels_router
from enabley.compliance import admin_router as compliance_admin
from enabley.config import Settings, get_settings
from enabley.console.install import install_console
from enabley.db.database import Database
from enabley.deps import AppContext
from enabley.docs import install_docs
from enabley.entitlements.router import router as entitlements_router
from enabley.errors import install_error_handlers
from enabley.events import admin_router as events_admin
from enabley.groups import admin_router as groups_admin
from enabley.groups.router import router as groups_router
from enabley.limits import RequestLimitsMiddleware
from enabley.observability import install_observability
from enabley.openapi import AUTHORIZATION_PATH, install_openapi
from enabley.pagination import Paginator
from enabley.performance import admin_router as performance_admin
from enabley.performance.router import router as performance_router
from enabley.profiles.router import router as profiles_router
from enabley.routing import include
from enabley.scim.router import router as scim_router
from enabley.security import KeyRing, TokenVerifier, ensure_server_keys
from enabley.uploads.intake import UploadSlots
from enabley.uploads.router import router as uploads_router
from enabley.users.router import router as users_router
from enabley.webhooks import admin_router as webhooks_admin
from enabley.workspaces import admin_router as workspaces_admin

DESCRIPTION = """
Welcome to Enabley API documentation which will guide you on how to integrate an external
application by using our REST APIs.

Get a token with `POST /api/v1/token?clientKey=...&secret=...`, then send it on every other call
as `Authorization: Bearer <access_token>`. Paged endpoints answer `{items, pageSize, currentPage,
totalPages, paginationKey}`: pass `paginationKey` back to get the next page; it is `null` on the
last page, and an invalid or expired key answers 404. Every error is
`{"error", "error_description"}`.

Every POST, PUT and DELETE takes an `Idempotency-Key` header: retried with the same key and the
same request within 24 hours, it is not run again, and the first answer comes back marked
`Idempotency-Replayed: true`.
"""

UPLOADS_PREFIX = "/api/v1/uploads/"
CONSOLE_UPLOADS = "/console/uploads"
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
    {
        "name": "SCIM",
        "description": "SCIM 2.0 provisioning (RFC 7643, RFC 7644) for identity providers such as "
        "Microsoft Entra ID and Okta, with a SCIM token from `enabley scim tokens create`",
    },
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
    context = AppContext(
        settings=settings,
        db=db,
        keyring=keyring,
        verifier=TokenVerifier(keyring, settings),
        paginator=Paginator(keyring, settings),
        limits=limits,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Database work has the database's own threads (decision 0006); Starlette's thread pool
        # runs the CPU-bound work (password hashes, an upload's files, PDFs): as many threads,
        # so that such work can't crowd the process with more threads than it has connections.
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
    app.state.context = context
    app.state.upload_slots = UploadSlots(settings.max_concurrent_uploads)
    idempotency.install(app, context, token_path=AUTHORIZATION_PATH, streamed_prefixes=(UPLOADS_PREFIX,))
    app.add_middleware(
        RequestLimitsMiddleware,
        default=settings.max_body_bytes,
        by_prefix={UPLOADS_PREFIX: settings.max_upload_bytes, CONSOLE_UPLOADS: settings.max_upload_bytes},
    )
    # Outside the request limits, so that their refusals count against a budget too.
    app.add_middleware(
        AdmissionMiddleware, context=context, token_path=AUTHORIZATION_PATH, pdf_prefix=PDF_PREFIX
    )
    install_error_handlers(app)
    for router in (
        # SCIM 2.0 for identity providers (/scim/v2), with its own bearer tokens. Its routes share
        # no path with any other router's, so its place changes no match; first, a SCIM request
        # is not checked against the APIs' 20 routers, and an API request pays one prefix check.
        scim_router,
        auth_router,
        # Before users: DELETE /api/v2/users/entitlements would otherwise match /api/v2/users/{identifier}.
        entitlements_router,
        users_router,
        groups_router,
        profiles_router,
        channels_router,
        catalog_router,
        performance_router,
        certificates_router,
        certificate_links_router,
        uploads_router,
        # The admin API (/api/admin): each domain's admin_router module.
        groups_admin.router,
        workspaces_admin.router,
        channels_admin.router,
        catalog_admin.router,
        performance_admin.router,
        certificates_admin.router,
        webhooks_admin.router,
        compliance_admin.router,
        events_admin.router,
    ):
        # Each skipped at once by a request whose path none of its routes can match (routing.py).
        include(app, router)
    install_console(app)
    install_observability(app, access_log=settings.access_log)
    install_openapi(app)
    install_docs(app)
    return app
