"""The change feed: a route under /api/admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from enabley.deps import Context, CurrentTenant
from enabley.events import service
from enabley.events.schemas import MAX_CURSOR_LENGTH, MAX_TYPE_PATTERNS, EventPage
from enabley.schemas import ERRORS, ErrorResponse

router = APIRouter(responses=ERRORS, prefix="/api/admin", tags=["Admin"])

MAX_LIMIT = 1000
GONE: dict[int | str, dict[str, object]] = {
    410: {"model": ErrorResponse, "description": "The cursor is older than the events kept: resync"}
}


@router.get(
    "/v1/events",
    summary="Read the change feed",
    response_model=EventPage,
    responses=GONE,
)
async def read_change_feed(
    tenant: CurrentTenant,
    context: Context,
    after: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="A `nextCursor` of an earlier page; empty or absent: from the oldest event kept",
        ),
    ] = None,
    types: Annotated[
        str | None,
        Query(
            max_length=MAX_TYPE_PATTERNS * 40,
            description="Comma-separated event types or patterns (`user.*`, `group.member_added`); "
            "absent: every type",
            examples=["user.*,group.*"],
        ),
    ] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_LIMIT, description="Most events per page (default ENABLEY_PAGE_SIZE)")
    ] = None,
) -> Response:
    """The account's changes in the order they became visible: users, groups and their members,
    channels and enrollments, completions, certificates and uploads. Start with no `after` and
    follow `nextCursor` until a page is empty, then keep polling with the last cursor: every
    committed change appears exactly once, also when transactions commit out of order. Events are
    kept ENABLEY_EVENT_RETENTION_DAYS days; a cursor older than that answers 410, and the client
    must resync."""
    patterns = [part.strip() for part in (types or "").split(",") if part.strip()]
    size = limit or context.settings.page_size
    page = await tenant.write(service.read_feed, after or None, patterns, size)
    return Response(page, media_type="application/json")
