"""``POST /scim/v2/.search``: Users and Groups searched at once (RFC 7644 3.4.3), users first."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from enabley.errors import InvalidRequest
from enabley.scim import groups, users
from enabley.scim.auth import ScimTenant
from enabley.scim.listing import ListQuery
from enabley.scim.wire import list_response

_LISTS = (users.list_users, groups.list_groups)


def search_all(session: Session, tenant: ScimTenant, query: ListQuery, base_url: str) -> dict[str, Any]:
    """One page over the users then the groups that match. A filter naming an attribute only one
    resource type has matches none of the other; one that neither has is 400 ``invalidFilter``."""
    totals: list[int | None] = []
    for lister in _LISTS:
        try:
            totals.append(
                lister(session, tenant, replace(query, start_index=1, count=0), base_url)["totalResults"]
            )
        except InvalidRequest as exc:
            if exc.scim_type != "invalidFilter":
                raise
            totals.append(None)
    if all(total is None for total in totals):
        raise InvalidRequest("The filter names attributes no resource type has", scim_type="invalidFilter")
    resources: list[dict[str, Any]] = []
    skip, wanted = query.start_index - 1, query.count
    for lister, total in zip(_LISTS, totals, strict=True):
        if not total or wanted <= 0:
            continue
        if skip >= total:
            skip -= total
            continue
        page = lister(session, tenant, replace(query, start_index=skip + 1, count=wanted), base_url)
        resources += page["Resources"]
        wanted -= len(page["Resources"])
        skip = 0
    return list_response(resources, sum(total or 0 for total in totals), query.start_index)
