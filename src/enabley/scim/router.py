"""SCIM 2.0 (RFC 7644) at /scim/v2: discovery, Users and Groups, for identity providers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic_core import from_json, to_json
from starlette.concurrency import run_in_threadpool

from enabley.errors import SCIM_MEDIA_TYPE, InvalidRequest, UnsupportedMediaType, content_type_problem
from enabley.scim import discovery, groups, search, users
from enabley.scim.auth import ScimCaller, get_scim_tenant
from enabley.scim.listing import ListQuery, list_query
from enabley.security import hash_password


class ScimRoute(APIRoute):
    """A SCIM route; one that takes nothing but the request and its tenant (the creations and the
    searches, whose bodies the route reads itself) is called without FastAPI's per-request
    resolution of its parameters, which cost a creation about a fiftieth of its time. The tenant
    comes from the same dependency it declares (``get_scim_tenant``), which the OpenAPI document
    and the tenancy test read as for every route."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        dependant = self.dependant
        (tenant, *others) = dependant.dependencies or (None,)
        plain = (
            tenant is not None
            and tenant.call is get_scim_tenant
            and not others
            and dependant.request_param_name is not None
            and not (
                dependant.path_params
                or dependant.query_params
                or dependant.header_params
                or dependant.cookie_params
                or dependant.body_params
            )
        )
        if not plain:
            return super().get_route_handler()
        assert tenant is not None and tenant.name is not None and dependant.request_param_name is not None
        endpoint, request_name, tenant_name = self.endpoint, dependant.request_param_name, tenant.name

        async def handle(request: Request) -> Response:
            caller = await get_scim_tenant(request)
            response: Response = await endpoint(**{request_name: request, tenant_name: caller})
            return response

        return handle


router = APIRouter(prefix="/scim/v2", tags=["SCIM"], route_class=ScimRoute)

ResourceId = Annotated[str, Path(alias="id", description="The resource's id", max_length=255)]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="A version (ETag) the change requires")]


class ScimJSONResponse(JSONResponse):
    media_type = SCIM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        # pydantic-core writes JSON in Rust, as FastAPI does for the integration API's models.
        return to_json(content)


def answer(payload: dict[str, Any], status_code: int = 200, *, etag: bool = False) -> ScimJSONResponse:
    meta = payload.get("meta")
    if not isinstance(meta, dict):
        return ScimJSONResponse(payload, status_code)
    headers: dict[str, str] = {}
    if etag and "version" in meta:
        headers["ETag"] = meta["version"]
    if status_code == _CREATED and "location" in meta:
        headers["Location"] = meta["location"]
    return ScimJSONResponse(payload, status_code, headers or None)


_CREATED = status.HTTP_201_CREATED


async def _json(request: Request) -> dict[str, Any]:
    """The request's JSON object: sent as application/scim+json or application/json (415 else)."""
    problem = content_type_problem(request.headers.get("content-type"))
    if problem is not None:
        raise UnsupportedMediaType(
            problem.replace("application/json", f"{SCIM_MEDIA_TYPE} or application/json")
        )
    try:
        # pydantic-core reads JSON in Rust, as it writes the answers.
        body = from_json(await request.body())
    except ValueError as exc:
        raise InvalidRequest(f"Malformed JSON body: {exc}", scim_type="invalidSyntax") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object", scim_type="invalidSyntax")
    return body


