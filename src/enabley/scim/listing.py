"""A SCIM list request (RFC 7644 3.4.2), from a query string or a ``POST /.search`` body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from enabley.errors import InvalidRequest
from enabley.scim.filter import Filter, FilterError, parse_filter
from enabley.scim.projection import parse_attribute_list

DEFAULT_COUNT = 100
MAX_COUNT = 1000
"""``filter.maxResults`` of the ServiceProviderConfig: a larger count is served as this."""
MAX_START = 10_000_000


@dataclass(frozen=True, slots=True)
class ListQuery:
    filter: Filter | None = None
    start_index: int = 1
    count: int = DEFAULT_COUNT
    sort_by: str | None = None
    descending: bool = False
    attributes: list[str] | None = None
    excluded: list[str] | None = None


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be an integer", scim_type="invalidValue")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{name} must be an integer, not {value!r}", scim_type="invalidValue") from None


def _names(value: Any, name: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return parse_attribute_list(",".join(value))
    if isinstance(value, str):
        return parse_attribute_list(value)
    raise InvalidRequest(f"{name} must be a list of attribute names", scim_type="invalidValue")


def list_query(params: dict[str, Any]) -> ListQuery:
    """The list request of query parameters or a SearchRequest body, names case-insensitive.
    ``startIndex`` below 1 is read as 1 and ``count`` below 0 as 0 (RFC 7644 3.4.2.4)."""
    given = {key.lower(): value for key, value in params.items()}
    text = given.get("filter")
    parsed: Filter | None = None
    if text not in (None, ""):
        if not isinstance(text, str):
            raise InvalidRequest("filter must be a string", scim_type="invalidFilter")
        try:
            parsed = parse_filter(text)
        except FilterError as exc:
            raise InvalidRequest(f"Invalid filter: {exc}", scim_type="invalidFilter") from None
    start = _integer(given.get("startindex", 1), "startIndex")
    count = _integer(given.get("count", DEFAULT_COUNT), "count")
    order = str(given.get("sortorder") or "ascending").lower()
    if order not in {"ascending", "descending"}:
        raise InvalidRequest("sortOrder must be 'ascending' or 'descending'", scim_type="invalidValue")
    sort_by = given.get("sortby")
    if sort_by is not None and not isinstance(sort_by, str):
        raise InvalidRequest("sortBy must be an attribute name", scim_type="invalidValue")
    return ListQuery(
        filter=parsed,
        start_index=min(max(start, 1), MAX_START),
        count=min(max(count, 0), MAX_COUNT),
        sort_by=sort_by or None,
        descending=order == "descending",
        attributes=_names(given.get("attributes"), "attributes"),
        excluded=_names(given.get("excludedattributes"), "excludedAttributes"),
    )
