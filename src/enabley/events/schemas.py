"""The change feed on the wire."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from enabley.schemas import ApiModel, Timestamp

MAX_CURSOR_LENGTH = 128
MAX_TYPE_PATTERNS = 32
TYPE_PATTERN = re.compile(r"\*|[a-z][a-z_]*(\.([a-z][a-z_]*|\*))?")
"""``user.created``, ``user.*`` (every type of a resource), ``user`` (the same) or ``*``."""


class EventInfo(ApiModel):
    """A change: what happened, when, and to what."""

    id: str = Field(description="The event's unique identifier, the same wherever it is delivered")
    type: str = Field(description="What happened, as `resource.action` (`user.created`, ...)")
    timestamp: Timestamp = Field(description="When the change was made")
    data: dict[str, Any] = Field(
        description="The object as the integration API shows it after the change, or for a deletion "
        "its `identifier` and `type`"
    )


class EventPage(ApiModel):
    """A page of the change feed."""

    items: list[EventInfo] = Field(
        description="The events after the cursor, in the order they became visible"
    )
    next_cursor: str | None = Field(
        description="Where to read on from: pass it as `after` to get the events that follow "
        "(the same cursor again when nothing followed yet)"
    )