def _operations(body: dict[str, Any]) -> list[Any]:
    operations = {key.lower(): value for key, value in body.items()}.get("operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidRequest("A PATCH needs a non-empty Operations list", scim_type="invalidSyntax")
    return operations


async def _password_hash(password: str | None) -> str | None:
    return await run_in_threadpool(hash_password, password) if password else None


async def _patch_passwords(operations: list[Any]) -> dict[str, str]:
    """Each password the operations may set -> its hash, made before the unit of work."""
    found: list[str] = []
    for operation in operations:
        if not isinstance(operation, dict):
            continue
        value = {k.lower(): v for k, v in operation.items()}.get("value")
        path = str({k.lower(): v for k, v in operation.items()}.get("path") or "").lower()
        if path.endswith("password") and isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(v for k, v in value.items() if k.lower() == "password" and isinstance(v, str))
    return {password: await run_in_threadpool(hash_password, password) for password in dict.fromkeys(found)}


async def _list_params(
    filter: Annotated[str | None, Query(description="A filter (RFC 7644 3.4.2.2)")] = None,
    start_index: Annotated[str | None, Query(alias="startIndex", description="1-based index")] = None,
    count: Annotated[str | None, Query(description="Page size, at most 1000 (default 100)")] = None,
    sort_by: Annotated[str | None, Query(alias="sortBy")] = None,
    sort_order: Annotated[str | None, Query(alias="sortOrder", description="ascending or descending")] = None,
    attributes: Annotated[str | None, Query(description="Attributes to return")] = None,
    excluded: Annotated[
        str | None, Query(alias="excludedAttributes", description="Attributes to leave out")
    ] = None,
) -> ListQuery:
    given = {
        "filter": filter,
        "startIndex": start_index,
        "count": count,
        "sortBy": sort_by,
        "sortOrder": sort_order,
        "attributes": attributes,
        "excludedAttributes": excluded,
    }
    return list_query({key: value for key, value in given.items() if value is not None})


Listing = Annotated[ListQuery, Depends(_list_params)]
Projection = Annotated[ListQuery, Depends(_list_params)]
"""A single resource's ``attributes``/``excludedAttributes`` (the other list parameters ignored)."""


@router.get("/Users", summary="List users")
async def list_users(query: Listing, tenant: ScimCaller) -> ScimJSONResponse:
    """Users, filtered, sorted and paged (RFC 7644 3.4.2)."""
    return answer(await tenant.read(users.list_users, query, tenant.base_url))


@router.post("/Users/.search", summary="Search users")
async def search_users(request: Request, tenant: ScimCaller) -> ScimJSONResponse:
    """Users, as ``GET /Users`` lists them, asked for by a SearchRequest body (RFC 7644 3.4.3)."""
    query = list_query(await _json(request))
    return answer(await tenant.read(users.list_users, query, tenant.base_url))


@router.post("/Users", summary="Create user", status_code=status.HTTP_201_CREATED)
async def create_user(request: Request, tenant: ScimCaller) -> ScimJSONResponse:
    """Creates a user; its id is the given externalId when no user has it as identifier."""
    fields = users.user_fields(await _json(request))
    password_hash = await _password_hash(fields.password)
    created = await tenant.write(users.create_user, fields, password_hash, tenant.base_url)
    return answer(created, status.HTTP_201_CREATED, etag=True)


@router.get("/Users/{id}", summary="Get user")
async def get_user(identifier: ResourceId, query: Projection, tenant: ScimCaller) -> ScimJSONResponse:
    """A user by id (the user's enabley identifier)."""
    return answer(await tenant.read(users.get_user, identifier, tenant.base_url, query), etag=True)


@router.put("/Users/{id}", summary="Replace user")
async def replace_user(
    identifier: ResourceId,
    request: Request,
    tenant: ScimCaller,
    if_match: IfMatch = None,
) -> ScimJSONResponse:
    """Replaces the user's attributes; attributes the schema does not know are ignored."""
    fields = users.user_fields(await _json(request))
    password_hash = await _password_hash(fields.password)
    replaced = await tenant.write(
        users.replace_user, identifier, fields, password_hash, if_match, tenant.base_url
    )
    return answer(replaced, etag=True)


@router.patch("/Users/{id}", summary="Patch user")
async def patch_user(
    identifier: ResourceId,
    request: Request,
    tenant: ScimCaller,
    if_match: IfMatch = None,
) -> ScimJSONResponse:
    """Applies PatchOp operations (add, replace, remove) and answers the user."""
    operations = _operations(await _json(request))
    passwords = await _patch_passwords(operations)
    patched = await tenant.write(
        users.patch_user, identifier, operations, passwords, if_match, tenant.base_url
    )
    return answer(patched, etag=True)


@router.delete("/Users/{id}", summary="Delete user", status_code=204, response_class=Response)
async def delete_user(identifier: ResourceId, tenant: ScimCaller, if_match: IfMatch = None) -> Response:
    """Deletes the user as ``DELETE /api/v1/users/{identifier}`` does."""
    await tenant.write(users.delete_user, identifier, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/Groups", summary="List groups")
async def list_groups(query: Listing, tenant: ScimCaller) -> ScimJSONResponse:
    """Groups, filtered, sorted and paged; ``excludedAttributes=members`` leaves members unread."""
    return answer(await tenant.read(groups.list_groups, query, tenant.base_url))


@router.post("/Groups/.search", summary="Search groups")
async def search_groups(request: Request, tenant: ScimCaller) -> ScimJSONResponse:
    """Groups, as ``GET /Groups`` lists them, asked for by a SearchRequest body."""
    query = list_query(await _json(request))
    return answer(await tenant.read(groups.list_groups, query, tenant.base_url))


@router.post("/Groups", summary="Create group", status_code=status.HTTP_201_CREATED)
async def create_group(request: Request, tenant: ScimCaller) -> ScimJSONResponse:
    """Creates a group without a parent, of the token's group type, with the given members."""
    created = await tenant.write(groups.create_group, await _json(request), tenant.base_url)
    return answer(created, status.HTTP_201_CREATED, etag=True)


@router.get("/Groups/{id}", summary="Get group")
async def get_group(identifier: ResourceId, query: Projection, tenant: ScimCaller) -> ScimJSONResponse:
    """A group by id (the group's enabley identifier) with its direct members."""
    return answer(await tenant.read(groups.get_group, identifier, tenant.base_url, query), etag=True)


@router.put("/Groups/{id}", summary="Replace group")
async def replace_group(
    identifier: ResourceId,
    request: Request,
    tenant: ScimCaller,
    if_match: IfMatch = None,
) -> ScimJSONResponse:
    """Replaces the group's name, externalId and members."""
    replaced = await tenant.write(
        groups.replace_group, identifier, await _json(request), if_match, tenant.base_url
    )
    return answer(replaced, etag=True)


@router.patch("/Groups/{id}", summary="Patch group")
async def patch_group(
    identifier: ResourceId,
    request: Request,
    query: Projection,
    tenant: ScimCaller,
    if_match: IfMatch = None,
) -> ScimJSONResponse:
    """Applies PatchOp operations; member add/remove included."""
    operations = _operations(await _json(request))
    patched = await tenant.write(groups.patch_group, identifier, operations, if_match, tenant.base_url, query)
    return answer(patched, etag=True)


@router.delete("/Groups/{id}", summary="Delete group", status_code=204, response_class=Response)
async def delete_group(identifier: ResourceId, tenant: ScimCaller, if_match: IfMatch = None) -> Response:
    """Deletes the group with its memberships."""
    await tenant.write(groups.delete_group, identifier, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Discovery, asked for once when a provider connects: after the resources, whose routes are
# tried first, in order, on every request.
@router.get("/ServiceProviderConfig", summary="Service provider configuration")
async def get_service_provider_config(tenant: ScimCaller) -> ScimJSONResponse:
    """What this service provider supports (RFC 7644 4)."""
    await tenant.confirm()
    return answer(discovery.service_provider_config(tenant.base_url))


@router.get("/ResourceTypes", summary="Resource types")
async def get_resource_types(tenant: ScimCaller) -> ScimJSONResponse:
    """The resource types served: User (with the enterprise extension) and Group."""
    await tenant.confirm()
    return answer(discovery.resource_type_list(tenant.base_url))


@router.get("/ResourceTypes/{id}", summary="Resource type")
async def get_resource_type(name: ResourceId, tenant: ScimCaller) -> ScimJSONResponse:
    """One resource type, by name."""
    await tenant.confirm()
    return answer(discovery.resource_type(name, tenant.base_url))


@router.get("/Schemas", summary="Schemas")
async def get_schemas(tenant: ScimCaller) -> ScimJSONResponse:
    """The schemas served, describing exactly the attributes kept."""
    await tenant.confirm()
    return answer(discovery.schema_list(tenant.base_url))


@router.get("/Schemas/{id}", summary="Schema")
async def get_schema(schema_id: ResourceId, tenant: ScimCaller) -> ScimJSONResponse:
    """One schema, by its URN."""
    await tenant.confirm()
    return answer(discovery.schema(schema_id, tenant.base_url))


@router.post("/.search", summary="Search users and groups")
async def search_resources(request: Request, tenant: ScimCaller) -> ScimJSONResponse:
    """Users then groups, as their lists answer them, asked for by one SearchRequest body."""
    query = list_query(await _json(request))
    return answer(await tenant.read(search.search_all, query, tenant.base_url))
